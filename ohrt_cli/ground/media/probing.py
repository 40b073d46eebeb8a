"""What a file is, read by ffprobe: `probe`, `media_kind`, `duration`, and whether an original already
plays anywhere (`is_review_ready`, `is_listening_ready`, `can_remux`). No SOP paragraph of its own: what
SOP 9.1's review copies are made from.

This is ground: no tasks, captures or database here.
"""

from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from .. import processes
from ..errors import Failure
from .failures import one_line

IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "gif_pipe",
                 "jpegxl_pipe", "jpegls_pipe", "pgm_pipe", "ppm_pipe", "svg_pipe", "qoi_pipe"}


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


def can_remux(info: dict) -> bool:
    """True when the streams already play anywhere (H.264 yuv420p, AAC or no sound) and only the container
    does not (Matroska, MPEG-TS, MOV…): the review copy is then the same streams copied into an MP4."""
    video, audio = streams(info, "video"), streams(info, "audio")
    return (len(video) == 1 and video[0].get("codec_name") == "h264" and video[0].get("pix_fmt") == "yuv420p"
            and all(a.get("codec_name") == "aac" for a in audio[:1]))
