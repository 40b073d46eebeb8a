"""Capture figures (issue 3), against files served on 127.0.0.1 by a server in this process:

* wall time of `ohrt capture --no-derivatives` ÷ plain `yt-dlp` for the same ≥ 100 MB file (target ≤ 1.15);
* hashing throughput of the store (sha256 + md5 in one pass) ÷ `sha256sum` on the same file (target ≥ 0.9);
* derivative time per minute of 720p video: capture's own ffmpeg steps, and the whole of `ohrt capture
  finish` after a capture without derivatives (which includes the library stage's fingerprints).

The 100 MB file is raw 720p video in Matroska (made in about a second); the derivative clip is 20 s of
720p H.264/AAC in Matroska, so that every derivative, the review copy included, has to be made.
"""

from __future__ import annotations

import os
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
LINE_MB_S = 40  # a 320 Mbit/s line
DERIVATIVE_SECONDS = 20


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_media(site: Path) -> tuple[Path, Path]:
    big = site / "raw720.mkv"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=3", "-c:v", "rawvideo",
            "-pix_fmt", "yuv420p", str(big))
    clip = site / "clip720.mkv"
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={DERIVATIVE_SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={DERIVATIVE_SECONDS}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip))
    return big, clip


def new_home(path: Path) -> dict:
    env = {**os.environ, "OHRT_HOME": str(path), "OHRT_OFFICER": "2345"}
    subprocess.run([str(BIN / "ohrt"), "init", "--training", "--team", "Bench", "--mailbox", "bench@example.police.uk",
                    "--officer", "PS Bench", "--number", "2345"], env=env, check=True, capture_output=True)
    return env


def timed(args: list, **kwargs) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} exited {done.returncode}: {done.stderr.strip()}")
    return time.perf_counter() - start


def capture_vs_ytdlp(work: Path, url: str) -> tuple[float, float]:
    work.mkdir()
    ours, theirs = [], []
    for i in range(ROUNDS):
        env = new_home(work / f"home-{i}")
        ours.append(timed([str(BIN / "ohrt"), "capture", url, "--no-derivatives", "--reason", "bench", "--json"],
                          env=env))
        out = work / f"ytdlp-{i}"
        out.mkdir()
        theirs.append(timed([str(BIN / "yt-dlp"), "-q", "--no-progress", "-o", "%(id)s.%(ext)s", url], cwd=out))
        shutil.rmtree(out)
    return statistics.median(ours), statistics.median(theirs)


def hashing(path: Path) -> tuple[float, float]:
    """MB/s of the store's hashing (sha256 and md5 together) and of sha256sum, best of ROUNDS, warm cache."""
    from ohrt_cli.ground.store import hash_file

    size = path.stat().st_size / 1e6
    hash_file(path)
    ours = min(_time(lambda: hash_file(path)) for _ in range(ROUNDS))
    theirs = min(timed(["sha256sum", str(path)]) for _ in range(ROUNDS))
    return size / ours, size / theirs


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def derivative_steps(work: Path, clip: Path) -> float:
    """Seconds per minute of video for capture's own derivatives (review copy, audio, keyframes, contact
    sheet): the very commands a capture runs, in a folder laid out as a capture's."""
    from ohrt_cli.ground import media

    folder = work / "derive"
    (folder / "original").mkdir(parents=True)
    shutil.copyfile(clip, folder / "original" / clip.name)
    info = media.probe(folder / "original" / clip.name)
    steps = media.plan_derivatives(f"original/{clip.name}", info, "video", dict(media.DEFAULTS))
    start = time.perf_counter()
    for step in steps:
        media.run_step(step, folder)
    return (time.perf_counter() - start) / DERIVATIVE_SECONDS * 60


def finish_time(work: Path, url: str) -> float:
    """Seconds per minute of video for `ohrt capture finish` after `--no-derivatives`: the derivatives and,
    when the library stage is installed, its fingerprints."""
    import json

    env = new_home(work / "home-derivatives")
    out = subprocess.run([str(BIN / "ohrt"), "capture", url, "--no-derivatives", "--reason", "bench", "--json"],
                         env=env, check=True, capture_output=True, text=True)
    capture_id = json.loads(out.stdout)["id"]
    seconds = timed([str(BIN / "ohrt"), "capture", "finish", capture_id], env=env)
    return seconds / DERIVATIVE_SECONDS * 60


def run(work: Path) -> list[dict]:
    site = work / "site"
    site.mkdir()
    big, clip = make_media(site)
    # Under /line/ the site sends at LINE_MB_S, as over a real connection rather than loopback.
    server = Loopback(site, line_mb_s=LINE_MB_S).start()
    base = server.base
    try:
        ours, theirs = capture_vs_ytdlp(work / "loopback", f"{base}/{big.name}")
        line_ours, line_theirs = capture_vs_ytdlp(work / "line", f"{base}/line/{big.name}")
        ours_mb, sha256sum_mb = hashing(big)
        per_minute = derivative_steps(work, clip)
        finish_per_minute = finish_time(work, f"{base}/{clip.name}")
    finally:
        server.stop()
    size = big.stat().st_size / 1e6
    ratio, hash_ratio = ours / theirs, ours_mb / sha256sum_mb
    return [
        {"figure": f"capture ÷ yt-dlp, {size:.0f} MB on loopback (median of {ROUNDS}: "
                   f"{ours:.2f} s ÷ {theirs:.2f} s)", "value": ratio, "unit": "×", "target": "≤ 1.15",
         "ok": ratio <= 1.15},
        {"figure": f"capture ÷ yt-dlp, same file at {LINE_MB_S} MB/s (median of {ROUNDS}: {line_ours:.2f} s ÷ "
                   f"{line_theirs:.2f} s)", "value": line_ours / line_theirs, "unit": "×", "target": "",
         "ok": None},
        {"figure": f"store hashing ÷ sha256sum ({ours_mb:.0f} ÷ {sha256sum_mb:.0f} MB/s; sha256+md5)",
         "value": hash_ratio, "unit": "×", "target": "≥ 0.9", "ok": hash_ratio >= 0.9},
        {"figure": "derivatives per minute of 720p video (review copy, audio, keyframes, contact sheet)",
         "value": per_minute, "unit": "s/min", "target": "", "ok": None},
        {"figure": "`ohrt capture finish` per minute of 720p video (the above + library fingerprints)",
         "value": finish_per_minute, "unit": "s/min", "target": "", "ok": None},
    ]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for row in run(Path(tmp)):
            print(f"{row['figure']}: {row['value']:.3f} {row['unit']} (target {row['target'] or '—'})")
