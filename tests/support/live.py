"""A live stream for the tests: ffmpeg encodes a test picture and tone in real time into an HLS playlist
that never ends (no #EXT-X-ENDLIST), in a folder the loopback server serves, until the test is done."""

from __future__ import annotations

import contextlib

import subprocess
import time
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def live_stream(site, name: str, *, warm_up: float = 2.5) -> Iterator[str]:
    """Start broadcasting at `site`/`name`/index.m3u8 and yield its URL once its first segments are listed;
    the encoder is stopped (and its folder left as it is) when the block ends."""
    folder = Path(site.root) / name
    folder.mkdir(parents=True, exist_ok=True)
    encoder = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "48k",
         "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", "-hls_flags", "omit_endlist",
         "-hls_segment_filename", str(folder / "s%05d.ts"), str(folder / "index.m3u8")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        playlist = folder / "index.m3u8"
        while time.monotonic() < deadline:
            if playlist.exists() and playlist.read_text().count("#EXTINF") >= max(1, int(warm_up)):
                break
            time.sleep(0.1)
        yield site.url(f"{name}/index.m3u8")
    finally:
        encoder.terminate()
        try:
            encoder.wait(timeout=5)
        except subprocess.TimeoutExpired:
            encoder.kill()
            encoder.wait()


def children_of(pid: int) -> list[int]:
    """The processes `pid` started (Linux /proc), every thread's children."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def command_of(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return []


def alive(pid: int) -> bool:
    """Running (not a zombie waiting for its parent)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def recorded_seconds(home: Path) -> float:
    """How far the capture being made in `home` has recorded (its ffmpeg's progress file), 0 before it starts."""
    best = 0.0
    for path in (home / "captures").glob(".tmp-*/.live-progress.txt"):
        with contextlib.suppress(OSError):
            for line in path.read_text().splitlines():
                if line.startswith("out_time_us=") and line[12:].strip().isdigit():
                    best = max(best, int(line[12:]) / 1_000_000)
    return best


def wait_for_recording(home: Path, seconds: float, process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while recorded_seconds(home) < seconds:
        assert process.poll() is None, f"ohrt ended first: {process.communicate()}"
        assert time.monotonic() < deadline, "the recording never started"
        time.sleep(0.1)



