"""The page step of a URL capture: the page as the officer saw it, kept beside the media (SOP 9.1, 9.2.3).

Every `ohrt capture URL` opens the URL in a real browser (`ground/browser.py`) while yt-dlp downloads
the media, and keeps in the capture folder, hashed and sealed like every file (role `page`, each with
its `kind`): `page/archive.wacz` (every request and response while loading), `page/screenshot.png`,
`page/page.pdf`, `page/dom.html`, `page/text.txt` and, for https, `page/certificates.pem`; the
manifest's `page` object holds the provenance (final URL, redirects, server, status and headers, the
server's clock, the TLS chain, the browser, viewport and user agent).

* Media found: the page is kept beside it. If the browser is missing or fails, the capture still
  completes, its page files recorded as failed; `ohrt capture finish` visits the page then (a later
  visit, said so in the manifest).
* No media found (a text or photo post), or yt-dlp could not get the page at all (an untrusted
  certificate, a page that never finishes): the page is the capture, media kind "page", its original
  the WACZ. Without a browser, or when the page cannot be kept, the capture fails in one line.
* A page that answers 4xx or 5xx with no media is not a capture of the content: the capture fails,
  naming the status (the content may have been removed). Beside media, a 4xx page is kept as it is.
* The URL of a media file itself (…/clip.mp4, an HLS playlist) has no page around it: none is made.
* `page=False` (`--no-page`) skips the browser.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ... import __version__
from ...ground import browser, media, store, webarchive
from ...ground.context import Context
from ...ground.errors import Failure
from ...ground.times import iso
from . import photos as photos_step
from .draft import Draft, Progress, record

FOLDER = "page"
# file name -> kind, in the order the manifest lists them
FILES = {"archive.wacz": "wacz", "screenshot.png": "screenshot", "page.pdf": "pdf", "dom.html": "dom",
         "text.txt": "text", "certificates.pem": "certificates"}
MEDIA_SUFFIXES = {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".flv", ".ts", ".m3u8", ".mpd", ".mp3", ".m4a",
                  ".aac", ".wav", ".ogg", ".oga", ".opus", ".flac", ".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp",
                  ".tif", ".tiff", ".heic", ".avif"}
TEMPORARY = (".page.warc.gz",)
SKIPPED = "the URL is the address of the media file itself: there is no page around it"


@dataclass
class Job:
    """A page visit running on its own thread while yt-dlp downloads on the caller's."""

    url: str
    folder: Path
    limits: browser.Limits
    executable: Path | None = None
    error: browser.BrowserMissing | browser.PageFailed | Failure | None = None
    visit: browser.Visit | None = None
    wacz: Path | None = None
    records: int = 0
    seconds: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> "Job":
        self.thread = threading.Thread(target=self._run, name="ohrt-page", daemon=True)
        self.thread.start()
        return self

    def wait(self) -> "Job":
        if self.thread is None:
            return self
        try:
            self.thread.join()
        except BaseException:  # Ctrl-C while waiting: stop the browser before the staging folder goes
            self.stop.set()
            self.thread.join(timeout=10)
            raise
        return self

    def abandon(self) -> None:
        """Stop the browser now and wait for the thread, so nothing writes into a folder being removed."""
        self.stop.set()
        self.wait()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            self._visit()
        except (browser.BrowserMissing, browser.PageFailed, Failure) as exc:
            self.error = exc
        except Exception as exc:  # the browser's own bug must not take the capture with it: it is recorded
            self.error = Failure(f"the page could not be kept ({type(exc).__name__}: {exc}).")
        finally:
            for name in TEMPORARY:
                (self.folder / name).unlink(missing_ok=True)
            self.seconds = round(time.monotonic() - started, 2)

    def _visit(self) -> None:
        threading.Thread(target=_warm_up, daemon=True).start()
        self.folder.mkdir(parents=True, exist_ok=True)
        warc = self.folder / TEMPORARY[0]
        with webarchive.WarcFile(warc, software=f"ohrt {__version__}",
                                 info={"description": f"page capture of {self.url}"}) as out:
            try:
                self.visit = browser.visit(self.url, self.folder, record=out.add, limits=self.limits,
                                           executable=self.executable, stop=self.stop)
            except browser.PageFailed as exc:
                self.visit = exc.visit
                raise
            self.records = out.records
        seen = self.visit
        text = self.folder / "text.txt"
        self.wacz = webarchive.pack_wacz(warc, self.folder / "archive.wacz", url=seen.final_url or self.url,
                                         ts=seen.started_at, title=seen.title, software=f"ohrt {__version__}",
                                         text=text.read_text(encoding="utf-8") if text.is_file() else None)


def _warm_up() -> None:
    """Import what packs the WACZ while the browser works (surt's public-suffix list takes a moment)."""
    try:
        import surt  # noqa: F401
        import warcio.archiveiterator  # noqa: F401
    except Exception:
        pass


def wanted(url: str) -> bool:
    """Whether a URL has a page around it worth a browser (the address of a media file has none)."""
    suffix = Path(urlsplit(url).path).suffix.lower()
    return suffix not in MEDIA_SUFFIXES


def start(ctx: Context, draft: Draft, progress: Progress | None) -> Job | None:
    """Start the browser on the draft's URL (None when the URL is a media file's own address). A browser
    that is not installed is found out here and recorded; it costs the capture nothing yet."""
    if not wanted(draft.requested_url):
        return None
    job = Job(url=draft.requested_url, folder=draft.stage.path / FOLDER, limits=browser.limits_from(ctx.settings))
    if progress:
        progress({"event": "step", "role": "page", "status": "started"})
    try:
        job.executable = browser.find_executable(ctx.settings.get("page.chromium"))
    except browser.BrowserMissing as exc:
        job.error = exc
        return job
    return job.start()


def fetch(ctx: Context, draft: Draft, progress: Progress | None, download, *, page: bool = True) -> None:
    """yt-dlp (`download(draft, progress)`) and the browser side by side; then the page kept beside the
    media, or as the capture itself when there is no media."""
    job = start(ctx, draft, progress) if page else None
    try:
        download(draft, progress)
    except (media.NoMedia, media.HttpFailure, media.UntrustedCertificate, media.Unreachable) as exc:
        if job is None:
            raise
        if isinstance(exc, media.NoMedia) and _photos_declared(draft, job.wait(), progress):
            _page_beside(draft, job, progress)
            return
        _page_as_original(draft, job.wait(), exc, progress)
        return
    except BaseException:
        if job is not None:
            job.abandon()
        raise
    if job is None:
        if page:
            draft.extra["page_skipped"] = SKIPPED
        photos_step.slideshow(draft, None, None, progress)
        return
    if draft.info.get("direct"):  # yt-dlp found the URL to be a media file after all
        job.abandon()
        if job.folder.exists():
            store.remove_tree(job.folder)
        draft.extra["page_skipped"] = SKIPPED
        if progress:
            progress({"event": "step", "role": "page", "status": "ok", "error": None})
        return
    _page_beside(draft, job.wait(), progress)
    seen = job.visit if job.error is None else None
    photos_step.slideshow(draft, job.folder / "dom.html" if seen else None, seen.final_url if seen else None,
                          progress)


def _photos_declared(draft: Draft, job: Job, progress: Progress | None) -> bool:
    """The photos the page declares, as the capture's originals (`photos.py`), when the browser kept it."""
    seen = job.visit
    if job.error is not None or seen is None or (seen.status or 0) >= 400:
        return False
    if photos_step.from_page(draft, job.folder / "dom.html", seen.final_url, progress):
        draft.info = {"title": seen.title, "webpage_url": seen.final_url, "extractor": "page markup"}
        return True
    return False


def _page_beside(draft: Draft, job: Job, progress: Progress | None) -> None:
    """Keep the page's files (role `page`); whatever could not be made is recorded as failed."""
    draft.extra["page"] = _provenance(job)
    draft.files += _entries(draft.stage.path, job, original=False)
    if progress:
        error = _why(job)
        progress({"event": "step", "role": "page", "status": "failed" if error else "ok", "error": error})


def _page_as_original(draft: Draft, job: Job, no_media: Failure, progress: Progress | None) -> None:
    """No media: the page is the capture, if there is a page to keep."""
    url = draft.requested_url
    if isinstance(no_media, media.Unreachable) and (job.error is not None or job.wacz is None):
        raise no_media  # neither reached it: yt-dlp's reason says why
    if isinstance(job.error, browser.BrowserMissing):
        raise Failure(f"no media found at {url}, and no browser to keep the page ({job.error.message.rstrip('.')}); "
                      "or save it another way and use `ohrt capture --file`.")
    if job.error is not None or job.wacz is None:
        raise Failure(f"no media found at {url}, and the page could not be kept: "
                      f"{_why(job) or 'the browser made no archive'}")
    seen = job.visit
    if seen.status is not None and seen.status >= 400:
        said = no_media.message if isinstance(no_media, media.HttpFailure) else f"could not fetch {url}"
        raise Failure(f"{said.split(';')[0]} (the browser was answered {seen.status} too): the content may have been "
                      "removed; nothing was kept. Record that on the task.")
    for leftover in ("original", "source"):  # what yt-dlp wrote before it found nothing to download
        if (draft.stage.path / leftover).exists():
            store.remove_tree(draft.stage.path / leftover)
    draft.files = [f for f in draft.files if f["role"] not in ("info", "thumbnail", "subtitle")]
    draft.kind = "page"
    draft.info = {"title": seen.title, "webpage_url": seen.final_url}
    draft.extra["page"] = _provenance(job)
    draft.extra["no_media"] = no_media.message
    draft.files += _entries(draft.stage.path, job, original=True)
    if progress:
        progress({"event": "step", "role": "page", "status": "ok", "error": None})


def _entries(folder: Path, job: Job, *, original: bool) -> list[dict]:
    """A manifest entry for each page file: made (hashed, read-only) or failed with its reason."""
    seen = job.visit
    failed_outputs = dict(seen.failed_outputs) if seen else {}
    https = bool(seen and (seen.final_url or "").startswith("https:"))
    entries = []
    for name, kind in FILES.items():
        if name == "certificates.pem" and not https:
            continue
        path = job.folder / name
        role = "original" if original and kind == "wacz" else "page"
        made = job.error is None and path.is_file() and (kind != "wacz" or job.wacz is not None)
        if made:
            entries.append(record(folder, path, role, kind=kind))
            continue
        if path.exists():
            path.unlink()
        why = failed_outputs.get(name) or _why(job) or "not made"
        entries.append({"path": f"{FOLDER}/{name}", "role": role, "kind": kind, "sha256": None, "md5": None,
                        "bytes": None, "parent_sha256": None, "command": None, "status": "failed", "error": why})
    return entries


def _why(job: Job) -> str | None:
    if job.error is not None:
        return job.error.message
    if job.visit and job.visit.failed_outputs:
        return "; ".join(f"{name}: {why}" for name, why in job.visit.failed_outputs.items())
    return None


def _provenance(job: Job) -> dict:
    """The manifest's `page` object: what the browser saw, or why it saw nothing."""
    seen = job.visit or browser.Visit(requested_url=job.url)
    page = seen.provenance()
    page["error"] = job.error.message if job.error else page["error"]
    page["seconds"] = job.seconds
    page["archive"] = {"warc": webarchive.WARC_NAME, "records": job.records, "warcio": _version("warcio"),
                       "wacz": _version("wacz")}
    page["limits"] = {"timeout_seconds": job.limits.timeout, "max_response_bytes": job.limits.max_response_bytes,
                      "max_total_bytes": job.limits.max_total_bytes}
    return page


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


# ------------------------------------------------------------------------------------------ finish

def remake(ctx: Context, capture: dict, folder: Path, manifest: dict, progress: Progress | None) -> dict:
    """For `capture finish`: visit the page now, in a scratch folder beside the store; returns the new
    entries and provenance for the caller to move in and re-seal. It is a later visit than the capture's
    and the manifest says so (`page.made_later`)."""
    store.sweep(ctx.captures_dir)
    scratch = store.Staging(ctx.captures_dir)
    if progress:
        progress({"event": "step", "role": "page", "status": "started"})
    job = Job(url=manifest["requested_url"], folder=scratch.path / FOLDER, limits=browser.limits_from(ctx.settings))
    try:
        job.executable = browser.find_executable(ctx.settings.get("page.chromium"))
    except browser.BrowserMissing as exc:
        job.error = exc
    else:
        job.start().wait()
    entries = _entries(scratch.path, job, original=False)
    page = _provenance(job)
    page["made_later"] = {"at": iso(ctx.now()), "by": "ohrt capture finish",
                          "note": "the page as it was at this later visit, not at the capture"}
    if progress:
        error = _why(job)
        progress({"event": "step", "role": "page", "status": "failed" if error else "ok", "error": error})
    return {"scratch": scratch, "entries": entries, "page": page}
