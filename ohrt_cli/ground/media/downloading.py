"""`download` fetches one post with yt-dlp's Python API (imported once, on first use): best quality,
merges and fix-ups by ffmpeg with `-bitexact` so a third party repeating them gets the same bytes,
no self-update, no cache. A post of several items (a page with two videos, a carousel: yt-dlp's
playlist whose entries are the media themselves) is fetched whole, its items in order (`Fetched.items`);
a playlist of links to other content (a channel, a playlist) is refused. yt-dlp's reason for a failure
is passed on in one line. The capture of SOP 9.1.

This is ground: no tasks, captures or database here.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import Failure
from .failures import ANSI, HttpFailure, NoMedia, Unreachable, UntrustedCertificate, disk_full, one_line
from .tools import _yt_dlp

# ffmpeg post-processors of yt-dlp that write the original; each gets -bitexact on its output.
BITEXACT_PPS = ("merger", "fixupm3u8", "fixupm4a", "fixupstretched", "fixuptimestamp", "fixupduration",
                "fixupduplicatemoov")
RESTRICTED = re.compile(r"\b(private|removed|unavailable|deleted|terminated|suspended|blocked|copyright|sign in|"
                        r"log in|login|age[- ]restricted|members[- ]only|not available in your country)\b", re.I)
UNREACHABLE = re.compile(r"Errno|timed out|Connection (refused|reset|aborted)|Name or service not known|"
                         r"Temporary failure in name resolution|Network is unreachable|SSL", re.I)


@dataclass
class Progress:
    """One block written by the downloader."""

    status: str  # downloading | finished | error
    temp_path: str | None
    path: str | None
    downloaded: int | None
    total: int | None
    speed: float | None
    eta: float | None


@dataclass
class FetchedItem:
    """One item of a post: yt-dlp's info for it and the file(s) it wrote."""

    info: dict
    originals: list[Path]


@dataclass
class Fetched:
    info: dict
    originals: list[Path]
    postprocessors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    live: Any = None  # a live.Recording when the item was live
    items: list[FetchedItem] = field(default_factory=list)  # in the post's order; one for a single item


# A post of several items: each file named by its place in the post; the post's own info beside them.
SEVERAL_OUTTMPL = {"default": "original/%(playlist_autonumber)02d-%(id).70B.%(ext)s",
                   "infojson": "source/%(playlist_autonumber)02d-%(id).70B",
                   "thumbnail": "source/%(playlist_autonumber)02d-%(id).70B",
                   "subtitle": "source/%(playlist_autonumber)02d-%(id).70B",
                   "pl_infojson": "source/post", "pl_thumbnail": "source/post"}
MAX_ITEMS = 50  # more than this is not one post


class _Logger:
    """Keeps yt-dlp quiet on the terminal; its warnings go into the manifest instead."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def debug(self, message: str) -> None:
        pass

    info = debug

    def warning(self, message: str) -> None:
        self.warnings.append(ANSI.sub("", message).strip())

    def error(self, message: str) -> None:
        pass


def ytdlp_options(folder: Path, logger: _Logger, hooks: list[Callable], pp_hooks: list[Callable]) -> dict:
    """yt-dlp's settings for an evidential capture into `folder` (original/ and source/)."""
    return {
        "format": "bv*+ba/b",
        "noplaylist": True,
        "paths": {"home": str(folder)},
        "outtmpl": {"default": "original/%(id).80B.%(ext)s", "infojson": "source/%(id).80B",
                    "thumbnail": "source/%(id).80B", "subtitle": "source/%(id).80B"},
        "restrictfilenames": True,
        "windowsfilenames": True,
        "writeinfojson": True,
        "writethumbnail": True,
        "writesubtitles": True,
        "subtitleslangs": ["all", "-live_chat"],
        "postprocessor_args": {f"{pp}+ffmpeg_o": ["-bitexact"] for pp in BITEXACT_PPS},
        "ffmpeg_location": shutil.which("ffmpeg"),
        "cachedir": False,
        "nopart": False,
        "overwrites": False,
        "quiet": True,
        "no_warnings": False,
        "noprogress": True,
        "color": {"stdout": "no_color", "stderr": "no_color"},
        "logger": logger,
        "progress_hooks": hooks,
        "postprocessor_hooks": pp_hooks,
        "retries": 3,
        "fragment_retries": 3,
        "socket_timeout": 30,
    }


def download(url: str, folder: Path, *, on_progress: Callable[[Progress], None] | None = None,
             live_limit: Any = None, comments: bool = False) -> Fetched:
    """Download the post at `url` into `folder` (original/, source/): its one item, or each of its items
    in order; raise Failure in one line. A live stream is recorded as `live.py` says, within `live_limit`
    (a live.Limit; default 60 minutes). With `comments`, yt-dlp's extractor also fetches the comments where
    it can (`info["comments"]`)."""
    yt_dlp = _yt_dlp()
    logger = _Logger()
    ran: list[str] = []

    def hook(status: dict) -> None:
        if on_progress is not None:
            on_progress(Progress(
                status=status.get("status", ""), temp_path=status.get("tmpfilename"), path=status.get("filename"),
                downloaded=status.get("downloaded_bytes"),
                total=status.get("total_bytes") or status.get("total_bytes_estimate"),
                speed=status.get("speed"), eta=status.get("eta")))

    def pp_hook(status: dict) -> None:
        if status.get("status") == "finished" and status.get("postprocessor") != "MoveFiles":
            ran.append(status["postprocessor"])

    try:
        options = {**ytdlp_options(folder, logger, [hook], [pp_hook]), "getcomments": comments}
        with yt_dlp.YoutubeDL(options) as ydl:
            found = ydl.extract_info(url, download=False, process=False)
            if _several_items(found, url):
                ydl.params["outtmpl"].update(SEVERAL_OUTTMPL)
            with _live_recording(ydl, found, folder, live_limit) as recorded:
                info = ydl.sanitize_info(ydl.process_ie_result(found, download=True))
    except yt_dlp.utils.YoutubeDLError as exc:  # DownloadError, and UnavailableVideoError for write errors
        raise explain_download_error(url, exc, folder) from None
    post = info
    entries = [e for e in info.get("entries") or [] if e] if info.get("_type") in ("playlist", "multi_video") \
        else [info]
    items = [FetchedItem(entry, _written(entry)) for entry in entries]
    items = [item for item in items if item.originals]
    if not items:
        raise NoMedia(f"no media found at {url}: yt-dlp found the page but downloaded nothing; check that it plays "
                      "in a browser, or save it another way and use `ohrt capture --file`.")
    if len(entries) == 1:
        post = entries[0]
    elif len(items) < len(entries):
        missing = [str(n) for n, entry in enumerate(entries, start=1) if not _written(entry)]
        raise Failure(f"{url} holds {len(entries)} items, but item {', '.join(missing)} could not be downloaded: "
                      "nothing was kept; capture again, or save the missing items another way.")
    else:
        post = {**entries[0], **{k: v for k, v in info.items() if v not in (None, "", []) and k != "entries"}}
    originals = [p for item in items for p in item.originals]
    return Fetched(info=post, originals=originals, postprocessors=ran, warnings=logger.warnings, items=items,
                   live=recorded)


@contextlib.contextmanager
def _live_recording(ydl, found: dict, folder: Path, limit: Any):
    """A live item is recorded within its limit (`live.py`); anything else is downloaded as it is."""
    from .. import live

    if not live.is_live(found):
        yield None
        return
    with live.recording(ydl, found, folder, limit or live.Limit(live.DEFAULT_MINUTES * 60)) as rec:
        yield rec


def _written(entry: dict) -> list[Path]:
    paths = [Path(d["filepath"]) for d in entry.get("requested_downloads") or [] if d.get("filepath")]
    return [p for p in paths if p.is_file()]


def _several_items(found: dict, url: str) -> bool:
    """Whether yt-dlp's answer is a post of several items (a carousel, a page with several videos): a
    playlist whose entries are the media themselves. A playlist of links to other content (a channel,
    a playlist) is not one piece of content and is refused; so is one of more than MAX_ITEMS."""
    if found.get("_type") not in ("playlist", "multi_video"):
        return False
    import itertools

    entries = found.get("entries")
    entries = list(itertools.islice(entries, MAX_ITEMS + 1)) if entries is not None else []
    found["entries"] = entries
    if not entries:
        raise NoMedia(f"no media found at {url}: yt-dlp found an empty list there; check that it plays in a browser, "
                      "or save it another way and use `ohrt capture --file`.")
    linked = [e for e in entries if (e or {}).get("_type") in ("url", "url_transparent", "playlist", "multi_video")]
    if linked or len(entries) > MAX_ITEMS:
        count = f"more than {MAX_ITEMS}" if len(entries) > MAX_ITEMS else str(len(entries))
        raise Failure(f"{url} holds {count} items that are links to other content (a playlist or a channel), "
                      "not one post: capture each by its own URL (its page or the media's address; several at "
                      "once with `ohrt capture --batch FILE`).")
    return len(entries) > 1


def explain_download_error(url: str, exc: Exception, folder: Path) -> Failure:
    """yt-dlp's reason in one readable line, with how to go on."""
    reason = one_line(getattr(exc, "msg", None) or str(exc))
    cause = exc.exc_info[1] if getattr(exc, "exc_info", None) else None
    if "No space left on device" in reason or "[Errno 28]" in reason or getattr(cause, "errno", None) == 28:
        return disk_full(folder)
    if "Unsupported URL" in reason:
        return NoMedia(f"no media found at {url} (yt-dlp: unsupported URL, and no video or audio embedded in the "
                       "page): check that it plays in a browser; if it does, save it another way and ingest it "
                       "with `ohrt capture --file PATH --url URL --reason TEXT`.")
    if "CERTIFICATE_VERIFY_FAILED" in reason:
        return UntrustedCertificate(f"could not fetch {url}: its TLS certificate is not trusted ({reason}); check the "
                                    "address, or save the page another way and use `ohrt capture --file`.")
    if re.search(r"HTTP Error (4\d\d|5\d\d)", reason):
        return HttpFailure(f"could not fetch {url}: {reason}; check that the link opens in a browser (the content may "
                       "have been removed).")
    if RESTRICTED.search(reason):
        return Failure(f"cannot capture {url}: {reason}; the content is private, removed or restricted on the "
                       "platform: record that on the task.")
    if UNREACHABLE.search(reason):
        return Unreachable(f"could not reach {url}: {reason}; check the network connection (and any proxy), then "
                           "capture again.")
    return Failure(f"download of {url} failed: {reason}; check the URL and your connection, then capture again.")
