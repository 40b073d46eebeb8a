"""`ohrt refer check`: did the platform act? Looks at referred content on a loopback site whose answers
change between runs, with real HTTP and real yt-dlp (SOP 10.5–10.7 follow-up)."""

from __future__ import annotations

import json
import signal
import time

import pytest

from devtools.loopback import Loopback, Response
from support.check import REMOVED_WORDS, check, fast, hits_of, removed_page, sent_referral, video_page
from support.home import CONSTABLE, as_officer, audit_entries, rows, run_ohrt, start_ohrt


@pytest.fixture
def platform_site(tmp_path):
    """A site of our own per test: its routes change, and its request log starts empty."""
    with Loopback(tmp_path / "site") as site:
        yield site


def observations(ohrt, referral_id: str) -> list[dict]:
    return ohrt.json("refer", "show", referral_id)["observations"]


def test_a_video_seen_up_then_404_then_removed_page_is_available_then_gone_with_the_platforms_words(
        ohrt, platform_site):
    fast(ohrt)
    url = platform_site.route("/watch/1", video_page())
    task, referral = sent_referral(ohrt, url)

    first = check(ohrt)
    assert (first["checked"], first["available"], first["gone"], first["unreachable"]) == (1, 1, 0, 0)
    platform_site.route("/watch/1", Response(status=404, body="<h1>Not Found</h1>"))
    second = check(ohrt)
    assert (second["gone"], second["suggestions"][0]["referral_id"]) == (1, referral)
    platform_site.route("/watch/1", removed_page())
    third = check(ohrt)
    assert third["gone"] == 1

    newest, middle, oldest = observations(ohrt, referral)
    assert (oldest["result"], oldest["http_status"]) == ("available", 200) and oldest["evidence"]["extractor"]
    assert (middle["result"], middle["http_status"], middle["message"]) == ("gone", 404, "HTTP 404 Not Found")
    assert (newest["result"], newest["http_status"], newest["message"]) == ("gone", 200, REMOVED_WORDS)
    assert newest["evidence"]["matched"] == "page" and newest["purpose"] == "awaiting"

    # not a decision: the referral is still sent, and the officer is shown what to confirm
    shown = ohrt.json("refer", "show", referral)
    day = middle["observed_at"][:10]
    assert shown["status"] == "sent"
    assert shown["suggestion"]["command"] == f"ohrt refer outcome {referral} --removed --observed-on {day}"
    listed = ohrt.ok("refer", "list").stdout
    assert f"gone {day}" in listed and f"--observed-on {day}" in listed
    assert ohrt.json("refer", "list")[0]["suggestion"] == shown["suggestion"]["command"]
    text = ohrt.ok("task", "show", task).stdout
    assert REMOVED_WORDS in text and f"--observed-on {day}" in text
    assert len(ohrt.json("task", "show", task)["observations"]) == 3

    done = ohrt.json("refer", "outcome", referral, "--removed", "--observed-on", day, env=as_officer(CONSTABLE))
    assert (done["status"], done["outcome_on"], done["outcome_observation"]) == ("removed", day, middle["id"])
    assert audit_entries(ohrt, "referral.outcome")[-1]["detail"]["observation"] == middle["id"]
    assert ohrt.json("refer", "show", referral)["suggestion"] is None


def test_observed_on_needs_a_gone_observation_that_day(ohrt, platform_site):
    fast(ohrt)
    url = platform_site.route("/watch/2", video_page())
    _, referral = sent_referral(ohrt, url)
    check(ohrt)
    day = observations(ohrt, referral)[0]["observed_at"][:10]
    refused = ohrt("refer", "outcome", referral, "--removed", "--observed-on", day, env=as_officer(CONSTABLE))
    assert refused.exit_code == 2 and "no check saw" in refused.stderr
    both = ohrt("refer", "outcome", referral, "--removed", "--observed-on", day, "--on", day,
                env=as_officer(CONSTABLE))
    assert both.exit_code == 2 and "not both" in both.stderr
    assert ohrt.json("refer", "show", referral)["status"] == "sent"


def test_a_timeout_is_unreachable_never_gone_and_one_dead_host_does_not_stop_the_others(ohrt, platform_site, tmp_path):
    fast(ohrt, timeout_seconds=1, host_failures=2)
    with Loopback(tmp_path / "dead") as dead:
        slow = [sent_referral(ohrt, dead.hang(f"/watch/{n}"))[1] for n in range(3)]
        live = [sent_referral(ohrt, platform_site.route(f"/watch/{n}", video_page(f"clip {n}")))[1] for n in range(3)]
        result = check(ohrt)
    assert (result["available"], result["gone"], result["unreachable"]) == (3, 0, 2)
    assert [s["reason"] for s in result["skipped"]] == ["host"]
    assert {s["referral_id"] for s in result["skipped"]} < set(slow)
    seen = {r: observations(ohrt, r) for r in slow + live}
    assert all(seen[r][0]["result"] == "available" for r in live)
    timed_out = [seen[r][0] for r in slow if seen[r]]
    assert len(timed_out) == 2
    assert all(o["result"] == "unreachable" and o["message"] == "timed out" and o["http_status"] is None
               for o in timed_out)
    assert all(ohrt.json("refer", "show", r)["suggestion"] is None for r in slow)
    # the one left is first in line next time (never looked at)
    order = check(ohrt, "--dry-run")["would_check"]
    assert order[0]["referral_id"] == result["skipped"][0]["referral_id"]


def test_server_errors_and_refusals_are_unreachable(ohrt, platform_site):
    fast(ohrt)
    answers = {"/watch/500": Response(status=503, body=REMOVED_WORDS), "/watch/429": Response(status=429),
               "/watch/403": Response(status=403, body="Sign in to confirm your age")}
    referrals = [sent_referral(ohrt, platform_site.route(path, answer))[1] for path, answer in answers.items()]
    result = check(ohrt)
    assert (result["unreachable"], result["gone"]) == (3, 0)
    assert sorted(observations(ohrt, r)[0]["http_status"] for r in referrals) == [403, 429, 503]


def test_a_removed_video_that_comes_back_is_flagged_as_reinstated(ohrt, platform_site):
    fast(ohrt)
    url = platform_site.route("/watch/back", removed_page())
    task, referral = sent_referral(ohrt, url)
    ohrt.ok("refer", "outcome", referral, "--removed", env=as_officer(CONSTABLE))
    assert check(ohrt)["gone"] == 1                                   # still down after the decision
    platform_site.route("/watch/back", video_page())                  # the uploader's appeal succeeded
    result = check(ohrt)
    assert (result["available"], result["reinstated"], result["reinstatements"]) == (1, 1, [task])
    latest = observations(ohrt, referral)[0]
    assert (latest["purpose"], latest["reinstated"]) == ("removed", True)
    assert ohrt.json("refer", "show", referral)["reinstated"] is True
    assert ohrt.json("task", "show", task)["reinstated"] is True
    assert "back " in ohrt.ok("refer", "list").stdout
    assert "available again after its removal" in ohrt.ok("task", "show", task).stdout


def test_content_gone_then_back_before_any_decision_is_a_reinstatement_too(ohrt, platform_site):
    fast(ohrt)
    url = platform_site.route("/watch/flip", removed_page())
    _, referral = sent_referral(ohrt, url)
    check(ohrt)
    platform_site.route("/watch/flip", video_page())
    assert check(ohrt)["reinstated"] == 1
    assert ohrt.json("refer", "show", referral)["suggestion"] is None


def test_requests_to_one_host_keep_to_its_rate_limit(ohrt, platform_site):
    fast(ohrt, per_host_interval_seconds=0.4, workers=4)
    for n in range(4):
        sent_referral(ohrt, platform_site.route(f"/watch/r{n}", video_page(f"clip {n}")))
    result = check(ohrt)
    assert result["checked"] == 4
    moments = [h.at for h in platform_site.hits]
    assert len(moments) == 8                                          # the page, then yt-dlp's look, for each
    gaps = [b - a for a, b in zip(moments, moments[1:])]
    assert min(gaps) >= 0.38, gaps                                    # the server's clock, not ours


def test_only_the_url_is_asked_for_no_cookies_referrer_or_identity(ohrt, platform_site):
    fast(ohrt)
    url = platform_site.route("/watch/c", Response(body=video_page().body,
                                                   headers={"Set-Cookie": "session=tracker-123; Path=/"}))
    sent_referral(ohrt, url)
    check(ohrt)
    check(ohrt)
    hits = hits_of(platform_site, "/watch/c")
    assert len(hits) == 4 and all(h.method == "GET" for h in hits)
    for hit in hits:
        names = {name.lower() for name in hit.headers}
        assert not names & {"cookie", "referer", "authorization", "from"}, hit.headers
        assert "ohrt" not in json.dumps(hit.headers).lower()
    assert {h.path for h in platform_site.hits} == {"/watch/c"}     # the media itself is never fetched


def test_a_dry_run_lists_what_would_be_looked_at_and_asks_nothing(ohrt, platform_site):
    fast(ohrt)
    _, referral = sent_referral(ohrt, platform_site.route("/watch/d", video_page()))
    plan = check(ohrt, "--dry-run")
    assert [(t["referral_id"], t["purpose"], t["last_observed"]) for t in plan["would_check"]] == [
        (referral, "awaiting", None)]
    assert platform_site.hits == []
    assert rows(ohrt, "SELECT COUNT(*) AS n FROM observations")[0]["n"] == 0
    assert "would look at 1 URL(s) on 1 host(s)" in ohrt.ok("refer", "check", "--dry-run").stdout


def test_each_run_is_one_audit_entry_pinning_its_observations(ohrt, platform_site):
    fast(ohrt)
    for n in range(5):
        sent_referral(ohrt, platform_site.route(f"/watch/a{n}", video_page(f"clip {n}")))
    before = len(rows(ohrt, "SELECT seq FROM audit"))
    result = check(ohrt)
    after = rows(ohrt, "SELECT seq FROM audit")
    assert len(after) == before + 1
    entry = audit_entries(ohrt, "check.run")[-1]
    assert (entry["officer"], entry["object_id"], entry["detail"]["observations"]) == ("scheduled", str(result["run"]), 5)
    assert result["audit_seq"] == entry["seq"]
    assert ohrt.ok("audit", "verify").exit_code == 0
    # a row edited afterwards no longer matches the digest its run's entry holds
    import hashlib
    from ohrt_cli.ground.audit import canonical_json
    from ohrt_cli.stages.refer.checking import OBSERVATION_COLUMNS
    found = rows(ohrt, f"SELECT {', '.join(OBSERVATION_COLUMNS)} FROM observations ORDER BY id")
    for row in found:
        row["reinstated"] = row["reinstated"]
    digest = hashlib.sha256("".join(canonical_json(r) + "\n" for r in found).encode()).hexdigest()
    assert digest == entry["detail"]["observations_sha256"]


def test_two_checks_never_run_at_once(ohrt, platform_site):
    fast(ohrt, timeout_seconds=2, host_failures=5)
    for n in range(2):
        sent_referral(ohrt, platform_site.hang(f"/watch/h{n}"))
    first = start_ohrt(ohrt.home, "refer", "check", "--json")
    try:
        deadline = time.monotonic() + 20
        while not platform_site.hits and time.monotonic() < deadline:
            time.sleep(0.05)
        assert platform_site.hits, "the first check never started"
        second = run_ohrt(ohrt.home, "refer", "check")
        assert second.returncode == 1
        assert "another `ohrt refer check` is running" in second.stderr
        assert str(first.pid) in second.stderr
    finally:
        out, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert json.loads(out)["unreachable"] == 2
    assert len(audit_entries(ohrt, "check.run")) == 1


def test_a_run_killed_midway_keeps_what_it_saw_and_the_next_run_audits_it(ohrt, platform_site):
    fast(ohrt, timeout_seconds=30, per_host_interval_seconds=0)
    sent_referral(ohrt, platform_site.route("/watch/k0", video_page()))
    sent_referral(ohrt, platform_site.hang("/watch/k1"))
    first = start_ohrt(ohrt.home, "refer", "check")
    deadline = time.monotonic() + 20
    while len(hits_of(platform_site, "/watch/k1")) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert rows(ohrt, "SELECT state FROM check_runs") == [{"state": "running"}]
    platform_site.route("/watch/k1", video_page())
    result = check(ohrt)
    assert result["interrupted_runs"] == [1]
    entries = audit_entries(ohrt, "check.run")
    assert [(e["object_id"], e["detail"].get("interrupted", False)) for e in entries] == [("1", True), ("2", False)]
    assert rows(ohrt, "SELECT state FROM check_runs ORDER BY id") == [{"state": "interrupted"}, {"state": "done"}]


def test_a_bad_limit_in_config_is_one_line_naming_the_key(ohrt):
    fast(ohrt, workers=0)
    refused = ohrt("refer", "check")
    assert refused.exit_code == 2 and "check.workers" in refused.stderr


def test_the_time_budget_leaves_the_rest_for_the_next_run(ohrt, platform_site):
    fast(ohrt, per_host_interval_seconds=0.6, time_budget_seconds=1, metadata=False)
    for n in range(4):
        sent_referral(ohrt, platform_site.route(f"/watch/b{n}", video_page(f"clip {n}")))
    first = check(ohrt)
    assert first["budget_spent"] and 1 <= first["checked"] < 4
    assert {s["reason"] for s in first["skipped"]} == {"budget"}
    second = check(ohrt)
    looked = {o["url"] for o in rows(ohrt, "SELECT url FROM observations")}
    assert len(looked) == min(4, first["checked"] + second["checked"])  # the next run starts with those left


def test_config_check_knows_the_check_keys(ohrt):
    fast(ohrt, host_failures=3, metadata=True)
    assert ohrt.ok("config", "check").stdout.strip().endswith("is usable")
    fast(ohrt, metadata="yes")
    result = ohrt("config", "check", "--json")
    problems = [f for f in json.loads(result.stdout)["findings"] if f["level"] == "error"]
    assert [f["where"] for f in problems] == ["[check] metadata"]


def test_a_known_re_upload_of_a_library_item_is_looked_at_too(ohrt, platform_site, library_media):
    """The URL of a capture the library matched is looked at while the item is kept (purpose reupload)."""
    fast(ohrt, per_host_interval_seconds=0)
    constable = as_officer(CONSTABLE)
    original = platform_site.route("/watch/song", removed_page())
    task = ohrt.ok("task", "add", "--url", original, "--platform", "youtube", "--title", "Song", "--applicant",
                   "DC Rae", "--ocu", "Central West", "--unit", "Gangs", "--uploaded", "2026-01-02", "--rationale",
                   "Goads a rival group", env=constable).stdout.strip()
    ohrt.ok("capture", "--file", library_media.song(1), "--url", original, "--reason", "the song", "--task", task,
            env=constable)
    ohrt.ok("review", task, "--decision", "refer", "--format", "music-video", "--clause", "youtube:violent-criminal-orgs",
            "--finding", "provocative-language|Names a rival", env=constable)
    referral = ohrt.json("refer", "draft", task, env=constable)["id"]
    ohrt.ok("refer", "qa", referral, "--approve", env=as_officer("2345"))
    ohrt.ok("refer", "sent", referral, env=constable)
    item = ohrt.json("refer", "outcome", referral, "--removed", env=constable)["library_item"]["id"]
    copy = platform_site.route("/watch/copy", video_page("copy"))
    other = ohrt.ok("task", "add", "--url", copy, "--platform", "youtube", "--title", "Copy", "--applicant", "DC Rae",
                    "--ocu", "Central West", "--unit", "Gangs", "--uploaded", "2026-01-02", "--rationale",
                    "A re-upload", env=constable).stdout.strip()
    captured = ohrt.json("capture", "--file", library_media.reupload("reencoded"), "--url", copy, "--reason",
                         "a re-upload", "--task", other, env=constable)
    assert [m["item_id"] for m in captured["matches"]] == [item]

    plan = {t["url"]: t for t in check(ohrt, "--dry-run")["would_check"]}
    assert (plan[copy]["purpose"], plan[copy]["item_id"], plan[copy]["task_id"]) == ("reupload", item, other)
    assert plan[original]["purpose"] == "removed"
    result = check(ohrt)
    assert (result["available"], result["gone"], result["reinstated"]) == (1, 1, 0)   # the copy is still up
    seen = ohrt.json("task", "show", other)["observations"]
    assert [(o["purpose"], o["item_id"], o["result"]) for o in seen] == [("reupload", item, "available")]


def test_the_purge_leaves_an_observation_its_result_and_date_but_not_its_address(ohrt, platform_site):
    fast(ohrt)
    url = platform_site.route("/watch/p", removed_page())
    task, referral = sent_referral(ohrt, url)
    check(ohrt)
    ohrt.ok("refer", "outcome", referral, "--not-removed", env=as_officer(CONSTABLE))
    ohrt.ok("refer", "close", task, "--reason", "no grounds for appeal", env=as_officer(CONSTABLE))
    ohrt.ok("purge", env={"OHRT_NOW": "2099-01-01T00:00:00+00:00"})
    assert rows(ohrt, "SELECT result, url, evidence, message, substr(observed_at, 1, 4) > '2000' AS dated "
                      "FROM observations") == [{"result": "gone", "url": None, "evidence": None,
                                                "message": REMOVED_WORDS, "dated": 1}]
    assert check(ohrt, "--dry-run")["would_check"] == []
