"""Is the content at a URL still there? One look that downloads none of it (SOP 10.6 follow-up).

A look asks for the URL alone — no cookies, no referrer, no credentials, a browser's ordinary User-Agent
(nothing that says who is asking) — and reads, in turn:

1. the HTTP status: 404 and 410 (not found, gone) and 451 (withheld for legal reasons) are `gone`; a
   network failure, a timeout, 429 or any 5xx is `unreachable`, never `gone`: the platform said nothing;
2. the page's words: the first MAX_PAGE_BYTES of an HTML or text answer are searched for the platform's
   removal and unavailability messages (templates/check/, see `Messages`); one found is `gone`, with
   those words. A media answer (video/…, audio/…, image/…) is `available` at its headers: its body is
   never read;
3. yt-dlp's metadata extraction (no download, no playlist, no cache), when the page answered 2xx without
   a message: yt-dlp's reason for not reading the item is searched the same way; an item it reads is
   `available`, and so is a page it cannot make sense of (its reason is kept as evidence), since only the
   platform's words or status may say that content has gone.

Every request is preceded by `before_request` and followed by `after_request` (once it has been answered
or has failed), which the caller uses to keep to a host's rate limit.
This is ground: no tasks, referrals or database here.
"""

from __future__ import annotations

import html
import json
import re
import socket
import ssl
import threading
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from . import resources

AVAILABLE, GONE, UNREACHABLE = "available", "gone", "unreachable"
RESULTS = (AVAILABLE, GONE, UNREACHABLE)
GONE_STATUSES = {404: "HTTP 404 Not Found", 410: "HTTP 410 Gone", 451: "HTTP 451 Unavailable For Legal Reasons"}
MAX_PAGE_BYTES = 3 << 20   # a platform's page with its inline data is under 2 MB; the rest is not read
MEDIA_TYPES = ("video/", "audio/", "image/", "application/octet-stream", "application/vnd.apple.mpegurl",
               "application/x-mpegurl", "application/dash+xml")
# An ordinary browser's: the check must not announce who is looking (a site run by the uploader sees it).
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
              "Safari/537.36")
ANY = "any"
QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


@dataclass
class Look:
    """What one look saw: the result, the platform's words (or what went wrong), and the evidence."""

    result: str                       # available | gone | unreachable
    message: str | None = None        # the platform's words for `gone`; the failure for `unreachable`
    http_status: int | None = None
    evidence: dict = field(default_factory=dict)   # final_url, content_type, via, extractor, title, error…

    def as_dict(self) -> dict:
        return {"result": self.result, "message": self.message, "http_status": self.http_status,
                "evidence": self.evidence}


# ------------------------------------------------------------------------------------------ messages


def normalise(text: str) -> str:
    """Lower case, one kind of apostrophe and quotation mark, single spaces: how messages are compared."""
    return re.sub(r"\s+", " ", text.translate(QUOTES)).strip().lower()


@dataclass
class Messages:
    """The removal and unavailability messages of each platform (templates/check/*.toml, plus the team's
    HOME/check/*.toml added to them); `any.toml`'s apply to every platform."""

    by_platform: dict[str, list[str]]

    @classmethod
    def load(cls, home: Path | None) -> "Messages":
        found: dict[str, list[str]] = {}
        folders = [resources.templates_dir() / "check"]
        if home is not None:
            folders.append(home / "check")
        for folder in folders:
            for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
                try:
                    data = tomllib.loads(path.read_text(encoding="utf-8"))
                except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                    from .errors import InputError

                    raise InputError(f"{path} is not valid TOML ({exc}): correct it or remove it.") from None
                gone = data.get("gone", [])
                if not isinstance(gone, list) or not all(isinstance(m, str) and m.strip() for m in gone):
                    from .errors import InputError

                    raise InputError(f"{path}: `gone` must be a list of the platform's messages, as text.")
                found.setdefault(path.stem.lower(), []).extend(m.strip() for m in gone)
        return cls(found)

    def for_platform(self, platform: str | None) -> list[str]:
        own = self.by_platform.get((platform or "").lower(), []) if platform != ANY else []
        return own + self.by_platform.get(ANY, [])

    def find(self, text: str, platform: str | None) -> str | None:
        """The platform's message that `text` holds, as the message file gives it: the longest one found,
        so that "This video has been removed for violating …" wins over the page's title "Video unavailable"."""
        if not text:
            return None
        haystack = normalise(text)
        found = [message for message in self.for_platform(platform) if normalise(message) in haystack]
        return max(found, key=len) if found else None


def page_text(raw: bytes, charset: str | None) -> str:
    """A page's words for matching: the HTML with its tags dropped and entities read, then the strings
    its inline data carries (JSON escapes such as \\u0027 read), so a message in a script is found."""
    text = raw.decode(charset or "utf-8", errors="replace")
    readable = html.unescape(re.sub(r"<[^>]+>", " ", text))
    unescaped = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text)
    unescaped = unescaped.replace("\\/", "/").replace('\\"', '"')
    return readable + "\n" + html.unescape(unescaped)


# ---------------------------------------------------------------------------------------------- look


class _NoRedirectCookies(urllib.request.HTTPRedirectHandler):
    """Follows redirects (at most 10, as browsers do) without carrying anything over but the URL."""

    max_redirections = 10


def _opener() -> urllib.request.OpenerDirector:
    # build_opener adds no cookie processor: nothing is stored from one answer or sent with the next
    return urllib.request.build_opener(_NoRedirectCookies())


def host_of(url: str) -> str:
    """The host a request goes to, by which requests are paced: its name, and its port when given."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def look(url: str, platform: str | None, messages: Messages, *, timeout: float, metadata: bool = True,
         before_request: Callable[[], None] = lambda: None, after_request: Callable[[], None] = lambda: None) -> Look:
    """Look at `url` once (see the module's docstring). Never raises for what the network or the site does."""
    before_request()
    try:
        seen = _http(url, platform, messages, timeout)
    finally:
        after_request()
    if seen.result != AVAILABLE or not metadata or seen.evidence.get("media"):
        return seen
    ydl = _ydl(timeout)  # made before the wait: making one takes a while, and the wait should end at the request
    before_request()
    try:
        return _metadata(ydl, url, platform, messages, seen)
    finally:
        after_request()


def _http(url: str, platform: str | None, messages: Messages, timeout: float) -> Look:
    request = urllib.request.Request(url, headers={
        "User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
        "Accept-Language": "en-GB,en;q=0.9"})
    try:
        response = _opener().open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        return _status_look(exc, platform, messages)
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, ssl.SSLError, OSError,
            ValueError) as exc:
        return Look(UNREACHABLE, _network_reason(exc), None, {"via": "http", "error": _network_reason(exc)})
    try:
        with response:
            status = response.status
            content_type = response.headers.get("Content-Type", "")
            evidence = {"via": "http", "final_url": response.geturl(), "content_type": content_type}
            if content_type.lower().startswith(MEDIA_TYPES):
                return Look(AVAILABLE, None, status, {**evidence, "media": True})
            raw = response.read(MAX_PAGE_BYTES)
    except (socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
        return Look(UNREACHABLE, _network_reason(exc), None, {"via": "http", "error": _network_reason(exc)})
    found = messages.find(page_text(raw, response.headers.get_content_charset()), platform)
    if found:
        return Look(GONE, found, status, {**evidence, "matched": "page"})
    return Look(AVAILABLE, None, status, evidence)


def _status_look(exc: urllib.error.HTTPError, platform: str | None, messages: Messages) -> Look:
    status = exc.code
    try:
        raw = exc.read(MAX_PAGE_BYTES) or b""
    except (OSError, socket.timeout, TimeoutError):
        raw = b""
    charset = exc.headers.get_content_charset() if exc.headers else None
    evidence = {"via": "http", "final_url": exc.geturl() if hasattr(exc, "geturl") else exc.filename,
                "content_type": exc.headers.get("Content-Type", "") if exc.headers else ""}
    found = messages.find(page_text(raw, charset), platform)
    if status in GONE_STATUSES:
        return Look(GONE, found or GONE_STATUSES[status], status, {**evidence, "matched": "page" if found else
                                                                    "status"})
    if found and 400 <= status < 500 and status not in (401, 403, 407, 429):
        return Look(GONE, found, status, {**evidence, "matched": "page"})
    return Look(UNREACHABLE, f"HTTP {status} {exc.reason or ''}".strip(), status, evidence)


def _network_reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason) or type(reason).__name__
    if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in text:
        return "timed out"
    return re.sub(r"\s+", " ", text).strip()[:200]


_local = threading.local()


class _Quiet:
    """yt-dlp's messages go nowhere: its reason for a failure comes back as the exception."""

    def debug(self, message: str) -> None:
        pass

    info = warning = error = debug


def _ydl(timeout: float):
    """One YoutubeDL per thread and timeout, kept for the run (making one costs a tenth of a second or more)."""
    from . import media

    cached = getattr(_local, "ydl", None)
    if cached is None or cached[0] != timeout:
        yt_dlp = media.yt_dlp_module()
        options = {"quiet": True, "noplaylist": True, "cachedir": False, "logger": _Quiet(), "socket_timeout": timeout,
                   "extract_flat": "in_playlist", "noprogress": True, "retries": 0, "extractor_retries": 0,
                   "http_headers": {"User-Agent": USER_AGENT}, "color": {"stdout": "no_color", "stderr": "no_color"}}
        cached = _local.ydl = (timeout, yt_dlp.YoutubeDL(options))
    return cached[1]


def _metadata(ydl, url: str, platform: str | None, messages: Messages, seen: Look) -> Look:
    """yt-dlp's metadata extraction after a 2xx page with no message: gone only on the platform's words."""
    from . import media

    yt_dlp = media.yt_dlp_module()
    ydl.cookiejar.clear()  # nothing carried from one look to the next
    evidence = dict(seen.evidence)
    try:
        info = ydl.extract_info(url, download=False, process=False) or {}
    except yt_dlp.utils.YoutubeDLError as exc:
        reason = media.one_line(getattr(exc, "msg", None) or str(exc))
        found = messages.find(reason, platform)
        if found:
            return Look(GONE, found, seen.http_status, {**evidence, "matched": "yt-dlp", "ytdlp_error": reason})
        if media.UNREACHABLE.search(reason):
            return Look(UNREACHABLE, reason, seen.http_status, {**evidence, "ytdlp_error": reason})
        return Look(AVAILABLE, None, seen.http_status, {**evidence, "ytdlp_error": reason})
    except Exception as exc:  # an extractor's own bug must not stop the run: the page answered
        return Look(AVAILABLE, None, seen.http_status, {**evidence, "ytdlp_error": f"{type(exc).__name__}: {exc}"[:200]})
    evidence.update(extractor=info.get("extractor_key") or info.get("ie_key"), item_id=info.get("id"),
                    title=info.get("title"))
    return Look(AVAILABLE, None, seen.http_status, evidence)


def evidence_json(look_: Look) -> str:
    return json.dumps(look_.evidence, sort_keys=True, ensure_ascii=False, default=str)
