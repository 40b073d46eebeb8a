"""Web archives (WARC, WACZ) of a page: written for a capture, checked before one is kept, SOP 9.1.

* `WarcFile` writes each request and response the browser made (`browser.Exchange`) as a WARC request
  and response record (warcio, gzip per record), the way Webrecorder's tools do: bodies are stored as the
  browser decoded them, so `Content-Encoding` and `Transfer-Encoding` are renamed `X-Archive-Orig-…` and
  `Content-Length` is the stored length; a body cut at a limit carries `WARC-Truncated`; the server's
  address is `WARC-IP-Address`.
* `pack_wacz` puts that WARC, its CDXJ index, `pages/pages.jsonl` (the page's URL, time, title and text)
  and `datapackage.json` with every file's SHA-256 into one WACZ 1.1.1, written to the specification here
  (py-wacz's `wacz create` costs a second to import), which `wacz validate` accepts and pywb or
  ReplayWeb.page replay offline.
* `validate_wacz` runs the `wacz` package's own validator (`wacz validate -f FILE`, in a child process so
  its prints and its exceptions stay out of ours): every file inside against the hashes in its
  datapackage.json, and the package's shape.
* `check_warc` reads every record of a WARC (or WARC.gz) with warcio and checks each record's
  `WARC-Block-Digest` / `WARC-Payload-Digest`, as `warcio check` does.

The checks return what the manifest records about them ({"tool", "version", "result"}) or raise
`InputError` with one line saying what is wrong. This is ground: no tasks, captures or database here.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import http
import importlib.metadata
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from . import processes
from .errors import Failure, InputError

EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:Error|Exception|ZipFile)):\s*(.*)$")
FRICTIONLESS_ERROR = re.compile(r"'([^']+)': \[\{'type': '([a-z-]+)'")
WACZ_TIMEOUT = 900  # seconds: hashing a few GB of archive; a validator that hangs longer is a failed check


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def validate_wacz(path: str | Path, *, scratch: str | Path | None = None, shown: str | None = None) -> dict:
    """Check a WACZ with `wacz validate`; `scratch` is where the validator may unpack it (default: the
    system's temporary folder). Refused before unpacking when it would not fit there. `shown` is the name
    the officer knows the file by (default: its own)."""
    path = Path(path)
    name = shown or path.name
    try:
        with zipfile.ZipFile(path) as package:
            unpacked = sum(info.file_size for info in package.infolist())
            names = set(package.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{name} is not a WACZ (not a ZIP file: {exc}): nothing was kept; check the file, or save "
                         "the page again.") from None
    if "datapackage.json" not in names:
        raise InputError(f"{name} is not a WACZ (it has no datapackage.json): nothing was kept; check the file.")
    room = Path(scratch) if scratch else Path(os.environ.get("TMPDIR") or "/tmp")
    free = shutil.disk_usage(room).free
    if unpacked > free * 0.9:
        raise InputError(f"{name} unpacks to {unpacked:,} bytes, more than the {free:,} free in {room} where it is "
                         "checked: nothing was kept; free space there.")
    env = {**os.environ, "TMPDIR": str(room)}
    try:
        done = processes.run([sys.executable, "-m", "wacz", "validate", "-f", str(path.resolve())],
                              capture_output=True, text=True, env=env, timeout=WACZ_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise InputError(f"{name}: `wacz validate` did not finish within {WACZ_TIMEOUT} s: nothing was kept.") from None
    said = done.stdout + "\n" + done.stderr
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    # wacz 0.6 exits 0 even when it prints "Validation failed": only its success line counts.
    if done.returncode != 0 or not any(line.startswith("Validation succeeded") for line in lines):
        raise InputError(f"{name} fails `wacz validate` ({_reason(said, lines)}): nothing was kept; check the "
                         "file, or save the page again.")
    return {"tool": "wacz validate", "version": _version("wacz"),
            "result": next(line for line in lines if line.startswith("Validation succeeded"))}


def _reason(said: str, lines: list[str]) -> str:
    """The validator's own reason in one line: the first file whose bytes or hash differ from
    datapackage.json, else an exception's last line without its module path, else the first line that says
    what failed."""
    mismatch = FRICTIONLESS_ERROR.search(said)
    if mismatch:
        return f"{mismatch[1]} does not match its hash or size in datapackage.json: {mismatch[2]}"
    for line in reversed(lines):
        found = EXCEPTION_LINE.match(line)
        if found:
            return f"{found[1]}: {found[2]}"
    wanted = [line for line in lines
              if not line.startswith(("Version detected", "Validation failed", "Traceback", "File ", "Note:"))]
    return (wanted or lines or ["no reason given"])[0]


def check_warc(path: str | Path, *, shown: str | None = None) -> dict:
    """Read every record of a WARC (gzipped or not) and check its digests, as `warcio check` does."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    path = Path(path)
    name = shown or path.name
    records = checked = 0
    problems: list[str] = []
    try:
        with path.open("rb") as stream:
            iterator = ArchiveIterator(stream, check_digests=True)
            for record in iterator:
                if record.format == "arc":
                    raise InputError(f"{name} is an ARC file, not a WARC: nothing was kept.")
                records += 1
                length = record.length  # Content-Length of the record's block: a record cut short has less
                while record.raw_stream.read(1 << 20):
                    pass
                read = record.raw_stream.tell() if hasattr(record.raw_stream, "tell") else None
                if length is not None and read is not None and read < int(length):
                    raise InputError(f"{name} is cut short: record {records} has {read:,} of its {int(length):,} "
                                     "bytes: nothing was kept; save the archive again.")
                if record.digest_checker.passed is True:
                    checked += 1
                elif record.digest_checker.passed is False:
                    record_id = record.rec_headers.get_header("WARC-Record-ID")
                    problems.append(f"record {records} {record_id}: {'; '.join(record.digest_checker.problems)}")
    except ArchiveLoadFailed as exc:
        why = str(exc).strip().split(", first line")[0][:120]  # the first line may be binary garbage
        raise InputError(f"{name} is not a readable WARC ({why}): nothing was "
                         "kept; check the file.") from None
    except (OSError, EOFError, ValueError, zlib.error) as exc:  # a cut or garbled gzip member
        raise InputError(f"{name} is damaged after {records} record(s) ({type(exc).__name__}: {exc}): nothing "
                         "was kept; check the file.") from None
    if _gzipped(path):
        _check_gzip(path, name)  # a cut or garbled gzip stream that warcio reads past
    if problems:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise InputError(f"{name} fails `warcio check`: {problems[0]}{more}: nothing was kept; the file was "
                         "changed after it was written.")
    if records == 0:
        raise InputError(f"{name} holds no WARC records: nothing was kept; check the file.")
    return {"tool": "warcio check", "version": _version("warcio"),
            "result": f"{records} record(s), {checked} digest(s) verified"}


def _gzipped(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _check_gzip(path: Path, name: str) -> None:
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{name} is a damaged gzip file ({exc}): nothing was kept; save the archive again.") from None


# ------------------------------------------------------------------------------------------ writing

RENAMED = ("content-encoding", "transfer-encoding")
WACZ_VERSION = "1.1.1"
WARC_NAME = "page.warc.gz"


class WarcFile:
    """A gzip WARC being written: a warcinfo record first, then `add(exchange)` for each exchange."""

    def __init__(self, path: Path, *, software: str, info: dict | None = None):
        from warcio.warcwriter import WARCWriter

        self.path = path
        self.handle = open(path, "wb")
        self.writer = WARCWriter(self.handle, gzip=True, warc_version="1.1")
        self.records = 0
        fields = {"software": software, "format": "WARC File Format 1.1",
                  "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                  **(info or {})}
        self.writer.write_record(self.writer.create_warcinfo_record(path.name, fields))

    def __enter__(self) -> "WarcFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if not self.handle.closed:
            self.handle.close()

    def add(self, exchange) -> None:
        """The response record (when a response came) and the request record, concurrent to it."""
        from warcio.statusandheaders import StatusAndHeaders

        date = warc_date(exchange.requested_at)
        response_id = None
        if exchange.status is not None:
            headers = _archived_headers(exchange.response_headers, len(exchange.body))
            reason = exchange.reason or _phrase(exchange.status)
            http_headers = StatusAndHeaders(f"{exchange.status} {reason}", headers, protocol="HTTP/1.1")
            warc_headers = {"WARC-Date": date}
            if exchange.server:
                warc_headers["WARC-IP-Address"] = exchange.server["ip"]
            if exchange.truncated:
                warc_headers["WARC-Truncated"] = exchange.truncated
            record = self.writer.create_warc_record(exchange.url, "response", payload=io.BytesIO(exchange.body),
                                                    length=len(exchange.body), http_headers=http_headers,
                                                    warc_headers_dict=warc_headers)
            self.writer.write_record(record)
            response_id = record.rec_headers.get_header("WARC-Record-ID")
            self.records += 1
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        body = exchange.request_body or b""
        request_headers = StatusAndHeaders(f"{exchange.method} {target} HTTP/1.1", exchange.request_headers,
                                           is_http_request=True)
        warc_headers = {"WARC-Date": date}
        if response_id:
            warc_headers["WARC-Concurrent-To"] = response_id
        self.writer.write_record(self.writer.create_warc_record(
            exchange.url, "request", payload=io.BytesIO(body), length=len(body), http_headers=request_headers,
            warc_headers_dict=warc_headers))
        self.records += 1


def pack_wacz(warc: Path, target: Path, *, url: str, ts: str, title: str | None, text: str | None = None,
              software: str = "ohrt") -> Path:
    """A WACZ 1.1.1 at `target`: `warc` as archive/<its name> (stored, it is gzip already), a sorted CDXJ
    index of its responses (indexes/index.cdx, SURT keys as pywb and py-wacz make them), the one page
    (pages/pages.jsonl: url, ts, title, text) and datapackage.json with every file's SHA-256, itself
    hashed in datapackage-digest.json. Written here rather than by `wacz create`, whose import alone
    costs a second of every capture; `wacz validate` accepts it (the tests check). Failure in one line."""
    import zipfile

    try:
        lines = sorted(_cdxj(warc))
    except Exception as exc:  # a WARC we wrote ourselves and cannot read back
        raise Failure(f"the page's web archive could not be indexed ({type(exc).__name__}: {exc}): capture again.") from None
    page = {"id": "page", "url": url, "ts": ts, "title": title or url}
    if text:
        page["text"] = text
    members = {
        f"archive/{warc.name}": warc,
        "indexes/index.cdx": "".join(lines).encode("utf-8"),
        "pages/pages.jsonl": (json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "Pages",
                                          "hasText": bool(text)}) + "\n" + json.dumps(page) + "\n").encode("utf-8"),
    }
    when = tuple(dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(dt.timezone.utc).timetuple()[:6])
    resources = []
    try:
        with zipfile.ZipFile(target, "w") as package:
            for name, data in members.items():
                info = zipfile.ZipInfo(name, when)
                info.compress_type = zipfile.ZIP_STORED if name.startswith("archive/") else zipfile.ZIP_DEFLATED
                digest = hashlib.sha256()
                size = 0
                with package.open(info, "w") as out:
                    chunks = _chunks(data) if isinstance(data, Path) else [data]
                    for chunk in chunks:
                        out.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                resources.append({"name": Path(name).name.lower(), "path": name, "hash": f"sha256:{digest.hexdigest()}",
                                  "bytes": size})
            datapackage = json.dumps({
                "profile": "data-package", "resources": resources, "title": title or url, "mainPageURL": url,
                "mainPageDate": ts, "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "wacz_version": WACZ_VERSION, "software": software}, indent=2).encode("utf-8")
            for name, data in (("datapackage.json", datapackage), ("datapackage-digest.json", json.dumps(
                    {"path": "datapackage.json", "hash": f"sha256:{hashlib.sha256(datapackage).hexdigest()}"},
                    indent=2).encode("utf-8"))):
                info = zipfile.ZipInfo(name, when)
                info.compress_type = zipfile.ZIP_DEFLATED
                package.writestr(info, data)
    except OSError:
        target.unlink(missing_ok=True)
        raise
    return target


def _cdxj(warc: Path):
    """One CDXJ line per response, resource or revisit record of `warc`, as cdxj-indexer writes them."""
    from surt import surt
    from warcio.archiveiterator import ArchiveIterator
    from warcio.timeutils import iso_date_to_timestamp

    with open(warc, "rb") as stream, open(warc, "rb") as raw:
        records = ArchiveIterator(stream)
        for record in records:
            if record.rec_type not in ("response", "resource", "revisit"):
                continue
            uri = record.rec_headers.get_header("WARC-Target-URI")
            stamp = iso_date_to_timestamp(record.rec_headers.get_header("WARC-Date"))
            fields = {"url": uri}
            if record.http_headers is not None:
                fields["mime"] = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip() or "unk"
                fields["status"] = record.http_headers.get_statuscode()
            digest = record.rec_headers.get_header("WARC-Payload-Digest")
            if digest:
                fields["digest"] = digest
            records.read_to_end(record)
            offset, length = records.get_record_offset(), records.get_record_length()
            raw.seek(offset)
            fields.update(length=str(length), offset=str(offset), filename=warc.name,
                          recordDigest="sha256:" + hashlib.sha256(raw.read(length)).hexdigest())
            yield f"{surt(uri)} {stamp} {json.dumps(fields)}\n"


def _chunks(path: Path, size: int = 1 << 20):
    with open(path, "rb") as handle:
        while chunk := handle.read(size):
            yield chunk


def warc_date(epoch: float) -> str:
    """WARC/1.1 date with microseconds, UTC."""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _archived_headers(headers: list[tuple[str, str]], stored: int) -> list[tuple[str, str]]:
    """Headers as received, except those that no longer describe the stored (decoded) body."""
    out = []
    for name, value in headers:
        lower = name.lower()
        if lower in RENAMED:
            out.append((f"X-Archive-Orig-{name}", value))
        elif lower == "content-length":
            if value.strip() != str(stored):
                out.append((f"X-Archive-Orig-{name}", value))
        else:
            out.append((name, value))
    out.append(("Content-Length", str(stored)))
    return out


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
