"""Pages served on 127.0.0.1 for the page-capture tests: ordinary posts and hostile pages (endless
redirects, bodies that never end, pages that never finish, pop-ups), over http and over https with a
self-signed certificate made here. Every path asked for is logged, so a test can prove what the browser
did not reach."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

from devtools.loopback import Loopback, Response, self_signed

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

COUNTING_FETCH = ENDLESS_FETCH.replace("/endless", "/counted")


def _counting(offset: int, lines: int) -> bytes:
    """`lines` lines of 16 bytes from `offset` on, each line its own offset in the body."""
    return b"".join(b"%015d\n" % (offset + 16 * n) for n in range(lines))


def counted(length: int) -> bytes:
    """The first `length` bytes of what /counted sends: any run of it shows where in the body it came
    from."""
    return _counting(0, -(-length // 16))[:length]


STALLED = """<!doctype html><html><head><title>A photo</title></head><body><p>a photo that never came</p>
<img src="/img/stalled.png" width="200"></body></html>"""

GONE = b"<!doctype html><html><head><title>Not found</title></head><body><h1>This post is no longer available</h1></body></html>"


def png(shade: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, 80, 255 - shade)).save(out, "PNG")
    return out.getvalue()


IMAGES = {"one": png(30), "two": png(120), "three": png(220), "lazy": png(160)}


class Pages:
    """The running site: `url(path)` over http, `tls_url(path)` over https; `hits` every path asked of
    either, in order."""

    def __init__(self, plain: Loopback, secure: Loopback, cert_der: bytes, hits: list[str]):
        self.plain, self.secure, self.cert_der, self.hits = plain, secure, cert_der, hits
        self.http_port, self.https_port = plain.port, secure.port

    def url(self, path: str) -> str:
        return self.plain.url(path)

    def tls_url(self, path: str) -> str:
        return self.secure.url(path)

    @property
    def cert_sha256(self) -> str:
        return hashlib.sha256(self.cert_der).hexdigest()

    def asked(self, prefix: str) -> list[str]:
        return [h for h in self.hits if h.startswith(prefix)]


def _endless_redirects(handler) -> None:
    n = int(handler.path.partition("=")[2] or 0)
    handler.send_response(302)
    handler.send_header("Location", f"/loop?n={n + 1}")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def _counted_endlessly(handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/octet-stream")
    handler.end_headers()
    offset = 0
    try:
        while not handler.server.stopping.is_set():
            chunk = _counting(offset, 4096)
            handler.wfile.write(chunk)
            offset += len(chunk)
    except OSError:  # the browser went offline: the connection is gone
        pass


def _stalled_image(handler) -> None:
    """An image that declares a megabyte, sends a little that is no picture, then nothing more."""
    handler.send_response(200)
    handler.send_header("Content-Type", "image/png")
    handler.send_header("Content-Length", str(1024 * 1024))
    handler.end_headers()
    handler.wfile.write(b"this is no picture " * 500)
    handler.wfile.flush()
    handler.server.stopping.wait()


def _routes(site: Loopback) -> None:
    for path, page in {"/post": POST, "/photos": PHOTOS, "/lazy": LAZY, "/popups": POPUPS,
                       "/heavy": ENDLESS_FETCH, "/counting": COUNTING_FETCH}.items():
        site.route(path, Response(body=page))
    for name, data in IMAGES.items():
        site.route(f"/img/{name}.png", Response(body=data, content_type="image/png"))
    site.redirect("/hop1", "/hop2", 302)
    site.redirect("/hop2", "/post", 301)
    site.route("/loop", _endless_redirects)
    site.route("/gone", Response(status=404, body=GONE))
    # a post whose page never finishes loading: a request it makes is never answered in full
    site.route("/stuck", Response(body=POST.replace("</article>", "</article><script>fetch('/hang?feed')</script>")))
    # a page that moves on by itself: a script to a meta refresh, which goes on to the post
    site.route("/moves", Response(body="<!doctype html><title>Moving</title><script>location.replace('/refresh')</script>"))
    site.route("/refresh", Response(body='<!doctype html><title>Refresh</title><meta http-equiv="refresh" content="0;url=/post">'))
    # a page that never finishes loading: its first words, then nothing more and no end
    site.route("/hang", Response(body=b"<!doctype html><html><head><title>Still loading</title></head><body>"
                                      b"<p>the first words arrived</p>", endless=True))
    # a response that never ends, as fast as the browser takes it
    site.route("/endless", Response(content_type="application/octet-stream", stream=b"x" * 65536))
    # a response that never ends and tells where each of its bytes was in it
    site.route("/counted", _counted_endlessly)
    site.route("/stalled", Response(body=STALLED))
    site.route("/img/stalled.png", _stalled_image)


def serve(folder: Path):
    """Start the site over http and over https (the shared loopback server, devtools/loopback.py);
    returns (Pages, stop function)."""
    cert, key, der = self_signed(folder)
    hits: list[str] = []
    plain = Loopback(folder / "http", requests=hits)
    secure = Loopback(folder / "https", tls=(cert, key), requests=hits)
    for site in (plain, secure):
        _routes(site)
        site.start()

    def shutdown() -> None:
        for site in (plain, secure):
            site.stop()

    return Pages(plain, secure, der, hits), shutdown
