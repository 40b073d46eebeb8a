"""What one page visit is bounded by and what it learns (SOP 9.1: the page as the officer saw it, with its
provenance): `Limits` (`[page]` in config.toml), `Visit` (the manifest's `page` object and the files made),
`Exchange` (one request and its response, for the WARC) and `PageFailed`. `browser_page.Session` fills them.

This is ground: no captures, tasks or database here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .errors import Failure

MB = 1024 * 1024


class PageFailed(Failure):
    """The page could not be opened at all (refused, endless redirects, a download, the browser died).

    `visit` carries what was learnt before the failure (the redirect chain, say) for the manifest."""

    def __init__(self, message: str, visit: "Visit | None" = None):
        super().__init__(message)
        self.visit = visit


@dataclass(frozen=True)
class Limits:
    """How long and how much one page capture may take; `[page]` in config.toml sets them."""

    timeout: float = 30.0              # seconds for loading, scrolling and waiting for quiet
    snapshot_timeout: float = 20.0     # seconds for screenshot, PDF, DOM and text after that
    max_response_bytes: int = 50 * MB  # one response's body; beyond it the body is recorded truncated
    max_total_bytes: int = 250 * MB    # all bodies of the page together
    scroll_steps: int = 40             # screens scrolled at most (an endless feed has no end)
    scroll_pause_ms: int = 150         # per screen, for lazy content to be asked for
    quiet_ms: int = 500                # no request in flight this long = the network is idle
    width: int = 1280
    height: int = 900
    max_screenshot_height: int = 16384  # a taller page is shot to this height (Chromium's own ceiling)


@dataclass
class Exchange:
    """One request the page made and the response it got (or why it got none), for the WARC."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes | None
    requested_at: float                     # epoch seconds, our clock
    resource_type: str = ""
    status: int | None = None
    reason: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    truncated: str | None = None            # WARC-Truncated: "length" (cap) or "time" (cut at the timeout)
    server: dict | None = None              # {"ip", "port"}
    redirect: bool = False
    error: str | None = None


@dataclass
class Visit:
    """What one visit learnt: the provenance that goes into the manifest's `page` object, and the files."""

    requested_url: str
    final_url: str | None = None
    redirects: list[dict] = field(default_factory=list)
    server: dict | None = None
    status: int | None = None
    headers: dict = field(default_factory=dict)
    server_date: str | None = None
    clock_skew_seconds: float | None = None
    tls: dict | None = None
    browser: dict = field(default_factory=dict)
    viewport: dict = field(default_factory=dict)
    user_agent: str | None = None
    started_at: str = ""
    finished_at: str = ""
    timed_out: bool = False
    network_idle: bool = False
    requests: int = 0
    truncated_responses: int = 0
    bytes_received: int = 0
    title: str | None = None
    error: str | None = None
    popups_closed: int = 0
    scroll: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)          # name -> Path, for each output made
    failed_outputs: dict = field(default_factory=dict)  # name -> why it could not be made
    certificates: list[bytes] = field(default_factory=list)  # DER, leaf first

    def provenance(self) -> dict:
        """The manifest's `page` object (see the capture stage's manifest format)."""
        return {"requested_url": self.requested_url, "final_url": self.final_url, "redirects": self.redirects,
                "server": self.server, "status": self.status, "headers": self.headers,
                "server_date": self.server_date, "clock_skew_seconds": self.clock_skew_seconds, "tls": self.tls,
                "browser": self.browser, "viewport": self.viewport, "user_agent": self.user_agent,
                "started_at": self.started_at, "finished_at": self.finished_at, "timed_out": self.timed_out,
                "network_idle": self.network_idle, "requests": self.requests,
                "truncated_responses": self.truncated_responses, "bytes_received": self.bytes_received,
                "popups_closed": self.popups_closed, "scroll": self.scroll, "title": self.title,
                "error": self.error}


def short(exc: Exception) -> str:
    text = str(getattr(exc, "message", None) or exc)
    return " ".join(text.split("Call log:")[0].split())[:300].rstrip(".")


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="milliseconds")
