"""Recording a live stream with yt-dlp: a limit, from the start where the site allows it, and a record of why
the recording stopped (SOP 9.1: a live stream is captured as it runs, and says that it was live).

A live stream may never end, so a recording has a limit (`Limit.seconds`, from `--max-duration`):

* yt-dlp records live HLS and DASH with ffmpeg. ffmpeg is given the limit as its output's duration (`-t`),
  starts at the oldest segment the playlist still lists (`-live_start_index 0`: as far back as the site
  serves), and writes its progress to a file in the staging folder, which a side thread reads for the
  progress line (time recorded, and the limit).
* Where the site lets yt-dlp record from the very start (`live_from_start`: formats marked `is_from_start`,
  e.g. YouTube's), yt-dlp does so with its own downloader; a watchdog stops it a minute past the limit.
* Ctrl-C (SIGINT), SIGTERM or SIGHUP while recording stops ffmpeg cleanly (yt-dlp asks it to quit, so the
  file is whole) and keeps what was recorded: the recording says `interrupted`, and the capture is
  `partial`. A second Ctrl-C abandons the capture.
* Every ffmpeg that yt-dlp starts while recording is tethered to this process (Linux: it is killed when
  ohrt dies, however ohrt dies), so a recording never outlives the capture that started it.

`recording(...)` wraps yt-dlp's download of an item already extracted; `Recording.facts()` is what the
manifest's `live` key holds. This is ground: no tasks, captures or database here.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import math
import os
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .errors import Failure, InputError

DEFAULT_MINUTES = 60
PROGRESS_NAME = ".live-progress.txt"
WATCHDOG_GRACE = 60.0
# a recording whose length is within this of the limit stopped at the limit (ffmpeg cuts on a frame or packet)
LIMIT_SLACK = 1.5

STOPPED = {"limit": "the limit was reached", "stream-ended": "the stream ended",
           "interrupted": "interrupted (Ctrl-C or a stop signal): what was recorded until then is kept"}


@dataclass
class Limit:
    """How long a live recording may run, and whom to tell of its progress."""

    seconds: float
    on_progress: Callable[[dict], None] | None = None
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)


def limit_from(minutes: float | None, settings) -> float:
    """The limit in seconds: `--max-duration MINUTES` (fractions allowed), else `[capture] max_live_minutes`
    of config.toml, else 60 minutes; bad input is refused in one line."""
    source = "--max-duration"
    if minutes is None:
        minutes, source = settings.get("capture.max_live_minutes", DEFAULT_MINUTES), "[capture] max_live_minutes"
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not math.isfinite(minutes) \
            or minutes <= 0:
        raise InputError(f"{source} = {minutes!r} is not a positive number of minutes: give e.g. 30 (or 0.5 for "
                         "thirty seconds).")
    return float(minutes) * 60


def is_live(info: dict) -> bool:
    return bool(info.get("is_live")) or info.get("live_status") == "is_live"


def from_start_possible(info: dict) -> bool:
    """Whether the site offers formats yt-dlp can record from the start of the broadcast."""
    return any(f.get("is_from_start") for f in info.get("formats") or [])


@dataclass
class Recording:
    """One live recording: when it ran, how far it got, and why it stopped."""

    limit: Limit
    folder: Path
    from_start: bool = False
    started_at: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    recorded: float = 0.0
    signal_name: str | None = None
    watchdog_fired: bool = False
    warnings: list[str] = field(default_factory=list)
    _done: threading.Event = field(default_factory=threading.Event)

    @property
    def progress_file(self) -> Path:
        return self.folder / PROGRESS_NAME

    def stopped_because(self, duration: float | None) -> str:
        if self.signal_name:
            return "interrupted"
        length = duration if duration is not None else self.recorded
        if self.watchdog_fired or length >= self.limit.seconds - LIMIT_SLACK:
            return "limit"
        return "stream-ended"

    def facts(self, duration: float | None = None) -> dict:
        """The manifest's `live` object; `duration` is the length of the file kept (ffprobe's), when known."""
        why = self.stopped_because(duration)
        return {
            "was_live": True,
            "recording_started_at": _iso(self.started_at), "recording_stopped_at": _iso(self.stopped_at),
            "recorded_seconds": round(duration if duration is not None else self.recorded, 3),
            "limit_seconds": round(self.limit.seconds, 3),
            "stopped_because": why, "stopped": STOPPED[why],
            "signal": self.signal_name,
            "from_start": ("yt-dlp's live_from_start: recorded from the start of the broadcast" if self.from_start
                           else "from the oldest part of the stream the site still served (ffmpeg "
                                "-live_start_index 0); the site offered no recording from the start"),
        }


def ytdlp_options(rec: Recording) -> dict:
    """The yt-dlp settings that make a recording live-aware (added to the evidential ones for this item)."""
    options = {"live_from_start": rec.from_start,
               "external_downloader_args": {
                   "ffmpeg_i": ["-live_start_index", "0"],
                   "ffmpeg_o": ["-t", f"{rec.limit.seconds:.3f}", "-progress", str(rec.progress_file)]}}
    return options


@contextlib.contextmanager
def recording(ydl, info: dict, folder: Path, limit: Limit) -> Iterator[Recording]:
    """Around yt-dlp's download of `info` (a live item): the live settings, the tethered ffmpeg, the signal
    handlers, the progress reader and the watchdog. Yields the Recording, complete once the block ends."""
    rec = Recording(limit=limit, folder=folder, from_start=from_start_possible(info))
    saved = {key: ydl.params.get(key) for key in ("live_from_start", "external_downloader_args")}
    ydl.params.update(ytdlp_options(rec))
    rec.started_at = limit.now()
    reader = threading.Thread(target=_read_progress, args=(rec,), name="ohrt-live-progress", daemon=True)
    watchdog = threading.Timer(limit.seconds + WATCHDOG_GRACE, _stop_overdue, args=(rec,))
    watchdog.daemon = True
    try:
        with _tethered_children(), _stop_signals(rec):
            reader.start()
            watchdog.start()
            try:
                yield rec
            except KeyboardInterrupt:
                if rec.watchdog_fired and not rec.signal_name:
                    raise Failure("the live recording passed its limit and yt-dlp's downloader for this site "
                                  "cannot stop early and keep what it has: nothing was kept; capture it with a "
                                  "shorter --max-duration, or record the screen and use `ohrt capture --file`.") \
                        from None
                raise
    finally:
        watchdog.cancel()
        rec.stopped_at = limit.now()
        rec._done.set()
        reader.join(timeout=2)
        _emit(rec)
        rec.progress_file.unlink(missing_ok=True)
        ydl.params.update(saved)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


# ---------------------------------------------------------------------------------------- progress

_OUT_TIME = re.compile(r"^out_time_(?:us|ms)=(\d+)\s*$", re.M)


def _read_progress(rec: Recording) -> None:
    """ffmpeg's `-progress` file, read twice a second: the time recorded so far."""
    while not rec._done.wait(0.5):
        _emit(rec)


def _emit(rec: Recording) -> None:
    try:
        text = rec.progress_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    times = _OUT_TIME.findall(text)
    if times:
        rec.recorded = max(rec.recorded, int(times[-1]) / 1_000_000)
    if rec.limit.on_progress is not None:
        rec.limit.on_progress({"event": "live", "recorded": round(rec.recorded, 1), "limit": rec.limit.seconds,
                               "stopping": rec.signal_name is not None, "done": rec._done.is_set()})


# ----------------------------------------------------------------------------------------- stopping

def _stop_overdue(rec: Recording) -> None:
    """A downloader that has no `-t` (yt-dlp's own, from the start) is stopped a minute past the limit."""
    import _thread

    rec.watchdog_fired = True
    _thread.interrupt_main()


@contextlib.contextmanager
def _stop_signals(rec: Recording) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP stop the recording and keep it: yt-dlp treats a KeyboardInterrupt during a
    live download as the end of the stream (it asks ffmpeg to quit, then finishes the file). The handlers
    are this process's previous ones again after the first signal, so a second Ctrl-C abandons the capture."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {sig: signal.getsignal(sig) for sig in wanted}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def stop(signum, frame) -> None:
        rec.signal_name = signal.Signals(signum).name
        restore()
        raise KeyboardInterrupt

    for sig in wanted:
        signal.signal(sig, stop)
    try:
        yield
    finally:
        restore()


_PR_SET_PDEATHSIG = 1
_SIGKILL = int(signal.SIGKILL)


def _die_with_parent() -> None:  # runs in the child between fork and exec: no allocation beyond the call
    _prctl(_PR_SET_PDEATHSIG, _SIGKILL)


def _libc_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _libc_prctl()


@contextlib.contextmanager
def _tethered_children() -> Iterator[None]:
    """While recording, the processes yt-dlp's external downloaders start (ffmpeg) get PR_SET_PDEATHSIG, so
    the kernel kills them when ohrt dies, even by SIGKILL: a live stream never ends by itself. yt-dlp offers
    no setting for this; its downloaders call the `Popen` of their module, which is swapped for one that
    adds the tether, and put back afterwards."""
    if _prctl is None or os.name != "posix":
        yield
        return
    from yt_dlp.downloader import external

    original = external.Popen

    class Tethered(original):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("preexec_fn", _die_with_parent)
            super().__init__(*args, **kwargs)

    external.Popen = Tethered
    try:
        yield
    finally:
        external.Popen = original
