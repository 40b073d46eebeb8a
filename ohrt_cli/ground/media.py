"""ffmpeg, ffprobe and yt-dlp, wrapped: the "audio/video conversion software" of SOP 9.1.

* `download` fetches one post with yt-dlp's Python API (imported once, on first use): best quality,
  merges and fix-ups by ffmpeg with `-bitexact` so a third party repeating them gets the same bytes,
  no self-update, no cache. A post of several items (a page with two videos, a carousel: yt-dlp's
  playlist whose entries are the media themselves) is fetched whole, its items in order (`Fetched.items`);
  a playlist of links to other content (a channel, a playlist) is refused. yt-dlp's reason for a failure
  is passed on in one line.
* `probe`, `media_kind`, `is_review_ready` read what a file is (ffprobe through ffmpeg-python).
* `plan_derivatives` builds the exact ffmpeg command of each review derivative (ffmpeg-python), with
  paths relative to the capture folder so the manifest's command can be run again there; `run_step`
  runs one. A step's failure raises `StepFailed`, which the caller records and carries on from.

This is ground: no tasks, captures or database here.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import processes
from .errors import Failure

# ffmpeg post-processors of yt-dlp that write the original; each gets -bitexact on its output.
BITEXACT_PPS = ("merger", "fixupm3u8", "fixupm4a", "fixupstretched", "fixuptimestamp", "fixupduration",
                "fixupduplicatemoov")
IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "gif_pipe",
                 "jpegxl_pipe", "jpegls_pipe", "pgm_pipe", "ppm_pipe", "svg_pipe", "qoi_pipe"}
FONT_CANDIDATES = ("DejaVuSansMono.ttf", "DejaVuSans.ttf", "LiberationMono-Regular.ttf", "FreeMono.ttf")
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "/System/Library/Fonts")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RESTRICTED = re.compile(r"\b(private|removed|unavailable|deleted|terminated|suspended|blocked|copyright|sign in|"
                        r"log in|login|age[- ]restricted|members[- ]only|not available in your country)\b", re.I)
UNREACHABLE = re.compile(r"Errno|timed out|Connection (refused|reset|aborted)|Name or service not known|"
                         r"Temporary failure in name resolution|Network is unreachable|SSL", re.I)

DEFAULTS = {"review_preset": "veryfast", "review_crf": 23, "keyframes_max": 100, "contact_sheet_tiles": 16,
            "font": ""}


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


# --------------------------------------------------------------------------------------------- tools

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


# ----------------------------------------------------------------------------------------- download

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
    from . import live

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


def one_line(message: str) -> str:
    """yt-dlp's message without its prefix, colours, bug-report advice or Python cause."""
    text = ANSI.sub("", message)
    text = re.sub(r"^\s*ERROR:\s*", "", text)
    text = re.sub(r";?\s*please report this issue on.*$", "", text, flags=re.I | re.S)
    text = re.sub(r"\s*\(caused by .*\)\s*$", "", text, flags=re.S)
    text = re.sub(r"^\[[\w:]+\]\s+[^:]{1,120}:\s+", "", text)
    return re.sub(r"\s+", " ", text).strip().rstrip(".")


# -------------------------------------------------------------------------------------------- probe

def probe(path: Path) -> dict:
    """ffprobe's format and streams, as JSON; Failure when the file is not media ffprobe can read."""
    import json

    # ffmpeg-python's probe, run as every child of ohrt is (processes.py)
    done = processes.run(["ffprobe", "-show_format", "-show_streams", "-of", "json", str(path)], capture_output=True)
    if done.returncode == 0:
        return json.loads(done.stdout.decode("utf-8", "replace"))
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    detail = one_line(lines[-1]) if lines else "unreadable"
    raise Failure(f"{path.name} is not audio, video or an image that ffprobe can read ({detail}): check the file.")


def probe_soon(path: Path) -> Future:
    """`probe` on a side thread (ffprobe is a process of its own), to overlap it with hashing."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(probe, path)
    finally:
        pool.shutdown(wait=False)


def streams(info: dict, kind: str) -> list[dict]:
    """The streams of one kind, leaving out cover art (attached pictures)."""
    return [s for s in info.get("streams", []) if s.get("codec_type") == kind
            and not (s.get("disposition") or {}).get("attached_pic")]


def media_kind(info: dict) -> str | None:
    """video, audio or image; None when the file holds none of them."""
    video, audio = streams(info, "video"), streams(info, "audio")
    format_name = (info.get("format") or {}).get("format_name", "")
    if video and (format_name in IMAGE_FORMATS or _single_still(info, video[0])) and not audio:
        return "image"
    if video:
        return "video"
    if audio:
        return "audio"
    return None


def _single_still(info: dict, video: dict) -> bool:
    return video.get("codec_name") in ("mjpeg", "png", "webp", "bmp") and video.get("nb_frames") in (None, "1") \
        and not (info.get("format") or {}).get("duration")


def duration(info: dict) -> float | None:
    value = (info.get("format") or {}).get("duration")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def is_review_ready(path: Path, info: dict) -> bool:
    """True when the file already plays anywhere: H.264 (yuv420p) with AAC or no sound, in an MP4."""
    video, audio = streams(info, "video"), streams(info, "audio")
    container = "mp4" in (info.get("format") or {}).get("format_name", "").split(",")
    return (container and path.suffix.lower() in (".mp4", ".m4v") and len(video) == 1
            and video[0].get("codec_name") == "h264" and video[0].get("pix_fmt") == "yuv420p"
            and all(a.get("codec_name") == "aac" for a in audio))


def is_listening_ready(path: Path, info: dict) -> bool:
    """An audio-only original that already plays anywhere (AAC in M4A/MP4, or MP3)."""
    audio = streams(info, "audio")
    if len(audio) != 1:
        return False
    codec, suffix = audio[0].get("codec_name"), path.suffix.lower()
    return (codec == "aac" and suffix in (".m4a", ".mp4")) or (codec == "mp3" and suffix == ".mp3")


# ------------------------------------------------------------------------------------- derivatives

@dataclass
class Step:
    """One review derivative: its role, where it goes (relative to the capture folder) and the exact command."""

    role: str
    output: str
    command: list[str]
    note: str | None = None
    options: dict = field(default_factory=dict)
    node: Any = field(default=None, repr=False, compare=False)  # ffmpeg-python's output, for `plan_pass`


def settings_with_defaults(settings: Any) -> dict:
    """The `[capture]` settings of config.toml over the shipped defaults; whole numbers checked here,
    names (preset, font) left to ffmpeg, whose refusal is recorded as a failed derivative."""
    from .errors import InputError

    options = {name: settings.get(f"capture.{name}", default) for name, default in DEFAULTS.items()}
    for name in ("review_crf", "keyframes_max", "contact_sheet_tiles"):
        if not isinstance(options[name], int) or isinstance(options[name], bool) or options[name] < 0:
            raise InputError(f"[capture] {name} = {options[name]!r} in config.toml is not a whole number: "
                             f"correct it (default {DEFAULTS[name]}).")
    return options


def plan_derivatives(source: str, info: dict, kind: str, options: dict, folder: str = "derived", *,
                     one_pass: bool = False) -> list[Step]:
    """The derivatives that apply to one original (`source`, relative to the capture folder), written
    under `folder` (each item of a post of several has its own).

    Video: review copy (unless the original already plays anywhere), audio track (when it has sound),
    keyframes, contact sheet. Audio: a listening copy unless the original already is one. Image: a
    review-size copy when the picture is huge (more than IMAGE_REVIEW_PIXELS), else none."""
    path = Path(source)
    steps: list[Step] = []
    has_audio = bool(streams(info, "audio"))
    if kind == "video":
        if not is_review_ready(path, info):
            steps.append(review_step(source, info, options, folder))
        if has_audio:
            steps.append(audio_step(source, info, folder))
        steps.append(keyframes_step(source, info, options, folder, one_pass=one_pass))
        steps.append(contact_sheet_step(source, info, options, folder))
    elif kind == "audio" and not is_listening_ready(path, info):
        steps.append(audio_step(source, info, folder))
    elif kind == "image" and _pixels(info) > IMAGE_REVIEW_PIXELS:
        steps.append(image_review_step(source, folder))
    return steps


IMAGE_REVIEW_PIXELS = 4096 * 4096   # a picture larger than this gets a review-size copy
IMAGE_REVIEW_SIDE = 2048            # ... whose longer side is this many pixels


def _pixels(info: dict) -> int:
    video = streams(info, "video")
    return int(video[0].get("width") or 0) * int(video[0].get("height") or 0) if video else 0


def image_review_step(source: str, folder: str = "derived") -> Step:
    """A huge picture scaled down (longer side IMAGE_REVIEW_SIDE) as a JPEG that any viewer opens quickly."""
    import ffmpeg

    side = IMAGE_REVIEW_SIDE
    picture = ffmpeg.input(source)["v:0"].filter(
        "scale", f"if(gt(iw,ih),{side},-2)", f"if(gt(iw,ih),-2,{side})")
    out = ffmpeg.output(picture, f"{folder}/review.jpg", vframes=1, bitexact=None, **{"q:v": 2})
    return Step("review", f"{folder}/review.jpg", _compile(out), node=out)


def _compile(stream) -> list[str]:
    return ["ffmpeg", "-nostdin", "-hide_banner", *stream.compile(cmd="ffmpeg")[1:]]


def can_remux(info: dict) -> bool:
    """True when the streams already play anywhere (H.264 yuv420p, AAC or no sound) and only the container
    does not (Matroska, MPEG-TS, MOV…): the review copy is then the same streams copied into an MP4."""
    video, audio = streams(info, "video"), streams(info, "audio")
    return (len(video) == 1 and video[0].get("codec_name") == "h264" and video[0].get("pix_fmt") == "yuv420p"
            and all(a.get("codec_name") == "aac" for a in audio[:1]))


def review_step(source: str, info: dict, options: dict, folder: str = "derived") -> Step:
    """H.264/AAC MP4 that plays anywhere; even dimensions, as yuv420p requires. When the original's streams
    already play anywhere they are copied as they are (`can_remux`): nothing is decoded or re-encoded."""
    import ffmpeg

    src = ffmpeg.input(source)
    audio = streams(info, "audio")
    if can_remux(info):
        out = ffmpeg.output(src["v:0"], *([src["a:0"]] if audio else []), f"{folder}/review.mp4", c="copy",
                            movflags="+faststart", bitexact=None)
        return Step("review", f"{folder}/review.mp4", _compile(out), options={"remuxed": True}, node=out)
    video = src["v:0"].filter("scale", "trunc(iw/2)*2", "trunc(ih/2)*2")
    inputs = [video] + ([src["a:0"]] if audio else [])
    audio_args = {}
    if audio:
        audio_args = {"acodec": "copy"} if audio[0].get("codec_name") == "aac" else {"acodec": "aac", "b:a": "160k"}
    out = ffmpeg.output(*inputs, f"{folder}/review.mp4", vcodec="libx264", preset=str(options["review_preset"]),
                        crf=options["review_crf"], pix_fmt="yuv420p", movflags="+faststart", bitexact=None,
                        **audio_args)
    return Step("review", f"{folder}/review.mp4", _compile(out), node=out)


def audio_step(source: str, info: dict, folder: str = "derived") -> Step:
    """The first audio track for listening: copied when AAC or MP3, else AAC."""
    import ffmpeg

    codec = streams(info, "audio")[0].get("codec_name")
    target, args = {"aac": (f"{folder}/audio.m4a", {"acodec": "copy"}),
                    "mp3": (f"{folder}/audio.mp3", {"acodec": "copy"})}.get(
        codec, (f"{folder}/audio.m4a", {"acodec": "aac", "b:a": "192k"}))
    out = ffmpeg.output(ffmpeg.input(source)["a:0"], target, vn=None, bitexact=None, **args)
    return Step("audio", target, _compile(out), node=out)


def keyframes_step(source: str, info: dict, options: dict, folder: str = "derived", *, one_pass: bool = False) -> Step:
    """The stream's key frames as JPEGs (only key frames are decoded), at most `keyframes_max`, evenly
    thinned; `showinfo` reports each one's time, which goes into the manifest. In `one_pass`, every frame
    is decoded for the other derivatives anyway, and the key frames are those the decoder marks as such."""
    import ffmpeg

    length = duration(info) or 0
    spacing = max(length / max(int(options["keyframes_max"]), 1), 0.0)
    thinned = f"isnan(prev_selected_t)+gte(t-prev_selected_t,{spacing:.3f})"
    video = (ffmpeg.input(source)["v:0"].filter("select", f"key*({thinned})") if one_pass else
             ffmpeg.input(source, skip_frame="nokey")["v:0"].filter("select", thinned)).filter("showinfo")
    out = ffmpeg.output(video, f"{folder}/keyframes/kf-%04d.jpg", vsync="vfr", bitexact=None,
                        frames=int(options["keyframes_max"]), **{"q:v": 2})
    return Step("keyframes", f"{folder}/keyframes", _compile(out), node=out)


def contact_sheet_step(source: str, info: dict, options: dict, folder: str = "derived") -> Step:
    """One JPEG of evenly spaced frames, each stamped with its time in the original."""
    import ffmpeg

    tiles = max(int(options["contact_sheet_tiles"]), 1)
    columns = min(4, tiles)
    rows = math.ceil(tiles / columns)
    spacing = (duration(info) or tiles) / tiles
    video = (ffmpeg.input(source)["v:0"]
             .filter("select", f"isnan(prev_selected_t)+gte(t-prev_selected_t,{spacing:.3f})")
             .filter("scale", 320, -2))
    font = options["font"] or find_font()
    note = None
    if options["font"] and not os.path.isfile(os.path.expanduser(str(options["font"]))):
        font = find_font()  # said, not silent: the note is recorded on the contact sheet and printed
        note = (f"[capture] font {options['font']!r} in config.toml names no file: used {font or 'no font'} "
                "instead; correct it (ohrt config check)")
    if font:
        video = video.filter("drawtext", fontfile=font, text="%{pts:hms}", x=4, y="h-th-4", fontsize=14,
                             fontcolor="white", box=1, boxcolor="black@0.6")
    else:
        note = "no font found (install fonts-dejavu-core): tiles have no time stamps"
    video = video.filter("tile", f"{columns}x{rows}")
    out = ffmpeg.output(video, f"{folder}/contact-sheet.jpg", vframes=1, update=1, bitexact=None, **{"q:v": 3})
    return Step("contact-sheet", f"{folder}/contact-sheet.jpg", _compile(out), note=note,
                options={"tiles": tiles, "timestamps": bool(font)}, node=out)


@functools.lru_cache(maxsize=None)
def find_font() -> str | None:
    """A TrueType font for drawtext: DejaVu (fc-match first), else any of the usual candidates."""
    if shutil.which("fc-match"):
        found = processes.run(["fc-match", "-f", "%{file}", "DejaVu Sans Mono"], capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.endswith((".ttf", ".otf")) and os.path.isfile(found.stdout):
            return found.stdout
    for root in FONT_DIRS:
        for dirpath, _, files in os.walk(root):
            for name in FONT_CANDIDATES:
                if name in files:
                    return os.path.join(dirpath, name)
    return None


def run_step(step: Step, cwd: Path, on_seconds: Callable[[float], None] | None = None) -> str:
    """Run one derivative's command in the capture folder `cwd`; its stderr on success. With `on_seconds`,
    ffmpeg also reports (`-progress pipe:1`, not part of the recorded command) how many seconds of the
    media it has done, and each report is passed on.

    Raises DiskFull when ffmpeg ran out of space, StepFailed with ffmpeg's own reason otherwise."""
    if step.role == "keyframes":
        (cwd / step.output).mkdir(parents=True, exist_ok=True)
    else:
        (cwd / step.output).parent.mkdir(parents=True, exist_ok=True)
    command = list(step.command)
    if on_seconds is not None and command and Path(command[0]).name.startswith("ffmpeg"):
        command[1:1] = ["-progress", "pipe:1", "-nostats"]
    try:
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as errors:
            with processes.popen(command, cwd=cwd, stdout=subprocess.PIPE if on_seconds else subprocess.DEVNULL,
                                 stderr=errors, text=True, errors="replace") as process:
                if on_seconds is not None:
                    for line in process.stdout:
                        if line.startswith("out_time_us=") and line[12:].strip().isdigit():
                            on_seconds(int(line[12:].strip()) / 1_000_000)
                returncode = process.wait()
            errors.seek(0)
            stderr = errors.read()
    except OSError as exc:
        raise StepFailed(f"could not run ffmpeg ({exc.strerror})") from None
    result = subprocess.CompletedProcess(command, returncode, "", stderr)
    if "No space left on device" in result.stderr:
        raise disk_full(cwd / step.output)
    if result.returncode != 0:
        raise StepFailed(ffmpeg_reason(result.stderr, result.returncode))
    outputs = step_outputs(step, cwd)
    if not outputs:
        raise StepFailed("ffmpeg wrote no output")
    return result.stderr


def ffmpeg_reason(stderr: str, code: int) -> str:
    """The lines of ffmpeg's stderr that say why, joined into one."""
    lines = [ANSI.sub("", line).strip() for line in stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("frame=", "size=", "video:", "Stream mapping", "Press"))]
    telling = [line for line in lines if re.search(r"error|invalid|cannot|could not|unable|no such|not found|"
                                                    r"unknown|failed", line, re.I)]
    # the first complaint is usually the cause, the last the consequence
    chosen = list(dict.fromkeys((telling[:1] + telling[-1:]) or lines[-1:] or [f"ffmpeg exited with status {code}"]))
    return re.sub(r"\[[\w@ x0-9]+\]\s*", "", " / ".join(chosen))[:400]


def step_outputs(step: Step, cwd: Path) -> list[str]:
    """The files a step made, relative to `cwd`."""
    target = cwd / step.output
    if step.role == "keyframes":
        return sorted(f"{step.output}/{p.name}" for p in target.glob("kf-*.jpg")) if target.is_dir() else []
    return [step.output] if target.is_file() and target.stat().st_size > 0 else []


def keyframe_times(stderr: str) -> list[float]:
    """Each output key frame's time in the original, from showinfo's log."""
    return [float(t) for t in re.findall(r"Parsed_showinfo.*?pts_time:\s*([0-9.]+)", stderr)]


# ------------------------------------------------------------------------------------------ one pass

@dataclass
class Pass:
    """Several derivatives of one original made by one ffmpeg process, which decodes it once: `command`
    (relative paths, run in the capture folder) makes every file of every step, and is what the manifest
    records for each of them (`made_together` names them all)."""

    source: str
    steps: list[Step]
    command: list[str]

    @property
    def outputs(self) -> list[str]:
        return [step.output for step in self.steps]


@dataclass
class Reading:
    """What a caller reads from the same decode, beside the derivatives (the fingerprints' frames and
    sound): filter chains added to the graph (`[0:N]` names the input's streams), outputs added to the
    command, and, when `frame_bytes` is set, `on_frame` called with each raw frame ffmpeg writes on
    stdout. A second stream of raw frames (`side`: frame size, what to call with each, and the outputs
    that write them to `pipe:FD`, given FD) goes through a pipe of its own, read on a thread. None of it
    makes a file of the capture, so none of it is in the recorded command."""

    graph: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    frame_bytes: int = 0
    on_frame: Callable[[bytes], None] | None = None
    seconds_per_frame: float = 1.0
    side: tuple[int, Callable[[bytes], None], Callable[[int], list[str]]] | None = None


def plan_pass(source: str, info: dict, kind: str, options: dict, folder: str = "derived",
              roles: set[str] | None = None) -> Pass:
    """The derivatives of one original (`plan_derivatives`, those in `roles` when given) as one command.
    A video's picture is decoded once and filtered into each derivative. Only pictures should be made this
    way: their bytes depend on the decoded frames alone, whereas an MP4's interleaving and a copied sound's
    timestamps follow what else the process reads and decodes. With no derivative to make, the command only
    reads `source` (for a `Reading`)."""
    import ffmpeg

    steps = [] if roles == set() else [step for step in plan_derivatives(source, info, kind, options, folder,
                                                                          one_pass=True)
                                       if roles is None or step.role in roles]
    if not steps:
        return Pass(source, [], ["ffmpeg", "-nostdin", "-hide_banner", "-i", source])
    if len(steps) == 1:
        return Pass(source, steps, steps[0].command)
    return Pass(source, steps, _compile(ffmpeg.merge_outputs(*[step.node for step in steps])))


def run_pass(plan: Pass, cwd: Path, *, reading: Reading | None = None,
             on_seconds: Callable[[float], None] | None = None) -> str:
    """Run `plan` in the capture folder `cwd`, with `reading`'s chains and outputs added, passing each
    raw frame to `reading.on_frame` as it comes; its stderr on success. Progress as `run_step` gives it
    (from the frames read, when there are any). Raises DiskFull, or StepFailed with ffmpeg's reason; on
    any failure the caller removes what the steps made (`step_outputs`)."""
    for step in plan.steps:
        target = cwd / step.output
        (target if step.role == "keyframes" else target.parent).mkdir(parents=True, exist_ok=True)
    command = _with_reading(plan.command, reading) if reading else list(plan.command)
    frames = reading is not None and reading.frame_bytes > 0 and reading.on_frame is not None
    if on_seconds is not None and not frames:
        command[1:1] = ["-progress", "pipe:1", "-nostats"]
    side = _SidePipe(*reading.side) if reading is not None and reading.side else None
    if side:
        command += side.outputs
    try:
        with contextlib.ExitStack() as stack:
            errors = stack.enter_context(tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace"))
            if side:
                stack.enter_context(side)
            process = stack.enter_context(processes.popen(
                command, cwd=cwd, stderr=errors, pass_fds=side.fds if side else (),
                stdout=subprocess.PIPE if frames or on_seconds else subprocess.DEVNULL))
            if side:
                side.start()
            if frames:
                count = 0
                while len(data := process.stdout.read(reading.frame_bytes)) == reading.frame_bytes:
                    reading.on_frame(data)
                    count += 1
                    if on_seconds is not None:
                        on_seconds(count * reading.seconds_per_frame)
                process.stdout.read()  # whatever is left, so that ffmpeg is never blocked writing
            elif on_seconds is not None:
                for raw in process.stdout:
                    line = raw.decode("ascii", "replace")
                    if line.startswith("out_time_us=") and line[12:].strip().isdigit():
                        on_seconds(int(line[12:].strip()) / 1_000_000)
            returncode = process.wait()
            if side:
                side.finish()
            errors.seek(0)
            stderr = errors.read()
    except OSError as exc:
        raise StepFailed(f"could not run ffmpeg ({exc.strerror})") from None
    if "No space left on device" in stderr:
        raise disk_full(cwd / (plan.outputs[0] if plan.steps else "."))
    if returncode != 0:
        raise StepFailed(ffmpeg_reason(stderr, returncode))
    empty = [step.role for step in plan.steps if not step_outputs(step, cwd)]
    if empty:
        raise StepFailed(f"ffmpeg wrote no {', '.join(empty)}")
    return stderr


class _SidePipe:
    """A pipe ffmpeg writes raw frames into (its write end passed to the child as `pipe:FD`), read on a
    thread of its own; an error of the reader's comes back from `finish`."""

    def __init__(self, frame_bytes: int, on_frame: Callable[[bytes], None], outputs: Callable[[int], list[str]]):
        self.frame_bytes, self.on_frame = frame_bytes, on_frame
        self.read_end, self.write_end = os.pipe()
        self.fds = (self.write_end,)
        self.outputs = outputs(self.write_end)
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def __enter__(self) -> "_SidePipe":
        return self

    def start(self) -> None:
        os.close(self.write_end)  # the child holds its own copy: its exit is our end of file
        self.write_end = -1
        self.thread = threading.Thread(target=self._read, name="ohrt-side-pipe", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with os.fdopen(self.read_end, "rb", closefd=False) as pipe:
            try:
                while len(data := pipe.read(self.frame_bytes)) == self.frame_bytes:
                    self.on_frame(data)
            except BaseException as exc:  # noqa: BLE001 — handed to the caller by finish()
                self.error = exc
            finally:
                while pipe.read(1 << 16):  # never leave ffmpeg blocked on a full pipe
                    pass

    def finish(self) -> None:
        if self.thread is not None:
            self.thread.join()
        if isinstance(self.error, Exception):
            raise StepFailed(f"reading the frames failed ({type(self.error).__name__}: {self.error})")
        if self.error is not None:
            raise self.error

    def __exit__(self, *exc) -> None:
        if self.write_end >= 0:
            os.close(self.write_end)
        if self.thread is not None:
            self.thread.join(timeout=10)
        os.close(self.read_end)


def _with_reading(command: list[str], reading: Reading) -> list[str]:
    """`command` with `reading`'s filter chains joined to its graph and its outputs after the others."""
    command = list(command)
    if reading.graph:
        if "-filter_complex" in command:
            at = command.index("-filter_complex") + 1
            command[at] = ";".join([command[at], *reading.graph])
        else:
            at = len(command) - command[::-1].index("-i") + 1  # after the (one) input
            command[at:at] = ["-filter_complex", ";".join(reading.graph)]
    return command + reading.outputs
