"""Photos of a post that yt-dlp does not take: gallery-dl's Python API, and the photos a page declares (SOP 9.1).

* `gallery_dl_takes(url)` says whether gallery-dl has an extractor of its own for a URL: the extractors
  of the post's platform (Instagram, X, TikTok photo posts, Facebook photos, Reddit, Snapchat) and its
  direct-link one for a picture's own address; its catch-all "generic" extractor is never used; `download(url, folder)` runs it through its Python API (never a subprocess), quietly, into
  `folder`, and returns the files in the order gallery-dl gave them, each with the address it came from.
  Only pictures are kept: a slideshow's sound comes from yt-dlp.
* `declared(html, base)` reads the photos a public post page declares in its markup, as the platforms'
  pages do for link previews and search engines: every `og:image` (`og:image:url`, `og:image:secure_url`)
  and the `image` / `contentUrl` of its JSON-LD (a `SocialMediaPosting`, an `ImageObject`, an
  `ImageGallery`…), in the page's order, each once.

This is ground: files and URLs; no tasks or captures here.
"""

from __future__ import annotations

import html.parser
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .errors import Failure

PICTURE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".heic", ".heif", ".avif"}
JSON_LD_KEYS = ("image", "contentUrl", "associatedMedia", "sharedContent", "hasPart", "@graph", "mainEntity",
                "primaryImageOfPage", "thumbnailUrl")


@dataclass
class Photo:
    path: Path
    source_url: str


def version() -> str:
    from gallery_dl.version import __version__

    return __version__


# ----------------------------------------------------------------------------------------- gallery-dl

# gallery-dl's extractor modules consulted, by platform (SOP 4.1.4): loading all ~300 of them to match one
# URL costs seconds, so only the post's own platform's is loaded, and the direct-link one for an image's
# own address.
MODULES = {"instagram": "instagram", "x": "twitter", "tiktok": "tiktok", "facebook": "facebook",
           "reddit": "reddit", "snapchat": "snapchat"}


def _extractor_for(url: str):
    """gallery-dl's extractor (an instance) for `url`, or None."""
    import importlib
    import re

    from . import urls
    from .errors import InputError

    try:
        platform = urls.canonical(url)[1]
    except InputError:
        return None
    for name in ("directlink", MODULES.get(platform or "")):
        if not name:
            continue
        module = importlib.import_module(f"gallery_dl.extractor.{name}")
        for cls in list(vars(module).values()):
            if not (isinstance(cls, type) and getattr(cls, "__module__", "") == module.__name__
                    and getattr(cls, "pattern", None)):
                continue
            if isinstance(cls.pattern, str):
                cls.pattern = re.compile(cls.pattern)
            found = cls.pattern.match(url)
            if found:
                return cls(found)
    return None


def gallery_dl_takes(url: str) -> bool:
    """Whether gallery-dl has an extractor of its own for `url`: a platform's, or a picture's own address."""
    return _extractor_for(url) is not None


def extractor_name(url: str) -> str:
    found = _extractor_for(url)
    return f"{found.category}:{found.subcategory}" if found else "unknown"


def download(url: str, folder: Path, *, timeout: float = 30) -> list[Photo]:
    """The pictures gallery-dl finds at `url`, downloaded into `folder` in its order; Failure in one line
    when it finds none or cannot fetch one."""
    from gallery_dl import config, job

    found = _extractor_for(url)
    if found is None:
        raise Failure(f"gallery-dl has no extractor for {url}.")
    scratch = folder / ".gallery-dl"
    scratch.mkdir(parents=True, exist_ok=True)
    taken: list[tuple[str, Path]] = []
    errors: list[str] = []

    class Kept(job.DownloadJob):
        """gallery-dl's own download job, noting each file it finished and where it came from."""

        def handle_url(self, link, kwdict):
            super().handle_url(link, kwdict)
            path = Path(self.pathfmt.path) if self.pathfmt and self.pathfmt.path else None
            if path is not None and path.is_file() and not any(p == path for _, p in taken):
                taken.append((link, path))

    class Noted(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING:  # an HTTP status comes as a warning before the error
                errors.append(record.getMessage())

    handler = Noted()
    root = logging.getLogger()
    root.addHandler(handler)
    config.clear()
    try:
        for key, value in {"base-directory": str(scratch), "directory": [], "skip": False, "timeout": timeout,
                           "retries": 2, "mtime": False, "part-directory": str(scratch)}.items():
            config.set(("extractor",), key, value)
        config.set(("output",), "mode", "null")
        config.set(("output",), "progress", False)
        config.set(("downloader",), "part", True)
        status = Kept(found).run()
    except Exception as exc:  # gallery-dl's own errors carry its reason
        raise Failure(f"gallery-dl could not take the photos of {url} ({type(exc).__name__}: {exc}).") from None
    finally:
        root.removeHandler(handler)
        config.clear()
    photos = []
    for link, path in taken:
        if path.suffix.lower() not in PICTURE_SUFFIXES:
            continue
        target = folder / f"photo-{len(photos) + 1:02d}{path.suffix.lower()}"
        path.rename(target)
        photos.append(Photo(target, link))
    shutil.rmtree(scratch, ignore_errors=True)
    if status and errors or not photos:
        why = errors[0] if errors else "it found no photo there"
        raise Failure(f"gallery-dl could not take the photos of {url}: {why}.")
    return photos


def download_each(urls: list[str], folder: Path, *, timeout: float = 30) -> list[Photo]:
    """Each photo address through gallery-dl (its direct-link extractor takes an image's own URL), in order;
    Failure naming the first that could not be taken."""
    photos = []
    for n, url in enumerate(urls, start=1):
        if not gallery_dl_takes(url):
            raise Failure(f"photo {n} ({url}) is not an address gallery-dl can fetch (no picture file name).")
        got = download(url, folder / f".photo-{n}", timeout=timeout)
        target = folder / f"photo-{n:02d}{got[0].path.suffix}"
        got[0].path.rename(target)
        shutil.rmtree(folder / f".photo-{n}", ignore_errors=True)
        photos.append(Photo(target, url))
    return photos


# ----------------------------------------------------------------------------------- page markup

class _Markup(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.og: list[str] = []
        self.scripts: list[str] = []
        self._in_json = False
        self._buffer: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            name = (attrs.get("property") or attrs.get("name") or "").lower()
            if name in ("og:image", "og:image:url", "og:image:secure_url") and attrs.get("content"):
                self.og.append(attrs["content"].strip())
        elif tag == "script" and attrs.get("type", "").lower() == "application/ld+json":
            self._in_json, self._buffer = True, []

    def handle_data(self, data):
        if self._in_json:
            self._buffer.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._in_json:
            self._in_json = False
            self.scripts.append("".join(self._buffer))


def declared(page: str, base: str) -> dict:
    """The photos a page declares: {"og": [...], "json_ld": [...], "photos": [...]} — absolute http(s)
    addresses in the page's order, each once (`photos` is JSON-LD's followed by Open Graph's)."""
    parser = _Markup()
    try:
        parser.feed(page)
        parser.close()
    except Exception:  # a page too broken to read declares nothing we can rely on
        return {"og": [], "json_ld": [], "photos": []}
    ld: list[str] = []
    for text in parser.scripts:
        try:
            _images(json.loads(text), ld, depth=0)
        except ValueError:
            continue
    og = _absolute(parser.og, base)
    ld = _absolute(ld, base)
    return {"og": og, "json_ld": ld, "photos": list(dict.fromkeys(ld + og))}


NOT_PHOTOS = {"Person", "Organization", "WebSite", "Brand", "WebPage", "BreadcrumbList"}  # avatars, logos


def _images(node, found: list[str], depth: int) -> None:
    if depth > 8:
        return
    if isinstance(node, dict) and node.get("@type") in NOT_PHOTOS:
        return
    if isinstance(node, list):
        for value in node:
            _images(value, found, depth + 1)
    elif isinstance(node, dict):
        for key in JSON_LD_KEYS:
            value = node.get(key)
            if isinstance(value, str) and key in ("image", "contentUrl", "thumbnailUrl"):
                if key != "thumbnailUrl" or not node.get("contentUrl"):
                    found.append(value)
            elif isinstance(value, (dict, list)):
                if key == "image" and isinstance(value, list) and all(isinstance(v, str) for v in value):
                    found.extend(value)
                else:
                    _images(value, found, depth + 1)
        if node.get("@type") == "ImageObject" and isinstance(node.get("url"), str) and not node.get("contentUrl"):
            found.append(node["url"])


def _absolute(urls: list[str], base: str) -> list[str]:
    out = []
    for url in urls:
        full = urljoin(base, url.strip())
        if urlsplit(full).scheme in ("http", "https"):
            out.append(full)
    return list(dict.fromkeys(out))
