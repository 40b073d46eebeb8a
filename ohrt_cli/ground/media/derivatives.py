"""The review derivatives of an original (SOP 9.1: copies that play anywhere, the audio track, key
frames, a contact sheet): `plan_derivatives` builds the exact ffmpeg command of each (ffmpeg-python), with
paths relative to the capture folder so the manifest's command can be run again there; `run_step` runs
one. A step's failure raises `StepFailed`, which the caller records and carries on from.

This is ground: no tasks, captures or database here.
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import processes
from .failures import StepFailed, disk_full, ffmpeg_reason
from .probing import can_remux, duration, is_listening_ready, is_review_ready, streams

FONT_CANDIDATES = ("DejaVuSansMono.ttf", "DejaVuSans.ttf", "LiberationMono-Regular.ttf", "FreeMono.ttf")
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "/System/Library/Fonts")

DEFAULTS = {"review_preset": "veryfast", "review_crf": 23, "keyframes_max": 100, "contact_sheet_tiles": 16,
            "font": ""}


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
    from ..errors import InputError

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


def step_outputs(step: Step, cwd: Path) -> list[str]:
    """The files a step made, relative to `cwd`."""
    target = cwd / step.output
    if step.role == "keyframes":
        return sorted(f"{step.output}/{p.name}" for p in target.glob("kf-*.jpg")) if target.is_dir() else []
    return [step.output] if target.is_file() and target.stat().st_size > 0 else []


def keyframe_times(stderr: str) -> list[float]:
    """Each output key frame's time in the original, from showinfo's log."""
    return [float(t) for t in re.findall(r"Parsed_showinfo.*?pts_time:\s*([0-9.]+)", stderr)]
