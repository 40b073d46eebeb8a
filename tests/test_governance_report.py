"""The quarterly report, SOP 7.2 and 6.5: figures against hand counts, each beside the previous quarter's,
small counts suppressed, nothing identifying in any of the four formats (issue 7)."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from support.home import Ohrt, copy_home, new_home
from support.governance import (INSPECTOR, OFFICER_NAMES, SECRET_APPLICANT, SECRET_RATIONALE, SECRET_SUBJECT,
                                SECRET_TITLE, SERGEANT, add_task, appeal, at, refer, review, seed_library,
                                set_route_contact)

AFTER_Q3 = {"OHRT_OFFICER": SERGEANT, **at("2026-10-05T09:00:00")}
YT = "https://www.youtube.com/watch?v=secretvid{:02d}"
TT = "https://www.tiktok.com/@quenbycrew/video/73000000000000000{:02d}"
IG = "https://www.instagram.com/p/SecretPost{:02d}/"
SECRET_CHANNEL = "Quenby Crew Official"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Ohrt:
    """Q2 and Q3 of 2026 through the real CLI. Hand counts, Q3 (Q2):
    received 8 (3): YouTube 5 (3), TikTok 2, Instagram 1; Central West / Gangs 6 (2), North / CID 2 (1).
    reviewed 7 (2): refer 4 (1), nfa 3 (1); QA returns 1 (0); sent 4 (1): YouTube 3 (1), TikTok 1.
    decided: YouTube removed 2 (1), not removed 1; TikTok removed 1; appeals sent 1, decided 1, removed.
    receipt → review days: 1, 1.5, 2, 2, 4, 10, 11 (1, 3); review → sent: 0.5, 1, 2, 2 (1);
    sent → decision: 1, 3, 5, 10 (7). Dip sample of Q3: 1 task drawn, its result recorded."""
    ohrt = new_home(tmp_path_factory.mktemp("gov") / "home")
    set_route_contact(ohrt, "tiktok", "le-referrals@tiktok.example.com")
    # Q2: two tasks worked in the quarter, and one received late in it and reviewed in Q3.
    p1 = add_task(ohrt, 91, YT.format(91), "2026-05-01T09:00:00")
    p2 = add_task(ohrt, 92, YT.format(92), "2026-05-01T09:00:00")
    t0 = add_task(ohrt, 90, YT.format(90), "2026-06-20T09:00:00", ocu="North", unit="CID")
    review(ohrt, p1, "refer", "2026-05-02T09:00:00")
    review(ohrt, p2, "nfa", "2026-05-04T09:00:00")
    refer(ohrt, p1, drafted="2026-05-02T12:00:00", sent="2026-05-03T09:00:00", decided="2026-05-10T09:00:00")
    # Q3.
    start = "2026-07-01T09:00:00"
    t1, t2, t3 = (add_task(ohrt, n, YT.format(n), start) for n in (1, 2, 3))
    t4 = add_task(ohrt, 4, TT.format(4), start)
    t5 = add_task(ohrt, 5, YT.format(5), start)
    add_task(ohrt, 6, IG.format(6), start)
    t7 = add_task(ohrt, 7, TT.format(7), start, ocu="North", unit="CID")
    add_task(ohrt, 8, YT.format(8), start, ocu="North", unit="CID")
    review(ohrt, t0, "nfa", "2026-07-01T09:00:00")
    review(ohrt, t1, "refer", "2026-07-02T09:00:00")
    review(ohrt, t2, "refer", "2026-07-03T09:00:00")
    review(ohrt, t3, "refer", "2026-07-05T09:00:00")
    review(ohrt, t4, "refer", "2026-07-02T21:00:00", platform="tiktok")
    review(ohrt, t5, "nfa", "2026-07-11T09:00:00")
    review(ohrt, t7, "nfa", "2026-07-03T09:00:00")
    refer(ohrt, t1, drafted="2026-07-02T12:00:00", sent="2026-07-03T09:00:00", decided="2026-07-13T09:00:00")
    refer(ohrt, t2, drafted="2026-07-03T12:00:00", sent="2026-07-05T09:00:00", decided="2026-07-08T09:00:00",
          returned_once=True)
    r3 = refer(ohrt, t3, drafted="2026-07-05T12:00:00", sent="2026-07-07T09:00:00", decided="2026-07-12T09:00:00",
               removed=False)
    refer(ohrt, t4, drafted="2026-07-02T22:00:00", sent="2026-07-03T09:00:00", decided="2026-07-04T09:00:00")
    appeal(ohrt, r3, drafted="2026-07-13T09:00:00", sent="2026-07-14T09:00:00", decided="2026-07-20T09:00:00",
           removed=True)
    drawn = ohrt.json("dip-sample", "draw", "--quarter", "2026Q3", "--seed", "s1",
                      env={"OHRT_OFFICER": INSPECTOR, **at("2026-10-01T09:00:00")})
    ohrt.ok("dip-sample", "record", drawn["tasks"][0]["task_id"], "--accurate", "yes", "--quality", "4",
            "--compliant", "yes", env={"OHRT_OFFICER": SERGEANT, **at("2026-10-02T09:00:00")})
    return ohrt


@pytest.fixture
def home(seeded, tmp_path) -> Ohrt:
    """A copy of the seeded home for one test, so that settings and audit entries do not leak between tests."""
    return copy_home(seeded.home, tmp_path / "home")


def set_threshold(ohrt: Ohrt, value) -> None:
    config = ohrt.home / "config.toml"
    config.write_text(config.read_text() + f"\n[report]\nsmall_count_threshold = {value}\n")


def report(ohrt: Ohrt, fmt: str, *extra: str) -> str:
    return ohrt.ok("report", "--quarter", "2026Q3", "--format", fmt, *extra, env=AFTER_Q3).stdout


def figures(ohrt: Ohrt) -> dict:
    data = json.loads(report(ohrt, "json"))
    return {f["id"]: f for f in data["figures"]}


def pairs(figure: dict, by: str) -> dict:
    return {row["key"]: (row["this_quarter"], row["previous_quarter"]) for row in figure["breakdowns"][by]}


def both(figure: dict):
    return figure["this_quarter"], figure["previous_quarter"]


def test_report_figures_match_hand_counts(home):
    set_threshold(home, 1)  # nothing suppressed: every figure exact
    f = figures(home)
    assert both(f["received"]) == (8, 3)
    assert pairs(f["received"], "platform") == {"youtube": (5, 3), "tiktok": (2, 0), "instagram": (1, 0)}
    assert pairs(f["received"], "ocu_unit") == {"Central West / Gangs": (6, 2), "North / CID": (2, 1)}
    assert both(f["self_tasked"]) == (0, 0)
    assert both(f["reviewed"]) == (7, 2)
    assert pairs(f["reviewed"], "decision") == {"refer": (4, 1), "nfa": (3, 1)}
    assert both(f["qa_returns"]) == (1, 0)
    assert both(f["referrals_sent"]) == (4, 1)
    assert pairs(f["referrals_sent"], "platform") == {"youtube": (3, 1), "tiktok": (1, 0)}
    assert both(f["removed"]) == (3, 1) and both(f["not_removed"]) == (1, 0)
    assert both(f["removal_rate"]) == (75.0, 100.0)
    assert pairs(f["removal_rate"], "platform") == {"tiktok": (100.0, None), "youtube": (66.7, 100.0)}
    assert both(f["appeals_sent"]) == (1, 0)
    assert pairs(f["appeals_decided"], "outcome") == {"removed": (1, 0)}
    assert both(f["reuploads"]) == (0, 0)


def test_report_timeliness_matches_hand_computed_medians_and_90th_percentiles(home):
    set_threshold(home, 1)
    f = figures(home)
    # receipt → first review, days: Q3 1, 1.5, 2, 2, 4, 10, 11; Q2 1, 3.
    assert both(f["receipt_to_review_cases"]) == (7, 2)
    assert both(f["receipt_to_review_median"]) == (2.0, 2.0)
    assert both(f["receipt_to_review_p90"]) == (10.4, 2.8)
    # review → referral sent: Q3 0.5, 1, 2, 2; Q2 1.
    assert both(f["review_to_referral_median"]) == (1.5, 1.0)
    assert both(f["review_to_referral_p90"]) == (2.0, 1.0)
    # sent → platform's decision (dates): Q3 1, 3, 5, 10; Q2 7.
    assert both(f["referral_to_decision_median"]) == (4.0, 7.0)
    assert both(f["referral_to_decision_p90"]) == (8.5, 7.0)


def test_report_shows_the_dip_sample_of_the_quarter(home):
    set_threshold(home, 1)
    f = figures(home)
    assert both(f["dip_sampled"]) == (1, 0) and both(f["dip_recorded"]) == (1, 0)
    assert both(f["dip_accurate"]) == (100.0, None) and both(f["dip_quality"]) == (4.0, None)


def test_small_counts_show_as_under_the_threshold_and_a_lone_one_cannot_be_worked_out(home):
    f = figures(home)  # default threshold 5
    assert both(f["received"]) == (8, "<5")
    # YouTube's 5 stays exact: two small cells cannot be told apart from the total.
    assert pairs(f["received"], "platform") == {"youtube": (5, "<5"), "tiktok": ("<5", 0), "instagram": ("<5", 0)}
    # One small cell beside a published total: its neighbour is blurred too, or 8 - 6 would give it away.
    assert pairs(f["received"], "ocu_unit") == {"Central West / Gangs": (">=5", "<5"), "North / CID": ("<5", "<5")}
    assert both(f["self_tasked"]) == (0, 0)  # zero identifies no one
    assert both(f["removal_rate"]) == (None, None)  # would rest on fewer than 5 decisions
    assert both(f["receipt_to_review_median"]) == (2.0, None)
    assert both(f["dip_accurate"]) == (None, None)


def test_suppression_holds_in_every_format(home):
    assert "platform=tiktok,<5,0,count" in report(home, "csv")
    assert "| &emsp;&emsp;TikTok | <5 | 0 |  |" in report(home, "md")
    html = report(home, "html")
    assert "&lt;5" in html and "≥5" in html


def test_threshold_must_be_a_whole_number(home):
    set_threshold(home, '"five"')
    result = home("report", "--quarter", "2026Q3", env=AFTER_Q3)
    assert result.exit_code == 2 and "small_count_threshold" in result.stderr and "whole number" in result.stderr


def add_channel_rows(ohrt: Ohrt) -> None:
    """Written directly with sqlite, not through `ohrt capture`: a capture with a channel needs a platform's
    extractor, which the loopback site cannot play. A capture and a library item carrying a channel name,
    title and URL, so that a report reading either would show them."""
    db = ohrt.db()
    task_id = db.execute("SELECT id FROM tasks ORDER BY id LIMIT 1").fetchone()[0]
    db["captures"].insert({"id": "C-2026-009999", "task_id": task_id, "status": "complete", "method": "url",
                           "started_at": "2026-07-02T09:00:00+00:00", "channel": SECRET_CHANNEL,
                           "title": SECRET_TITLE, "final_url": YT.format(99)})
    db["library_items"].insert({"id": "L-2026-009999", "task_id": task_id, "capture_id": "C-2026-009999",
                                "created_at": "2026-07-20T09:00:00+00:00", "expires_on": "2027-07-20",
                                "format": "music-video", "title": SECRET_TITLE, "url": YT.format(99),
                                "channel": SECRET_CHANNEL, "platforms": "youtube"})


@pytest.mark.parametrize("fmt", ["html", "md", "csv", "json"])
def test_no_name_url_title_channel_or_subject_reaches_any_format(home, fmt):
    set_threshold(home, 1)
    add_channel_rows(home)
    text = report(home, fmt).lower()
    assert "2026q3" in text
    secrets = [SECRET_APPLICANT, SECRET_SUBJECT, SECRET_TITLE, SECRET_RATIONALE, SECRET_CHANNEL, *OFFICER_NAMES,
               "quenby", "secretvid", "secretpost", "http", "www.", "4200001/26", SERGEANT, INSPECTOR]
    for secret in secrets:
        assert secret.lower() not in text, f"{secret!r} leaked into the {fmt} report"


def test_csv_has_one_row_per_figure_and_breakdown(home):
    rows = list(csv.reader(io.StringIO(report(home, "csv"))))
    assert rows[0] == ["section", "figure", "breakdown", "this_quarter", "previous_quarter", "unit"]
    assert ["report", "quarter", "", "2026Q3", "2026Q2", ""] in rows
    assert ["demand", "received", "", "8", "<5", "count"] in rows
    assert ["timeliness", "receipt_to_review_median", "", "2.0", "", "days"] in rows
    assert all(len(row) == 6 for row in rows)


def test_json_has_stable_keys(home):
    data = json.loads(report(home, "json"))
    assert list(data) == ["report", "format_version", "team", "quarter", "period", "previous_quarter",
                          "previous_period", "complete", "generated_at", "small_count_threshold", "sections",
                          "figures", "audit_checkpoint"]
    assert data["period"] == {"start": "2026-07-01", "end": "2026-09-30"} and data["previous_quarter"] == "2026Q2"
    assert {tuple(f) for f in data["figures"]} == {("section", "id", "title", "unit", "this_quarter",
                                                   "previous_quarter", "breakdowns")}
    assert [s["id"] for s in data["sections"]] == ["demand", "work", "results", "timeliness", "library", "assurance",
                                                   "action"]


def test_html_embeds_its_charts_and_needs_no_network(home):
    set_threshold(home, 1)
    html = report(home, "html")
    assert html.count("<svg") == 7 and "<script" not in html  # the library chart: all zero, not drawn
    assert "src=" not in html and "<link" not in html and "@import" not in html
    assert "@media print" in html


def test_out_writes_the_file_atomically_and_the_audit_holds_its_hash(home, tmp_path):
    target = tmp_path / "out" / "q3.html"
    target.parent.mkdir()
    target.write_text("old")
    message = home.ok("report", "--quarter", "2026Q3", "--out", target, env=AFTER_Q3).stdout
    assert f"to {target}" in message
    data = target.read_bytes()
    assert data.startswith(b"<!doctype html>")
    assert sorted(p.name for p in target.parent.iterdir()) == ["q3.html"]  # no partial file left behind
    entry = [e for e in home.json("audit", "list", "--object", "2026Q3") if e["action"] == "report.produce"][-1]
    assert entry["detail"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["detail"]["format"] == "html" and entry["detail"]["to"] == str(target)
    assert entry["officer"] == SERGEANT


def test_report_to_stdout_is_audited_too(home):
    report(home, "md")
    entry = [e for e in home.json("audit", "list", "--object", "2026Q3") if e["action"] == "report.produce"][-1]
    assert entry["detail"]["to"] == "stdout" and entry["detail"]["format"] == "md"
    home.ok("audit", "verify")


@pytest.mark.parametrize("args, message", [
    (["--quarter", "2026Q3", "--format", "pdf"], "format 'pdf' is not one of html, md, csv, json"),
    (["--quarter", "2027Q1"], "quarter 2027Q1 has not begun"),
    (["--quarter", "Q3"], "is not of the form YYYYQn"),
    (["--quarter", "2026Q3", "--out", "/nonexistent/folder/r.html"], "does not exist: create it"),
])
def test_report_refuses_bad_input_in_one_line(home, args, message):
    result = home("report", *args, env=AFTER_Q3)
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_report_needs_a_rostered_officer(home):
    result = home("report", "--quarter", "2026Q3", env={"OHRT_OFFICER": "nobody", **at("2026-10-05T09:00:00")})
    assert result.exit_code == 2 and "not on this home's roster" in result.stderr


def test_report_of_a_quarter_in_progress_says_so(home):
    data = json.loads(home.ok("report", "--quarter", "2026Q3", "--format", "json",
                              env={"OHRT_OFFICER": SERGEANT, **at("2026-09-15T09:00:00")}).stdout)
    assert data["complete"] is False
    assert "The quarter is not over" in home.ok("report", "--quarter", "2026Q3", "--format", "md",
                                                env={"OHRT_OFFICER": SERGEANT, **at("2026-09-15T09:00:00")}).stdout


def test_format_follows_the_out_suffix_and_defaults_to_the_last_complete_quarter(home, tmp_path):
    home.ok("report", "--out", tmp_path / "r.csv", env=AFTER_Q3)
    assert (tmp_path / "r.csv").read_text().startswith("section,figure,breakdown")
    assert "# Online Harm Referral Team — quarterly report 2026Q3" in home.ok("report", env=AFTER_Q3).stdout


def test_publication_rules():
    from ohrt_cli.stages.governance.figures import percentile, publish_cells, publish_count, publish_rate

    assert [publish_count(n, 5) for n in (0, 1, 4, 5, 120)] == [0, "<5", "<5", 5, 120]
    assert publish_cells({"a": 10, "b": 2, "c": 0}, 5) == {"a": ">=5", "b": "<5", "c": 0}
    assert publish_cells({"a": 10, "b": 7, "c": 2}, 5) == {"a": 10, "b": ">=5", "c": "<5"}
    assert publish_cells({"a": 10, "b": 2, "c": 3}, 5) == {"a": 10, "b": "<5", "c": "<5"}
    assert publish_rate(7, 10, 5) is None  # 3 not removed would be a small count
    assert publish_rate(10, 10, 5) == 100.0 and publish_rate(0, 6, 5) == 0.0 and publish_rate(5, 12, 5) == 41.7
    assert percentile([1, 2, 3, 4], 0.5) == 2.5 and percentile([1, 1.5, 2, 2, 4, 10, 11], 0.9) == pytest.approx(10.4)


@pytest.fixture(scope="module")
def library_home(seeded, tmp_path_factory, make_clip) -> tuple[Ohrt, dict]:
    """The seeded quarters plus the Domain library of `seed_library` (its docstring has the hand counts),
    all through the real CLI; nothing suppressed."""
    root = tmp_path_factory.mktemp("gov-library")
    ohrt = copy_home(seeded.home, root / "home")
    set_threshold(ohrt, 1)
    return ohrt, seed_library(ohrt, make_clip("gov-library", seconds=4), root / "other-force" / "home")


def test_report_library_and_reupload_figures(library_home):
    ohrt, made = library_home
    # What the library stage recorded: C's purge finished, F's was cut short; five matches of three captures.
    db = ohrt.db()
    try:
        tombstones = dict(db.execute("SELECT object_id, state FROM tombstones WHERE object_type = 'library_item'"))
        matched = [r[0] for r in db.execute("SELECT object_id FROM audit WHERE action = 'library.match' ORDER BY seq")]
        imported = db.execute("SELECT source FROM library_items WHERE id = ?", [made["X"]]).fetchone()[0]
    finally:
        db.conn.close()
    assert tombstones == {made["C"]: "done", made["F"]: "purging"}
    assert matched == [made["R0"], made["R1"], made["R2"], made["R1"], made["R0"]]
    assert imported == "import"
    f = figures(ohrt)
    assert both(f["library_size"]) == (5, 5)  # F, mid-purge, is still kept; X is another force's
    assert both(f["library_added"]) == (1, 1)
    assert both(f["library_purged"]) == (1, 0)
    assert both(f["library_held"]) == (1, 0)
    assert both(f["library_expiring"]) == (1, 2)
    assert both(f["reuploads"]) == (2, 1)  # R0, matched again in Q3, counts in Q2 where it was found
    for fmt in ("html", "md", "csv"):  # the investigation, the other force, ids and URLs stay out
        text = report(ohrt, fmt).lower()
        for secret in ("quenby", "west midlands", "l-2026-", "c-2026-", "secretvid", "lib000000", "drill video"):
            assert secret not in text, f"{secret!r} leaked into the {fmt} report"
    ohrt.ok("audit", "verify")
