"""Decode and fixed-cost figures, all measured in one run against one file: 60 s of 720p H.264/AAC in an
MP4 (about 100 MB, made with ffmpeg; what platforms serve, so the original is its own review copy), served
on 127.0.0.1 by devtools/loopback.py.

* `ohrt capture URL --no-derivatives` ÷ `yt-dlp URL` (target ≤ 1.15);
* `ohrt capture finish` after that (every derivative and the fingerprints) ÷ one bare decode,
  `ffmpeg -i FILE -f null -` (target ≤ 1.3);
* `ohrt task list --json`, a cold start, ÷ `python -c "import typer"` (target ≤ 3.5);
* `ohrt capture URL --no-page` with every derivative and the fingerprints ÷ (yt-dlp + one bare decode)
  (target ≤ 1.4).

Each figure is the median of ROUNDS runs, the rounds of one figure's two sides interleaved. Run alone with
`python bench/run.py decode`.

Two more rows, measured in the same run, are lower bounds of the first two figures as ohrt is built (no
target of their own; each says which target it is to be read against):

* capture --no-derivatives cannot take less than yt-dlp, plus ohrt's start beyond Python's own (a cold
  `task list --json` less `python -c pass`), plus one ffprobe of the file, which can only begin once its
  last byte is written;
* capture finish cannot take less than its serial start (ohrt's start beyond Python's, and the search for
  a border, whose crop goes into the decode's fingerprint chain) plus the decode's CPU and the CPU the
  fingerprints' hashes take (PDQ of eleven variants of each sampled frame, vPDQ's PDQ of one whole frame a
  second: measured here on the clip's own frames) shared perfectly over every core (and never less than the
  bare decode's own time).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.loopback import Loopback  # noqa: E402

BIN = Path(sys.executable).parent
ROUNDS = 3
COLD_ROUNDS = 7
SECONDS = 60


def make_clip(site: Path) -> Path:
    """60 s of 720p H.264 (noisy, so that it weighs what a real upload does) and AAC, in a progressive MP4,
    with a key frame every 2 s as platforms make them."""
    clip = site / "clip720.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={SECONDS}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:beep_factor=4:duration={SECONDS}",
                    "-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "13M",
                    "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", "-shortest", str(clip)],
                   check=True)
    return clip


def new_home(path: Path) -> dict:
    env = {**os.environ, "OHRT_HOME": str(path), "OHRT_OFFICER": "2345"}
    env.pop("OHRT_DEBUG", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed ohrt has its bytecode compiled, as pip does
    subprocess.run([str(BIN / "ohrt"), "init", "--training", "--team", "Bench", "--mailbox", "bench@example.police.uk",
                    "--officer", "PS Bench", "--number", "2345"], env=env, check=True, capture_output=True)
    return env


def timed(args: list, **kwargs) -> tuple[float, str]:
    kwargs.setdefault("env", {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
    start = time.perf_counter()
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return time.perf_counter() - start, done.stdout


def ytdlp(work: Path, url: str) -> float:
    out = work / "ytdlp"
    out.mkdir()
    try:
        return timed([BIN / "yt-dlp", "-q", "--no-progress", "-o", "%(id)s.%(ext)s", url], cwd=out)[0]
    finally:
        shutil.rmtree(out)


def bare_decode(clip: Path) -> float:
    return timed(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", clip, "-f", "null", "-"])[0]


def children_cpu() -> float:
    """CPU seconds (user and system) of every child process waited for so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def hashing_cpu(clip: Path) -> float:
    """CPU seconds that hashing the clip's frames takes, as a capture hashes them: every variant of each
    frame sampled for ohrt's fingerprints, and vPDQ's PDQ of each whole frame it chooses. The frames are
    those a capture's decode hands its fingerprint reader (the reader's own chains, read by `run_pass`),
    kept as they come and hashed afterwards, each hash timed alone."""
    import dataclasses

    import numpy as np
    import pdqhash

    from ohrt_cli.ground import media
    from ohrt_cli.ground.fingerprint.base import FRAME_SIZE
    from ohrt_cli.ground.fingerprint.extract import Reader, hash_frame

    info = media.probe(clip)
    video = media.streams(info, "video")[0]
    sampled, whole = [], []
    with Reader(clip, info, standard=True) as reader:
        reading = reader.reading()
        size, _, outputs = reading.side
        media.run_pass(media.plan_pass(str(clip), info, reader.kind, media.DEFAULTS, roles=set()), clip.parent,
                       reading=dataclasses.replace(reading, on_frame=sampled.append,
                                                   side=(size, whole.append, outputs)))
    frames = [(data, (FRAME_SIZE, FRAME_SIZE), hash_frame) for data in sampled]
    frames += [(data, (int(video["height"]), int(video["width"])), pdqhash.compute) for data in whole]
    seconds = 0.0
    for data, (rows, columns), hasher in frames:
        frame = np.frombuffer(data, np.uint8).reshape(rows, columns, 3)
        start = time.thread_time()
        hasher(frame)
        seconds += time.thread_time() - start
    return seconds


def border_search(clip: Path) -> float:
    """Seconds the search for a border takes (it precedes the decode)."""
    from ohrt_cli.ground import media
    from ohrt_cli.ground.fingerprint.extract import detect_crop

    info = media.probe(clip)
    start = time.perf_counter()
    detect_crop(clip, media.streams(info, "video")[0], "0:v:0", media.duration(info))
    return time.perf_counter() - start


def capture(env: dict, url: str, *extra: str) -> tuple[float, str]:
    seconds, out = timed([BIN / "ohrt", "capture", url, "--reason", "bench", "--json", *extra], env=env)
    return seconds, json.loads(out)["id"]


def run(work: Path) -> list[dict]:
    site = work / "site"
    site.mkdir()
    clip = make_clip(site)
    size = clip.stat().st_size / 1e6
    server = Loopback(site).start()
    url = f"{server.base}/{clip.name}"
    bare, bare_cpu, theirs, plain, finish, whole = [], [], [], [], [], []
    try:
        for i in range(ROUNDS):
            theirs.append(ytdlp(work, url))
            used = children_cpu()
            bare.append(bare_decode(clip))
            bare_cpu.append(children_cpu() - used)
            env = new_home(work / f"plain-{i}")
            seconds, capture_id = capture(env, url, "--no-derivatives")
            plain.append(seconds)
            finish.append(timed([BIN / "ohrt", "capture", "finish", capture_id], env=env)[0])
            shutil.rmtree(work / f"plain-{i}")
            env = new_home(work / f"whole-{i}")
            whole.append(capture(env, url, "--no-page")[0])
            shutil.rmtree(work / f"whole-{i}")
    finally:
        server.stop()
    env = new_home(work / "cold")
    cold, typer, python, probe = [], [], [], []
    for _ in range(COLD_ROUNDS):
        cold.append(timed([BIN / "ohrt", "task", "list", "--json"], env=env)[0])
        typer.append(timed([sys.executable, "-c", "import typer"])[0])
        python.append(timed([sys.executable, "-c", "pass"])[0])
        probe.append(timed(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", clip])[0])
    border = statistics.median(border_search(clip) for _ in range(ROUNDS))
    hashing = statistics.median(hashing_cpu(clip) for _ in range(ROUNDS))
    cores = len(os.sched_getaffinity(0))
    m = statistics.median
    yt, dec = m(theirs), m(bare)
    start = max(0.0, m(cold) - m(python))
    floor_plain = yt + start + m(probe)
    floor_finish = start + border + max(dec, (m(bare_cpu) + hashing) / cores)  # never quicker than the decode
    rows = [
        (f"capture --no-derivatives ÷ yt-dlp, {size:.0f} MB 720p on loopback ({m(plain):.2f} s ÷ {yt:.2f} s)",
         m(plain) / yt, 1.15),
        (f"capture finish (every derivative + fingerprints) ÷ one bare decode ({m(finish):.2f} s ÷ {dec:.2f} s)",
         m(finish) / dec, 1.3),
        (f"task list --json cold ÷ python -c 'import typer' ({m(cold):.3f} s ÷ {m(typer):.3f} s)",
         m(cold) / m(typer), 3.5),
        (f"capture --no-page, every derivative ÷ (yt-dlp + bare decode) ({m(whole):.2f} s ÷ {yt + dec:.2f} s)",
         m(whole) / (yt + dec), 1.4),
    ]
    floors = [
        (f"  floor: yt-dlp + ohrt's start {start:.2f} s + ffprobe {m(probe):.2f} s (vs ≤ 1.15)",
         floor_plain / yt),
        (f"  floor: start {start:.2f} + border {border:.2f} + (decode {m(bare_cpu):.2f} + hashing {hashing:.2f} "
         f"CPU s) ÷ {cores} cores (vs ≤ 1.3)", floor_finish / dec),
    ]
    table = [{"figure": figure, "value": value, "unit": "×", "target": f"≤ {target}", "ok": value <= target}
             for figure, value, target in rows]
    for at, (figure, value) in zip((1, 3), floors):  # each beneath the figure it bounds
        table.insert(at, {"figure": figure, "value": value, "unit": "×", "target": "floor", "ok": None})
    return table


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for row in run(Path(tmp)):
            print(f"{row['figure']}: {row['value']:.3f} {row['unit']} (target {row['target']})")
