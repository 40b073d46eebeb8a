"""A real browser for page capture (SOP 9.1: the page as the officer saw it; SOP 9.2.3: its words).

`visit` opens one URL in headless Chromium (the distribution's package, driven by Playwright), with a
fresh profile, a recorded viewport and user agent, and bounds on time and bytes; it scrolls the page to
its end so lazily loaded content appears, waits for the network to go quiet, then keeps what the
officer would have seen: a full-page screenshot, a PDF printed by the browser, the rendered DOM and the
visible text. Every request and response made while loading is handed to `record` (the WARC writer in
`webarchive.py`) as an `Exchange`, with the body as the browser received it. The course of one page
load is `browser_page.Session`; this module finds and starts the browser and bounds it.

What a hostile page cannot do here: reach anything but its own requests (no background networking, no
service workers, no downloads, pop-ups blocked and closed), hold the browser past `Limits.timeout` (the
load is cut and recorded as timed out; a watchdog kills the browser if even the snapshot hangs), or
fill memory or disk (each response is cut at `max_response_bytes`, the whole page at `max_total_bytes`,
and the page is taken offline at the cut; a cut body is recorded as truncated).

This is ground: no captures, tasks or database here.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Callable

from .browser_page import Session
from .browser_visit import MB, Exchange, Limits, PageFailed, Visit, iso, short
from .errors import Failure

__all__ = ["BrowserMissing", "Exchange", "Limits", "MB", "PageFailed", "Visit", "find_executable", "limits_from",
           "visit"]

DEFAULT_EXECUTABLE = "/usr/bin/chromium"
CANDIDATES = ("chromium", "chromium-browser")
INSTALL_HINT = "run `make setup`, or `sudo apt-get install chromium`"
# Without the first three Chromium calls Google's hosts on start (updates, field trials, sync); QUIC is
# off so every response comes over TCP with a server address to record; no GPU in a headless capture.
FLAGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-quic", "--disable-gpu", "--disable-features=Translate,OptimizationHints,MediaRouter",
         "--disk-cache-size=1", "--no-default-browser-check", "--mute-audio"]


class BrowserMissing(Failure):
    """No Chromium on this machine (or not where the settings say)."""


def limits_from(settings) -> Limits:
    """`[page]` settings of config.toml (timeout_seconds, max_response_mb, max_total_mb) over the defaults."""
    from .errors import InputError

    base = Limits()
    values = {}
    for key, attr, scale in (("timeout_seconds", "timeout", 1), ("max_response_mb", "max_response_bytes", MB),
                             ("max_total_mb", "max_total_bytes", MB)):
        raw = settings.get(f"page.{key}") if settings is not None else None
        if raw is None:
            continue
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw <= 0:
            raise InputError(f"[page] {key} = {raw!r} in config.toml is not a positive number: correct it "
                             f"(default {getattr(base, attr) / scale:g}).")
        values[attr] = type(getattr(base, attr))(raw * scale)
    return Limits(**{**base.__dict__, **values})


def find_executable(configured: str | None = None) -> Path:
    """The Chromium to drive: $OHRT_CHROMIUM, else `[page] chromium` in config.toml, else Debian's
    /usr/bin/chromium, else `chromium` on the PATH. BrowserMissing, in one line, when there is none."""
    chosen = os.environ.get("OHRT_CHROMIUM") or configured
    if chosen:
        path = Path(chosen).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise BrowserMissing(f"no browser at {path} (set by {'OHRT_CHROMIUM' if os.environ.get('OHRT_CHROMIUM') else '[page] chromium'}): "
                             f"point it at Chromium, or {INSTALL_HINT}.")
    if os.access(DEFAULT_EXECUTABLE, os.X_OK):
        return Path(DEFAULT_EXECUTABLE)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserMissing(f"no browser (Chromium) on this machine to capture the page: {INSTALL_HINT}.")


def sandboxed() -> bool:
    """Chromium's own sandbox, except as root, where Chromium refuses to start with it."""
    return not (hasattr(os, "geteuid") and os.geteuid() == 0)


def browser_version(executable: Path) -> str | None:
    """`chromium --version`'s number, without starting a page (for the tool versions of a manifest)."""
    import subprocess

    from . import processes

    try:
        out = processes.run([str(executable), "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    words = [w for w in out.split() if w[:1].isdigit()]
    return words[0] if words else None


# ------------------------------------------------------------------------------------------- visit

def visit(url: str, folder: Path, *, record: Callable[[Exchange], None], limits: Limits = Limits(),
          executable: Path | None = None, stop: threading.Event | None = None) -> Visit:
    """Open `url` and keep the page in `folder`: screenshot.png, page.pdf, dom.html, text.txt and, for
    https, certificates.pem. Each request/response is passed to `record`, in the order requested.

    Raises BrowserMissing or PageFailed (with what was learnt) when there is no page to keep; an output
    that fails is listed in `Visit.failed_outputs` and the others are still made. Setting `stop` (from
    another thread) ends the visit at once, as a PageFailed."""
    from playwright.sync_api import Error as PlaywrightError, sync_playwright

    executable = executable or find_executable()
    folder.mkdir(parents=True, exist_ok=True)
    result = Visit(requested_url=url, started_at=iso(time.time()),
                   viewport={"width": limits.width, "height": limits.height})
    manager = sync_playwright()
    try:
        playwright = manager.start()
    except Exception as exc:  # the driver itself did not start (no node binary in the wheel, say)
        raise BrowserMissing(f"the browser driver (Playwright) could not start ({short(exc)}): {INSTALL_HINT}.") from None
    watchdog = _Watchdog(manager, limits.timeout + limits.snapshot_timeout + 15, stop)
    try:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(executable), headless=True, chromium_sandbox=sandboxed(), args=FLAGS,
                # Playwright turns Chromium's pop-up blocker off by default; a capture wants it on.
                ignore_default_args=["--disable-popup-blocking"], timeout=30_000)
        except PlaywrightError as exc:
            if "sandbox" in str(exc).lower():
                raise BrowserMissing(f"the browser at {executable} cannot use its sandbox for this user ({short(exc)[:160]}): "
                                     "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) "
                                     "or install Chromium's setuid sandbox helper.") from None
            raise BrowserMissing(f"the browser at {executable} did not start ({short(exc)}): {INSTALL_HINT}.") from None
        result.browser = {"name": "Chromium", "version": browser.version, "executable": str(executable),
                          "sandbox": sandboxed(), "headless": True, "driver": f"playwright {_playwright_version()}",
                          "profile": "fresh, temporary"}
        watchdog.start()
        Session(browser, result, limits, record, watchdog).run(url, folder)
        if watchdog.fired:
            raise PlaywrightError("stopped by the watchdog")
    except PlaywrightError as exc:
        if watchdog.fired and stop is not None and stop.is_set():
            raise PageFailed(f"the page capture of {url} was stopped.", result) from None
        if watchdog.fired:
            raise PageFailed(f"the browser did not finish {url} within {watchdog.seconds:.0f} s and was stopped: "
                             "the page may be hostile or broken; capture it again or save it another way.",
                             result) from None
        raise PageFailed(f"the browser failed on {url} ({short(exc)}): capture again.", result) from None
    finally:
        watchdog.cancel()
        try:
            manager.__exit__()
        except Exception:  # a driver the watchdog killed has nothing left to close
            pass
    result.finished_at = iso(time.time())
    return result


# ------------------------------------------------------------------------------------------ helpers

class _Watchdog:
    """Kills the browser driver and its Chromium if a visit outlives every bound (a page whose script
    never yields can block even a screenshot), or at once when `stop` is set (the capture around it was
    abandoned); the call waiting on the browser then fails, and so does the visit."""

    def __init__(self, manager, seconds: float, stop: threading.Event | None):
        self.manager, self.seconds, self.stop, self.fired = manager, seconds, stop, False
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="ohrt-browser-watchdog", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        self.done.set()

    def _watch(self) -> None:
        until = time.monotonic() + self.seconds
        while not self.done.wait(0.2):
            if time.monotonic() > until or (self.stop is not None and self.stop.is_set()):
                self._fire()
                return

    def _fire(self) -> None:
        import logging
        import warnings

        self.fired = True
        # The driver's loop then reports calls cut short; they are expected, and not the officer's concern.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        warnings.filterwarnings("ignore", message="coroutine .* was never awaited")
        pid = _driver_pid(self.manager)
        if pid is None:
            return
        for victim in [*_descendants(pid), pid]:
            try:
                os.kill(victim, signal.SIGKILL)
            except OSError:
                pass


def _driver_pid(manager) -> int | None:
    try:
        return manager._client._transport._proc.pid
    except AttributeError:
        return None


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (Chromium's browser, renderers, zygotes), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _playwright_version() -> str:
    from importlib.metadata import version

    return version("playwright")
