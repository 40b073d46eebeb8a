"""Library figures (issue 6): matching one 3-minute capture against a library of 100,000 items (target
≤ 1 s), rebuilding the look-up index after the library changed, fingerprinting a real 3-minute video,
and purging 10,000 expired items (target ≤ 30 s).

The 100,000 items carry synthetic fingerprints of 2–4 minutes each, shaped like real ones (PDQ frames
in shots of 2–8 s that drift a few bits a second; Chromaprint values that change a few bits per value),
stored in full as the library stores them. One of them is re-uploaded: its 3 minutes, every frame 12
bits off and 8 % of the sound's bits flipped, must be found as "same video"; an unrelated 3-minute
capture must match nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ohrt_cli.ground import fingerprint as F  # noqa: E402

ITEMS = 100_000
PURGE_ITEMS = 10_000
NOW = "2027-06-01T02:00:00+00:00"


def _ohrt(home: Path, *args: str, when: str | None = None, officer: str | None = "2345") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    env["OHRT_HOME"] = str(home)
    if officer:
        env["OHRT_OFFICER"] = officer
    if when:
        env["OHRT_NOW"] = when
    return subprocess.run([str(BIN / "ohrt"), *args], env=env, check=True, capture_output=True, text=True)


def _init(home: Path) -> None:
    _ohrt(home, "init", "--training", "--team", "Bench", "--mailbox", "bench@example.police.uk", "--officer", "PS Bench",
          "--number", "2345", "--role", "sergeant", when="2026-03-01T09:00:00+00:00")


# ------------------------------------------------------------------------------- synthetic fingerprints

def synthetic(rng: np.random.Generator, seconds: int) -> F.Fingerprint:
    """A fingerprint shaped like a real video's: shots of 2–8 s whose frames drift 3 bits a second, and
    sound values that change ~5 bits from one to the next."""
    cuts = np.cumsum(rng.integers(2, 9, seconds))
    shot = np.searchsorted(cuts, np.arange(seconds), side="right")
    bases = rng.integers(0, 256, (shot.max() + 1, len(F.VARIANTS), 32), dtype=np.uint8)
    drift = _bit_masks(rng, (seconds, len(F.VARIANTS)), 3, 256).reshape(seconds, len(F.VARIANTS), 32)
    pdq = bases[shot] ^ np.bitwise_xor.accumulate(drift, axis=0)
    values = int((seconds - F.AUDIO_SPAN_S) / F.AUDIO_STEP_S) + 1
    steps = np.bitwise_xor.reduce(np.uint32(1) << rng.integers(0, 32, (values, 5), dtype=np.uint32), axis=1)
    audio = np.bitwise_xor.accumulate(steps ^ np.r_[rng.integers(0, 2 ** 32, dtype=np.uint32), np.zeros(
        values - 1, np.uint32)].astype(np.uint32))
    return F.Fingerprint(float(seconds), np.arange(seconds, dtype=np.float32), np.full(seconds, 90, np.uint8),
                         pdq, audio.astype(np.uint32))


def _bit_masks(rng: np.random.Generator, shape: tuple, bits: int, width: int) -> np.ndarray:
    """Masks of `width` bits (as bytes) with `bits` random bits set, one per element of `shape`."""
    count = int(np.prod(shape))
    masks = np.zeros((count, width // 8), np.uint8)
    where = rng.integers(0, width, (count, bits))
    rows = np.repeat(np.arange(count), bits)
    np.bitwise_or.at(masks, (rows, where.ravel() // 8), (1 << (where.ravel() % 8)).astype(np.uint8))
    return masks.reshape(*shape, width // 8)


def reupload(rng: np.random.Generator, original: F.Fingerprint) -> F.Fingerprint:
    """Every frame 12 bits off, 8 % of the sound's bits flipped."""
    flips = _bit_masks(rng, (original.frames, len(F.VARIANTS)), 12, 256)
    noise = np.packbits(rng.random((len(original.audio), 32)) < 0.08, axis=1, bitorder="little").view("<u4").ravel()
    return F.Fingerprint(original.duration, original.positions.copy(), original.quality.copy(),
                         original.pdq ^ flips, original.audio ^ noise.astype(np.uint32))


def build_library(home: Path, rng: np.random.Generator) -> tuple[F.Fingerprint, str]:
    """ITEMS kept items with full fingerprints written straight to the database; returns the planted
    item's fingerprint and id."""
    conn = sqlite3.connect(home / "ohrt.db")
    planted_at = ITEMS // 2
    planted = None
    batch_items, batch_prints = [], []
    for n in range(1, ITEMS + 1):
        fp = synthetic(rng, int(rng.integers(120, 241)))
        item_id, capture_id = f"L-2026-{n:06d}", f"C-2026-{n:06d}"
        if n == planted_at:
            planted = (fp, item_id)
        batch_items.append((item_id, capture_id, "removal", "kept", "2026-03-01T09:00:00+00:00", "2345",
                            "2026-03-01", "2027-03-01", "music-video", f"Synthetic drill video {n}"))
        row = {"capture_id": capture_id, "created_at": "2026-03-01T09:00:00+00:00", **F.index_columns(fp), **fp.blobs()}
        batch_prints.append(row)
        if len(batch_items) == 5000:
            _flush(conn, batch_items, batch_prints)
    _flush(conn, batch_items, batch_prints)
    conn.execute("INSERT INTO library_generation (id, token, changed_at) VALUES (1, 'bench', '2026-03-01')")
    conn.commit()
    conn.close()
    return planted


def _flush(conn, items: list, prints: list) -> None:
    if not items:
        return
    conn.executemany("INSERT INTO library_items (id, capture_id, source, status, created_at, created_by, removed_on, "
                     "expires_on, format, title) VALUES (?,?,?,?,?,?,?,?,?,?)", items)
    columns = list(prints[0])
    conn.executemany(f"INSERT INTO fingerprints ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                     [[p[c] for c in columns] for p in prints])
    conn.commit()
    items.clear()
    prints.clear()


def bench_match(work: Path) -> list[dict]:
    from ohrt_cli.stages.library import matching as library
    from ohrt_cli.ground.context import open_context

    home = work / "match-home"
    _init(home)
    rng = np.random.default_rng(2026)
    start = time.perf_counter()
    planted, planted_id = build_library(home, rng)
    setup_s = time.perf_counter() - start
    ctx = open_context(home, "2345")
    try:
        start = time.perf_counter()
        library.library_index(ctx)
        rebuild_s = time.perf_counter() - start
        query = reupload(rng, planted)
        unrelated = synthetic(np.random.default_rng(7), 180)
        times, found, stray = [], None, None
        for _ in range(5):
            start = time.perf_counter()
            found = library.find_matches(ctx, query)
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        stray = library.find_matches(ctx, unrelated)
        unrelated_s = time.perf_counter() - start
    finally:
        ctx.close()
    match_s = sorted(times)[len(times) // 2]
    right = bool(found) and found[0]["item_id"] == planted_id and found[0]["kind"] == "same video"
    size = sum(p.stat().st_size for p in (home / "cache").rglob("*") if p.is_file())
    print(f"  library of {ITEMS:,} built in {setup_s:.0f} s; index {size / 1e6:.0f} MB; planted match found: {right}; "
          f"unrelated matched {len(stray)}", file=sys.stderr)
    return [
        {"figure": f"match a 3-min capture against {ITEMS:,} items (median of 5)", "value": match_s, "unit": "s",
         "target": "≤ 1 s", "ok": match_s <= 1 and right},
        {"figure": f"match an unrelated 3-min capture against {ITEMS:,} items", "value": unrelated_s, "unit": "s",
         "target": "≤ 1 s, 0 found", "ok": unrelated_s <= 1 and not stray},
        {"figure": f"rebuild the look-up index of {ITEMS:,} items (after a change)", "value": rebuild_s, "unit": "s",
         "target": "", "ok": None},
    ]


def bench_fingerprint(work: Path) -> list[dict]:
    """Fingerprint a real 3-minute 640×360 video (made by ffmpeg: a melody over moving test pictures)."""
    video = work / "three-minutes.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=s=640x360:r=25", "-f", "lavfi", "-i",
                    "aevalsrc='0.4*sin(2*PI*110*pow(2,mod(floor(t*3.3)*7919+17,36)/12)*t)':s=44100:d=180",
                    "-t", "180", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(video)], check=True)
    start = time.perf_counter()
    fp = F.fingerprint_file(video)
    seconds = time.perf_counter() - start
    print(f"  3-minute video: {fp.frames} frames kept, {len(fp.audio)} sound values", file=sys.stderr)
    return [{"figure": "fingerprint a 3-min 640×360 video (PDQ ×3 per frame + Chromaprint)", "value": seconds,
             "unit": "s", "target": "", "ok": None}]


# ------------------------------------------------------------------------------------------- purge

def build_expired(home: Path) -> None:
    """PURGE_ITEMS library items removed 2026-03-01 (expired 2027-03-01), each with a task, a subject, an
    incident reference, indices research, a capture folder of five read-only files and fingerprints."""
    conn = sqlite3.connect(home / "ohrt.db")
    captures = home / "captures"
    blob = os.urandom(64 * 1024)
    small = synthetic(np.random.default_rng(1), 30)
    prints = {**F.index_columns(small), **small.blobs()}
    at = "2026-03-01T09:00:00+00:00"
    tasks, caps, files, subjects, refs, research, items, fps = [], [], [], [], [], [], [], []
    for n in range(1, PURGE_ITEMS + 1):
        task, capture, item = f"T-2026-{n:06d}", f"C-2026-{n:06d}", f"L-2026-{n:06d}"
        folder = captures / capture
        for sub in ("original", "derived", "source"):
            (folder / sub).mkdir(parents=True)
        files_here = {"original/video.mp4": blob, "derived/review.mp4": blob[:4096], "source/info.json": b"{}",
                      "manifest.json": b"{}", "SHA256SUMS": b""}
        for name, data in files_here.items():
            path = folder / name
            path.write_bytes(data)
            path.chmod(0o444)
        tasks.append((task, "removed", at, at, f"https://www.youtube.com/watch?v=B{n:010d}",
                      f"https://www.youtube.com/watch?v=B{n:010d}", "youtube", f"Drill {n}", "DC Rae", "Goads"))
        caps.append((capture, task, "complete", "file", "2345", at, at, f"captures/{capture}", "video", 30.0))
        files.append((capture, "original/video.mp4", "original", f"{n:064x}", len(blob), "ok"))
        subjects.append((task, f"Subject {n}"))
        refs.append((task, "CAD", f"{n % 9999 + 1}/01MAR26"))
        research.append((task, "Aware", f"CRIMINT {n:08d}", "2026-03-01", "linked", "2345", at))
        items.append((item, task, capture, "removal", "kept", at, "2345", "2026-03-01", "2027-03-01", "music-video",
                      f"Drill {n}"))
        fps.append({"capture_id": capture, "created_at": at, **prints})
    conn.executemany("INSERT INTO tasks (id, status, received_at, updated_at, url, canonical_url, platform, title, "
                     "applicant_name, rationale) VALUES (?,?,?,?,?,?,?,?,?,?)", tasks)
    conn.executemany("INSERT INTO captures (id, task_id, status, method, officer, started_at, finished_at, folder, "
                     "media_kind, duration) VALUES (?,?,?,?,?,?,?,?,?,?)", caps)
    conn.executemany("INSERT INTO capture_files (capture_id, path, role, sha256, bytes, status) VALUES (?,?,?,?,?,?)",
                     files)
    conn.executemany("INSERT INTO subjects (task_id, name) VALUES (?,?)", subjects)
    conn.executemany("INSERT INTO incident_refs (task_id, system, reference) VALUES (?,?,?)", refs)
    conn.executemany("INSERT INTO indices_research (task_id, system, reference, searched_on, summary, officer, "
                     "recorded_at) VALUES (?,?,?,?,?,?,?)", research)
    conn.executemany("INSERT INTO library_items (id, task_id, capture_id, source, status, created_at, created_by, "
                     "removed_on, expires_on, format, title) VALUES (?,?,?,?,?,?,?,?,?,?,?)", items)
    columns = list(fps[0])
    conn.executemany(f"INSERT INTO fingerprints ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                     [[p[c] for c in columns] for p in fps])
    conn.commit()
    conn.close()


def bench_purge(work: Path) -> list[dict]:
    home = work / "purge-home"
    _init(home)
    build_expired(home)
    start = time.perf_counter()
    done = _ohrt(home, "purge", "--json", when=NOW, officer=None)
    seconds = time.perf_counter() - start
    summary = json.loads(done.stdout)
    left = sum(1 for _ in (home / "captures").iterdir())
    right = len(summary["purged"]) == PURGE_ITEMS and left == 0 and summary["by"] == "scheduled"
    print(f"  purged {len(summary['purged']):,} items, {left} capture folders left", file=sys.stderr)
    return [{"figure": f"ohrt purge: {PURGE_ITEMS:,} expired items (cron, own process)", "value": seconds, "unit": "s",
             "target": "≤ 30 s", "ok": seconds <= 30 and right}]


def run(work: Path) -> list[dict]:
    return bench_purge(work) + bench_match(work) + bench_fingerprint(work)


if __name__ == "__main__":
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="bench-library-"))
    try:
        for row in run(folder):
            print(f"{row['figure']}: {row['value']:.3f} {row['unit']} (target {row['target']}, ok={row['ok']})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
