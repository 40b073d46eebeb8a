"""Which tools a capture needs and their exact versions (recorded with every capture so a third party can
repeat a step: SOP 9.1), and yt-dlp imported once, on first use.

This is ground: no tasks, captures or database here.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import threading

from .. import processes
from ..errors import Failure


def require_tools() -> None:
    """Refuse early, in one line, when ffmpeg or ffprobe is not installed."""
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        raise Failure(f"{' and '.join(missing)} not found on PATH: install ffmpeg (Debian/Ubuntu: sudo apt-get "
                      "install ffmpeg, or run `make setup`) and capture again.")


@functools.lru_cache(maxsize=None)
def _tool_version(tool: str) -> str:
    try:
        first = processes.run([tool, "-version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"
    match = re.match(rf"{tool} version (\S+)", first)
    return match[1] if match else first.strip()


def _collect_versions() -> dict:
    from importlib.metadata import version

    return {"yt_dlp": _yt_dlp_version(), "ffmpeg": _tool_version("ffmpeg"), "ffprobe": _tool_version("ffprobe"),
            "ffmpeg_python": version("ffmpeg-python")}


_versions: dict = {}
_versions_ready = threading.Event()
_versions_started = threading.Lock()


def prefetch_versions() -> None:
    """Ask the tools for their versions on a side thread, while the download runs."""
    if _versions_started.acquire(blocking=False):
        def collect() -> None:
            try:
                _versions.update(_collect_versions())
            finally:
                _versions_ready.set()

        threading.Thread(target=collect, daemon=True).start()


def tool_versions() -> dict:
    """The exact versions to record with every capture (a third party needs them to repeat a step)."""
    prefetch_versions()
    _versions_ready.wait()
    return dict(_versions) or _collect_versions()


def _yt_dlp_version() -> str:
    from yt_dlp.version import __version__

    return __version__


@functools.lru_cache(maxsize=None)
def _yt_dlp():
    """yt-dlp is imported once per process, on first use (a batch shares it)."""
    import yt_dlp
    from yt_dlp.utils import Popen

    processes.bind(Popen)  # the ffmpeg yt-dlp starts for merges and fix-ups dies with ohrt too
    return yt_dlp


def yt_dlp_module():
    """The yt_dlp package, imported on first use (for a look at metadata elsewhere in ground)."""
    return _yt_dlp()
