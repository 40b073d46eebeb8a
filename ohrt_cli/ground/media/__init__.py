"""ffmpeg, ffprobe and yt-dlp, wrapped: the "audio/video conversion software" of SOP 9.1.

Callers use this package as one module (`from ohrt_cli.ground import media`; `media.download`, `media.probe`,
`media.plan_pass`...); its jobs live in modules of their own:

* `tools`: ffmpeg and ffprobe present, the tools' exact versions for the manifest, yt-dlp imported once.
* `failures`: the one-line failures of a download and the reason a derivative step failed.
* `downloading`: `download`, one post (one item or several in order) with yt-dlp's Python API.
* `probing`: what a file is (`probe`, `media_kind`, `duration`, `is_review_ready`...).
* `derivatives`: the ffmpeg command of each review derivative (`plan_derivatives`) and `run_step`.
* `one_pass`: several derivatives and the fingerprints' frames from one decode (`plan_pass`, `run_pass`,
  `Reading`).

This is ground: no tasks, captures or database here.
"""

from __future__ import annotations

from .derivatives import (DEFAULTS, FONT_CANDIDATES, FONT_DIRS, IMAGE_REVIEW_PIXELS, IMAGE_REVIEW_SIDE, Step,
                          audio_step, contact_sheet_step, find_font, image_review_step, keyframe_times,
                          keyframes_step, plan_derivatives, review_step, run_step, settings_with_defaults,
                          step_outputs)
from .downloading import (BITEXACT_PPS, MAX_ITEMS, RESTRICTED, SEVERAL_OUTTMPL, UNREACHABLE, Fetched, FetchedItem,
                          Progress, download, explain_download_error, ytdlp_options)
from .failures import (ANSI, DiskFull, HttpFailure, NoMedia, StepFailed, Unreachable, UntrustedCertificate,
                       disk_full, ffmpeg_reason, one_line)
from .one_pass import Pass, Reading, plan_pass, run_pass
from .probing import (IMAGE_FORMATS, can_remux, duration, is_listening_ready, is_review_ready, media_kind, probe,
                      probe_soon, streams)
from .tools import _tool_version, prefetch_versions, require_tools, tool_versions, yt_dlp_module

__all__ = [
    "ANSI", "BITEXACT_PPS", "DEFAULTS", "FONT_CANDIDATES", "FONT_DIRS", "IMAGE_FORMATS", "IMAGE_REVIEW_PIXELS",
    "IMAGE_REVIEW_SIDE", "MAX_ITEMS", "RESTRICTED", "SEVERAL_OUTTMPL", "UNREACHABLE", "DiskFull", "Fetched",
    "FetchedItem", "HttpFailure", "NoMedia", "Pass", "Progress", "Reading", "Step", "StepFailed", "Unreachable",
    "UntrustedCertificate", "_tool_version", "audio_step", "can_remux", "contact_sheet_step", "disk_full",
    "download", "duration", "explain_download_error", "ffmpeg_reason", "find_font", "image_review_step",
    "is_listening_ready", "is_review_ready", "keyframe_times", "keyframes_step", "media_kind", "one_line",
    "plan_derivatives", "plan_pass", "prefetch_versions", "probe", "probe_soon", "require_tools", "review_step",
    "run_pass", "run_step", "settings_with_defaults", "step_outputs", "streams", "tool_versions", "yt_dlp_module",
    "ytdlp_options",
]
