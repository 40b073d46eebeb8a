"""A purged record says `purged on DATE under RULE` wherever it is shown — task list and show, review show,
capture list and show, verify, library list and show, refer show — never the blanks the purge left behind;
`task list --status purged` lists them (SOP 2.2, 10.8)."""

from __future__ import annotations

import json

import pytest

from support.home import new_home
from support.library import CONSTABLE, SERGEANT, captured_task, env, library_item, review, run_ohrt, youtube

BUILT = "2026-03-05"
PURGE_AT = "2027-06-01T02:00:00+00:00"
MUSIC = "purged on 2027-06-01 under SOP 10.8 (Domain library, retention ended)"
CAPTURED = "purged on 2027-06-01 under SOP 2.2 (captured material, retention ended)"


@pytest.fixture(scope="module")
def purged(tmp_path_factory, make_clip):
    ohrt = new_home(tmp_path_factory.mktemp("purged-display") / "home", env=env(BUILT))
    clip = make_clip("purged-display", seconds=3)
    made = library_item(ohrt, clip, youtube(1), when=BUILT, derivatives=False)
    task, capture = captured_task(ohrt, clip, youtube(2), when=BUILT, derivatives=False)
    review(ohrt, task, when=BUILT, decision="nfa")
    made["nfa"] = {"task": task, "capture": capture["id"]}
    kept = ohrt.ok("task", "add", "--url", youtube(3), "--title", "Kept", "--applicant", "DC Rae", "--ocu", "X",
                   "--unit", "Y", "--uploaded", "2027-05-01", "--rationale", "r", env=env("2027-05-20")).stdout.strip()
    made["kept"] = kept
    done = run_ohrt(ohrt.home, "purge", "--json", extra_env={"OHRT_NOW": PURGE_AT})
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["purged"]) == 2
    ohrt.made = made
    return ohrt


def shown(ohrt, *args):
    return ohrt.ok(*args, env={"COLUMNS": "120", **env("2027-06-02", SERGEANT)}).stdout


def test_task_list_marks_purged_tasks_and_filters_them(purged):
    made = purged.made
    out = shown(purged, "task", "list")
    line = next(x for x in out.splitlines() if made["task"] in x)
    assert "purged" in line and "purged on 2027-06-01" in line
    assert "purged" not in next(x for x in out.splitlines() if made["kept"] in x)
    only = purged.json("task", "list", "--status", "purged")
    assert [t["id"] for t in only] == [made["task"], made["nfa"]["task"]]
    assert (only[0]["purged"], only[1]["purged"]) == (MUSIC, CAPTURED)
    assert purged.json("task", "list", "--status", "received")[0]["purged"] is None
    assert f"purged: {MUSIC}" in shown(purged, "task", "show", made["task"])


def test_review_and_capture_show_say_purged_not_none_or_complete(purged):
    made = purged.made
    head = shown(purged, "review", "show", made["task"]).splitlines()[0]
    assert head.endswith(MUSIC) and "None" not in head
    out = shown(purged, "capture", "show", made["capture"])
    assert f"status: {MUSIC}" in out and "complete" not in out and "captures/C-" not in out
    assert "path: —" in out
    line = next(x for x in shown(purged, "capture", "list").splitlines() if made["capture"] in x)
    assert "purged" in line and "complete" not in line
    result = purged("capture", "open", made["capture"], "--reason", "check", env={"OHRT_OFFICER": CONSTABLE})
    assert result.exit_code == 2 and MUSIC in result.stderr


def test_verify_says_what_was_purged_instead_of_counting_it_intact(purged):
    made = purged.made
    out = shown(purged, "verify")
    assert "store intact: 0 capture(s), 0 file(s) re-hashed; 2 purged under retention" in out
    out = shown(purged, "verify", made["capture"])
    assert f"{made['capture']}: purged on 2027-06-01 under retention" in out


def test_library_and_referral_show_the_tombstone(purged):
    made = purged.made
    item = purged.json("library", "show", made["item"])
    assert item["purged"] == MUSIC
    assert f"purged: {MUSIC}" in shown(purged, "library", "show", made["item"])
    line = next(x for x in shown(purged, "library", "list", "--all").splitlines() if made["item"] in x)
    assert "purged on 2027-06-01" in line
    out = shown(purged, "refer", "show", made["referral"])
    assert "draft: deleted by the purge" in out and f"purged: {MUSIC}" in out
