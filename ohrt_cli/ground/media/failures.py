"""How ffmpeg, ffprobe and yt-dlp fail, in one line each: the failures a capture reports and the reason a
derivative step records (SOP 9.1's conversion software, seen from its errors).

This is ground: no tasks, captures or database here.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import Failure

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class DiskFull(Failure):
    """No space left where the capture is being written."""


class NoMedia(Failure):
    """yt-dlp found no video, audio or image at the URL (the page may still be kept by the browser)."""


class HttpFailure(Failure):
    """The server answered yt-dlp with an HTTP error (4xx, 5xx)."""


class Unreachable(Failure):
    """yt-dlp could not reach the server, or the server stopped answering (a page that never finishes)."""


class UntrustedCertificate(Failure):
    """yt-dlp refused the site's TLS certificate (self-signed, expired, wrong name)."""


class StepFailed(Exception):
    """One derivative step failed; `reason` is one line from the tool."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def disk_full(where: Path | str) -> DiskFull:
    return DiskFull(f"disk full while writing {where}: nothing was kept; free space there (or move the home) "
                    "and capture again.")

def one_line(message: str) -> str:
    """yt-dlp's message without its prefix, colours, bug-report advice or Python cause."""
    text = ANSI.sub("", message)
    text = re.sub(r"^\s*ERROR:\s*", "", text)
    text = re.sub(r";?\s*please report this issue on.*$", "", text, flags=re.I | re.S)
    text = re.sub(r"\s*\(caused by .*\)\s*$", "", text, flags=re.S)
    text = re.sub(r"^\[[\w:]+\]\s+[^:]{1,120}:\s+", "", text)
    return re.sub(r"\s+", " ", text).strip().rstrip(".")



def ffmpeg_reason(stderr: str, code: int) -> str:
    """The lines of ffmpeg's stderr that say why, joined into one."""
    lines = [ANSI.sub("", line).strip() for line in stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("frame=", "size=", "video:", "Stream mapping", "Press"))]
    telling = [line for line in lines if re.search(r"error|invalid|cannot|could not|unable|no such|not found|"
                                                    r"unknown|failed", line, re.I)]
    # the first complaint is usually the cause, the last the consequence
    chosen = list(dict.fromkeys((telling[:1] + telling[-1:]) or lines[-1:] or [f"ffmpeg exited with status {code}"]))
    return re.sub(r"\[[\w@ x0-9]+\]\s*", "", " / ".join(chosen))[:400]


