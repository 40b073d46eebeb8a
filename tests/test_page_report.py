"""A page captured from its URL with the real browser (issue 12) in the rest of the flow: review without time
ranges, and the evidence package's report showing the screenshot (embedded), the visible text with the words
the page's script put there, and the provenance (redirects, final URL, server, the server's clock)."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import pytest

from ohrt_cli.ground import browser

from support.pages import INJECTED, serve

pytestmark = pytest.mark.skipif(not Path(browser.DEFAULT_EXECUTABLE).exists() and not __import__("shutil").which(
    "chromium"), reason="Chromium is not installed (make setup installs it)")


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    served, shutdown = serve(tmp_path_factory.mktemp("pages"))
    yield served
    shutdown()


def test_a_page_captured_from_its_url_is_reviewed_and_reported_with_its_screenshot_and_words(ohrt, pages, tmp_path):
    capture = ohrt.json("capture", pages.url("/hop1"), "--reason", "Weapons offered for sale",
                        env={"OHRT_OFFICER": "7781"})
    assert capture["media_kind"] == "page" and capture["status"] == "complete"
    task_id = capture["task_id"]
    timed = ohrt("review", task_id, "--decision", "nfa", "--format", "text", "--reason", "Seen",
                 "--finding", "illegal-sales|Offers machetes|00:01-00:02", env={"OHRT_OFFICER": "7781"})
    assert timed.exit_code == 2 and "is a page" in timed.stderr
    ohrt.ok("review", task_id, "--decision", "nfa", "--format", "text", "--reason", "Local test site, no platform",
            "--finding", "illegal-sales|Offers machetes, prices by message", env={"OHRT_OFFICER": "7781"})
    opened = ohrt.json("capture", "open", capture["id"], "--reason", "Look at the post")
    assert opened["file"] == "page/screenshot.png"

    out = tmp_path / "out"
    out.mkdir()
    package = ohrt.json("export", task_id, "--to", str(out), "--recipient", "DC Jo Bloggs, Trident",
                        "--reason", "Evidence for charging")
    root = out / package["name"] / "data"
    report = (root / "report.html").read_text()
    manifest = json.loads((root / "captures" / capture["id"] / "manifest.json").read_text())
    shot = (root / "captures" / capture["id"] / "page" / "screenshot.png").read_bytes()
    assert f"data:image/png;base64,{base64.b64encode(shot).decode()}" in report  # embedded, no other file needed
    block = re.search(r'<pre class="pagetext">(.*?)</pre>', report, re.S)
    assert block and INJECTED in html.unescape(block[1])
    page = manifest["page"]
    assert page["final_url"] == pages.url("/post") and len(page["redirects"]) == 2
    for shown in (pages.url("/hop1"), pages.url("/hop2"), pages.url("/post"), f"127.0.0.1:{pages.http_port}",
                  "none (plain http)", "loaded from the URL in a browser"):
        assert html.escape(shown) in report or shown in report, shown
    assert page["server_date"] and "the server&#39;s clock minus ours" in report or "the server's clock minus ours" in report
    assert ohrt("verify", "--package", str(out / package["name"])).exit_code == 0
