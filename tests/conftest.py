"""The tests' fixtures: a home on tmp_path driven through the real CLI, media made with ffmpeg, and a
loopback HTTP server so that yt-dlp's real code path runs without leaving 127.0.0.1. The builders behind
them live in tests/support/; tests import those from there, never from this file."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from devtools.loopback import Loopback
from support.home import Ohrt, ffmpeg, new_home
from support.library import Media


@pytest.fixture
def ohrt(tmp_path) -> Ohrt:
    """A fresh home with PS Ann Lee (2345, sergeant) as the first officer, PC Sam Okafor (7781,
    constable) and Insp Ray Diaz (9001, inspector) on the roster."""
    return new_home(tmp_path / "home")


@pytest.fixture
def make_home(tmp_path):
    """make_home(name, team=…, roster=True, env=None) → Ohrt: another home in this test's tmp_path (another
    force's, a second team's), made as the `ohrt` fixture's is."""

    def make(name: str = "other", **kwargs) -> Ohrt:
        return new_home(tmp_path / name / "home", **kwargs)

    return make


# ------------------------------------------------------------------------------------------- media

@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def make_clip(media_dir):
    """make_clip(name, seconds=6, size='320x240', source='testsrc2', audio=True, fmt='mp4') → Path.

    Clips are generated once per session with ffmpeg's lavfi sources (testsrc2 / smptebars / mandelbrot
    for pictures, a sine or noise for sound) and cached by their parameters."""

    @functools.lru_cache(maxsize=None)
    def make(name: str, seconds: float = 6, size: str = "320x240", source: str = "testsrc2", audio: bool = True,
             fmt: str = "mp4", freq: int = 440) -> Path:
        out = media_dir / f"{name}.{fmt}"
        args = ["-f", "lavfi", "-i", f"{source}=size={size}:rate=25:duration={seconds}"]
        if audio:
            args += ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=44100:duration={seconds}"]
        if fmt == "mp4":
            args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
            if audio:
                args += ["-c:a", "aac", "-b:a", "96k"]
            args += ["-movflags", "+faststart"]
        elif fmt == "webm":
            args += ["-c:v", "libvpx", "-b:v", "300k", "-deadline", "realtime", "-cpu-used", "8"]
            if audio:
                args += ["-c:a", "libopus"]
        args += ["-shortest", str(out)]
        ffmpeg(*args)
        return out

    return make


@pytest.fixture(scope="session")
def make_image(media_dir):
    def make(name: str = "still", size: str = "640x360") -> Path:
        out = media_dir / f"{name}.jpg"
        if not out.exists():
            ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:duration=1", "-frames:v", "1", str(out))
        return out

    return make


@pytest.fixture(scope="session")
def make_hls(media_dir, make_clip):
    def make(name: str = "hls") -> Path:
        folder = media_dir / name
        if not folder.exists():
            folder.mkdir()
            ffmpeg("-i", str(make_clip("hls-source", seconds=6)), "-c", "copy", "-f", "hls", "-hls_time", "2",
                    "-hls_playlist_type", "vod", "-hls_segment_filename", str(folder / "seg%03d.ts"),
                    str(folder / "index.m3u8"))
        return folder / "index.m3u8"

    return make


@pytest.fixture(scope="session")
def library_media(tmp_path_factory) -> Media:
    """Songs and their re-uploads for the library's matching (support/library.py), each made once."""
    return Media(tmp_path_factory.mktemp("library-media"))


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """A loopback HTTP server on 127.0.0.1 (random port) serving a folder tests publish into, with routes
    for redirects, slow and never-ending answers (devtools/loopback.py)."""
    with Loopback(tmp_path_factory.mktemp("site")) as server:
        yield server


# ------------------------------------------------------------------------------------------- logins

@pytest.fixture(scope="session")
def shared_ohrt(tmp_path_factory):
    """ohrt installed once per session where every login can run it (support/logins.py); skips, saying
    why, where operating-system users cannot be made."""
    from support.logins import shared_install, why_not

    reason = why_not()
    if reason:
        pytest.skip(reason)
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="ohrt-shared-"))
    try:
        yield shared_install(root)
    finally:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def logins(shared_ohrt):
    """Logins(ohrt).user(name, *groups) / .group(name) / .run(user, home, *args): real users made for this
    test and removed after it."""
    from support.logins import Logins

    made = Logins(shared_ohrt)
    try:
        yield made
    finally:
        made.remove()
