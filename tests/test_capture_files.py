"""`ohrt capture --file` takes any evidence file an officer saved another way (issue 12): a WACZ checked with
`wacz validate`, a WARC with its record digests (warcio), a PDF, an HTML page, as well as media. A file that
fails its check is refused in one line with nothing stored. The files are made with the real tools."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from support.webfiles import POST_URL, POST_WORDS, make_html, make_pdf, make_wacz, make_warc, tamper_wacz

REASON = ["--reason", "Saved by the officer before the account went private"]


def ingest(ohrt, path: Path, *extra: str) -> dict:
    return ohrt.json("capture", "--file", str(path), "--url", POST_URL, *REASON, *extra)


def manifest_of(ohrt, capture: dict) -> dict:
    return json.loads((ohrt.home / capture["folder"] / "manifest.json").read_text())


def sealed(ohrt, capture: dict) -> bool:
    folder = ohrt.home / capture["folder"]
    sums = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, capture_output=True)
    return sums.returncode == 0 and ohrt("verify", capture["id"]).exit_code == 0


def refused(ohrt, path: Path, *words: str) -> None:
    """Exit 2, one line naming the file, and nothing stored: no capture, no task, no folder."""
    result = ohrt("capture", "--file", str(path), "--url", POST_URL, *REASON)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert path.name in result.stderr and all(w in result.stderr for w in words), result.stderr
    db = ohrt.db()
    assert db["captures"].count == 0 and db["tasks"].count == 0
    assert list((ohrt.home / "captures").iterdir()) == []


@pytest.fixture
def warc(tmp_path) -> Path:
    return make_warc(tmp_path / "post.warc.gz")


# ------------------------------------------------------------------------------------------ accepted

def test_a_wacz_is_validated_then_kept_as_a_page(ohrt, warc, tmp_path):
    wacz = make_wacz(tmp_path / "post.wacz", warc)
    capture = ingest(ohrt, wacz)
    manifest = manifest_of(ohrt, capture)
    assert capture["media_kind"] == "page" and capture["method"] == "file" and capture["status"] == "complete"
    assert capture["duration"] is None
    check = manifest["ingest"]["check"]
    assert manifest["ingest"]["kind"] == "wacz" and check["tool"] == "wacz validate"
    assert check["version"] and "Validation succeeded" in check["result"]
    [original] = [f for f in manifest["files"] if f["role"] == "original"]
    assert original["path"] == "original/post.wacz" and original["kind"] == "wacz"
    assert (ohrt.home / capture["folder"] / original["path"]).read_bytes() == wacz.read_bytes()
    assert [f["role"] for f in manifest["files"] if f["status"] == "ok"] == ["original"]  # no media derivatives
    assert not (ohrt.home / capture["folder"] / "derived").exists()
    assert not (ohrt.home / capture["folder"] / ".check").exists()  # the validator's scratch room went
    assert sealed(ohrt, capture)
    assert ohrt.json("task", "show", capture["task_id"])["platform"] == "x"


@pytest.mark.parametrize("name", ["post.warc", "post.warc.gz"])
def test_a_warc_is_kept_after_every_record_digest_is_checked(ohrt, tmp_path, name):
    capture = ingest(ohrt, make_warc(tmp_path / name))
    manifest = manifest_of(ohrt, capture)
    assert capture["media_kind"] == "page" and manifest["ingest"]["kind"] == "warc"
    assert manifest["ingest"]["check"]["tool"] == "warcio check"
    assert manifest["ingest"]["check"]["result"] == "2 record(s), 2 digest(s) verified"
    assert sealed(ohrt, capture)


def test_a_pdf_and_an_html_page_are_kept_as_pages(ohrt, tmp_path):
    pdf = ingest(ohrt, make_pdf(tmp_path / "printed.pdf"))
    assert pdf["media_kind"] == "page" and manifest_of(ohrt, pdf)["ingest"]["kind"] == "pdf"
    assert manifest_of(ohrt, pdf)["ingest"]["check"]["result"].startswith("PDF 1.4")
    page = ingest(ohrt, make_html(tmp_path / "saved page.html"), "--task", pdf["task_id"])
    manifest = manifest_of(ohrt, page)
    assert manifest["ingest"]["kind"] == "html" and manifest["title"] == "Blades for sale"
    assert [f["path"] for f in manifest["files"] if f["role"] == "original"] == ["original/saved_page.html"]
    assert sealed(ohrt, pdf) and sealed(ohrt, page)


def test_a_file_is_known_by_its_content_when_its_name_says_nothing(ohrt, warc, tmp_path):
    renamed = tmp_path / "download"
    renamed.write_bytes(make_wacz(tmp_path / "x.wacz", warc).read_bytes())
    capture = ingest(ohrt, renamed)
    assert manifest_of(ohrt, capture)["ingest"]["kind"] == "wacz"


def test_media_is_ingested_as_before_with_its_kind(ohrt, make_clip):
    capture = ingest(ohrt, make_clip("ingested", seconds=2))
    manifest = manifest_of(ohrt, capture)
    assert capture["media_kind"] == "video" and manifest["ingest"]["kind"] == "video"
    assert manifest["ingest"]["check"]["tool"] == "ffprobe"
    assert {f["role"] for f in manifest["files"]} >= {"original", "keyframes", "contact-sheet"}


# ------------------------------------------------------------------------------------------ refused

def test_a_wacz_whose_archive_was_changed_is_refused(ohrt, warc, tmp_path):
    good = make_wacz(tmp_path / "good.wacz", warc)
    changed = tamper_wacz(good, tmp_path / "changed.wacz", b"Two blades", b"Two spoons")
    refused(ohrt, changed, "wacz validate", "datapackage.json")


def test_a_damaged_wacz_and_a_zip_that_is_no_wacz_are_refused(ohrt, warc, tmp_path):
    data = bytearray(make_wacz(tmp_path / "good.wacz", warc).read_bytes())
    data[len(data) // 3] ^= 0xFF
    damaged = tmp_path / "damaged.wacz"
    damaged.write_bytes(bytes(data))
    refused(ohrt, damaged, "wacz")
    not_zip = tmp_path / "notes.wacz"
    not_zip.write_text("just text")
    refused(ohrt, not_zip, "not a WACZ")


def test_a_warc_with_a_changed_byte_or_cut_short_is_refused(ohrt, tmp_path):
    plain = make_warc(tmp_path / "post.warc")
    data = plain.read_bytes()
    changed = tmp_path / "changed.warc"
    changed.write_bytes(data.replace(POST_WORDS.encode(), POST_WORDS.replace("Two", "Six").encode()))
    refused(ohrt, changed, "warcio check", "digest")
    cut = tmp_path / "cut.warc"
    cut.write_bytes(data[: len(data) - 60])
    refused(ohrt, cut, "cut short")
    zipped = make_warc(tmp_path / "post.warc.gz").read_bytes()
    cut_gz = tmp_path / "cut.warc.gz"
    cut_gz.write_bytes(zipped[: len(zipped) - 40])
    refused(ohrt, cut_gz)


def test_a_pdf_or_html_that_is_not_one_is_refused(ohrt, tmp_path):
    fake = tmp_path / "fake.pdf"
    fake.write_text("<html><body>not a pdf</body></html>")
    refused(ohrt, fake, "%PDF-")
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(make_pdf(tmp_path / "whole.pdf").read_bytes()[:200])
    refused(ohrt, cut, "%%EOF")
    binary = tmp_path / "photo.html"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    refused(ohrt, binary, "HTML")
