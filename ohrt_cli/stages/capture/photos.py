"""The photos of a post, where yt-dlp takes none (SOP 9.1): photo posts, carousels, slideshows.

* **A site gallery-dl knows** (Instagram, X, TikTok photo posts, Facebook photos…): when yt-dlp fails or
  finds nothing there, gallery-dl's Python API takes the post's photos (`with_photos`, around yt-dlp's
  download). The page is kept beside them as for any media.
* **Any other page** with no media yt-dlp can take: the photos the page declares in its markup, as the
  platforms' public pages do for previews and search engines — the `image`s of its JSON-LD, or two or more
  `og:image` tags (one alone is a link preview, not a post of photos) — read from the page as the browser
  rendered it (`page/dom.html`) and each fetched through gallery-dl (`from_page`). None declared: the page
  itself is the capture, as before.
* **A slideshow** (photos with a sound): when yt-dlp gives only the sound of a post whose page declares two
  or more photos, or of a TikTok post (TikTok serves a slideshow's sound as its only "video"), the photos
  are fetched too and come first, the sound last (`slideshow`). Photos that could not be obtained make the
  capture `incomplete`, with a failed `photos` entry saying why: a slideshow is never kept as a complete
  sound alone. A carousel whose declared photos could not be fetched is its page, `incomplete` likewise.

The manifest's `photos` says where the photos came from (`gallery-dl` and its extractor, or the page's
markup), and `tools.gallery_dl` the exact gallery-dl version.
"""

from __future__ import annotations

from typing import Callable

from ...ground import media, photos, store, urls
from ...ground.errors import Failure
from .draft import Draft, Progress, record

SLIDESHOW_PLATFORMS = ("tiktok",)   # where a post of sound alone is a slideshow whose photos yt-dlp leaves out


def with_photos(download: Callable[[Draft, Progress | None], None]) -> Callable[[Draft, Progress | None], None]:
    """yt-dlp's download, then gallery-dl for a site it knows when yt-dlp took nothing there; yt-dlp's own
    failure stands when gallery-dl cannot help either."""
    def run(draft: Draft, progress: Progress | None) -> None:
        if urls.photo_post(draft.requested_url) and _gallery_first(draft, progress):
            return
        try:
            download(draft, progress)
        except (media.DiskFull, media.Unreachable, media.UntrustedCertificate):
            raise
        except Failure as exc:
            if not photos.gallery_dl_takes(draft.requested_url):
                raise
            _clear_leftovers(draft)
            try:
                _from_gallery_dl(draft, progress, after=exc.message)
            except Failure:
                raise exc from None
    return run


def _from_gallery_dl(draft: Draft, progress: Progress | None, *, after: str | None = None) -> None:
    """The post's photos by gallery-dl, as the capture's originals (`after`: what yt-dlp said first)."""
    taken = _fetch(draft, progress, lambda folder: photos.download(draft.requested_url, folder))
    extractor = _extractor(draft.requested_url)
    _keep(draft, taken, {"source": "gallery-dl", "extractor": extractor, **({"after": after} if after else {})})
    draft.info = {"webpage_url": draft.requested_url, "extractor": f"gallery-dl:{extractor}"}


def _gallery_first(draft: Draft, progress: Progress | None) -> bool:
    """A link that is a post of photos (a TikTok /photo/ link, which yt-dlp does not know) goes to gallery-dl
    first; yt-dlp is tried after it only when gallery-dl cannot take it."""
    try:
        _from_gallery_dl(draft, progress)
    except Failure:
        _clear_leftovers(draft)
        return False
    return True


def from_page(draft: Draft, page_file, final_url: str | None, progress: Progress | None) -> bool:
    """A page with no media that declares its photos: they become the capture's originals (True), or, if
    they cannot be fetched, the capture is marked incomplete and the page stays the original (False)."""
    wanted = _declared(page_file, final_url or draft.requested_url)
    chosen = wanted["json_ld"] or (wanted["og"] if len(wanted["og"]) >= 2 else [])
    if not chosen:
        return False
    _clear_leftovers(draft)
    try:
        taken = _fetch(draft, progress, lambda folder: photos.download_each(chosen, folder))
    except Failure as exc:
        _not_obtained(draft, exc, len(chosen), "a post of photos")
        return False
    _keep(draft, taken, {"source": "page markup", "declared": len(chosen),
                         "markup": "JSON-LD" if wanted["json_ld"] else "Open Graph"})
    return True


def slideshow(draft: Draft, page_file, final_url: str | None, progress: Progress | None) -> None:
    """When yt-dlp took only a sound, and the post is a slideshow, its photos too (before the sound)."""
    if len(draft.originals) != 1 or draft.probe is None or media.media_kind(draft.probe) != "audio":
        return
    wanted = _declared(page_file, final_url or draft.requested_url) if page_file else {"og": [], "json_ld": []}
    declared = wanted["json_ld"] or wanted["og"]
    if len(declared) < 2 and draft.platform not in SLIDESHOW_PLATFORMS:
        return
    try:
        if photos.gallery_dl_takes(draft.requested_url):
            taken = _fetch(draft, progress, lambda folder: photos.download(draft.requested_url, folder))
            how = {"source": "gallery-dl", "extractor": _extractor(draft.requested_url)}
        elif declared:
            taken = _fetch(draft, progress, lambda folder: photos.download_each(declared, folder))
            how = {"source": "page markup", "declared": len(declared),
                   "markup": "JSON-LD" if wanted["json_ld"] else "Open Graph"}
        else:
            raise Failure("neither gallery-dl nor the page's markup gave their addresses")
    except Failure as exc:
        _not_obtained(draft, exc, len(declared) or None, "a slideshow")
        return
    sound = draft.originals[0]
    _keep(draft, taken, {**how, "slideshow": True})
    sound["item"] = len(taken) + 1
    draft.probe = None  # the first item is now a photo: each original is probed on its own


def _declared(page_file, base: str) -> dict:
    if page_file is None or not page_file.is_file():
        return {"og": [], "json_ld": [], "photos": []}
    return photos.declared(page_file.read_text(encoding="utf-8", errors="replace"), base)


def _fetch(draft: Draft, progress: Progress | None, get) -> list[photos.Photo]:
    folder = draft.stage.path / "original"
    folder.mkdir(exist_ok=True)
    if progress:
        progress({"event": "step", "role": "photos", "status": "started"})
    try:
        taken = get(folder)
    except Failure as exc:
        if progress:
            progress({"event": "step", "role": "photos", "status": "failed", "error": exc.message})
        raise
    if progress:
        progress({"event": "step", "role": "photos", "status": "ok", "error": None})
    return taken


def _keep(draft: Draft, taken: list[photos.Photo], how: dict) -> None:
    """The photos as originals 1…N, hashed and read-only, each with its address."""
    for number, photo in enumerate(taken, start=1):
        draft.files.append(record(draft.stage.path, photo.path, "original", item=number, source_url=photo.source_url))
    draft.extra["photos"] = {**how, "count": len(taken)}
    draft.extra.setdefault("tools", {})["gallery_dl"] = photos.version()


def _not_obtained(draft: Draft, exc: Failure, declared: int | None, what: str) -> None:
    """A failed `photos` entry: the capture is incomplete and says why."""
    count = f"its {declared} photos" if declared else "its photos"
    reason = (f"this is {what}, but {count} could not be obtained ({exc.message.rstrip('.')}): capture the URL "
              "again, or save the photos another way and add them with `ohrt capture --file`")
    draft.files.append({"path": None, "role": "photos", "sha256": None, "md5": None, "bytes": None,
                        "parent_sha256": None, "command": None, "status": "failed", "error": reason})
    draft.extra["photos"] = {"declared": declared, "count": 0, "error": exc.message}


def _clear_leftovers(draft: Draft) -> None:
    """What yt-dlp wrote before it found nothing to download."""
    for leftover in ("original", "source"):
        if (draft.stage.path / leftover).exists():
            store.remove_tree(draft.stage.path / leftover)
    draft.files = [f for f in draft.files if f["role"] not in ("original", "info", "thumbnail", "subtitle")]


def _extractor(url: str) -> str:
    return photos.extractor_name(url)
