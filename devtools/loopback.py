"""A web site on 127.0.0.1 for the tests, the benchmarks and the demo (not shipped with ohrt).

One server, so that yt-dlp's and the browser's real code paths run without leaving the machine: it serves a
folder (with Range requests, which yt-dlp uses to probe and resume), and paths given their own response —
a redirect, a status, headers, a body sent slowly, one that never ends, or a server that never answers, or
a handler of its own (which also receives POSTs) — over http, or https with a certificate made by `self_signed`.

    with Loopback(folder) as site:
        url = site.put("clips/a.mp4", clip)                 # publish a file, a folder, text or bytes
        site.redirect("/short", "/clips/a.mp4")
        site.route("/slow.html", Response(body="<p>hi</p>", rate_kbps=4))
        site.route("/forever", Response(endless=True))

`?kbps=N` on any file's URL sends its body at about N KiB/s, and with `line_mb_s` set every path under
`/line/` is served at that rate, as over a real connection. `site.hits` records every request (GET or
HEAD) with its moment and headers, for tests of what a client sends and how often; a route's answer can
be changed at any time by routing the path again.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlsplit


@dataclass
class Response:
    """What a route answers: `delay` seconds before anything (None: never, until the server stops), then
    the status and headers, then the body — at `rate_kbps` KiB/s when given. After the body, `endless`
    holds the connection open, sending nothing more, and `stream` sends its bytes again and again as fast
    as the client takes them, each until the client or the server gives up."""

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    delay: float | None = 0
    rate_kbps: float | None = None
    endless: bool = False
    stream: bytes | None = None


Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it: `at` (time.monotonic() when it arrived), the method, the path
    with its query, and the request's headers (names as sent)."""

    at: float
    method: str
    path: str
    headers: dict[str, str]


class _RequestHandler(http.server.SimpleHTTPRequestHandler):
    server: "_Server"

    def log_message(self, *args):  # keep test and bench output clean
        pass

    def _route(self):
        return self.server.routes.get(urlsplit(self.path).path)

    def _hit(self) -> None:
        # list.append is atomic: safe from the serving threads
        self.server.hits.append(Hit(time.monotonic(), self.command, self.path, dict(self.headers.items())))

    def do_GET(self):
        self._hit()
        self.server.requests.append(self.path)
        route = self._route()
        if route is None:
            return super().do_GET()
        if callable(route):
            return route(self)
        self._answer(route, with_body=True)

    def do_POST(self):
        """A POST reaches a route given as a handler (a time-stamp authority, say); anything else is 405."""
        self.server.requests.append(self.path)
        route = self._route()
        if callable(route):
            return route(self)
        if route is not None:
            return self._answer(route, with_body=True)
        self.send_error(405)

    def do_HEAD(self):
        self._hit()
        route = self._route()
        if route is None:
            return super().do_HEAD()
        if callable(route):
            return route(self)
        self._answer(route, with_body=False)

    def _answer(self, response: Response, *, with_body: bool) -> None:
        stopping = self.server.stopping
        if response.delay is None:
            stopping.wait()
            return
        if response.delay and stopping.wait(response.delay):
            return
        body = response.body.encode("utf-8") if isinstance(response.body, str) else response.body
        self.send_response(response.status)
        headers = {"Content-Type": response.content_type, **response.headers}
        if not (response.endless or response.stream):
            headers.setdefault("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not with_body:
            return
        self._pace(_Bytes(body), self.wfile, response.rate_kbps)
        self.wfile.flush()
        if response.stream:
            while not stopping.is_set():
                self.wfile.write(response.stream)
        elif response.endless:
            stopping.wait()

    def translate_path(self, path):
        if self.server.line_mb_s and path.startswith("/line/"):
            path = path[len("/line"):]
        return super().translate_path(path)

    def copyfile(self, source, outputfile):
        rate = parse_qs(urlsplit(self.path).query).get("kbps")
        if rate:
            return self._pace(source, outputfile, float(rate[0]))
        if self.server.line_mb_s and self.path.startswith("/line/"):
            return self._pace(source, outputfile, self.server.line_mb_s * 1e6 / 1024)
        return super().copyfile(source, outputfile)

    @staticmethod
    def _pace(source, outputfile, kbps: float | None) -> None:
        """Copy at about `kbps` KiB/s (all at once without it), keeping time from the start."""
        # a tenth of a second's worth at a time, so that a client sees the pace and not bursts
        chunk = min(1 << 20, max(1024, int(kbps * 1024 / 10))) if kbps else 1 << 20
        start, sent = time.perf_counter(), 0
        while data := source.read(chunk):
            outputfile.write(data)
            outputfile.flush()
            sent += len(data)
            if kbps:
                ahead = sent / (kbps * 1024) - (time.perf_counter() - start)
                if ahead > 0:
                    time.sleep(ahead)

    def send_head(self):
        """A file with Range support: 206 and Content-Range for `Range: bytes=a-b`."""
        if "Range" not in self.headers:
            return super().send_head()
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        spec = self.headers["Range"].replace("bytes=", "")
        start_text, _, end_text = spec.partition("-")
        start = int(start_text or 0)
        end = min(int(end_text) if end_text else size - 1, size - 1)
        if start >= size:
            self.send_error(416)
            return None
        handle = open(path, "rb")
        handle.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return _Limited(handle, end - start + 1)


class _Bytes:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def read(self, n: int) -> bytes:
        piece = self.data[self.at:self.at + n]
        self.at += len(piece)
        return piece


class _Limited:
    """A file handle that reads at most `length` bytes: the body of a 206 answer."""

    def __init__(self, handle, length):
        self.handle, self.left = handle, length

    def read(self, n=-1):
        if self.left <= 0:
            return b""
        n = self.left if n < 0 else min(n, self.left)
        data = self.handle.read(n)
        self.left -= len(data)
        return data

    def close(self):
        self.handle.close()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args, line_mb_s: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.routes: dict[str, Response | Handler] = {}
        self.requests: list[str] = []
        self.hits: list[Hit] = []
        self.stopping = threading.Event()
        self.line_mb_s = line_mb_s

    def handle_error(self, request, client_address):
        """A client that hangs up mid-body (a killed capture, yt-dlp's probe) is not a server error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Loopback:
    """The site: `root` served at `base` (http://127.0.0.1:PORT), plus the routes given to it."""

    def __init__(self, root: Path, *, line_mb_s: float | None = None, tls: tuple[Path, Path] | None = None,
                 requests: list[str] | None = None):
        """`tls`: (certificate, key) PEM files to serve https instead of http (see `self_signed`);
        `requests`: a list to log the paths asked into (shared by two servers, say)."""
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(_RequestHandler, directory=str(self.root))
        self._server = _Server(("127.0.0.1", 0), handler, line_mb_s=line_mb_s)
        if requests is not None:
            self._server.requests = requests
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ running

    def start(self) -> "Loopback":
        # a short poll so that stop() returns at once (the default half second adds up over a test run)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()  # lets hanging and endless answers return
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "Loopback":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def requests(self) -> list[str]:
        """The paths asked for with GET, in order (for tests that count fetches)."""
        return self._server.requests

    @property
    def hits(self) -> list[Hit]:
        """Every request (GET and HEAD), in order of arrival, with its moment and headers."""
        return self._server.hits

    # --------------------------------------------------------------- publishing

    def url(self, name: str) -> str:
        return f"{self.base}/{name.lstrip('/')}"

    def put(self, name: str, source: Path | str | bytes) -> str:
        """Publish a file or folder (copied), or text or bytes, under `name`; returns its URL."""
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copyfile(source, target)
        elif isinstance(source, bytes):
            target.write_bytes(source)
        else:
            target.write_text(source, encoding="utf-8")
        return self.url(name)

    def page(self, name: str, video: str, title: str = "Test clip") -> str:
        """An HTML page with a <video> tag and og:title, as a platform page would carry."""
        return self.put(name, f"""<!doctype html><html><head><title>{title}</title>
<meta property="og:title" content="{title}">
</head><body><video controls src="{video}"></video></body></html>""")

    def route(self, path: str, response: Response | Handler) -> str:
        """Answer `path` (without its query) with `response`, or by calling it with the request handler;
        returns its URL."""
        path = "/" + path.lstrip("/")
        self._server.routes[path] = response
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.route(path, Response(status=status, headers={"Location": location}))

    def hang(self, path: str) -> str:
        """A path the server accepts and never answers (until it stops)."""
        return self.route(path, Response(delay=None))


def self_signed(folder: Path) -> tuple[Path, Path, bytes]:
    """A certificate for 127.0.0.1 signed by its own key, made now: (cert.pem, key.pem, the cert's DER)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ohrt test site"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Loopback Test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path, cert.public_bytes(serialization.Encoding.DER)
