"""Evidence files an officer might have saved another way, made for the tests with the real tools: a WARC
written by warcio, a WACZ packed from it by the `wacz` package, a small valid PDF, an HTML page."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

POST_WORDS = "Two blades for sale, DM me before Friday"
POST_HTML = (f"<!doctype html><html><head><meta charset='utf-8'><title>Blades for sale</title></head>"
             f"<body><article><p>{POST_WORDS}</p></article></body></html>")
POST_URL = "https://x.com/blades4u/status/1870000000000000001"


def make_warc(path: Path, *, body: str = POST_HTML, url: str = POST_URL) -> Path:
    """One request and its response, gzipped when the name ends in .gz; warcio writes both digests."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    payload = body.encode("utf-8")
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=path.name.endswith(".gz"))
        request = StatusAndHeaders("GET / HTTP/1.1", [("Host", "x.com")], is_http_request=True)
        writer.write_record(writer.create_warc_record(url, "request", http_headers=request))
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                              ("Content-Length", str(len(payload)))], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(payload),
                                                      http_headers=headers))
    return path


def make_wacz(path: Path, warc: Path) -> Path:
    """Pack `warc` into a WACZ with the wacz package's own `create` (its console entry point)."""
    subprocess.run([sys.executable, "-m", "wacz", "create", "-o", str(path), str(warc)], check=True,
                   capture_output=True)
    return path


def tamper_wacz(good: Path, bad: Path, old: bytes, new: bytes) -> Path:
    """Repack a WACZ with one stored file's bytes changed and a consistent ZIP (as an editor would leave
    it): only the hashes in datapackage.json can tell."""
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("archive/"):
                data = _gunzip_replace(data, old, new) if info.filename.endswith(".gz") else data.replace(old, new)
            target.writestr(info, data)
    return bad


def _gunzip_replace(data: bytes, old: bytes, new: bytes) -> bytes:
    import gzip

    plain = gzip.decompress(data)
    assert old in plain
    return gzip.compress(plain.replace(old, new))


def make_pdf(path: Path, text: str = "Blades for sale") -> Path:
    """A one-page PDF 1.4 written by hand: header, four objects, a correct cross-reference table, %%EOF."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def make_html(path: Path, body: str = POST_HTML) -> Path:
    path.write_text(body, encoding="utf-8")
    return path
