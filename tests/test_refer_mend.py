"""A returned draft is mended before it is drafted again (SOP 10.2): the officer's own words with
`refer draft --summary` or `--edit` in $EDITOR, guarded as any platform-bound text; a version the same as the
one QA returned is refused, saying what QA asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.refer import (CONSTABLE, SERGEANT, approve, as_officer, draft, plain_body, read_eml, real_contacts,
                           reviewed_task, set_config, task_status)


@pytest.fixture(autouse=True)
def contacts(ohrt):
    real_contacts(ohrt)


def returned(ohrt, note: str = "Say in one line what the video shows") -> tuple[str, dict]:
    task_id = reviewed_task(ohrt, "instagram")
    referral = draft(ohrt, task_id)
    ohrt.ok("refer", "qa", referral["id"], "--return", "--note", note, env=as_officer(SERGEANT))
    return task_id, referral


def test_a_draft_the_same_as_the_returned_one_is_refused_with_qa_note(ohrt):
    task_id, referral = returned(ohrt)
    entries = len(ohrt.json("audit", "list"))
    result = ohrt("refer", "draft", task_id, env=as_officer(CONSTABLE))
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "v2 would be the same as v1, which QA returned" in line
    assert '"Say in one line what the video shows"' in line and f"ohrt refer draft {task_id} --edit" in line
    assert not (ohrt.home / f"referrals/{referral['id']}/v2").exists()
    assert ohrt.json("refer", "show", referral["id"])["status"] == "returned"
    assert task_status(ohrt, task_id) == "referral-returned" and len(ohrt.json("audit", "list")) == entries


def test_summary_mends_the_draft_and_is_kept_for_the_next_version(ohrt):
    task_id, referral = returned(ohrt)
    again = ohrt.json("refer", "draft", task_id, "--summary", "The video names a rival\nand mocks his injuries.",
                      env=as_officer(CONSTABLE))
    assert (again["version"], again["status"], again["summary"]) == (
        2, "drafted", "The video names a rival\nand mocks his injuries.")
    body = plain_body(read_eml(again["draft_file"])).replace("\r\n", "\n")
    assert "IN SHORT\n  The video names a rival\n  and mocks his injuries." in body
    v1 = plain_body(read_eml(ohrt.home / referral["draft_path"]))
    assert "IN SHORT" not in v1
    # returned again without a change: refused; the summary carried over is what makes v3 the same
    ohrt.ok("refer", "qa", referral["id"], "--return", "--note", "Shorter", env=as_officer(SERGEANT))
    result = ohrt("refer", "draft", task_id, env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and '"Shorter"' in result.stderr and "v3 would be the same as v2" in result.stderr
    third = ohrt.json("refer", "draft", task_id, "--summary", "Names a rival, mocks his injuries.",
                      env=as_officer(CONSTABLE))
    assert third["version"] == 3
    assert approve(ohrt, referral["id"])["status"] == "approved"


def test_a_draft_not_yet_checked_may_be_drafted_again_unchanged(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    first = draft(ohrt, task_id)
    assert draft(ohrt, task_id)["version"] == first["version"] + 1


def test_edit_opens_the_editor_on_the_officers_words_with_qa_note(ohrt, tmp_path):
    task_id, referral = returned(ohrt, "Add what the video shows at 0:10")
    seen = tmp_path / "seen.txt"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\ncp "$1" "{seen}"\nprintf "At 0:10 he names the rival.\\n" >> "$1"\n')
    editor.chmod(0o755)
    again = ohrt.json("refer", "draft", task_id, "--edit", env={**as_officer(CONSTABLE), "EDITOR": str(editor),
                                                               "VISUAL": None})
    shown = seen.read_text()
    assert f"# {referral['id']} v2 (referral) of {task_id}" in shown
    assert "# QA returned v1: Add what the video shows at 0:10" in shown and "[summary]" in shown
    assert "[grounds]" not in shown  # a referral has no grounds; only an appeal does
    assert again["version"] == 2 and again["summary"] == "At 0:10 he names the rival."
    assert "At 0:10 he names the rival." in plain_body(read_eml(again["draft_file"]))


def test_an_editor_that_fails_drafts_nothing(ohrt, tmp_path):
    task_id, referral = returned(ohrt)
    result = ohrt("refer", "draft", task_id, "--edit", env={**as_officer(CONSTABLE), "EDITOR": "false",
                                                             "VISUAL": None})
    assert result.exit_code != 0 and "Traceback" not in (result.stdout + result.stderr)
    assert not (ohrt.home / f"referrals/{referral['id']}/v2").exists()


def test_the_summary_is_guarded_like_every_platform_bound_text(ohrt):
    task_id = reviewed_task(ohrt, "instagram", "--subject", "Marcus Brandwell")
    result = ohrt("refer", "draft", task_id, "--summary", "Posted by the crew of Marcus Brandwell.",
                  env=as_officer(CONSTABLE))
    assert result.exit_code == 2
    assert "from the draft's summary" in result.stderr and "reword the summary" in result.stderr
    assert "Brandwell" not in result.stderr
    assert not (ohrt.home / "referrals").exists() or not any((ohrt.home / "referrals").iterdir())


def test_a_name_in_the_possessive_is_caught_in_a_plain_text_draft(ohrt):
    set_config(ohrt, "referral", {"html": False})  # the plain text alone must be caught, not only its HTML twin
    task_id = reviewed_task(ohrt, "instagram", "--subject", "Marcus Brandwell")
    for text in ("Posted by Marcus Brandwell's crew.", "Posted by Brandwell\u2019s crew."):
        result = ohrt("refer", "draft", task_id, "--summary", text, env=as_officer(CONSTABLE))
        assert result.exit_code == 2 and "from the draft's summary" in result.stderr, text


def test_grounds_belong_to_an_appeal(ohrt):
    task_id = reviewed_task(ohrt, "instagram")
    result = ohrt("refer", "draft", task_id, "--grounds", "x", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "--summary" in result.stderr
