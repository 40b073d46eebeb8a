"""Dip sampling, SOP 7.5: 5% of a quarter's deployments, drawn reproducibly by an inspector, checked by a
supervisor (issue 7)."""

from __future__ import annotations

import hashlib
import json

import pytest

from support.governance import (CONSTABLE, INSPECTOR, SECOND_SERGEANT, SERGEANT, add_second_sergeant, at,
                                import_tasks, review_batch)
from ohrt_cli.stages.governance.dip_sample import sample_size

AFTER_Q3 = at("2026-10-02T09:00:00")
INSPECTOR_AFTER_Q3 = {"OHRT_OFFICER": INSPECTOR, **AFTER_Q3}


@pytest.fixture
def quarter_of_41(ohrt, tmp_path):
    """41 tasks reviewed in 2026Q3 (by the constable), 3 more reviewed in Q2 and 2 in Q4."""
    q3 = import_tasks(ohrt, tmp_path, 41, "2026-07-01T09:00:00")
    review_batch(ohrt, tmp_path, q3[:20], "2026-07-15T10:00:00")
    review_batch(ohrt, tmp_path, q3[20:], "2026-09-30T23:00:00")
    return q3


def draw(ohrt, *args, env=None):
    return ohrt("dip-sample", "draw", "--quarter", "2026Q3", *args, env=env or INSPECTOR_AFTER_Q3)


def test_sample_size_is_five_percent_rounded_up_and_at_least_one():
    assert [sample_size(n) for n in (1, 19, 20, 21, 40, 41, 100, 101, 1000)] == [1, 1, 1, 2, 2, 3, 5, 6, 50]


def test_draw_takes_three_of_41_deployments_and_records_the_seed(ohrt, quarter_of_41):
    sample = json.loads(draw(ohrt, "--seed", "dice-4821", "--json").stdout)
    assert sample["population"] == 41 and sample["size"] == 3 and len(sample["tasks"]) == 3
    assert {t["task_id"] for t in sample["tasks"]} <= set(quarter_of_41)
    assert sample["seed"] == "dice-4821" and sample["algorithm"] == "sha256-rank/1"
    entry = [e for e in ohrt.json("audit", "list", "--object", "2026Q3") if e["action"] == "dip_sample.draw"]
    assert entry[0]["officer"] == INSPECTOR
    assert entry[0]["detail"]["task_ids"] == [t["task_id"] for t in sample["tasks"]]


def test_draw_is_reproducible_by_anyone_from_the_seed_and_the_task_ids(ohrt, quarter_of_41):
    sample = json.loads(draw(ohrt, "--seed", "dice-4821", "--json").stdout)
    # A third party needs only SHA-256: rank the task ids by sha256("SEED:TASK_ID") and take the first three.
    ranked = sorted(quarter_of_41, key=lambda t: hashlib.sha256(f"dice-4821:{t}".encode()).hexdigest())
    assert [t["task_id"] for t in sample["tasks"]] == ranked[:3]
    digest = hashlib.sha256("".join(f"{t}\n" for t in sorted(quarter_of_41)).encode()).hexdigest()
    assert sample["population_sha256"] == digest


def test_draw_without_a_seed_records_a_fresh_one_that_check_reproduces(ohrt, quarter_of_41):
    first = json.loads(draw(ohrt, "--json").stdout)
    assert len(first["seed"]) == 16
    result = draw(ohrt, "--seed", first["seed"], "--check", env={})
    assert result.exit_code == 0, result.stdout
    assert "matches the recorded draw" in result.stdout


def test_check_with_another_seed_exits_1_naming_the_differences(ohrt, quarter_of_41):
    draw(ohrt, "--seed", "dice-4821")
    result = draw(ohrt, "--seed", "dice-4822", "--check", env={})
    assert result.exit_code == 1
    assert "seed 'dice-4822' is not the recorded seed 'dice-4821'" in result.stdout
    assert "is in the recorded draw but not in this one" in result.stdout


def test_check_names_a_task_reviewed_in_the_quarter_after_the_draw(ohrt, quarter_of_41, tmp_path):
    draw(ohrt, "--seed", "dice-4821")
    [late] = import_tasks(ohrt, tmp_path, 1, "2026-09-01T09:00:00")
    review_batch(ohrt, tmp_path, [late], "2026-09-02T09:00:00")
    result = json.loads(draw(ohrt, "--seed", "dice-4821", "--check", "--json", env={}).stdout)
    assert result["matches"] is False
    assert f"{late} is among the quarter's deployments now but was not at the draw" in result["differences"]


def test_second_draw_for_a_quarter_is_refused_and_changes_nothing(ohrt, quarter_of_41):
    first = json.loads(draw(ohrt, "--seed", "dice-4821", "--json").stdout)
    again = draw(ohrt, "--seed", "other")
    assert again.exit_code == 2
    assert "a quarter has one draw" in again.stderr and "--seed dice-4821 --check" in again.stderr
    assert ohrt.json("dip-sample", "show", "2026Q3")["tasks"] == first["tasks"]


@pytest.mark.parametrize("officer", [SERGEANT, CONSTABLE])
def test_draw_needs_an_inspector(ohrt, quarter_of_41, officer):
    result = draw(ohrt, env={"OHRT_OFFICER": officer, **AFTER_Q3})
    assert result.exit_code == 2
    assert "inspector or above" in result.stderr
    shown = ohrt("dip-sample", "show", "2026Q3")
    assert shown.exit_code == 2 and "no dip sample has been drawn for 2026Q3" in shown.stderr
    assert ohrt.db()["dip_samples"].count == 0


def test_draw_waits_for_the_quarter_to_end(ohrt, quarter_of_41):
    result = draw(ohrt, env={"OHRT_OFFICER": INSPECTOR, **at("2026-09-30T12:00:00")})
    assert result.exit_code == 2
    assert "runs until 2026-09-30" in result.stderr and "from 2026-10-01" in result.stderr


def test_draw_refuses_a_quarter_with_no_deployments(ohrt):
    result = draw(ohrt)
    assert result.exit_code == 2
    assert "no task was reviewed in 2026Q3" in result.stderr


def test_draw_refuses_a_bad_quarter_or_seed(ohrt, quarter_of_41):
    bad = ohrt("dip-sample", "draw", "--quarter", "2026Q5", env=INSPECTOR_AFTER_Q3)
    assert bad.exit_code == 2 and "YYYYQn" in bad.stderr
    seed = draw(ohrt, "--seed", "two words")
    assert seed.exit_code == 2 and "seed 'two words' is not usable" in seed.stderr


def test_a_task_reviewed_twice_in_the_quarter_is_one_deployment(ohrt, tmp_path):
    tasks = import_tasks(ohrt, tmp_path, 21, "2026-07-01T09:00:00")
    review_batch(ohrt, tmp_path, tasks, "2026-07-02T09:00:00")
    review_batch(ohrt, tmp_path, tasks[:1], "2026-07-03T09:00:00", officer=SERGEANT)  # supersedes the first
    sample = json.loads(draw(ohrt, "--json").stdout)
    assert sample["population"] == 21 and sample["size"] == 2


# ------------------------------------------------------------------------------------------ results

@pytest.fixture
def drawn(ohrt, quarter_of_41):
    add_second_sergeant(ohrt)
    return [t["task_id"] for t in json.loads(draw(ohrt, "--seed", "dice-4821", "--json").stdout)["tasks"]]


def record(ohrt, task_id, *flags, officer=SERGEANT):
    return ohrt("dip-sample", "record", task_id, *flags, env={"OHRT_OFFICER": officer, **AFTER_Q3})


def test_record_and_show_give_proportions_and_mean_quality(ohrt, drawn):
    ok = record(ohrt, drawn[0], "--accurate", "yes", "--quality", "4", "--compliant", "yes", "--note", "Clear")
    assert ok.exit_code == 0, ok.stderr
    assert record(ohrt, drawn[1], "--accurate", "no", "--quality", "2", "--compliant", "yes", "--note",
                  "Date of review wrong", officer=INSPECTOR).exit_code == 0
    sample = ohrt.json("dip-sample", "show", "2026Q3")
    assert sample["summary"] == {"recorded": 2, "outstanding": 1, "accurate_percent": 50.0,
                                 "compliant_percent": 100.0, "mean_quality": 3.0}
    first = next(t for t in sample["tasks"] if t["task_id"] == drawn[0])
    assert first["result"]["quality"] == 4 and first["result"]["recorded_by"] == SERGEANT
    assert first["reviewed_by"] == CONSTABLE and first["decision"] == "nfa"
    text = ohrt.ok("dip-sample", "show", "2026Q3").stdout
    assert "2 recorded, 1 outstanding; accurate 50.0%, compliant 100.0%, mean quality 3.0" in text
    entries = [e for e in ohrt.json("audit", "list", "--object", drawn[0]) if e["action"] == "dip_sample.record"]
    assert entries[0]["detail"]["quarter"] == "2026Q3" and entries[0]["detail"]["quality"] == 4


def test_recording_again_corrects_the_result_and_keeps_the_earlier_one(ohrt, drawn):
    record(ohrt, drawn[0], "--accurate", "yes", "--quality", "4", "--compliant", "yes")
    record(ohrt, drawn[0], "--accurate", "yes", "--quality", "5", "--compliant", "yes", officer=SECOND_SERGEANT)
    sample = ohrt.json("dip-sample", "show", "2026Q3")
    assert sample["summary"]["recorded"] == 1 and sample["summary"]["mean_quality"] == 5.0
    rows = ohrt.db().execute("SELECT quality FROM dip_sample_results ORDER BY id").fetchall()
    assert rows == [(4,), (5,)]


def test_record_refuses_a_task_not_drawn(ohrt, drawn, quarter_of_41):
    other = next(t for t in quarter_of_41 if t not in drawn)
    result = record(ohrt, other, "--accurate", "yes", "--quality", "4", "--compliant", "yes")
    assert result.exit_code == 2 and f"{other} is in no dip sample" in result.stderr


def test_record_needs_a_supervisor_who_did_not_review_the_task(ohrt, drawn):
    constable = record(ohrt, drawn[0], "--accurate", "yes", "--quality", "4", "--compliant", "yes", officer=CONSTABLE)
    assert constable.exit_code == 2 and "sergeant or above" in constable.stderr
    ohrt.db().execute("UPDATE reviews SET officer = ? WHERE task_id = ?", [SERGEANT, drawn[0]])
    own = record(ohrt, drawn[0], "--accurate", "yes", "--quality", "4", "--compliant", "yes")
    assert own.exit_code == 2 and "another supervisor must record" in own.stderr


@pytest.mark.parametrize("flags, message", [
    (["--accurate", "maybe", "--quality", "4", "--compliant", "yes"], "must be yes or no"),
    (["--accurate", "yes", "--quality", "6", "--compliant", "yes"], "from 1 (poor) to 5 (excellent)"),
    (["--accurate", "yes", "--quality", "good", "--compliant", "yes"], "quality 'good' must be a whole number"),
    (["--accurate", "yes", "--quality", "3", "--compliant", "no"], "needs a --note"),
])
def test_record_refuses_bad_results_and_records_nothing(ohrt, drawn, flags, message):
    result = record(ohrt, drawn[0], *flags)
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert ohrt.json("dip-sample", "show", "2026Q3")["summary"]["recorded"] == 0


def test_show_of_a_quarter_not_drawn_says_how_to_draw_it(ohrt):
    result = ohrt("dip-sample", "show", "2026Q2")
    assert result.exit_code == 2 and "ohrt dip-sample draw --quarter 2026Q2" in result.stderr
