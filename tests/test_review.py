"""Review and decision, SOP 9.2–9.4 and 10.3 (issue 4): findings, time ranges, terms of service,
indices research, supersession — each rule through the real CLI."""

from __future__ import annotations

import json

import pytest

from support.home import add_task
from support.review import capture_clip, review_args

YOUTUBE = "https://youtu.be/abcDEF12345"
CLAUSE = "youtube:violent-criminal-orgs"


def nfa(ohrt, task_id, *extra):
    return ohrt("review", task_id, "--decision", "nfa", "--format", "video", *extra)


def one_line_error(result, *fragments):
    """Bad input: exit 2, one red line, no traceback, and it says what to do."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def row_count(ohrt, table):
    return ohrt.db().execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# ---------------------------------------------------------------------------------------- catalogues

def test_factors_and_formats_are_listed_with_their_sop_paragraphs(ohrt):
    data = ohrt.json("review", "factors")
    assert [(f["code"], f["sop"]) for f in data["factors"]] == [
        ("gang-affiliation", "9.2.1"), ("previous-incidents", "9.2.2"), ("provocative-language", "9.2.3"),
        ("humiliation", "9.2.4"), ("public-safety", "9.2.5"), ("illegal-sales", "9.2.6"), ("exploitation", "9.2.7")]
    assert data["formats"] == ["video", "music-video", "music", "image", "audio", "text", "live-stream"]
    assert data["musical_formats"] == ["music", "music-video"]


@pytest.mark.parametrize("platform", ["youtube", "instagram", "tiktok", "facebook", "snapchat", "x", "telegram",
                                      "reddit", "whatsapp"])
def test_each_platform_ships_a_catalogue_of_clauses(ohrt, platform):
    clauses = ohrt.json("tos", "list", platform)
    assert len(clauses) >= 4
    for clause in clauses:
        assert clause["id"].startswith(f"{platform}:") and clause["platform"] == platform
        assert clause["title"] and len(clause["summary"]) > 40
        assert clause["url"].startswith("https://") and clause["source"] == "shipped"
        assert len(clause["as_of"]) == 10


def test_youtube_catalogue_names_the_clauses_referrals_rest_on(ohrt):
    ids = {c["id"] for c in ohrt.json("tos", "list", "youtube")}
    assert {"youtube:violent-criminal-orgs", "youtube:violent-graphic", "youtube:harassment-cyberbullying",
            "youtube:firearms", "youtube:illegal-regulated-goods", "youtube:child-safety"} <= ids


def test_tos_list_of_a_platform_without_catalogue_says_how_to_add_one(ohrt):
    one_line_error(ohrt("tos", "list", "soundcloud"), "HOME/tos/soundcloud.toml", "youtube")


def test_tos_list_without_platform_lists_every_platform(ohrt):
    platforms = {c["platform"] for c in ohrt.json("tos", "list")}
    assert platforms == {"youtube", "instagram", "tiktok", "facebook", "snapchat", "x", "telegram", "reddit",
                         "whatsapp"}


# ------------------------------------------------------------------------------------- the decision

def test_refer_records_every_closing_field_and_moves_the_task_to_reviewed(ohrt):
    task = add_task(ohrt, YOUTUBE)
    out = ohrt.json("review", task, "--decision", "refer", "--format", "music video", "--no-capture",
                    "--reason", "Made private before capture",
                    "--finding", "provocative-language|Mocks the death of a rival",
                    "--finding", "9.2.1|Shows gang signs throughout", "--clause", CLAUSE,
                    "--clause", "harassment-cyberbullying", "--date", "2026-01-05")
    review = out["review"]
    assert review["id"] == "V-2026-000001" and review["task_id"] == task
    assert review["decision"] == "refer" and review["format"] == "music-video"
    assert review["officer"] == "2345" and review["review_date"] == "2026-01-05"
    assert review["capture_id"] is None and review["no_capture_reason"] == "Made private before capture"
    assert [f["factor"] for f in review["findings"]] == ["provocative-language", "gang-affiliation"]
    assert [c["id"] for c in review["clauses"]] == [CLAUSE, "youtube:harassment-cyberbullying"]
    assert "Mocks the death of a rival" in review["basis"] and CLAUSE in review["basis"]
    assert out["task_status"] == "reviewed"
    assert ohrt.json("task", "show", task)["status"] == "reviewed"
    actions = [e["action"] for e in ohrt.json("audit", "list", "--object", review["id"])]
    assert actions == ["review.record"]
    status = [e for e in ohrt.json("audit", "list", "--object", task) if e["action"] == "review.decide"]
    assert status[0]["detail"]["to"] == "reviewed" and status[0]["detail"]["review"] == review["id"]


def test_nfa_closes_the_task(ohrt):
    task = add_task(ohrt, YOUTUBE)
    result = nfa(ohrt, task, "--no-capture", "--reason", "Deleted by the uploader; nothing to refer")
    assert result.exit_code == 0, result.stderr
    assert "task now closed" in result.stdout
    assert ohrt.json("task", "show", task)["status"] == "closed"
    review = ohrt.json("review", "show", task)["current"]
    assert review["decision"] == "nfa" and review["basis"].startswith("No further action: Deleted by the uploader")


def test_refer_needs_a_finding_and_a_clause(ohrt):
    task = add_task(ohrt, YOUTUBE)
    base = ["review", task, "--decision", "refer", "--format", "video", "--no-capture", "--reason", "gone"]
    one_line_error(ohrt(*base, "--clause", CLAUSE), "at least one finding")
    one_line_error(ohrt(*base, "--finding", "humiliation|Victim stripped and filmed"), "at least one cited clause")
    assert row_count(ohrt, "reviews") == 0 and ohrt.json("task", "show", task)["status"] == "received"


def test_nfa_needs_a_reason(ohrt):
    task = add_task(ohrt, YOUTUBE)
    one_line_error(nfa(ohrt, task), "needs a reason", "--reason")


def test_decision_and_format_must_be_known(ohrt):
    task = add_task(ohrt, YOUTUBE)
    one_line_error(ohrt("review", task, "--decision", "remove", "--format", "video"), "refer or nfa")
    one_line_error(ohrt("review", task, "--decision", "nfa", "--format", "podcast", "--reason", "x"),
                   "format 'podcast'", "music-video")
    one_line_error(ohrt("review", task, "--format", "video"), "--decision")


def test_unknown_factor_lists_the_known_ones(ohrt):
    task = add_task(ohrt, YOUTUBE)
    one_line_error(ohrt(*review_args(task, "refer", finding="drill|Loud music"), "--no-capture", "--reason", "x"),
                   "harm factor 'drill'", "gang-affiliation (9.2.1)", "ohrt review factors")


def test_a_finding_needs_a_note(ohrt):
    task = add_task(ohrt, YOUTUBE)
    one_line_error(ohrt(*review_args(task, "refer", finding="humiliation| "), "--no-capture", "--reason", "x"),
                   "has no note")


def test_a_note_holding_a_bar_ends_with_one(ohrt):
    task = add_task(ohrt, YOUTUBE)
    one_line_error(ohrt(*review_args(task, "refer", finding="humiliation|Slapped | kicked"), "--no-capture",
                        "--reason", "x"), "time range 'kicked'", "01:23-01:40")
    review = ohrt.json(*review_args(task, "refer", finding="humiliation|Slapped | kicked|"), "--no-capture",
                       "--reason", "x")["review"]
    assert review["findings"][0]["note"] == "Slapped | kicked" and review["findings"][0]["at"] == []


def test_a_review_needs_a_capture_unless_no_capture_says_why(ohrt):
    task = add_task(ohrt, YOUTUBE)
    one_line_error(ohrt(*review_args(task, "refer")), "has no capture to review", "--no-capture")
    one_line_error(ohrt(*review_args(task, "refer"), "--no-capture"), "without a capture needs a reason")
    ohrt.ok(*review_args(task, "refer"), "--no-capture", "--reason", "Account suspended before capture")


def test_time_ranges_need_a_capture_to_be_checked_against(ohrt):
    task = add_task(ohrt, YOUTUBE)
    one_line_error(ohrt(*review_args(task, "refer", finding="humiliation|Victim slapped|00:10-00:20"),
                        "--no-capture", "--reason", "gone"), "time ranges need a capture")


# ------------------------------------------------------------------------------- terms of service

def test_a_clause_of_another_platform_is_refused_naming_both(ohrt):
    task = add_task(ohrt, YOUTUBE)
    line = one_line_error(ohrt(*review_args(task, "refer", clause="tiktok:violent-criminal-behavior"),
                               "--no-capture", "--reason", "gone"), "TikTok", "YouTube", "ohrt tos list youtube")
    assert "tiktok:violent-criminal-behavior" in line
    assert row_count(ohrt, "reviews") == 0


def test_an_unknown_clause_points_to_the_list_of_valid_ones(ohrt):
    task = add_task(ohrt, YOUTUBE)
    one_line_error(ohrt(*review_args(task, "refer", clause="youtube:no-such-rule"), "--no-capture", "--reason", "x"),
                   "youtube:no-such-rule", "`ohrt tos list youtube`")
    one_line_error(ohrt(*review_args(task, "refer", clause="not a clause!"), "--no-capture", "--reason", "x"),
                   "platform:clause")


def test_a_platform_without_catalogue_may_be_closed_but_not_referred(ohrt):
    task = add_task(ohrt, "https://soundcloud.com/artist/track", "--platform", "soundcloud")
    one_line_error(ohrt(*review_args(task, "refer", clause="soundcloud:violence"), "--no-capture", "--reason", "x"),
                   "no terms-of-service catalogue", "HOME/tos/soundcloud.toml", "nfa")
    ohrt.ok("review", task, "--decision", "nfa", "--format", "music", "--no-capture", "--reason", "Not in breach")
    assert ohrt.json("task", "show", task)["status"] == "closed"


def write_team_tos(ohrt, platform, text):
    folder = ohrt.home / "tos"
    folder.mkdir(exist_ok=True)
    (folder / f"{platform}.toml").write_text(text, encoding="utf-8")


def test_a_team_clause_without_as_of_is_refused_not_dated_by_the_shipped_file(ohrt):
    write_team_tos(ohrt, "youtube", """
[[clauses]]
id = "threats"
title = "Threats"
summary = "Explicit threats to a named person."
url = "https://support.google.com/youtube/answer/2802268"
""")
    result = ohrt("tos", "list", "youtube")
    assert result.exit_code == 2 and "clause 'threats' is the team's own and has no as_of" in result.stderr


def test_team_overrides_a_clause_adds_one_and_withdraws_one(ohrt):
    write_team_tos(ohrt, "youtube", """
[[clauses]]
id = "violent-criminal-orgs"
title = "Violent criminal organisations (checked by the team)"
as_of = "2026-10-01"

[[clauses]]
id = "youtube:threats"
title = "Threats"
summary = "The team's note: explicit threats to a named person, as YouTube's harassment policy treats them."
url = "https://support.google.com/youtube/answer/2802268"
as_of = "2026-09-15"

[[clauses]]
id = "hate-speech"
withdrawn = true
""")
    clauses = {c["id"]: c for c in ohrt.json("tos", "list", "youtube")}
    overridden = clauses[CLAUSE]
    assert overridden["title"] == "Violent criminal organisations (checked by the team)"
    assert overridden["as_of"] == "2026-10-01" and overridden["source"] == "team override"
    assert overridden["url"] == "https://support.google.com/youtube/answer/9229472"  # kept from the shipped file
    assert clauses["youtube:threats"]["source"] == "team" and clauses["youtube:threats"]["as_of"] == "2026-09-15"
    assert "youtube:hate-speech" not in clauses
    task = add_task(ohrt, YOUTUBE)
    one_line_error(ohrt(*review_args(task, "refer", clause="youtube:hate-speech"), "--no-capture", "--reason", "x"),
                   "not in YouTube's catalogue")
    review = ohrt.json(*review_args(task, "refer", clause="youtube:threats"), "--clause", CLAUSE,
                       "--no-capture", "--reason", "x")["review"]
    assert [c["title"] for c in review["clauses"]] == [
        "Threats", "Violent criminal organisations (checked by the team)"]
    # the review keeps each clause as it read when cited, whatever the team changes later
    (ohrt.home / "tos" / "youtube.toml").unlink()
    kept = ohrt.json("review", "show", task)["current"]["clauses"]
    assert kept == review["clauses"] and kept[1]["as_of"] == "2026-10-01"


def test_team_adds_a_catalogue_for_a_platform_without_one(ohrt):
    write_team_tos(ohrt, "soundcloud", """
name = "SoundCloud"
policy = "SoundCloud Community Guidelines"
url = "https://soundcloud.com/community-guidelines"
as_of = "2026-09-01"

[[clauses]]
id = "violence"
title = "Violence and threats"
summary = "The team's paraphrase: no content that threatens or incites violence against people."
url = "https://soundcloud.com/community-guidelines"
""")
    assert [c["id"] for c in ohrt.json("tos", "list", "soundcloud")] == ["soundcloud:violence"]
    task = add_task(ohrt, "https://soundcloud.com/artist/track", "--platform", "soundcloud")
    review = ohrt.json(*review_args(task, "refer", clause="soundcloud:violence", fmt="music"), "--no-capture",
                       "--reason", "x")["review"]
    assert review["clauses"][0]["platform"] == "soundcloud" and "SoundCloud Violence and threats" in review["basis"]


def test_a_broken_team_catalogue_is_named_with_how_to_mend_it(ohrt):
    write_team_tos(ohrt, "youtube", '[[clauses]]\nid = "new-rule"\ntitle = "New"\n')
    one_line_error(ohrt("tos", "list", "youtube"), "youtube.toml", "'new-rule' has no summary")
    write_team_tos(ohrt, "youtube", 'this is = not toml = at all')
    one_line_error(ohrt("tos", "list"), "is not valid TOML")


# ---------------------------------------------------------------------------------- supersession

def test_a_second_review_supersedes_the_first_and_history_is_kept(ohrt):
    task = add_task(ohrt, YOUTUBE)
    first = ohrt.json(*review_args(task, "refer"), "--no-capture", "--reason", "gone")["review"]
    second = ohrt.json("review", task, "--decision", "nfa", "--format", "video", "--no-capture",
                       "--reason", "On a second look the words are generic")
    assert second["supersedes"] == first["id"] and second["task_status"] == "closed"
    shown = ohrt.json("review", "show", task)
    assert shown["current"]["id"] == second["review"]["id"]
    assert [(r["id"], r["superseded_by"]) for r in shown["history"]] == [
        (first["id"], second["review"]["id"]), (second["review"]["id"], None)]
    assert shown["history"][0]["findings"] == first["findings"]
    text = ohrt.ok("review", "show", task).stdout
    assert "Earlier reviews" in text and first["id"] in text
    third = ohrt.json(*review_args(task, "refer"), "--no-capture", "--reason", "gone")
    assert third["supersedes"] == second["review"]["id"] and third["task_status"] == "reviewed"
    assert row_count(ohrt, "reviews") == 3
    assert ohrt.db().execute("SELECT count(*) FROM reviews WHERE superseded_by IS NULL").fetchone()[0] == 1


def test_current_review_returns_exactly_the_agreed_shape(ohrt):
    from ohrt_cli.stages import review as review_stage
    from ohrt_cli.ground.context import open_context

    task = add_task(ohrt, YOUTUBE)
    ohrt.ok(*review_args(task, "refer"), "--no-capture", "--reason", "gone",
            "--research", "Aware|CRIMINT 7654321|2026-01-04|Both groups linked to a stabbing")
    ctx = open_context(ohrt.home)
    try:
        review = review_stage.current_review(ctx, task)
        assert review_stage.current_review(ctx, "T-2026-999999") is None
    finally:
        ctx.close()
    assert set(review) == {"id", "task_id", "capture_id", "officer", "reviewed_at", "review_date", "decision",
                           "format", "basis", "reason", "no_capture_reason", "findings", "clauses"}
    assert set(review["findings"][0]) == {"factor", "factor_title", "note", "at"}
    assert set(review["clauses"][0]) == {"id", "platform", "title", "summary", "url", "as_of"}
    assert "CRIMINT" not in json.dumps(review) and "stabbing" not in json.dumps(review)


# ----------------------------------------------------------------------------- indices research

def test_indices_research_is_kept_police_only(ohrt):
    task = add_task(ohrt, YOUTUBE, "--ref", "CAD:1234/21NOV26")
    ohrt.ok("review", "research", task, "--system", "aware", "--reference", "CRIMINT 1234567",
            "--date", "2026-01-03", "--summary", "Rival groups; stabbing in 2025")
    ohrt.ok(*review_args(task, "refer"), "--no-capture", "--reason", "gone",
            "--research", "PNC||2026-01-04|no trace")
    shown = ohrt.json("review", "show", task)
    assert [(r["system"], r["reference"], r["summary"]) for r in shown["research"]] == [
        ("Aware", "CRIMINT 1234567", "Rival groups; stabbing in 2025"), ("PNC", None, "no trace")]
    assert shown["research"][0]["review_id"] is None and shown["research"][1]["review_id"] == shown["current"]["id"]
    assert "POLICE ONLY" in ohrt.ok("review", "show", task).stdout
    # nothing of it in the review in force, nor in the audit chain
    assert "CRIMINT" not in json.dumps(shown["current"]) and "stabbing" not in json.dumps(shown["current"])
    chain = json.dumps(ohrt.json("audit", "list"))
    assert "CRIMINT" not in chain and "stabbing" not in chain and "no trace" not in chain
    assert ohrt.db()["indices_research"].count == 2


def test_research_needs_a_system_date_and_summary(ohrt):
    task = add_task(ohrt, YOUTUBE)
    one_line_error(ohrt("review", "research", task, "--date", "2026-13-01", "--summary", "x"), "not a real calendar")
    one_line_error(ohrt("review", "research", task, "--date", "2099-01-01", "--summary", "x"), "in the future")
    one_line_error(ohrt(*review_args(task, "refer"), "--no-capture", "--reason", "x", "--research", "Aware|2026-01-01"),
                   "SYSTEM|REFERENCE|YYYY-MM-DD|SUMMARY")
    one_line_error(ohrt("review", "research", "T-2026-000099", "--date", "2026-01-01", "--summary", "x"),
                   "no task 'T-2026-000099'")
    assert ohrt.db()["indices_research"].count == 0


def test_a_police_reference_in_the_review_text_is_refused(ohrt):
    task = add_task(ohrt, YOUTUBE, "--ref", "CAD:1234/21NOV26")
    one_line_error(ohrt(*review_args(task, "refer", finding="gang-affiliation|Linked to CAD 1234/21Nov26"),
                        "--no-capture", "--reason", "gone"), "police reference 1234/21NOV26", "SOP 6.4")
    one_line_error(ohrt(*review_args(task, "refer"), "--no-capture", "--reason", "gone",
                        "--basis", "See CRIMINT 5550001", "--research", "Aware|CRIMINT 5550001|2026-01-03|x"),
                   "the basis quotes the police reference")
    assert row_count(ohrt, "reviews") == 0 and ohrt.db()["indices_research"].count == 0


# --------------------------------------------------------------------------------- with a capture

def test_a_time_range_past_the_end_of_the_media_is_refused_with_the_duration(ohrt, make_clip):
    task = add_task(ohrt, YOUTUBE)
    capture_clip(ohrt, task, make_clip("review-6s", seconds=6), YOUTUBE)
    too_long = "humiliation|Victim slapped|00:02-00:04;00:05-00:09"
    line = one_line_error(ohrt(*review_args(task, "refer", finding=too_long)),
                          "00:05-00:09", "runs past the end", "lasts 00:06")
    assert "within 00:00-00:06" in line
    review = ohrt.json(*review_args(task, "refer", finding="humiliation|Victim slapped|00:02-00:04;0:00:05-00:06"))
    assert review["review"]["findings"][0]["at"] == ["00:02-00:04", "00:05-00:06"]
    assert review["review"]["capture_id"].startswith("C-")


def test_time_ranges_must_be_well_formed_and_run_forwards(ohrt, make_clip):
    task = add_task(ohrt, YOUTUBE)
    capture_clip(ohrt, task, make_clip("review-6s", seconds=6), YOUTUBE)
    one_line_error(ohrt(*review_args(task, "refer", finding="humiliation|x|1:5-2:00")), "MM:SS-MM:SS", "01:23-01:40")
    one_line_error(ohrt(*review_args(task, "refer", finding="humiliation|x|00:04-00:02")), "does not run forwards")
    one_line_error(ohrt(*review_args(task, "refer", finding="humiliation|x|00:61-01:10")), "MM:SS-MM:SS")


def test_a_capture_whose_review_copies_are_still_to_make_can_be_reviewed(ohrt, make_clip):
    task = add_task(ohrt, YOUTUBE)
    data = ohrt.json("capture", "--file", str(make_clip("review-6s", seconds=6)), "--url", YOUTUBE, "--reason",
                     "review test", "--task", task, "--no-derivatives")
    review = ohrt.json(*review_args(task, "refer", finding="humiliation|Victim slapped|00:01-00:03"))["review"]
    assert review["capture_id"] == data["id"]


def test_time_ranges_on_an_image_are_refused(ohrt, make_image):
    task = add_task(ohrt, YOUTUBE)
    capture_id = capture_clip(ohrt, task, make_image("review-still"), YOUTUBE)
    one_line_error(ohrt(*review_args(task, "refer", finding="humiliation|Victim slapped|00:01-00:03", fmt="image")),
                   f"capture {capture_id} has no duration", "drop the time ranges")
    ohrt.ok(*review_args(task, "refer", finding="humiliation|Victim pictured stripped", fmt="image"))


def test_no_capture_is_refused_when_there_is_a_capture(ohrt, make_clip):
    task = add_task(ohrt, YOUTUBE)
    capture_id = capture_clip(ohrt, task, make_clip("review-6s", seconds=6), YOUTUBE)
    one_line_error(ohrt(*review_args(task, "refer"), "--no-capture", "--reason", "gone"), capture_id,
                   "drop --no-capture")


# ------------------------------------------------------------------------------ after a referral

def test_a_review_after_the_referral_was_sent_is_refused(ohrt):
    task = add_task(ohrt, YOUTUBE)
    ohrt.ok(*review_args(task, "refer"), "--no-capture", "--reason", "Made private before capture")
    referral = ohrt.json("refer", "draft", task)["id"]
    # a new review may overtake a draft that QA has not approved: the draft is then made again
    redo = ohrt.json(*review_args(task, "refer", finding="humiliation|Victim slapped on camera"), "--no-capture",
                     "--reason", "Made private before capture")
    assert redo["referrals_to_redraft"] == [referral]
    ohrt.ok("refer", "draft", task)
    ohrt.ok("refer", "qa", referral, "--approve", env={"OHRT_OFFICER": "9001"})
    one_line_error(nfa(ohrt, task, "--no-capture", "--reason", "x"), "approved at QA", f"ohrt refer sent {referral}")
    ohrt.ok("refer", "sent", referral)
    one_line_error(nfa(ohrt, task, "--no-capture", "--reason", "x"), f"referral {referral} sent", "ohrt refer")
    assert ohrt.json("task", "show", task)["status"] == "sent"


def test_show_of_an_unreviewed_task_and_of_an_unknown_task(ohrt):
    task = add_task(ohrt, YOUTUBE)
    assert ohrt.json("review", "show", task)["current"] is None
    assert "not reviewed yet" in ohrt.ok("review", "show", task).stdout
    one_line_error(ohrt("review", "show", "T-2026-000099"), "no task", "ohrt task list")
    one_line_error(ohrt(*review_args("T-2026-000099", "refer"), "--no-capture", "--reason", "x"), "no task")
