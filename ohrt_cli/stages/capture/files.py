"""File ingest (SOP 9.1): content an officer saved another way — a screen-recorded live stream, a photo, a web
archive (WACZ, WARC), a PDF or an HTML page — copied into the staging folder and checked there before it is
kept: what is checked is exactly what is stored."""

from __future__ import annotations

import datetime as dt
import gzip
import html
import re
import zipfile
from pathlib import Path

from ... import __version__
from ...ground.progress import Report, meter
from ...ground import media, store, webarchive
from ...ground.errors import Failure, InputError
from ...ground.times import iso
from .draft import Draft, record

# Kinds of file kept as a page (media_kind "page"); everything else must be audio, video or an image.
PAGE_KINDS = ("wacz", "warc", "pdf", "html")
SUFFIXES = {".wacz": "wacz", ".warc": "warc", ".warc.gz": "warc", ".pdf": "pdf", ".html": "html", ".htm": "html",
            ".xhtml": "html"}
HTML_TAG = re.compile(rb"<(!doctype\s+html|html|head|body)[\s>]", re.I)
TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
SNIFF = 1 << 16  # bytes read to tell a file's kind by its content


def ingest(draft: Draft, source: Path, progress: "Report | None" = None) -> None:
    """Copy a file obtained elsewhere into original/, hashing the bytes written (shown as bytes to
    `progress`), then check the copy as its kind requires; a file that fails its check is refused (nothing
    is kept)."""
    folder = draft.stage.path / "original"
    folder.mkdir()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name).strip("._") or "recording"
    target = folder / name
    with meter(progress, f"copying and hashing {source.name[:30]}", source.stat().st_size, "bytes") as shown:
        digest = store.copy_hashed(source, target, on_bytes=shown.update)
    stat = source.stat()
    kind = file_kind(source.name, target)
    if kind in PAGE_KINDS:
        check = _check_page_file(draft, target, kind, source.name)
        draft.kind = "page"
    else:
        check = _check_media(draft, target, source.name)
        kind = draft.kind
    draft.extra["ingest"] = {"source_name": source.name, "source_bytes": stat.st_size,
                             "source_modified": iso(dt.datetime.fromtimestamp(stat.st_mtime, dt.timezone.utc)),
                             "kind": kind, "check": check}
    draft.files.append(record(draft.stage.path, target, "original", digest, kind=kind))


def file_kind(name: str, path: Path) -> str:
    """wacz, warc, pdf or html by the file's name, else by its first bytes; "media" for anything else."""
    lowered = name.lower()
    for suffix, kind in sorted(SUFFIXES.items(), key=lambda item: -len(item[0])):
        if lowered.endswith(suffix):
            return kind
    with path.open("rb") as handle:
        head = handle.read(SNIFF)
    if head.startswith(b"WARC/") or (head.startswith(b"\x1f\x8b") and _gunzipped_head(path).startswith(b"WARC/")):
        return "warc"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04") and _zip_has(path, "datapackage.json"):
        return "wacz"
    if b"\x00" not in head and HTML_TAG.search(head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1024]):
        return "html"
    return "media"


def _gunzipped_head(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(16)
    except (OSError, EOFError):
        return b""


def _zip_has(path: Path, member: str) -> bool:
    try:
        with zipfile.ZipFile(path) as package:
            return member in package.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _check_page_file(draft: Draft, path: Path, kind: str, shown: str) -> dict:
    """Each page kind's own check, on the copy in the staging folder."""
    if kind == "wacz":
        scratch = draft.stage.path / ".check"  # inside the staging folder: swept with it if we are killed
        scratch.mkdir()
        try:
            return webarchive.validate_wacz(path, scratch=scratch, shown=shown)
        finally:
            store.remove_tree(scratch)
    if kind == "warc":
        return webarchive.check_warc(path, shown=shown)
    if kind == "pdf":
        return _check_pdf(path, shown)
    return _check_html(draft, path, shown)


def _check_pdf(path: Path, shown: str) -> dict:
    """A PDF starts with %PDF-n.n and ends with %%EOF (a file cut short in saving has no %%EOF)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(1024)
        handle.seek(max(0, size - 1024))
        tail = handle.read()
    found = re.match(rb"%PDF-(\d\.\d)", head)
    if not found:
        raise InputError(f"{shown} is not a PDF (it does not start with %PDF-): nothing was kept; check the file.")
    if b"%%EOF" not in tail:
        raise InputError(f"{shown} is a PDF cut short (no %%EOF at its end): nothing was kept; save it again.")
    return {"tool": "ohrt", "version": __version__, "result": f"PDF {found[1].decode()} header and %%EOF present"}


def _check_html(draft: Draft, path: Path, shown: str) -> dict:
    """An HTML page is text with an <html>, <head> or <body> tag; its <title> names the capture unless the
    officer gave --title."""
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if b"\x00" in head[:SNIFF] or not HTML_TAG.search(head):
        raise InputError(f"{shown} is not an HTML page (no <html>, <head> or <body> tag in its text): nothing was "
                         "kept; check the file.")
    found = TITLE.search(head)
    title = " ".join(html.unescape(found[1].decode("utf-8", "replace")).split())[:300] if found else ""
    if title:
        draft.info.setdefault("title", title)
    return {"tool": "ohrt", "version": __version__,
            "result": "HTML page" + (f" titled {title!r}" if title else " without a title")}


def _check_media(draft: Draft, path: Path, shown: str) -> dict:
    """Audio, video or an image, as ffprobe reads it (the probe is kept for the derivatives)."""
    try:
        info = media.probe(path)
    except Failure as exc:
        raise Failure(f"{exc.message.removesuffix(': check the file.')}, nor a WACZ, WARC, PDF or HTML file: "
                      "nothing was kept; check the file.") from None
    kind = media.media_kind(info)
    if kind is None:
        raise Failure(f"{shown} holds no video, audio or image, and is not a WACZ, WARC, PDF or HTML file: nothing "
                      "was kept; check the file.")
    draft.probe, draft.kind = info, kind
    described = (info.get("format") or {}).get("format_long_name") or (info.get("format") or {}).get("format_name")
    return {"tool": "ffprobe", "version": media.tool_versions().get("ffprobe") or media.tool_versions().get("ffmpeg"),
            "result": f"{kind}" + (f" ({described})" if described else "")}
