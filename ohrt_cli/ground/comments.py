"""Comments under a post, as the platform shows them: from yt-dlp where it knows the site, else from the page
as the browser kept it (SOP 9.1, 9.2.3: the words around the content are evidence too).

Where comments are looked for, in this order, and the first that holds any wins:

1. yt-dlp's comment extraction (`getcomments`), for the sites whose extractor has it (YouTube, TikTok,
   Reddit, Twitch VODs and others): `info["comments"]`.
2. The page's own structured data, in the DOM the browser rendered (`page/dom.html`): schema.org
   `Comment`s in JSON-LD (`<script type="application/ld+json">`, a `comment` list or objects typed
   `Comment`), then schema.org `Comment` microdata (`itemtype=".../Comment"` with `itemprop` `author`,
   `text`, `dateCreated`).
3. JSON the page fetched while it loaded, as recorded in its web archive (`page/archive.wacz`): a response
   whose body is a list of objects each with an author and a text (and usually a time), or an object that
   holds such a list (e.g. `{"comments": [...]}`), replies nested under `replies` included.

Comments drawn by a script from any other shape, loaded only on a click ("view more replies"), or shown
only as pixels are not found: the screenshot and the page's text still hold what was on screen.

Each comment is kept as the platform gives it: `author` (display name), `handle` (the public handle or
user name), `author_url`, `text`, `time` (as the platform shows it, untouched), `timestamp` (the same as
UTC ISO-8601 when it is a date or epoch seconds), `likes`, `id`, `parent` (the id of the comment it answers)
and `n`, its number in the file (1, 2, …), by which a review cites it. This is ground: no captures here.
"""

from __future__ import annotations

import datetime as dt
import html.parser
import json
import re
import zipfile
from pathlib import Path
from typing import Any, Iterator

FORMAT = "ohrt-comments/1"
AUTHOR_KEYS = ("author", "user", "username", "author_name", "authorName", "owner", "from", "by", "creator")
HANDLE_KEYS = ("handle", "username", "screen_name", "screenName", "user_name", "login", "alternateName",
               "author_handle", "authorHandle", "uniqueId", "unique_id", "nickname")
NAME_KEYS = ("name", "display_name", "displayName", "full_name", "fullName", "title")
TEXT_KEYS = ("text", "body", "content", "message", "comment", "textOriginal", "text_display")
TIME_KEYS = ("time", "timestamp", "created_at", "createdAt", "created", "date", "dateCreated", "datePublished",
             "published", "published_at", "publishedAt", "posted_at", "create_time", "_time_text", "time_text")
LIST_KEYS = ("comments", "comment", "replies", "items", "data", "results", "entries", "edges", "nodes")
MAX_BODY = 20 * 1024 * 1024
MAX_DEPTH = 6


def from_ytdlp(info: dict) -> list[dict] | None:
    """yt-dlp's comments in our shape; None when its extractor gave none (the key is absent)."""
    raw = info.get("comments")
    if raw is None:
        return None
    found = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        parent = item.get("parent")
        found.append(_shaped(
            author=item.get("author"), handle=_handle_from(item.get("author_id"), item.get("author")),
            author_url=item.get("author_url"), text=item.get("text") or item.get("html"),
            time=item.get("_time_text") or item.get("timestamp"), timestamp=_when(item.get("timestamp")),
            likes=item.get("like_count"), id=item.get("id"), parent=None if parent in (None, "root") else parent))
    return _numbered(found)


def _handle_from(author_id, author) -> str | None:
    """yt-dlp's author_id is the public handle on some sites (TikTok, YouTube's @names), an opaque id on
    others; an `@name` author is a handle itself."""
    if isinstance(author, str) and author.startswith("@"):
        return author
    return str(author_id) if author_id else None


def from_page(folder: Path) -> tuple[list[dict], str | None]:
    """The comments a kept page holds (`folder` holds dom.html and archive.wacz) and where they were found
    (`json-ld`, `microdata`, or `archived json <url>`); ([], None) when none was found."""
    dom = folder / "dom.html"
    if dom.is_file():
        text = dom.read_text(encoding="utf-8", errors="replace")
        found = _numbered(list(_json_ld(text)))
        if found:
            return found, "json-ld in the rendered page (schema.org Comment)"
        found = _numbered(_microdata(text))
        if found:
            return found, "microdata in the rendered page (schema.org Comment)"
    wacz = folder / "archive.wacz"
    if wacz.is_file():
        for url, body in _json_responses(wacz):
            found = _numbered(_comment_list(body))
            if found:
                return found, f"json fetched by the page and kept in its web archive: {url}"
    return [], None


def document(comments: list[dict], *, url: str, found_by: str | None, looked_in: list[str]) -> dict:
    """What `source/comments.json` holds."""
    return {"format": FORMAT, "url": url, "found_by": found_by, "looked_in": looked_in, "count": len(comments),
            "comments": comments}


# ---------------------------------------------------------------------------------------- shaping

def _shaped(**fields) -> dict:
    text = fields.get("text")
    return {"n": 0, "id": _str(fields.get("id")), "parent": _str(fields.get("parent")),
            "author": _str(fields.get("author")), "handle": _str(fields.get("handle")),
            "author_url": _str(fields.get("author_url")), "text": text if isinstance(text, str) else _str(text),
            "time": fields.get("time") if isinstance(fields.get("time"), (str, int, float)) else None,
            "timestamp": fields.get("timestamp"), "likes": fields.get("likes") if isinstance(
                fields.get("likes"), int) and not isinstance(fields.get("likes"), bool) else None}


def _numbered(comments: list[dict]) -> list[dict]:
    kept = [c for c in comments if (c.get("text") or "").strip()]
    for n, comment in enumerate(kept, start=1):
        comment["n"] = n
    return kept


def _str(value) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _when(value) -> str | None:
    """A time as UTC ISO-8601 when it is one (ISO text, or epoch seconds or milliseconds); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat(timespec="seconds")
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            return None  # a local time with no offset: kept only as shown
        return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    return None


def _first(item: dict, keys: tuple[str, ...]):
    for key in keys:
        if key in item and item[key] not in (None, "", [], {}):
            return item[key]
    return None


def _from_object(item: dict, parent: str | None = None) -> Iterator[dict]:
    """One comment (and its replies) from an object of some platform's or schema.org's shape."""
    author = _first(item, AUTHOR_KEYS)
    name = handle = url = None
    if isinstance(author, list):
        author = author[0] if author else None
    if isinstance(author, dict):
        name = _first(author, NAME_KEYS)
        handle = _first(author, HANDLE_KEYS)
        url = _first(author, ("url", "profile_url", "profileUrl", "link", "@id"))
    elif isinstance(author, str):
        name = author
    handle = handle or _first(item, HANDLE_KEYS)
    if isinstance(handle, str) and handle == name and not handle.startswith("@"):
        handle = None if " " in handle else handle
    text = _first(item, TEXT_KEYS)
    if isinstance(text, dict):
        text = _first(text, ("text", "plain", "value"))
    time = _first(item, TIME_KEYS)
    ident = _first(item, ("id", "@id", "cid", "comment_id", "identifier"))
    comment = _shaped(author=name, handle=handle, author_url=url, text=text, time=time, timestamp=_when(time),
                      likes=_first(item, ("likes", "like_count", "likeCount", "digg_count", "upvoteCount")),
                      id=ident, parent=parent or _first(item, ("parent", "parent_id", "parentId", "reply_to")))
    yield comment
    replies = item.get("replies") or item.get("comment")
    for reply in replies if isinstance(replies, list) else []:
        if isinstance(reply, dict) and _looks_like_comment(reply):
            yield from _from_object(reply, parent=comment["id"])


def _looks_like_comment(item: dict) -> bool:
    text = _first(item, TEXT_KEYS)
    if isinstance(text, dict):
        text = _first(text, ("text", "plain", "value"))
    return isinstance(text, str) and bool(text.strip()) and _first(item, AUTHOR_KEYS + HANDLE_KEYS) is not None


def _comment_list(data: Any, depth: int = 0) -> list[dict]:
    """The first list (breadth first, named keys before others) of objects that each look like a comment."""
    if depth > MAX_DEPTH:
        return []
    if isinstance(data, list):
        objects = [item for item in data if isinstance(item, dict)]
        if objects and len(objects) == len(data) and all(_looks_like_comment(o) for o in objects):
            return [c for o in objects for c in _from_object(o)]
        for item in data[:50]:
            found = _comment_list(item, depth + 1)
            if found:
                return found
        return []
    if isinstance(data, dict):
        keys = [k for k in LIST_KEYS if k in data] + [k for k in data if k not in LIST_KEYS]
        for key in keys:
            if isinstance(data[key], (list, dict)):
                found = _comment_list(data[key], depth + 1)
                if found:
                    return found
    return []


# ---------------------------------------------------------------------------------------- the page

_LD = re.compile(r"<script[^>]*type\s*=\s*[\"']application/ld\+json[\"'][^>]*>(.*?)</script>", re.I | re.S)


def _json_ld(text: str) -> Iterator[dict]:
    for block in _LD.findall(text):
        try:
            data = json.loads(html.unescape(block).strip())
        except ValueError:
            continue
        yield from _ld_comments(data, 0)


def _typed(item: dict, name: str) -> bool:
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and k.rsplit("/", 1)[-1] == name for k in kinds)


def _ld_comments(data: Any, depth: int) -> Iterator[dict]:
    if depth > MAX_DEPTH:
        return
    if isinstance(data, list):
        for item in data:
            yield from _ld_comments(item, depth + 1)
    elif isinstance(data, dict):
        if _typed(data, "Comment") and _looks_like_comment(data):
            yield from _from_object(data)
            return
        for key, value in data.items():
            if key == "comment" and isinstance(value, (list, dict)):
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, dict) and _looks_like_comment(item):
                        yield from _from_object(item)
            elif isinstance(value, (list, dict)):
                yield from _ld_comments(value, depth + 1)


class _Microdata(html.parser.HTMLParser):
    """schema.org Comment items: their author (name, alternateName), text and dateCreated properties."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict | None, str | None]] = []  # (tag, item opened here, property read here)
        self.items: list[dict] = []
        self.open_items: list[dict] = []
        self.reading: list[list] = []  # [property, item, text parts]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        prop = attrs.get("itemprop")
        opened = None
        if "itemscope" in attrs:
            opened = {"@type": attrs.get("itemtype") or "", "props": {}}
            if prop and self.open_items:
                self.open_items[-1]["props"].setdefault(prop, opened)
            elif (opened["@type"]).rstrip("/").endswith("Comment"):
                self.items.append(opened)
            if opened["@type"].rstrip("/").endswith("Comment") and prop and self.open_items:
                self.items.append(opened)
            self.open_items.append(opened)
        elif prop and self.open_items:
            value = attrs.get("content") or attrs.get("datetime") or attrs.get("href")
            if value is not None:
                self.open_items[-1]["props"].setdefault(prop, value)
            elif tag not in self.VOID:
                self.reading.append([prop, self.open_items[-1], []])
        if tag not in self.VOID:
            self.stack.append((tag, opened, prop if prop and not opened and self.reading and
                                self.reading[-1][0] == prop else None))

    def handle_endtag(self, tag):
        while self.stack:
            name, opened, reading = self.stack.pop()
            if reading and self.reading:
                prop, item, parts = self.reading.pop()
                item["props"].setdefault(prop, " ".join("".join(parts).split()))
            if opened is not None and self.open_items:
                self.open_items.pop()
            if name == tag:
                break

    def handle_data(self, data):
        for entry in self.reading:
            entry[2].append(data)


def _microdata(text: str) -> list[dict]:
    parser = _Microdata()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # a page this parser cannot follow has no microdata we can read
        return []
    found = []
    for item in parser.items:
        props = item["props"]
        author = props.get("author") or props.get("creator")
        if isinstance(author, dict):
            author = {k: v for k, v in author["props"].items() if isinstance(v, str)}
        found.append({"author": author, "text": props.get("text") or props.get("commentText"),
                      "dateCreated": props.get("dateCreated") or props.get("datePublished"),
                      "id": props.get("identifier")})
    return [c for item in found if _looks_like_comment(item) for c in _from_object(item)]


def _json_responses(wacz: Path) -> Iterator[tuple[str, Any]]:
    """(url, parsed body) of every JSON response in the WACZ's WARC, in the order they arrived."""
    from warcio.archiveiterator import ArchiveIterator

    with zipfile.ZipFile(wacz) as package:
        for name in package.namelist():
            if not (name.startswith("archive/") and name.endswith((".warc", ".warc.gz"))):
                continue
            with package.open(name) as stream:
                for record in ArchiveIterator(stream):
                    if record.rec_type != "response" or record.http_headers is None:
                        continue
                    kind = (record.http_headers.get_header("Content-Type") or "").lower()
                    if "json" not in kind and "javascript" not in kind and "text/plain" not in kind:
                        continue
                    body = record.content_stream().read(MAX_BODY + 1)
                    if len(body) > MAX_BODY:
                        continue
                    try:
                        yield record.rec_headers.get_header("WARC-Target-URI"), json.loads(body)
                    except ValueError:
                        continue
