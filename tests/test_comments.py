"""`--comments` (issue 13): the comments a post shows are kept in source/comments.json, hashed and signed,
found through the page capture where yt-dlp cannot read the site; a review cites a comment as a finding."""

from __future__ import annotations

import email
import json
import shutil
from email import policy
from pathlib import Path

import pytest

from ohrt_cli.ground import browser

from support.comments import publish
from support.home import TASK_ARGS, as_officer
from support.refer import clause_for, real_contacts

pytestmark = pytest.mark.skipif(not Path(browser.DEFAULT_EXECUTABLE).exists() and not shutil.which("chromium"),
                                reason="Chromium is not installed (make setup installs it)")
REASON = ["--reason", "Threats in the comments under a drill video"]


@pytest.fixture(scope="module")
def posts(site):
    return publish(site)


def kept(ohrt, capture: dict) -> dict:
    return json.loads((ohrt.home / capture["folder"] / "source" / "comments.json").read_text())


def test_comments_fetched_by_the_pages_script_are_kept_from_its_web_archive(ohrt, posts):
    capture = ohrt.json("capture", posts["fetched"], *REASON, "--comments")
    assert capture["media_kind"] == "page" and capture["status"] == "complete"
    doc = kept(ohrt, capture)
    assert doc["format"] == "ohrt-comments/1" and doc["count"] == 3
    assert doc["found_by"].endswith("/api/comments.json?post=p-1") and "web archive" in doc["found_by"]
    first, reply, third = doc["comments"]
    assert (first["n"], first["handle"], first["author"], first["time"], first["likes"]) == \
        (1, "@kaydee_007", "Kay Dee", "2 days ago", 41)
    assert first["text"] == "you lot are next, watch your back" and first["timestamp"] is None  # shown, not guessed
    assert (reply["n"], reply["handle"], reply["parent"], reply["text"]) == (2, "@rivalgang", "c-1", "come then")
    assert (third["text"], third["time"], third["timestamp"]) == ("🔥🔥 tune", "2026-11-20T18:04:00Z",
                                                                   "2026-11-20T18:04:00+00:00")
    entry = next(f for f in capture["files"] if f["role"] == "comments")
    assert entry["path"] == "source/comments.json" and entry["status"] == "ok"
    manifest = json.loads((ohrt.home / capture["folder"] / "manifest.json").read_text())
    assert manifest["comments"]["count"] == 3 and "source/comments.json" in \
        (ohrt.home / capture["folder"] / "SHA256SUMS").read_text()
    assert ohrt.ok("verify", capture["id"]).stdout.startswith("store intact")


def test_schema_org_comments_in_json_ld_and_microdata_are_found(ohrt, posts):
    for shape in ("json-ld", "microdata"):
        capture = ohrt.json("capture", posts[shape], *REASON, "--comments")
        doc = kept(ohrt, capture)
        assert doc["found_by"].startswith(shape.replace("-", "-")), doc["found_by"]
        (only,) = doc["comments"]
        assert (only["author"], only["handle"], only["timestamp"]) == ("Kay Dee", "@kaydee_007",
                                                                       "2026-11-20T17:04:00+00:00"), shape
        assert only["text"].startswith("you lot are next")


def test_a_post_without_comments_says_where_it_looked(ohrt, site, posts):
    url = site.put("posts/plain.html", "<!doctype html><title>Plain</title><p>nothing said here</p>")
    capture = ohrt.json("capture", url, *REASON, "--comments")
    doc = kept(ohrt, capture)
    assert doc["count"] == 0 and doc["found_by"] is None and len(doc["looked_in"]) == 2
    assert "comments: 0 in source/comments.json, found by nothing" in ohrt.ok("capture", "show", capture["id"]).stdout


def test_a_review_cites_a_kept_comment_as_a_finding(ohrt, posts):
    capture = ohrt.json("capture", posts["fetched"], *REASON, "--comments")
    task = capture["task_id"]
    constable = {"OHRT_OFFICER": "7781"}
    wrong = ohrt("review", task, "--decision", "nfa", "--format", "text", "--reason", "Local test",
                 "--finding", "public-safety|Threatens the rival group|comment 9", env=constable)
    assert wrong.exit_code == 2 and "cites comment 9, but capture" in wrong.stderr and "(1-3)" in wrong.stderr
    timed = ohrt("review", task, "--decision", "nfa", "--format", "text", "--reason", "Local test",
                 "--finding", "public-safety|Threatens the rival group|comment 1;00:01-00:02", env=constable)
    assert timed.exit_code == 2 and "is a page" in timed.stderr
    ohrt.ok("review", task, "--decision", "nfa", "--format", "text", "--reason", "Local test site",
            "--finding", "public-safety|Threatens the rival group|comment 1; Comment 2", env=constable)
    shown = ohrt.json("review", "show", task)
    (finding,) = shown["current"]["findings"]
    assert finding["at"] == ["comment 1", "comment 2"]
    assert "in comment 1 (@kaydee_007, 2 days ago), comment 2 (@rivalgang, 1 day ago)" in shown["current"]["basis"]


def test_citing_a_comment_needs_a_capture_that_kept_comments(ohrt, posts, site):
    url = site.put("posts/no-comments-kept.html", "<!doctype html><title>Post</title><p>words</p>")
    capture = ohrt.json("capture", url, *REASON)
    refused = ohrt("review", capture["task_id"], "--decision", "nfa", "--format", "text", "--reason", "Local",
                   "--finding", "public-safety|Threat|comment 1", env={"OHRT_OFFICER": "7781"})
    assert refused.exit_code == 2 and "kept no comments" in refused.stderr and "--comments" in refused.stderr


def test_a_cited_comment_reaches_the_referral_and_the_connect_record_by_handle_and_time(ohrt, posts):
    real_contacts(ohrt)
    task = ohrt.ok("task", "add", "--url", posts["fetched"], "--platform", "tiktok", *TASK_ARGS).stdout.strip()
    ohrt.json("capture", posts["fetched"], "--task", task, "--comments")
    ohrt.ok("review", task, "--decision", "refer", "--format", "text", "--clause", clause_for(ohrt, "tiktok"),
            "--finding", "public-safety|Threatens the rival group|comment 1", env=as_officer("7781"))
    drafted = ohrt.json("refer", "draft", task, env=as_officer("7781"))
    eml = ohrt.home / "referrals" / drafted["id"] / "v1" / "referral.eml"
    message = email.message_from_bytes(Path(eml).read_bytes(), policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "comment 1 (@kaydee_007, 2 days ago)" in " ".join(text.split())
    record = ohrt.json("intel", task, env=as_officer("7781"))["text"]
    assert "comment 1 (@kaydee_007, 2 days ago)" in record
