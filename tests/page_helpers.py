"""Pages served on 127.0.0.1 for the page-capture tests: ordinary posts and hostile pages (endless
redirects, bodies that never end, pages that never finish, pop-ups), over http and over https with a
self-signed certificate made here. Every path asked for is logged, so a test can prove what the browser
did not reach."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.server
import io
import socketserver
import ssl
import threading
import time
from pathlib import Path

INJECTED = "Machetes for sale, DM for prices"  # put in by the page's script, never in what is served

POST = f"""<!doctype html><html><head><title>A post</title></head><body>
<article><h1>Post by @seller</h1><p id="words">loading…</p></article>
<script>window.addEventListener('load', () => setTimeout(() => {{
  document.getElementById('words').textContent = atob({base64.b64encode(INJECTED.encode()).decode()!r});
}}, 50));</script>
</body></html>"""

PHOTOS = """<!doctype html><html><head><title>Three photos</title></head><body>
<p>Three photos of the park</p>
<img src="/img/one.png" width="200"><img src="/img/two.png" width="200"><img src="/img/three.png" width="200">
</body></html>"""

LAZY = """<!doctype html><html><head><title>Long feed</title></head><body style="margin:0">
<div style="height:5000px;background:linear-gradient(#fff,#ccc)">top of the feed</div>
<img id="late" data-src="/img/lazy.png" width="300" height="200" alt="late photo">
<p id="end">end of the feed</p>
<script>new IntersectionObserver((entries, seen) => entries.forEach(e => {
  if (e.isIntersecting) { e.target.src = e.target.dataset.src; seen.disconnect(); }
})).observe(document.getElementById('late'));</script>
</body></html>"""

POPUPS = """<!doctype html><html><head><title>Pop-ups</title></head><body><p>a page that opens windows</p>
<a id="away" href="/popped?link" target="_blank">away</a>
<script>for (let i = 0; i < 5; i++) window.open('/popped?' + i);
document.getElementById('away').click();</script></body></html>"""

ENDLESS_FETCH = """<!doctype html><html><head><title>Heavy</title></head><body><p>a page that pulls an endless body</p>
<script>fetch('/endless').then(r => r.arrayBuffer());</script></body></html>"""

GONE = b"<!doctype html><html><head><title>Not found</title></head><body><h1>This post is no longer available</h1></body></html>"


def png(shade: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, 80, 255 - shade)).save(out, "PNG")
    return out.getvalue()


IMAGES = {"one": png(30), "two": png(120), "three": png(220), "lazy": png(160)}


class Pages:
    """The running servers: `url(path)` over http, `tls_url(path)` over https; `hits` every path asked."""

    def __init__(self, http_port: int, https_port: int, cert_der: bytes, hits: list[str], stop: threading.Event):
        self.http_port, self.https_port, self.cert_der, self.hits, self.stop = (http_port, https_port, cert_der,
                                                                                hits, stop)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    def tls_url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.https_port}{path}"

    @property
    def cert_sha256(self) -> str:
        return hashlib.sha256(self.cert_der).hexdigest()

    def asked(self, prefix: str) -> list[str]:
        return [h for h in self.hits if h.startswith(prefix)]


def _handler(hits: list[str], stop: threading.Event):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, status: int, body: bytes, kind: str = "text/html; charset=utf-8", **headers) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            hits.append(self.path)
            path = self.path.split("?")[0]
            pages = {"/post": POST, "/photos": PHOTOS, "/lazy": LAZY, "/popups": POPUPS, "/heavy": ENDLESS_FETCH}
            if path in pages:
                return self._send(200, pages[path].encode())
            if path.startswith("/img/") and path[5:-4] in IMAGES:
                return self._send(200, IMAGES[path[5:-4]], "image/png")
            if path == "/hop1":
                return self._send(302, b"", Location="/hop2")
            if path == "/hop2":
                return self._send(301, b"", Location="/post")
            if path == "/loop":
                n = int(self.path.partition("=")[2] or 0)
                return self._send(302, b"", Location=f"/loop?n={n + 1}")
            if path == "/gone":
                return self._send(404, GONE)
            if path == "/hang":
                return self._never_finish()
            if path == "/endless":
                return self._endless()
            return self._send(404, GONE)

        def _never_finish(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(b"<!doctype html><html><head><title>Still loading</title></head><body>"
                             b"<p>the first words arrived</p>")
            self.wfile.flush()
            while not stop.wait(0.2):
                pass

        def _endless(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            block = b"x" * 65536
            try:
                while not stop.is_set():
                    self.wfile.write(block)
            except OSError:
                pass

    return Handler


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def self_signed(folder: Path) -> tuple[Path, Path, bytes]:
    """A certificate for 127.0.0.1 signed by its own key, made now (cryptography)."""
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


def serve(folder: Path):
    """Start both servers; returns (Pages, stop function)."""
    hits: list[str] = []
    stop = threading.Event()
    handler = _handler(hits, stop)
    plain = _Server(("127.0.0.1", 0), handler)
    secure = _Server(("127.0.0.1", 0), handler)
    cert, key, der = self_signed(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    for server in (plain, secure):
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def shutdown() -> None:
        stop.set()
        time.sleep(0.1)
        for server in (plain, secure):
            server.shutdown()
            server.server_close()

    return Pages(plain.server_address[1], secure.server_address[1], der, hits, stop), shutdown
