"""The loopback server the tests, the benchmarks and the demo share (devtools/loopback.py): what the page
and media tests rely on it for — ranges, redirects, headers, slow, endless and unanswered responses."""

from __future__ import annotations

import http.client
import ssl
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from devtools.loopback import Loopback, Response, self_signed


@pytest.fixture
def server(tmp_path):
    with Loopback(tmp_path / "site") as site:
        yield site


def test_serves_a_folder_with_ranges(server):
    url = server.put("clips/a.bin", bytes(range(256)) * 4)
    assert urllib.request.urlopen(url).read() == bytes(range(256)) * 4
    request = urllib.request.Request(url, headers={"Range": "bytes=10-19"})
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 206 and answer.headers["Content-Range"] == "bytes 10-19/1024"
        assert answer.read() == bytes(range(10, 20))
    assert server.requests[-2:] == ["/clips/a.bin", "/clips/a.bin"]


def test_routes_answer_with_their_status_headers_and_redirects(server):
    server.put("target.html", "<p>here</p>")
    server.redirect("/short", "/target.html")
    assert urllib.request.urlopen(server.url("short")).read() == b"<p>here</p>"
    server.route("/gone", Response(status=410, body="gone", headers={"X-Why": "removed"}))
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(server.url("gone?x=1"))
    assert caught.value.code == 410 and caught.value.headers["X-Why"] == "removed"


def test_a_slow_body_takes_its_time(server):
    server.route("/slow", Response(body=b"x" * 8192, rate_kbps=8))
    started = time.monotonic()
    assert urllib.request.urlopen(server.url("slow")).read() == b"x" * 8192
    assert time.monotonic() - started >= 0.7


def test_endless_streamed_and_unanswered_responses_hold_the_client(server):
    server.route("/endless", Response(body="<html>", endless=True))
    server.route("/stream", Response(stream=b"x" * 1024, content_type="application/octet-stream"))
    server.hang("/never")
    with urllib.request.urlopen(server.url("endless"), timeout=1) as answer:
        assert answer.read(6) == b"<html>"
        with pytest.raises(TimeoutError):
            answer.read(1)  # the connection stays open, and nothing more comes
    with urllib.request.urlopen(server.url("stream"), timeout=5) as answer:
        assert answer.read(1 << 20) == b"x" * (1 << 20)  # and more than was ever "in" it
    host = urlsplit(server.base)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=0.5)
    connection.request("GET", "/never")
    with pytest.raises(TimeoutError):
        connection.getresponse()
    connection.close()


def test_https_with_a_certificate_made_for_127_0_0_1(tmp_path):
    cert, key, der = self_signed(tmp_path)
    with Loopback(tmp_path / "site", tls=(cert, key)) as site:
        assert site.base.startswith("https://127.0.0.1:")
        url = site.put("page.html", "<p>over tls</p>")
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(url, context=context) as answer:
            assert answer.read() == b"<p>over tls</p>"
        served = ssl.get_server_certificate(("127.0.0.1", site.port))
        assert ssl.PEM_cert_to_DER_cert(served) == der
