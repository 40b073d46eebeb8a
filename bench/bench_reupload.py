"""Re-upload detection on real footage (issue 18): the recall table (each way of re-editing × the real
clips of tests/fixtures/real: found by their pictures as a strong match, only possible, or missed), the
cost of the fingerprints per minute of video against the way they were made before (one frame a
second at 512 × 512 with three hashes, ffmpeg's cropdetect; reproduced here, measured in the same run),
and the time to match one capture against 10,000, 100,000 and 1,000,000 library items, with the peak
memory of the process that does it.

The re-edits are made here by ffmpeg (tests/support/reedit.py). A match counts only if the look-up index
(built over the clips' originals) offers the item and the full comparison finds its pictures; a false
positive is a picture match with any other clip (the clip a picture-in-picture plays over excepted).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from ohrt_cli.ground import fingerprint as F  # noqa: E402
from support.reedit import CLIPS, FILTERS, clip, reedit  # noqa: E402

TARGETS = {"crop 10 % every side": 0.9, "caption band 15 %": 0.8, "logo 15 %": 0.8, "excerpt 3 s": 0.8,
           "picture-in-picture 50 %": 0.6}
PICTURE_IN_PICTURE = "picture-in-picture 50 %"
SIZES = (10_000, 100_000, 1_000_000)


def _background(name: str) -> str:
    return "tree" if name == "vtest" else "vtest"


# ---------------------------------------------------------------------------------------- recall

def recall(work: Path) -> list[dict]:
    originals = {name: F.fingerprint_file(clip(name)) for name in CLIPS}
    index = F.Index.build([(name, F.index_columns(fp)["index_pdq"], F.index_columns(fp)["index_audio"])
                           for name, fp in originals.items()])
    table, false_positives = {}, 0
    for a in CLIPS:
        for b in CLIPS:
            if a != b and _pictures(F.match(originals[a], originals[b])):
                false_positives += 1
    for variant in FILTERS:
        counts = {"strong": 0, "possible": 0, "missed": 0}
        for name in CLIPS:
            copy = F.fingerprint_file(reedit(name, variant, work, background=_background(name)))
            offered = index.candidates(copy)
            found = _pictures(F.match(copy, originals[name])) if name in offered else []
            counts["strong" if any(s["strong"] for s in found) else "possible" if found else "missed"] += 1
            for other in offered:
                if other != name and not (variant == PICTURE_IN_PICTURE and other == _background(name)):
                    false_positives += bool(_pictures(F.match(copy, originals[other])))
        table[variant] = counts
    print(f"\n  re-uploads of {len(CLIPS)} real clips, found by their pictures:", file=sys.stderr)
    print(f"  {'variant':<26}{'strong':>8}{'possible':>10}{'missed':>8}   target", file=sys.stderr)
    rows = []
    for variant, c in table.items():
        target = TARGETS.get(variant)
        print(f"  {variant:<26}{c['strong']:>8}{c['possible']:>10}{c['missed']:>8}   "
              f"{'≥ %d %% %s' % (target * 100, 'strong or possible' if variant == PICTURE_IN_PICTURE else 'strong') if target else 'all strong (no worse)'}", file=sys.stderr)
        share = c["strong"] / len(CLIPS)
        if variant == PICTURE_IN_PICTURE:
            share = (c["strong"] + c["possible"]) / len(CLIPS)
        want = target if target else 1.0
        rows.append({"figure": f"real clips, {variant}: found " + ("(strong or possible)" if variant ==
                     PICTURE_IN_PICTURE else "strong"), "value": share * 100, "unit": "%",
                     "target": f"≥ {want * 100:.0f} %", "ok": share >= want})
    print(f"  unrelated real clips matched by their pictures: {false_positives}", file=sys.stderr)
    rows.append({"figure": "real clips: false positives (pictures, any other clip)", "value": false_positives,
                 "unit": "", "target": "0", "ok": false_positives == 0})
    return rows


def _pictures(result: dict | None) -> list[dict]:
    return [s for s in (result or {}).get("segments", []) if s["what"] == "pictures"]


# ------------------------------------------------------------------------------------------ cost

def _long_video(work: Path) -> Path:
    """Three minutes of real footage: the clips in turn, each looped to 30 s, at 640 × 360, with sound."""
    out = work / "real-three-minutes.mp4"
    if out.exists():
        return out
    inputs, graph = [], []
    for n, name in enumerate(CLIPS):
        inputs += ["-stream_loop", "-1", "-t", "30", "-i", str(clip(name))]
        graph.append(f"[{n}:v]scale=640:360,setsar=1,fps=25,format=yuv420p[v{n}]")
    graph.append("".join(f"[v{n}]" for n in range(len(CLIPS))) + f"concat=n={len(CLIPS)}:v=1:a=0[v]")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *inputs, "-f", "lavfi", "-i",
                    "anoisesrc=c=pink:a=0.2:d=180", "-filter_complex", ";".join(graph), "-map", "[v]", "-map",
                    f"{len(CLIPS)}:a", "-t", "180", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", str(out)],
                   check=True)
    return out


def _before(path: Path) -> tuple[int, int]:
    """Fingerprint the pictures the way it was done before: ffmpeg's cropdetect over the key frames, one
    frame a second at 512 × 512, hashed as is, mirrored and its centre 94 %. (frames, index rows)."""
    import pdqhash
    import re

    done = subprocess.run(["ffmpeg", "-nostdin", "-skip_frame", "nokey", "-i", str(path), "-map", "0:v:0", "-vf",
                           "cropdetect=limit=24:round=2:reset=0:skip=0", "-f", "null", "-"], capture_output=True,
                          text=True)
    found = re.findall(r"crop=(\d+:\d+:\d+:\d+)", done.stderr)
    chain = ([f"crop={found[-1]}"] if found else []) + ["fps=1", "scale=512:512:flags=area", "format=rgb24"]
    proc = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0", "-vf",
                             ",".join(chain), "-f", "rawvideo", "-"], stdout=subprocess.PIPE)
    frames, size = 0, 512 * 512 * 3
    while len(data := proc.stdout.read(size)) == size:
        frame = np.frombuffer(data, np.uint8).reshape(512, 512, 3)
        pdqhash.compute(frame)
        pdqhash.compute(np.ascontiguousarray(frame[:, ::-1]))
        pdqhash.compute(np.ascontiguousarray(frame[15:497, 15:497]))
        frames += 1
    proc.wait()
    return frames, min(frames, F.INDEX_REPS)


def cost(work: Path) -> list[dict]:
    rows = []
    for label, path in (("3-min real video", _long_video(work)), ("30-s real clip", clip("vtest"))):
        minutes = F.fingerprint_file(path).duration / 60
        start = time.process_time(), time.perf_counter()
        frames_before, reps_before = _before(path)
        before_cpu, before_wall = time.process_time() - start[0], time.perf_counter() - start[1]
        start = time.process_time(), time.perf_counter()
        after = F.fingerprint_file(path)
        after_cpu, after_wall = time.process_time() - start[0], time.perf_counter() - start[1]
        # bytes stored per minute: the frames' hashes, positions and qualities, and the index's share
        bytes_before = frames_before * (3 * 32 + 5) + reps_before * 32
        columns = F.index_columns(after)
        bytes_after = after.frames * (len(F.VARIANTS) * 32 + 5) + len(columns["index_pdq"])
        print(f"  {label}: before {frames_before} frames, {before_wall:.1f} s ({before_cpu:.1f} s CPU here); "
              f"now {after.frames} frames, {after_wall:.1f} s ({after_cpu:.1f} s CPU here); pictures "
              f"{bytes_before / minutes / 1000:.1f} → {bytes_after / minutes / 1000:.1f} kB a minute", file=sys.stderr)
        rows += [
            {"figure": f"fingerprint pictures + sound, {label}: s per minute of video", "value": after_wall / minutes,
             "unit": "s/min", "target": "", "ok": None},
            {"figure": f"  … ÷ before (pictures only before: 512², 3 hashes, 1/s)", "value": after_wall / before_wall,
             "unit": "×", "target": "", "ok": None},
            {"figure": f"picture fingerprints stored, {label}: kB per minute", "value": bytes_after / minutes / 1000,
             "unit": "kB/min", "target": "", "ok": None},
            {"figure": f"  … ÷ before", "value": bytes_after / bytes_before, "unit": "×", "target": "", "ok": None},
        ]
    return rows


# ----------------------------------------------------------------------------------------- scale

_CHILD = r'''
import json, resource, sys, time
import numpy as np
sys.path.insert(0, sys.argv[4])
from ohrt_cli.ground import fingerprint as F
size, folder, query_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = np.random.default_rng(size)
planted = F.fingerprint_file(sys.argv[5])
query = F.fingerprint_file(query_path)
columns = F.index_columns(planted)
reps = len(columns["index_pdq"]) // 32
def entries():
    for n in range(size):
        if n == size // 2:
            yield "planted", columns["index_pdq"], columns["index_audio"]
            continue
        # a 2-4-minute item: up to INDEX_REPS distinct frames and its zoomed ones, every 8th sound value
        k = F.INDEX_REPS + len(F.INDEX_ZOOMS) * F.INDEX_ZOOM_REPS
        yield (f"L-{n}", rng.integers(0, 256, k * 32, dtype=np.uint8).tobytes(),
               rng.integers(0, 2 ** 32, int(rng.integers(120, 241)) * 8 // F.AUDIO_STRIDE, dtype=np.uint32).tobytes())
start = time.perf_counter()
index = F.Index.build(entries())
F.save_index(index, __import__("pathlib").Path(folder) / "index")
build = time.perf_counter() - start
del index
index = F.Index.load(__import__("pathlib").Path(folder) / "index")
times = []
for _ in range(3):
    start = time.perf_counter()
    found = index.candidates(query)
    results = [F.match(query, planted) for owner in found if owner == "planted"]
    times.append(time.perf_counter() - start)
print(json.dumps({"build": build, "match": sorted(times)[1], "found": "planted" in found, "candidates": len(found),
                  "strong": bool(results and any(s["strong"] for s in results[0]["segments"])),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def scale(work: Path) -> list[dict]:
    query = reedit("vtest", "crop 10 % every side", work)
    rows = []
    for size in SIZES:
        need_gb = size * 16e3 / 1e9   # ~11 kB an item in the index, and the build's sorting besides
        available = _available_gb()
        if available < need_gb + 4:
            print(f"  {size:,} items: not run ({available:.0f} GB free, ~{need_gb:.0f} GB needed)", file=sys.stderr)
            rows.append({"figure": f"match a capture against {size:,} items: not run (memory)",
                         "value": float("nan"), "unit": "s", "target": "", "ok": None})
            continue
        with tempfile.TemporaryDirectory(dir=work) as folder:
            done = subprocess.run([sys.executable, "-c", _CHILD, str(size), folder, str(query), str(ROOT),
                                   str(clip("vtest"))], capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            rows.append({"figure": f"match a capture against {size:,} items: FAILED", "value": float("nan"),
                         "unit": "s", "target": "", "ok": False})
            continue
        got = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {size:,} items: index built in {got['build']:.0f} s; match {got['match']:.3f} s "
              f"({got['candidates']} candidates, planted crop found strong: {got['strong']}); peak "
              f"{got['peak_mb']:.0f} MB", file=sys.stderr)
        rows += [{"figure": f"match a cropped capture against {size:,} items (index ready)", "value": got["match"],
                  "unit": "s", "target": "≤ 1 s" if size <= 100_000 else "", "ok": got["match"] <= 1 and got["strong"]
                  if size <= 100_000 else None},
                 {"figure": f"  … peak memory of that process (index build included)", "value": got["peak_mb"],
                  "unit": "MB", "target": "", "ok": None},
                 {"figure": f"  … build the index of {size:,} items", "value": got["build"], "unit": "s",
                  "target": "", "ok": None}]
    return rows


def _available_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1e6
    except OSError:
        pass
    return 0.0


def run(work: Path) -> list[dict]:
    return recall(work) + cost(work) + scale(work)


if __name__ == "__main__":
    folder = Path(tempfile.mkdtemp(prefix="bench-reupload-"))
    part = sys.argv[1] if len(sys.argv) > 1 else "all"
    chosen = {"recall": recall, "cost": cost, "scale": scale}.get(part, run)
    for row in chosen(folder):
        print(f"{row['figure']}: {row['value']:.3f} {row['unit']} (target {row['target']}, ok={row['ok']})")
