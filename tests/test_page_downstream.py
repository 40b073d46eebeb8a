"""A capture whose original is a page (media kind `page`, issue 12) goes through the rest of the flow: review
without time ranges, a referral that gives the platform only what the content shows (SOP 6.4), the intel
record, the library (a page is not musical), the quarterly report and the evidence package. The page here is
a WACZ an officer saved another way (`capture --file`), made with warcio and the wacz package."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import zipfile

import pytest

from support.home import TASK_ARGS
from support.refer import CONSTABLE, SERGEANT, as_officer, plain_body, read_eml, real_contacts
from support.webfiles import make_wacz, make_warc

URL = "https://www.instagram.com/p/Cblades123/"
SAVED_WHY = "Saved with ArchiveWeb.page by DC Quenby before the account went private"
FINDING = "illegal-sales|Offers two blades for sale, price in the caption"


@pytest.fixture
def page_task(ohrt, tmp_path):
    """A task whose only capture is an ingested WACZ of an Instagram post; returns (task id, capture)."""
    real_contacts(ohrt)
    task_id = ohrt.ok("task", "add", "--url", URL, *TASK_ARGS).stdout.strip()
    wacz = make_wacz(tmp_path / "post.wacz", make_warc(tmp_path / "post.warc.gz", url=URL))
    capture = ohrt.json("capture", "--file", str(wacz), "--url", URL, "--reason", SAVED_WHY, "--task", task_id,
                        env=as_officer(CONSTABLE))
    assert capture["media_kind"] == "page"
    return task_id, capture


def review_page(ohrt, task_id: str, *finding: str):
    return ohrt("review", task_id, "--decision", "refer", "--format", "text", "--clause", "instagram:restricted-goods",
                *(a for f in (finding or (FINDING,)) for a in ("--finding", f)), env=as_officer(CONSTABLE))


def test_a_page_finding_with_time_ranges_is_refused_and_one_without_is_recorded(ohrt, page_task):
    task_id, capture = page_task
    timed = review_page(ohrt, task_id, FINDING + "|00:01-00:03")
    assert timed.exit_code == 2 and "is a page" in timed.stderr and "time ranges" in timed.stderr
    assert ohrt.db()["reviews"].count == 0
    assert review_page(ohrt, task_id).exit_code == 0
    shown = ohrt.json("review", "show", task_id)
    assert shown["current"]["capture_id"] == capture["id"] and shown["current"]["findings"][0]["at"] == []


def test_the_referral_of_a_page_gives_the_platform_only_the_content(ohrt, page_task):
    task_id, capture = page_task
    assert review_page(ohrt, task_id).exit_code == 0
    referral = ohrt.json("refer", "draft", task_id, env=as_officer(CONSTABLE))
    body = " ".join(plain_body(read_eml(referral["draft_file"])).split())
    assert URL.rstrip("/") in body and "Offers two blades for sale" in body and "Format: text post" in body
    assert "Offending segments: the whole item" in body  # a page has no time ranges
    for private in (SAVED_WHY, "Quenby", "post.wacz", "wacz validate", capture["id"]):
        assert private not in body
    ohrt.ok("refer", "qa", referral["id"], "--approve", env=as_officer(SERGEANT))
    ohrt.ok("refer", "sent", referral["id"], "--platform-ref", "IG-1", env=as_officer(CONSTABLE))
    ohrt.ok("refer", "outcome", referral["id"], "--removed")
    assert ohrt.json("library", "list") == []  # text is not musical content (SOP 10.8)
    intel = ohrt.ok("intel", task_id, env=as_officer(CONSTABLE)).stdout
    assert "Offers two blades for sale" in intel and URL.rstrip("/") in intel and SAVED_WHY not in intel
    match = ohrt("library", "match", capture["id"])
    assert match.exit_code == 2 and "page" in match.stderr and "Traceback" not in match.stderr


def test_the_quarterly_report_counts_a_page_capture_like_any_other(ohrt, page_task):
    task_id, _ = page_task
    assert review_page(ohrt, task_id).exit_code == 0
    today = dt.datetime.now(dt.timezone.utc).date()
    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    report = json.loads(ohrt.ok("report", "--quarter", quarter, "--format", "json").stdout)
    assert report["quarter"] == quarter and URL not in json.dumps(report)


def test_the_evidence_package_of_a_page_says_what_was_ingested_and_how_it_was_checked(ohrt, page_task, tmp_path):
    task_id, capture = page_task
    assert review_page(ohrt, task_id).exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    package = ohrt.json("export", task_id, "--to", str(out), "--recipient", "DC Jo Bloggs, Trident",
                        "--reason", "Evidence for charging", "--zip")
    report = (out / package["name"] / "data" / "report.html").read_text()
    assert "a WACZ web archive" in report and "checked with wacz validate" in report
    assert "Validation succeeded" in report and "original/post.wacz" in report and "(wacz)" in report
    copied = out / package["name"] / "data" / "captures" / capture["id"] / "original" / "post.wacz"
    assert zipfile.is_zipfile(copied)
    how = (out / package["name"] / "data" / "HOW-TO-CHECK.txt").read_text()
    [command] = [line.strip() for line in how.splitlines() if line.strip().startswith("wacz validate")]
    assert command == f"wacz validate -f {package['name']}/data/captures/{capture['id']}/original/post.wacz"
    assert command in report
    said = subprocess.run([sys.executable, "-m", "wacz", *command.split()[1:]], cwd=out, capture_output=True, text=True)
    assert "Validation succeeded" in said.stdout  # the command works as printed, in the folder that holds it
    assert ohrt("verify", "--package", str(out / package["name"])).exit_code == 0
    opened = ohrt.json("capture", "open", capture["id"], "--reason", "Review of the saved post")
    assert opened["file"] == "original/post.wacz"
