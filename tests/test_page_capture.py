"""Page capture with a real browser (Debian's Chromium through Playwright) against pages on 127.0.0.1:
what the officer saw is kept (screenshot, PDF, DOM, text, WACZ), with its provenance, and hostile pages
cannot hang the browser or fill the machine."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from ohrt_cli.ground import browser, browser_page, webarchive

from support.pages import INJECTED, counted, serve

pytestmark = pytest.mark.skipif(not Path(browser.DEFAULT_EXECUTABLE).exists() and not __import__("shutil").which(
    "chromium"), reason="Chromium is not installed (make setup installs it)")

QUICK = browser.Limits(timeout=8, snapshot_timeout=10, max_response_bytes=2 * browser.MB,
                       max_total_bytes=8 * browser.MB, scroll_pause_ms=100)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    served, shutdown = serve(tmp_path_factory.mktemp("pages"))
    yield served
    shutdown()


def visit(url: str, folder: Path, limits: browser.Limits = QUICK) -> tuple[browser.Visit, Path]:
    """One visit, its exchanges written to a WARC in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    warc = folder / "page.warc.gz"
    with webarchive.WarcFile(warc, software="ohrt tests") as out:
        seen = browser.visit(url, folder, record=out.add, limits=limits)
    return seen, warc


def responses(warc: Path) -> list:
    """(uri, status, WARC headers, body) of each response record."""
    found = []
    with open(warc, "rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                found.append((record.rec_headers.get_header("WARC-Target-URI"),
                              int(record.http_headers.get_statuscode()), record.rec_headers,
                              record.content_stream().read()))
    return found


# ------------------------------------------------------------------------------------ what is kept

def test_words_a_script_inserts_after_load_are_in_the_text_the_dom_and_a_valid_wacz(pages, tmp_path):
    seen, warc = visit(pages.url("/post"), tmp_path)
    assert INJECTED in (tmp_path / "text.txt").read_text(encoding="utf-8")
    assert INJECTED in (tmp_path / "dom.html").read_text(encoding="utf-8")
    assert (tmp_path / "screenshot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "page.pdf").read_bytes()[:5] == b"%PDF-"
    assert seen.title == "A post" and seen.status == 200 and seen.final_url == pages.url("/post")
    assert seen.server == {"ip": "127.0.0.1", "port": pages.http_port}
    assert seen.browser["name"] == "Chromium" and seen.browser["version"][0].isdigit()
    assert seen.viewport == {"width": 1280, "height": 900} and "Chrome/" in seen.user_agent
    assert seen.server_date and abs(seen.clock_skew_seconds) < 5 and not seen.timed_out
    # the WARC holds the document as served (the words are not in it: only the browser runs the script)
    main = [r for r in responses(warc) if r[0] == pages.url("/post")]
    assert len(main) == 1 and main[0][2].get_header("WARC-IP-Address") == "127.0.0.1"
    assert b"getElementById('words')" in main[0][3] and INJECTED.encode() not in main[0][3]
    wacz = webarchive.pack_wacz(warc, tmp_path / "archive.wacz", url=seen.final_url, ts=seen.started_at,
                                title=seen.title, text=(tmp_path / "text.txt").read_text())
    assert webarchive.validate_wacz(wacz)["result"].startswith("Validation succeeded")
    # our index is the one py-wacz's own `wacz create` makes of the same WARC, line for line
    import gzip
    import subprocess
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "wacz", "create", "-o", tmp_path / "theirs.wacz", warc], check=True,
                   capture_output=True)
    with zipfile.ZipFile(tmp_path / "theirs.wacz") as theirs, zipfile.ZipFile(wacz) as ours:
        assert ours.read("indexes/index.cdx").decode() == gzip.decompress(theirs.read("indexes/index.cdx.gz")).decode()
        assert ours.namelist()[:3] == ["archive/page.warc.gz", "indexes/index.cdx", "pages/pages.jsonl"]


def test_three_photos_are_each_recorded_as_the_browser_received_them(pages, tmp_path):
    from support.pages import IMAGES

    seen, warc = visit(pages.url("/photos"), tmp_path)
    bodies = {uri.rsplit("/", 1)[1]: body for uri, status, _, body in responses(warc) if "/img/" in uri}
    assert bodies == {f"{name}.png": IMAGES[name] for name in ("one", "two", "three")}
    assert "Three photos of the park" in (tmp_path / "text.txt").read_text()


def test_two_redirects_are_recorded_hop_by_hop(pages, tmp_path):
    seen, warc = visit(pages.url("/hop1"), tmp_path)
    assert seen.redirects == [{"url": pages.url("/hop1"), "status": 302, "location": "/hop2"},
                              {"url": pages.url("/hop2"), "status": 301, "location": "/post"}]
    assert seen.final_url == pages.url("/post") and seen.status == 200
    statuses = [(uri.rsplit("/", 1)[1], status) for uri, status, _, _ in responses(warc)]
    assert statuses[:3] == [("hop1", 302), ("hop2", 301), ("post", 200)]


def test_a_page_that_moves_on_by_itself_is_recorded_as_the_page_it_ends_on(pages, tmp_path):
    seen, _ = visit(pages.url("/moves"), tmp_path)
    assert seen.final_url == pages.url("/post") and seen.title == "A post"
    assert INJECTED in (tmp_path / "text.txt").read_text()
    assert [(hop["url"], hop["location"]) for hop in seen.redirects] == [
        (pages.url("/moves"), pages.url("/refresh")), (pages.url("/refresh"), pages.url("/post"))]
    assert all(hop["by"].startswith("the page") and hop["status"] == 200 for hop in seen.redirects)


def test_https_page_keeps_its_untrusted_self_signed_chain(pages, tmp_path):
    seen, _ = visit(pages.tls_url("/post"), tmp_path)
    assert INJECTED in (tmp_path / "text.txt").read_text()
    tls = seen.tls
    assert tls["trusted"] is False and "CERT_AUTHORITY_INVALID" in tls["certificate_error"]
    assert tls["protocol"].startswith("TLS")
    assert [c["sha256"] for c in tls["certificates"]] == [pages.cert_sha256]
    assert "CN=ohrt test site" in tls["certificates"][0]["subject"] == tls["certificates"][0]["issuer"]
    from cryptography import x509

    pem = x509.load_pem_x509_certificates((tmp_path / "certificates.pem").read_bytes())
    from cryptography.hazmat.primitives.serialization import Encoding

    assert [c.public_bytes(Encoding.DER) for c in pem] == [pages.cert_der]


def test_a_lazily_loaded_image_is_asked_for_by_scrolling_and_the_screenshot_is_the_whole_page(pages, tmp_path):
    from PIL import Image

    seen, warc = visit(pages.url("/lazy"), tmp_path)
    assert pages.url("/img/lazy.png") in [uri for uri, *_ in responses(warc)]
    assert seen.scroll["steps"] >= 5
    with Image.open(tmp_path / "screenshot.png") as shot:
        assert shot.size[0] == 1280 and shot.size[1] > 5000


def test_a_404_page_is_kept_as_what_it_is(pages, tmp_path):
    seen, _ = visit(pages.url("/gone"), tmp_path)
    assert seen.status == 404 and "no longer available" in (tmp_path / "text.txt").read_text()


# ------------------------------------------------------------------------------------------ safety

def test_a_page_that_never_finishes_is_cut_at_the_timeout_and_recorded_as_such(pages, tmp_path):
    limits = browser.Limits(timeout=3, snapshot_timeout=10)
    started = time.monotonic()
    seen, warc = visit(pages.url("/hang"), tmp_path, limits)
    assert time.monotonic() - started < 3 + 10
    assert seen.timed_out is True and seen.truncated_responses == 1
    assert "the first words arrived" in (tmp_path / "text.txt").read_text()
    [(uri, status, headers, body)] = responses(warc)
    assert headers.get_header("WARC-Truncated") == "time" and body.endswith(b"<p>the first words arrived</p>")


def test_an_endless_body_is_cut_at_the_cap_and_kept_truncated(pages, tmp_path):
    started = time.monotonic()
    seen, warc = visit(pages.url("/heavy"), tmp_path)
    assert time.monotonic() - started < 20
    [(uri, status, headers, body)] = [r for r in responses(warc) if r[0].endswith("/endless")]
    assert headers.get_header("WARC-Truncated") == "length"
    assert 0 < len(body) <= QUICK.max_response_bytes and set(body) == {ord("x")}
    assert seen.truncated_responses == 1 and warc.stat().st_size < QUICK.max_total_bytes


def test_a_body_cut_by_the_pages_allowance_keeps_its_beginning_and_no_more_than_the_allowance(pages, tmp_path):
    limits = replace(QUICK, max_response_bytes=64 * browser.MB, max_total_bytes=2 * browser.MB)
    seen, warc = visit(pages.url("/counting"), tmp_path, limits)
    [(uri, status, headers, body)] = [r for r in responses(warc) if r[0].endswith("/counted")]
    assert headers.get_header("WARC-Truncated") == "length"
    assert 0 < len(body) and body == counted(len(body))
    assert seen.bytes_received <= limits.max_total_bytes and seen.truncated_responses == 1


def test_a_body_chromium_let_go_of_before_its_copy_began_is_never_kept_as_its_beginning(pages, tmp_path, monkeypatch):
    # A slow answer to the command that starts ohrt's copy (a loaded machine, a fast line): Chromium's
    # buffer has overflowed and dropped what it held before the copy begins.
    monkeypatch.setattr(browser_page, "RACE_ROOM", 0)
    started = browser_page.Session._stream_if_unbounded

    def late(session, rid, response):
        time.sleep(0.5)
        return started(session, rid, response)

    monkeypatch.setattr(browser_page.Session, "_stream_if_unbounded", late)
    limits = replace(QUICK, max_response_bytes=browser.MB, max_total_bytes=browser.MB)
    seen, warc = visit(pages.url("/counting"), tmp_path, limits)
    [(uri, status, headers, body)] = [r for r in responses(warc) if r[0].endswith("/counted")]
    assert headers.get_header("WARC-Truncated") == "length"
    assert body == counted(len(body))  # empty, or its true beginning: never bytes from its middle
    # the flood through so small a buffer may push the page's own body out of it too: marked, if so
    assert seen.truncated_responses >= 1


def test_an_image_the_browser_gave_up_on_is_kept_as_it_came_and_never_asked_for_again(pages, tmp_path):
    started = time.monotonic()
    seen, warc = visit(pages.url("/stalled"), tmp_path)
    assert time.monotonic() - started < 20 and "never came" in (tmp_path / "text.txt").read_text()
    [(uri, status, headers, body)] = [r for r in responses(warc) if r[0].endswith("/img/stalled.png")]
    assert status == 200 and headers.get_header("WARC-Truncated") is not None
    assert len(body) < 1024 * 1024 and seen.truncated_responses == 1
    assert pages.asked("/img/stalled.png") == ["/img/stalled.png"]  # the capture made no request of its own


def test_an_endless_redirect_fails_in_one_line_with_its_chain(pages, tmp_path):
    started = time.monotonic()
    with pytest.raises(browser.PageFailed) as failed:
        visit(pages.url("/loop"), tmp_path)
    assert time.monotonic() - started < 15
    assert "redirects endlessly" in failed.value.message and "\n" not in failed.value.message
    assert len(failed.value.visit.redirects) >= 19


def test_pop_ups_are_not_opened_and_the_page_is_still_kept(pages, tmp_path):
    before = len(pages.asked("/popped"))
    seen, _ = visit(pages.url("/popups"), tmp_path)
    assert "a page that opens windows" in (tmp_path / "text.txt").read_text()
    assert len(pages.asked("/popped")) == before  # no window was opened, so nothing of theirs was asked for


def test_no_browser_is_one_line_saying_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("OHRT_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(browser.BrowserMissing) as missing:
        browser.find_executable()
    assert "apt-get install chromium" in missing.value.message and "make setup" in missing.value.message


# ------------------------------------------------------------------------------------------ replay

def test_the_wacz_replays_offline_in_pywb_with_the_words_the_script_inserts(pages, tmp_path):
    """What a defence expert would do: pywb's own tools, the archive alone, no network to the site."""
    import socket
    import subprocess
    import sys

    from playwright.sync_api import sync_playwright

    tools = Path(sys.executable).parent
    if not (tools / "wb-manager").exists():
        pytest.skip("pywb is not installed (the test extra installs it)")
    seen, warc = visit(pages.url("/post"), tmp_path / "capture")
    wacz = webarchive.pack_wacz(warc, tmp_path / "archive.wacz", url=seen.final_url, ts=seen.started_at,
                                title=seen.title)
    root = tmp_path / "pywb"
    root.mkdir()
    (root / "config.yaml").write_text("framed_replay: false\n")
    run = dict(cwd=root, capture_output=True, text=True, check=True, timeout=120)
    subprocess.run([tools / "wb-manager", "init", "case"], **run)
    subprocess.run([tools / "wb-manager", "add", "--unpack-wacz", "case", wacz], **run)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wayback = subprocess.Popen([tools / "wayback", "-b", "127.0.0.1", "-p", str(port)], cwd=root,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        asked_before = len(pages.hits)
        with sync_playwright() as play:
            chromium = play.chromium.launch(executable_path=str(browser.find_executable()), args=browser.FLAGS)
            page = chromium.new_page()
            elsewhere = []
            # offline: the replaying browser may reach pywb and nothing else
            page.route("**/*", lambda route: route.continue_() if f"127.0.0.1:{port}/" in route.request.url
                       else (elsewhere.append(route.request.url), route.abort()))
            page.goto(f"http://127.0.0.1:{port}/case/{pages.url('/post')}", wait_until="load")
            page.wait_for_function("document.getElementById('words').textContent.includes('Machetes')",
                                   timeout=15_000)
            text = page.inner_text("body")
            chromium.close()
        assert INJECTED in text
        assert len(pages.hits) == asked_before  # the site itself was never asked
    finally:
        wayback.terminate()
        wayback.wait(timeout=20)


# ------------------------------------------------------------------------------- through the CLI

REASON = ["--reason", "Weapons for sale (SOP 4.1.6)"]


def capture_folder(ohrt, result: dict) -> Path:
    return ohrt.home / "captures" / result["id"]


def manifest_of(ohrt, result: dict) -> dict:
    import json

    return json.loads((capture_folder(ohrt, result) / "manifest.json").read_text())


def by_path(result: dict) -> dict:
    return {f["path"]: f for f in result["files"]}


def test_a_text_post_with_no_media_is_a_complete_page_capture(ohrt, pages):
    import subprocess

    result = ohrt.json("capture", pages.url("/post"), *REASON)
    assert result["status"] == "complete" and result["media_kind"] == "page" and result["title"] == "A post"
    files = by_path(result)
    assert files["page/archive.wacz"]["role"] == "original"
    assert {p for p, f in files.items() if f["role"] == "page"} == {
        "page/screenshot.png", "page/page.pdf", "page/dom.html", "page/text.txt"}
    folder = capture_folder(ohrt, result)
    assert INJECTED in (folder / "page" / "text.txt").read_text()
    manifest = manifest_of(ohrt, result)
    kinds = {f["path"]: f["kind"] for f in manifest["files"] if f["path"].startswith("page/")}
    assert kinds == {"page/archive.wacz": "wacz", "page/screenshot.png": "screenshot", "page/page.pdf": "pdf",
                     "page/dom.html": "dom", "page/text.txt": "text"}
    page = manifest["page"]
    assert page["final_url"] == pages.url("/post") and page["status"] == 200
    assert page["server"] == {"ip": "127.0.0.1", "port": pages.http_port} and page["tls"] is None
    assert page["browser"]["name"] == "Chromium" and page["viewport"] == {"width": 1280, "height": 900}
    assert "no media found" in manifest["no_media"]
    assert subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder).returncode == 0
    assert ohrt.json("verify")["intact"] is True
    assert webarchive.validate_wacz(folder / "page" / "archive.wacz")["result"].startswith("Validation succeeded")
    assert not [p for p in folder.rglob("*") if p.name.startswith(".")]  # no working files left in the seal


def test_one_changed_byte_in_the_wacz_is_named_by_verify(ohrt, pages):
    result = ohrt.json("capture", pages.url("/photos"), *REASON)
    wacz = capture_folder(ohrt, result) / "page" / "archive.wacz"
    wacz.chmod(0o644)
    data = bytearray(wacz.read_bytes())
    data[len(data) // 2] ^= 0x01
    wacz.write_bytes(bytes(data))
    report = ohrt("verify", "--json")
    assert report.exit_code != 0
    import json

    problems = json.loads(report.stdout)["problems"]
    assert [p["path"] for p in problems] == ["page/archive.wacz"]


def test_a_redirected_https_page_records_chain_server_and_certificate(ohrt, pages):
    import subprocess

    # an https page with a certificate made in the test: accepted, kept, and recorded as not trusted
    result = ohrt.json("capture", pages.tls_url("/hop1"), *REASON)
    manifest = manifest_of(ohrt, result)
    page = manifest["page"]
    assert [hop["status"] for hop in page["redirects"]] == [302, 301]
    assert page["final_url"] == pages.tls_url("/post") and page["server"]["ip"] == "127.0.0.1"
    assert page["tls"]["trusted"] is False and page["tls"]["certificates"][0]["sha256"] == pages.cert_sha256
    assert by_path(result)["page/certificates.pem"]["status"] == "ok"
    folder = capture_folder(ohrt, result)
    shown = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                            folder / "page" / "certificates.pem"], capture_output=True, text=True, check=True).stdout
    assert shown.split("=", 1)[1].strip().replace(":", "").lower() == pages.cert_sha256


def test_a_404_with_no_media_fails_in_one_line_and_keeps_nothing(ohrt, pages):
    result = ohrt("capture", pages.url("/gone"), *REASON)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "HTTP Error 404" in result.stderr and "answered 404" in result.stderr
    db = ohrt.db()
    assert db["captures"].count == 0 and db["tasks"].count == 0
    assert list((ohrt.home / "captures").iterdir()) == []


def test_a_video_page_keeps_the_media_and_the_page(ohrt, site, make_clip):
    site.put("pv/clip.mp4", make_clip("page-video", seconds=2))
    url = site.page("pv/watch.html", "clip.mp4", title="Drill at the park")
    result = ohrt.json("capture", url, *REASON)
    assert result["media_kind"] == "video" and result["status"] == "complete"
    files = by_path(result)
    assert files["original/" + Path(files and next(p for p in files if p.startswith("original/"))).name]["role"] == "original"
    assert files["page/archive.wacz"]["role"] == "page" and files["page/screenshot.png"]["status"] == "ok"
    manifest = manifest_of(ohrt, result)
    assert manifest["page"]["final_url"] == url and manifest["page"]["title"] == "Drill at the park"
    assert ohrt.json("verify")["intact"] is True


def test_without_a_browser_a_video_still_captures_and_finish_keeps_the_page_later(ohrt, site, make_clip, tmp_path):
    site.put("pv2/clip.mp4", make_clip("page-video-2", seconds=2))
    url = site.page("pv2/watch.html", "clip.mp4", title="Later page")
    missing = {"OHRT_CHROMIUM": str(tmp_path / "no-chromium")}
    result = ohrt.json("capture", url, *REASON, env=missing)
    assert result["media_kind"] == "video" and result["status"] == "incomplete"
    page_files = [f for f in result["files"] if f["role"] == "page"]
    assert page_files and all(f["status"] == "failed" and "apt-get install chromium" in f["error"] for f in page_files)
    done = ohrt.json("capture", "finish", result["id"])
    assert done["made"] == ["page"] and done["capture"]["status"] == "complete"
    manifest = manifest_of(ohrt, result)
    assert manifest["page"]["made_later"]["by"] == "ohrt capture finish" and manifest["page"]["status"] == 200
    assert ohrt.json("verify")["intact"] is True


def test_without_a_browser_a_page_with_no_media_fails_saying_how_to_install_it(ohrt, pages, tmp_path):
    result = ohrt("capture", pages.url("/post"), *REASON, env={"OHRT_CHROMIUM": str(tmp_path / "none")})
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "no media found" in result.stderr and "apt-get install chromium" in result.stderr
    assert ohrt.db()["captures"].count == 0


def test_no_page_skips_the_browser(ohrt, site, make_clip, pages):
    site.put("pv3/clip.mp4", make_clip("page-video-3", seconds=2))
    url = site.page("pv3/watch.html", "clip.mp4")
    result = ohrt.json("capture", url, *REASON, "--no-page")
    assert not [f for f in result["files"] if f["role"] == "page"] and "page" not in manifest_of(ohrt, result)
    refused = ohrt("capture", pages.url("/post"), *REASON, "--no-page")
    assert refused.exit_code == 1 and "no media found" in refused.stderr


def test_a_page_that_never_finishes_is_captured_cut_at_the_configured_timeout(ohrt, pages):
    config = ohrt.home / "config.toml"
    config.write_text(config.read_text() + "\n[page]\ntimeout_seconds = 3\n")
    started = time.monotonic()
    result = ohrt.json("capture", pages.url("/stuck"), *REASON)
    assert time.monotonic() - started < 30
    page = manifest_of(ohrt, result)["page"]
    assert page["timed_out"] is True and page["limits"]["timeout_seconds"] == 3 and page["truncated_responses"] == 1
    assert result["media_kind"] == "page" and result["status"] == "complete"
    assert INJECTED in (capture_folder(ohrt, result) / "page" / "text.txt").read_text()
    config.write_text(config.read_text().replace("timeout_seconds = 3", "timeout_seconds = 'soon'"))
    refused = ohrt("capture", pages.url("/post"), *REASON)
    assert refused.exit_code == 2 and "timeout_seconds" in refused.stderr and refused.stderr.count("\n") == 1
