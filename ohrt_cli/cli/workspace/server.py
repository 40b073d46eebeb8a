"""The workspace's web server: 127.0.0.1 only, one random token in every URL, every change a POST checked
for its origin and its CSRF token, files only by id, ranges for the players, and nothing in the log.

The standard library's ThreadingHTTPServer is enough for one officer's browser on the same machine; the
pages are rendered here from templates/workspace/ and the work is done by the stages (see `app.py`).
No SOP paragraph of its own: the pages' paragraphs (SOP 9.1-9.4, 10.3, 10.8) are named in `app.py`.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CHUNK = 256 * 1024
MAX_FORM_BYTES = 1024 * 1024
HEARTBEAT_SECONDS = 10  # the page says it is open this often (a hidden tab's timers may slow to once a minute)
GONE_SECONDS = 150  # no word from any page for this long: it was closed without saying so
BYE_GRACE_SECONDS = 4  # a page that says goodbye may be reloading: wait this long for it to come back
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class Refused(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status, self.text = status, text


class Reply:
    """What a route answers: a body with its type and status, or a redirect, or a file to stream."""

    def __init__(self, body: bytes | str = b"", *, status: int = 200, content_type: str = "text/html; charset=utf-8",
                 location: str | None = None, file=None):
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.status, self.content_type, self.location, self.file = status, content_type, location, file


class Server(ThreadingHTTPServer):
    """Bound to 127.0.0.1 on a port the system chooses; `app` answers the requests (app.App)."""

    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, app):
        self.app = app
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        self.origins = {f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}"}
        self.hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    def handle_error(self, request, client_address) -> None:
        """socketserver prints every error with the client's address; a browser that drops a connection (a
        player seeking) is no error, and the rest is shown only with OHRT_DEBUG=1."""
        kind = sys.exc_info()[0]
        if kind is not None and issubclass(kind, (ConnectionError, TimeoutError)):
            return
        if os.environ.get("OHRT_DEBUG"):
            traceback.print_exc(file=sys.stderr)


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "ohrt-workspace"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - nothing of a request reaches the terminal
        return

    def log_error(self, format, *args):  # noqa: A002
        return

    # ------------------------------------------------------------------------------------ the checks
    def _route(self) -> tuple[str, dict]:
        """The path after the token, and the query; Refused unless the Host is ours and the token right."""
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in self.server.hosts:  # a name that resolves here (DNS rebinding) is not us
            raise Refused(403, "refused: this workspace answers only at 127.0.0.1")
        parts = urlsplit(self.path)
        _, token, rest = (parts.path + "/").split("/", 2)
        if not secrets.compare_digest(token.encode(), self.server.app.token.encode()):
            raise Refused(403, "refused: open the workspace with the address `ohrt review open` printed")
        return "/" + rest.rstrip("/") if rest.rstrip("/") else "/", parse_qs(parts.query)

    def _same_origin(self) -> None:
        """A change must come from our own page: its Origin (else its Referer) is this server."""
        origin = self.headers.get("Origin")
        if origin is None:
            referer = self.headers.get("Referer") or ""
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(referer)) if referer else None
        if origin not in self.server.origins:
            raise Refused(403, "refused: a change must come from the workspace's own page")

    def _form(self) -> dict[str, list[str]]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise Refused(400, "refused: a form of unknown length") from None
        if length < 0 or length > MAX_FORM_BYTES:
            raise Refused(413, "refused: the form is too large")
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            raise Refused(415, "refused: a form is expected")
        form = parse_qs(self.rfile.read(length).decode("utf-8", errors="replace"), keep_blank_values=True)
        given = (form.get("csrf") or [""])[0]
        if not secrets.compare_digest(given.encode(), self.server.app.csrf.encode()):
            raise Refused(403, "refused: the form's check token is missing or stale; reload the page")
        return form

    # ------------------------------------------------------------------------------------ the methods
    def do_GET(self):  # noqa: N802
        self._answer(lambda path, query: self.server.app.get(path, query, self.headers.get("Range")))

    def do_HEAD(self):  # noqa: N802
        self._answer(lambda path, query: self.server.app.get(path, query, self.headers.get("Range")), body=False)

    def do_POST(self):  # noqa: N802
        def post(path, query):
            self._same_origin()
            return self.server.app.post(path, self._form())

        self._answer(post)

    def _answer(self, route, *, body: bool = True) -> None:
        try:
            path, query = self._route()
            reply = route(path, query)
        except Refused as exc:
            reply = Reply(exc.text + "\n", status=exc.status, content_type="text/plain; charset=utf-8")
            self.close_connection = True
        except Exception:  # a bug: the page gets one line; the terminal the traceback only with OHRT_DEBUG=1
            if os.environ.get("OHRT_DEBUG"):
                traceback.print_exc(file=sys.stderr)
            reply = Reply("internal error in the workspace (run with OHRT_DEBUG=1 to see it)\n", status=500,
                          content_type="text/plain; charset=utf-8")
        try:
            self._send(reply, body)
        except (BrokenPipeError, ConnectionResetError):  # the player moved on: nothing to say
            self.close_connection = True

    def _send(self, reply: Reply, body: bool) -> None:
        if reply.file is not None:
            return self._send_file(reply, body)
        self.send_response(reply.status)
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if reply.location:
            self.send_header("Location", reply.location)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if body:
            self.wfile.write(reply.body)

    def _send_file(self, reply: Reply, body: bool) -> None:
        """A file, whole or the one byte range asked for (players seek by ranges)."""
        path, wanted = reply.file
        size = path.stat().st_size
        start, end, status = 0, size - 1, 200
        if wanted:
            match = _RANGE.match(wanted.strip())
            if match and (match[1] or match[2]):
                if match[1]:
                    start = int(match[1])
                    end = min(int(match[2]), size - 1) if match[2] else size - 1
                else:  # the last N bytes
                    start = max(size - int(match[2]), 0)
                status = 206
            if status == 206 and (start >= size or start > end):
                self.send_response(416)
                for name, value in SECURITY_HEADERS.items():
                    self.send_header(name, value)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(status)
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1 if size else 0))
        self.end_headers()
        if not body or not size:
            return
        with open(path, "rb") as handle:
            handle.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = handle.read(min(CHUNK, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)


class Lifetime:
    """When the workspace stops: its last open page closed (each page says hello and goodbye, and that it is
    still open, by its own id), nobody using it for `idle_seconds`, or Ctrl-C."""

    def __init__(self, idle_seconds: float, *, clock=time.monotonic):
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.lock = threading.Lock()
        self.last_activity = clock()
        self.pages: dict[str, float] = {}  # page id -> when it last said it is open
        self.gone: set[str] = set()  # pages that said goodbye (a hello may come in after it)
        self.left_at: float | None = None  # when the last page said goodbye

    def seen(self, page: str | None, *, active: bool) -> None:
        with self.lock:
            now = self.clock()
            if page and page[:64] not in self.gone:
                self.pages[page[:64]] = now
                self.left_at = None
            if active:
                self.last_activity = now

    def bye(self, page: str | None) -> None:
        with self.lock:
            self.pages.pop((page or "")[:64], None)
            if page and len(self.gone) < 10_000:
                self.gone.add(page[:64])
            if not self.pages:
                self.left_at = self.clock()

    def why_stop(self) -> str | None:
        with self.lock:
            now = self.clock()
            for page, seen in list(self.pages.items()):
                if now - seen >= GONE_SECONDS:  # closed without saying so (a crash, a killed browser)
                    del self.pages[page]
                    if not self.pages:
                        self.left_at = now - BYE_GRACE_SECONDS
            if self.left_at is not None and not self.pages and now - self.left_at >= BYE_GRACE_SECONDS:
                return "the page was closed"
            if now - self.last_activity >= self.idle_seconds:
                return f"nothing was done in it for {self.idle_seconds / 60:g} min"
        return None
