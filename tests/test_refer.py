"""Referral to platforms, SOP 10.1–10.7 (issue 5): routes, drafts, QA, sending, outcomes, appeals, intel."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from pathlib import Path

import pytest

from support.home import TASK_ARGS
from support.refer import (CONSTABLE, CONTACTS, INSPECTOR, SERGEANT, add_task, approve, as_officer, draft,
                           drop_config, plain_body, read_eml, real_contacts, reviewed_task, sent, set_config,
                           task_status)


@pytest.fixture(autouse=True)
def contacts(ohrt):
    real_contacts(ohrt)

# ------------------------------------------------------------------------------------------ drafting


def test_mailbox_draft_is_an_eml_that_parses_back_with_every_header(ohrt):
    task_id = reviewed_task(ohrt, "instagram", title="Drill vidéo — “Ünïcode” 🔪")
    referral = draft(ohrt, task_id)
    assert referral["id"] == "R-2026-000001" and referral["version"] == 1
    assert (referral["status"], referral["route"], referral["platform"], referral["kind"]) == (
        "drafted", "mailbox", "instagram", "referral")
    assert referral["draft_path"] == "referrals/R-2026-000001/v1/referral.eml"
    path = ohrt.home / referral["draft_path"]
    assert referral["draft_file"] == str(path) and path.is_file()

    message = read_eml(path)
    assert email.utils.parseaddr(message["From"]) == ("Online Harm Referral Team", "ohrt@example.police.uk")
    assert email.utils.parseaddr(message["To"])[1] == CONTACTS["instagram"]
    assert message["Subject"].startswith("[OHRT R-2026-000001] ")
    assert "Drill vidéo — “Ünïcode” 🔪" in message["Subject"]
    assert email.utils.parsedate_to_datetime(message["Date"]) is not None
    assert message["Message-ID"] == referral["message_id"] and message["Message-ID"].endswith("@example.police.uk>")
    body = plain_body(message)
    assert "Title:           Drill vidéo — “Ünïcode” 🔪" in body
    assert "https://www.instagram.com/reel/Cxyz123" in body and "igsh" not in body
    assert "Item id:         Cxyz123" in body
    assert "Names a rival and mocks his injuries" in body
    assert "good faith" in body and "ohrt@example.police.uk" in body and "OHRT R-2026-000001" in body
    html = message.get_body(("html",)).get_content()
    assert "Drill vidéo — “Ünïcode” 🔪" in html and "<h2>The content</h2>" in html
    # every line of the file is 7-bit, so any relay or client carries it unchanged
    assert all(byte < 128 for byte in path.read_bytes())
    assert task_status(ohrt, task_id) == "referral-drafted"


def test_plain_refer_task_drafts_as_officers_type_it(ohrt):
    task_id = reviewed_task(ohrt, "tiktok")
    result = ohrt.ok("refer", task_id, env=as_officer(CONSTABLE))
    assert "R-2026-000001 (referral, v1) is drafted" in result.stdout
    assert "ohrt refer qa R-2026-000001 --approve" in result.stdout
    row = ohrt.db()["referrals"].get("R-2026-000001")
    assert (row["task_id"], row["route"], row["version"], row["status"]) == (task_id, "mailbox", 1, "drafted")
    assert row["recipient"] == CONTACTS["tiktok"]


def test_a_draft_to_a_shipped_placeholder_address_is_drafted_but_not_approved(ohrt):
    set_config(ohrt, "routes.tiktok", {"contact": "referrals@tiktok.invalid"})
    task_id = reviewed_task(ohrt, "tiktok")
    result = ohrt.ok("refer", task_id, env=as_officer(CONSTABLE))
    assert "warning: referrals@tiktok.invalid is the shipped placeholder" in result.stderr
    result = ohrt("refer", "qa", "R-2026-000001", "--approve", env=as_officer(SERGEANT))
    assert result.exit_code == 2 and "placeholder" in result.stderr and "[routes.tiktok]" in result.stderr
    set_config(ohrt, "routes.tiktok", {"contact": CONTACTS["tiktok"]})
    assert draft(ohrt, task_id)["version"] == 2
    assert approve(ohrt, "R-2026-000001")["status"] == "approved"


def test_youtube_goes_by_the_trusted_flagger_portal_as_text_and_checklist(ohrt):
    task_id = reviewed_task(ohrt, "youtube")
    referral = draft(ohrt, task_id)
    folder = ohrt.home / "referrals" / referral["id"] / "v1"
    assert referral["route"] == "portal" and referral["draft_path"].endswith("v1/portal.txt")
    assert sorted(p.name for p in folder.iterdir()) == ["checklist.txt", "portal.txt"]
    portal = (folder / "portal.txt").read_text(encoding="utf-8")
    assert "https://www.youtube.com/watch?v=dQw4w9WgXcQ" in portal and "SharerId123" not in portal
    assert "Violent extremist or criminal organizations" in portal
    assert "item id dQw4w9WgXcQ" in portal and "good faith" in portal
    checklist = (folder / "checklist.txt").read_text(encoding="utf-8")
    assert f"ohrt refer sent {referral['id']} --platform-ref" in checklist
    assert referral["message_id"] is None


def test_individual_route_needs_a_contact_set_in_config(ohrt):
    task_id = reviewed_task(ohrt, "facebook")
    result = ohrt("refer", "draft", task_id, env=as_officer(CONSTABLE))
    assert result.exit_code == 2
    assert "[routes.facebook]" in result.stderr and "config.toml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert ohrt.db()["referrals"].count == 0 and not (ohrt.home / "referrals").exists() or \
        not any((ohrt.home / "referrals").iterdir())

    set_config(ohrt, "routes.facebook", {"contact": "jo.bloggs@meta.example.com", "contact_name": "Jo Bloggs"})
    referral = draft(ohrt, task_id)
    message = read_eml(referral["draft_file"])
    assert email.utils.parseaddr(message["To"]) == ("Jo Bloggs", "jo.bloggs@meta.example.com")
    assert plain_body(message).startswith("Dear Jo Bloggs,")
    assert referral["route"] == "individual" and referral["recipient"] == "jo.bloggs@meta.example.com"


def test_routes_are_shipped_and_overridable(ohrt):
    drop_config(ohrt, "routes")  # the shipped routes only
    routes = {r["platform"]: r for r in ohrt.json("refer", "routes")}
    assert routes["youtube"]["route"] == "portal"
    assert routes["instagram"]["route"] == "mailbox" and routes["instagram"]["placeholder"] is True
    assert routes["tiktok"]["route"] == "mailbox"
    assert routes["facebook"]["route"] is None and "[routes.facebook]" in routes["facebook"]["problem"]
    set_config(ohrt, "routes.tiktok", {"contact": "le@tiktok.example.com"})
    set_config(ohrt, "routes.youtube", {"route": "individual", "contact": "tf@google.example.com"})
    routes = {r["platform"]: r for r in ohrt.json("refer", "routes")}
    assert routes["tiktok"]["contact"] == "le@tiktok.example.com" and routes["tiktok"]["placeholder"] is False
    assert routes["youtube"]["route"] == "individual"
    set_config(ohrt, "routes.tiktok", {"route": "pigeon"})
    result = ohrt("refer", "draft", reviewed_task(ohrt, "tiktok"), env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "'pigeon'" in result.stderr and "portal, mailbox, individual" in result.stderr


def test_a_task_without_a_referring_review_cannot_be_drafted(ohrt):
    task_id = add_task(ohrt, "instagram")
    result = ohrt("refer", "draft", task_id, env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and f"ohrt review {task_id}" in result.stderr
    ohrt.ok("review", task_id, "--decision", "nfa", "--format", "video", "--reason", "Generic lyrics", "--no-capture",
            env=as_officer(CONSTABLE))
    result = ohrt("refer", "draft", task_id, env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "closed" in result.stderr
    result = ohrt("refer", "draft", "T-2026-999999", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "no task" in result.stderr
    assert ohrt.db()["referrals"].count == 0


def test_a_drafted_referral_cannot_be_drafted_anew_once_approved(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id)
    approve(ohrt, referral["id"])
    result = ohrt("refer", "draft", task_id, env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "approved" in result.stderr and f"ohrt refer sent {referral['id']}" in result.stderr


# ------------------------------------------------------------------------------------------------ QA


def test_the_officer_who_drafted_cannot_approve_it(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id, officer=SERGEANT)
    result = ohrt("refer", "qa", referral["id"], "--approve", env=as_officer(SERGEANT))
    assert result.exit_code == 2 and "QA must be done by another sergeant" in result.stderr
    assert ohrt.db()["referral_qa"].count == 0
    assert ohrt.json("refer", "show", referral["id"])["status"] == "drafted"


def test_a_constable_cannot_approve(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id, officer=SERGEANT)
    result = ohrt("refer", "qa", referral["id"], "--approve", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "sergeant or above" in result.stderr
    assert ohrt.json("refer", "show", referral["id"])["status"] == "drafted"


def test_an_unapproved_draft_cannot_be_marked_sent(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id)
    result = ohrt("refer", "sent", referral["id"], env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "approved" in result.stderr and "refer qa" in result.stderr
    assert ohrt.json("refer", "show", referral["id"])["sent_on"] is None
    assert task_status(ohrt, task_id) == "referral-drafted"


def test_qa_approval_by_another_sergeant_is_recorded(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id)
    approved = approve(ohrt, referral["id"], officer=INSPECTOR)
    assert approved["status"] == "approved" and approved["qa_by"] == INSPECTOR
    assert approved["qa"] == [{"version": 1, "verdict": "approved", "officer": INSPECTOR,
                               "at": approved["qa_at"], "note": None}]
    assert task_status(ohrt, task_id) == "qa-approved"
    result = ohrt("refer", "qa", referral["id"], "--approve", env=as_officer(SERGEANT))
    assert result.exit_code == 2 and "not awaiting QA" in result.stderr


def test_a_returned_draft_is_drafted_again_as_a_new_version(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id)
    result = ohrt("refer", "qa", referral["id"], "--return", env=as_officer(SERGEANT))
    assert result.exit_code == 2 and "--note" in result.stderr
    returned = ohrt.json("refer", "qa", referral["id"], "--return", "--note", "Cite the time ranges",
                         env=as_officer(SERGEANT))
    assert returned["status"] == "returned" and task_status(ohrt, task_id) == "referral-returned"
    result = ohrt("refer", "qa", referral["id"], "--approve", env=as_officer(INSPECTOR))
    assert result.exit_code == 2 and f"ohrt refer draft {task_id}" in result.stderr
    entries = len(ohrt.json("audit", "list"))
    result = ohrt("refer", "sent", referral["id"], env=as_officer(CONSTABLE))
    assert result.exit_code == 2
    assert f"{referral['id']} is returned: only a draft a sergeant has approved can be sent" in result.stderr
    assert ohrt.json("refer", "show", referral["id"])["sent_on"] is None
    assert task_status(ohrt, task_id) == "referral-returned" and len(ohrt.json("audit", "list")) == entries

    again = ohrt.json("refer", "draft", task_id, "--summary", "At 0:10-0:25 he names a rival.",
                      env=as_officer(CONSTABLE))
    assert (again["id"], again["version"], again["status"]) == (referral["id"], 2, "drafted")
    assert again["draft_path"] == f"referrals/{referral['id']}/v2/referral.eml"
    assert (ohrt.home / referral["draft_path"]).is_file()  # version 1 is kept as it was
    assert again["message_id"] != referral["message_id"] and again["qa_by"] is None
    assert task_status(ohrt, task_id) == "referral-drafted"
    approved = approve(ohrt, referral["id"])
    assert [(q["version"], q["verdict"], q["note"]) for q in approved["qa"]] == [
        (1, "returned", "Cite the time ranges"), (2, "approved", None)]


def test_a_draft_changed_on_disk_is_not_approved(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id)
    path = Path(referral["draft_file"])
    path.chmod(0o644)
    path.write_bytes(path.read_bytes().replace(b"Drill video", b"Drill vidoe"))
    result = ohrt("refer", "qa", referral["id"], "--approve", env=as_officer(SERGEANT))
    assert result.exit_code == 2 and "changed after it was drafted" in result.stderr
    assert f"ohrt refer draft {task_id}" in result.stderr


def test_qa_says_which_way_when_neither_flag_is_given(ohrt):
    result = ohrt("refer", "qa", "R-2026-000001", env=as_officer(SERGEANT))
    assert result.exit_code == 2 and "--approve or --return" in result.stderr


# ------------------------------------------------------------------------------- sending and outcomes


def test_sent_records_date_and_platform_reference(ohrt):
    task_id = reviewed_task(ohrt, "youtube")
    referral = draft(ohrt, task_id)
    approve(ohrt, referral["id"])
    today = dt.datetime.now(dt.timezone.utc).date()
    result = ohrt("refer", "sent", referral["id"], "--on", str(today + dt.timedelta(days=1)), env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "future" in result.stderr
    record = ohrt.json("refer", "sent", referral["id"], "--on", str(today), "--platform-ref", "TF-88231",
                       env=as_officer(CONSTABLE))
    assert (record["status"], record["sent_on"], record["platform_ref"], record["sent_via"], record["sent_by"]) == (
        "sent", str(today), "TF-88231", "portal", CONSTABLE)
    assert task_status(ohrt, task_id) == "sent"


def test_sent_date_cannot_be_before_approval(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id)
    approve(ohrt, referral["id"])
    result = ohrt("refer", "sent", referral["id"], "--on", "2020-01-01", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "before the draft was approved" in result.stderr
    result = ohrt("refer", "sent", referral["id"], "--on", "10/03/2026", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr


def test_outcome_removed_after_sending(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id)
    approve(ohrt, referral["id"])
    result = ohrt("refer", "outcome", referral["id"], "--removed", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "marked sent" in result.stderr
    today = dt.datetime.now(dt.timezone.utc).date()
    sent(ohrt, referral["id"], "--on", str(today))
    result = ohrt("refer", "outcome", referral["id"], "--removed", "--on", str(today - dt.timedelta(days=1)),
                  env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "before the referral was sent" in result.stderr
    result = ohrt("refer", "outcome", referral["id"], env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "--removed or --not-removed" in result.stderr
    record = ohrt.json("refer", "outcome", referral["id"], "--removed", "--on", str(today), "--note",
                       "Taken down under dangerous orgs", env=as_officer(CONSTABLE))
    assert (record["status"], record["outcome"], record["outcome_on"], record["outcome_note"]) == (
        "removed", "removed", str(today), "Taken down under dangerous orgs")
    assert task_status(ohrt, task_id) == "removed"
    result = ohrt("refer", "appeal", referral["id"], env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "only a referral the platform did not remove" in result.stderr


def test_removal_of_music_is_offered_to_the_library_in_the_same_step(ohrt):
    library = pytest.importorskip("ohrt_cli.stages.library.items")
    if not hasattr(library, "on_removal"):
        pytest.skip("the library stage does not define on_removal yet")
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id)
    approve(ohrt, referral["id"])
    sent(ohrt, referral["id"])
    ohrt.ok("refer", "outcome", referral["id"], "--removed", env=as_officer(CONSTABLE))
    rows = list(ohrt.db().query("SELECT * FROM library_items WHERE referral_id = ?", [referral["id"]]))
    assert len(rows) <= 1  # the library decides (it may need a capture); never twice
    assert task_status(ohrt, task_id) == "removed"


def test_not_removed_then_appeal_goes_through_qa_sending_and_outcome(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    original = draft(ohrt, task_id)
    approve(ohrt, original["id"])
    result = ohrt("refer", "appeal", original["id"], env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "not-removed" in result.stderr
    today = str(dt.datetime.now(dt.timezone.utc).date())
    sent(ohrt, original["id"], "--on", today, "--platform-ref", "IG-4411")
    ohrt.ok("refer", "outcome", original["id"], "--not-removed", "--on", today, "--note", "No violation",
            env=as_officer(CONSTABLE))
    assert task_status(ohrt, task_id) == "not-removed"

    appeal = ohrt.json("refer", "appeal", original["id"], "--grounds", "The lyrics name a rival and call for violence.",
                       env=as_officer(CONSTABLE))
    assert (appeal["id"], appeal["kind"], appeal["appeal_of"], appeal["status"]) == (
        "R-2026-000002", "appeal", original["id"], "drafted")
    assert appeal["draft_path"] == "referrals/R-2026-000002/v1/appeal.eml"
    assert task_status(ohrt, task_id) == "appeal-drafted"
    message = read_eml(appeal["draft_file"])
    assert message["Subject"].startswith("[OHRT R-2026-000002] Appeal")
    assert "OHRT R-2026-000001" in message["Subject"]
    body = " ".join(plain_body(message).split())
    assert f"We referred it to you on {today} under our reference OHRT R-2026-000001 (your reference IG-4411)" in body
    assert f"On {today} you decided" in body
    assert "The lyrics name a rival and call for violence." in body
    assert "No violation" not in body  # the officer's note of the decision is not sent back
    assert ohrt.json("refer", "show", original["id"])["appeals"] == ["R-2026-000002"]

    result = ohrt("refer", "qa", appeal["id"], "--approve", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "needs a sergeant or above" in result.stderr
    shown = ohrt.json("refer", "show", appeal["id"])
    assert (shown["status"], shown["qa"], shown["qa_by"]) == ("drafted", [], None)
    returned = ohrt.json("refer", "qa", appeal["id"], "--return", "--note", "Add the time ranges",
                         env=as_officer(SERGEANT))
    assert returned["status"] == "returned" and task_status(ohrt, task_id) == "referral-returned"
    again = ohrt.json("refer", "draft", task_id, "--grounds", "At 0:10-0:25 the lyrics call for violence.",
                      env=as_officer(CONSTABLE))  # redrafts the appeal, mended
    assert (again["id"], again["kind"], again["version"]) == ("R-2026-000002", "appeal", 2)
    assert task_status(ohrt, task_id) == "appeal-drafted"
    approve(ohrt, appeal["id"])
    result = ohrt("refer", "appeal", original["id"], env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "already has appeal R-2026-000002" in result.stderr
    sent(ohrt, appeal["id"])
    final = ohrt.json("refer", "outcome", appeal["id"], "--removed", env=as_officer(CONSTABLE))
    assert final["status"] == "removed" and task_status(ohrt, task_id) == "removed"


def test_a_task_not_removed_and_not_appealed_can_be_closed_with_a_reason(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id)
    result = ohrt("refer", "close", task_id, "--reason", "x", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "referral-drafted" in result.stderr
    approve(ohrt, referral["id"])
    sent(ohrt, referral["id"])
    ohrt.ok("refer", "outcome", referral["id"], "--not-removed", env=as_officer(CONSTABLE))
    closed = ohrt.json("refer", "close", task_id, "--reason", "No grounds for appeal", env=as_officer(SERGEANT))
    assert closed == {"task_id": task_id, "status": "closed", "referral": referral["id"], "outcome": "not-removed"}
    assert task_status(ohrt, task_id) == "closed"
    entry = [e for e in ohrt.json("audit", "list", "--object", task_id) if e["action"] == "task.close"][0]
    assert entry["reason"] == "No grounds for appeal"


# ----------------------------------------------------------------------------------- listing, audit


def test_list_and_show_json_keys(ohrt):
    first = reviewed_task(ohrt, "instagram")
    second = reviewed_task(ohrt, "youtube")
    a, b = draft(ohrt, first), draft(ohrt, second)
    approve(ohrt, b["id"])
    rows = ohrt.json("refer", "list")
    assert [r["id"] for r in rows] == [a["id"], b["id"]]
    assert set(rows[0]) == {"id", "task_id", "kind", "appeal_of", "platform", "route", "status", "version",
                            "drafted_by", "drafted_at", "qa_by", "sent_on", "platform_ref", "outcome", "outcome_on",
                            "observed", "suggestion"}
    assert [r["id"] for r in ohrt.json("refer", "list", "--status", "approved")] == [b["id"]]
    assert [r["id"] for r in ohrt.json("refer", "list", "--task", first)] == [a["id"]]
    result = ohrt("refer", "list", "--status", "lost")
    assert result.exit_code == 2 and "drafted, returned" in result.stderr
    shown = ohrt.json("refer", "show", a["id"])
    assert {"id", "task_id", "review_id", "kind", "appeal_of", "platform", "route", "recipient", "status", "version",
            "drafted_by", "drafted_at", "draft_path", "draft_file", "draft_sha256", "files", "message_id", "qa",
            "qa_by", "qa_at", "sent_by", "sent_at", "sent_on", "sent_via", "platform_ref", "outcome", "outcome_on",
            "outcome_note", "outcome_by", "outcome_at", "outcome_observation", "appeals", "observations", "suggestion",
            "reinstated"} <= set(shown)
    table = ohrt.ok("refer", "list").stdout
    assert a["id"] in table and "mailbox" in table
    assert "referral" in ohrt.ok("refer", "show", b["id"]).stdout
    result = ohrt("refer", "show", "R-2026-000099")
    assert result.exit_code == 2 and "ohrt refer list" in result.stderr


def test_every_step_is_audited_and_the_chain_holds(ohrt):
    task_id = reviewed_task(ohrt, "instagram", "--subject", "Zebedee Quartermaine", "--ref", "CAD:1234/21NOV26")
    referral = draft(ohrt, task_id)
    approve(ohrt, referral["id"])
    sent(ohrt, referral["id"], "--platform-ref", "IG-1")
    ohrt.ok("refer", "outcome", referral["id"], "--not-removed", env=as_officer(CONSTABLE))
    entries = ohrt.json("audit", "list", "--object", referral["id"])
    assert [e["action"] for e in entries] == ["referral.draft", "referral.qa", "referral.sent", "referral.outcome"]
    assert entries[0]["detail"]["sha256"] == ohrt.json("refer", "show", referral["id"])["draft_sha256"]
    task_moves = [(e["detail"]["from"], e["detail"]["to"]) for e in ohrt.json("audit", "list", "--object", task_id)
                  if e["action"] == "task.status"]
    assert task_moves == [("reviewed", "referral-drafted"), ("referral-drafted", "qa-approved"),
                          ("qa-approved", "sent"), ("sent", "not-removed")]
    everything = json.dumps(ohrt.json("audit", "list"))
    assert "Zebedee" not in everything and "1234/21NOV26" not in everything
    ohrt.ok("audit", "verify")


def test_refusals_change_nothing(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id, officer=SERGEANT)
    before = ohrt.json("audit", "verify")["entries"]
    ohrt("refer", "qa", referral["id"], "--approve", env=as_officer(SERGEANT))
    ohrt("refer", "sent", referral["id"], env=as_officer(CONSTABLE))
    ohrt("refer", "qa", referral["id"], "--approve", env=as_officer("0000"))
    assert ohrt.json("audit", "verify")["entries"] == before
    assert ohrt.json("refer", "show", referral["id"])["status"] == "drafted"


# --------------------------------------------------------------------------------------------- intel


def test_intel_record_has_the_connect_fields_and_police_references_but_no_subjects(ohrt):
    task_id = reviewed_task(
        ohrt, "youtube", "--subject", "Zebedee Quartermaine", "--ref", "CAD:1234/21NOV26", "--ref", "CRIS:4212345/26",
        review_extra=["--research", "Aware|CRIMINT 99887766|2026-01-03|Linked to the stabbing of Marlowe Finch"])
    result = ohrt("intel", task_id, env=as_officer(CONSTABLE))
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    for heading in ("Title of content (10.4.1)", "Content URL (10.4.2)", "Platforms/channels hosting content (10.4.3)",
                    "Rationale for referral to the platform (10.4.4)", "nature of the content (10.4.5)",
                    "breach of the platform's terms of service (10.4.6)"):
        assert heading in text
    assert "Drill video" in text and "https://www.youtube.com/watch?v=dQw4w9WgXcQ" in text and "YouTube" in text
    assert "CAD:1234/21NOV26" in text and "CRIS:4212345/26" in text
    assert "Goads a rival group" in text  # the applicant's rationale
    assert "Violent extremist or criminal organizations" in text
    assert "Zebedee" not in text and "99887766" not in text and "Marlowe" not in text
    referral = draft(ohrt, task_id)
    approve(ohrt, referral["id"])
    sent(ohrt, referral["id"], "--platform-ref", "TF-1")
    text = ohrt.ok("intel", task_id, env=as_officer(CONSTABLE)).stdout
    assert f"{referral['id']}: sent" in text and "platform ref TF-1" in text
    assert ohrt.json("intel", task_id, env=as_officer(CONSTABLE))["text"] == text
    assert [e["action"] for e in ohrt.json("audit", "list", "--object", task_id)].count("intel.render") == 3


def test_intel_needs_a_referring_review(ohrt):
    task_id = add_task(ohrt, "youtube")
    result = ohrt("intel", task_id, env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "review" in result.stderr


# ------------------------------------------------------------------------------------ with a capture


def test_the_referral_takes_the_content_facts_from_the_reviewed_capture(ohrt, make_clip, site):
    site.put("refer/clip.mp4", make_clip("refer-clip", seconds=6))
    page = site.page("refer/page.html", "clip.mp4", title="Drill vidéo “Opps”")
    task_id = ohrt.ok("task", "add", "--url", page, "--platform", "instagram", *TASK_ARGS).stdout.strip()
    capture = ohrt.json("capture", page, "--task", task_id, env=as_officer(CONSTABLE))
    ohrt.ok("review", task_id, "--decision", "refer", "--format", "music-video", "--clause", "instagram:dangerous-orgs",
            "--finding", "provocative-language|Names a rival and mocks his injuries|00:04-00:05;00:01-00:03",
            "--finding", "humiliation|Shows a man made to kneel|00:01-00:03", env=as_officer(CONSTABLE))
    referral = ohrt.json("refer", "draft", task_id, env=as_officer(CONSTABLE))
    assert referral["warnings"] == [w for w in referral["warnings"] if "no capture" not in w]
    body = plain_body(read_eml(referral["draft_file"]))
    assert f"Title:           {capture['title']}" in body and "Drill vidéo “Opps”" in body
    assert f"Item id:         {capture['platform_item_id']}" in body
    assert f"Uploaded:        {capture['upload_date']}" in body
    assert "Format:          music video, 6 s" in body
    assert "Offending segments: 00:01-00:03, 00:04-00:05" in body
    flat = " ".join(body.split())
    assert "1. Names a rival and mocks his injuries At: 00:04-00:05, 00:01-00:03 Harm: Inflammatory" in flat
    assert "2. Shows a man made to kneel At: 00:01-00:03 Harm: The humiliation of a person" in flat
    # each clause names the findings, which are set out once
    assert "findings 1 and 2 above show inflammatory" in flat and "; the humiliation of a person." in flat
    assert flat.count("Names a rival and mocks his injuries") == 1


def test_a_draft_that_cannot_be_recorded_leaves_no_file(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    db = ohrt.db()
    db.execute("CREATE TRIGGER refuse_referrals BEFORE INSERT ON referrals "
               "BEGIN SELECT RAISE(ABORT, 'the database refused the row'); END")
    db.conn.commit()
    entries = len(ohrt.json("audit", "list"))
    result = ohrt("refer", "draft", task_id, env=as_officer(CONSTABLE))
    assert len(ohrt.json("audit", "list")) == entries
    assert result.exit_code == 2 and "the database refused the row" in result.stderr
    assert "internal error" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (ohrt.home / "referrals").exists() or list((ohrt.home / "referrals").rglob("*")) == []
    assert task_status(ohrt, task_id) == "reviewed"
    db.execute("DROP TRIGGER refuse_referrals")
    db.conn.commit()
    referral = draft(ohrt, task_id)
    assert referral["id"] == "R-2026-000001" and Path(referral["draft_file"]).is_file()
