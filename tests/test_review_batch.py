"""Batch review (issue 4): `ohrt review --batch FILE`, JSONL or CSV, all or nothing, re-runs change nothing."""

from __future__ import annotations

import csv
import io
import json

from support.home import add_task
from support.review import capture_clip

HEADER = "applicant_name,applicant_ocu,applicant_unit,upload_date,incident_refs,title,url,platform,rationale,subjects"


def import_tasks(ohrt, tmp_path, count: int) -> list[str]:
    """`count` YouTube tasks through `ohrt task import`."""
    rows = [f"DC Rae,CW,Gangs,2026-01-02,,Drill {i},https://www.youtube.com/watch?v=vid{i:08d},,Goads rivals,"
            for i in range(count)]
    path = tmp_path / "tasks.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return ohrt.json("task", "import", path)["imported"]


def entry(task: str, i: int) -> dict:
    if i % 3 == 2:
        return {"task": task, "decision": "nfa", "format": "video", "findings": [], "clauses": [],
                "reason": "Content removed by the uploader before capture", "no_capture": True}
    return {"task": task, "decision": "refer", "format": "music-video" if i % 2 else "video",
            "findings": [{"factor": "provocative-language", "note": f"Mocks a rival's death (verse {i})"},
                         {"factor": "gang-affiliation", "note": "Gang signs throughout"}],
            "clauses": ["youtube:violent-criminal-orgs", "youtube:harassment-cyberbullying"],
            "reason": "Made private before capture", "no_capture": True}


def write_jsonl(path, entries) -> None:
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in entries), encoding="utf-8")


def counts(ohrt) -> tuple[int, int, int]:
    db = ohrt.db()
    return tuple(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("reviews", "findings", "audit"))


def test_jsonl_batch_records_every_review_and_moves_each_task(ohrt, tmp_path):
    tasks = import_tasks(ohrt, tmp_path, 30)
    path = tmp_path / "reviews.jsonl"
    write_jsonl(path, [entry(t, i) for i, t in enumerate(tasks)])
    result = ohrt.json("review", "--batch", path)
    assert len(result["applied"]) == 30 and result["rejected"] == [] and result["skipped"] == []
    assert result["applied"][0] == {"line": 1, "task": tasks[0], "review": "V-2026-000001", "decision": "refer"}
    statuses = {t["id"]: t["status"] for t in ohrt.json("task", "list")}
    assert [statuses[t] for t in tasks[:3]] == ["reviewed", "reviewed", "closed"]
    shown = ohrt.json("review", "show", tasks[1])["current"]
    assert shown["format"] == "music-video" and [f["factor"] for f in shown["findings"]] == [
        "provocative-language", "gang-affiliation"]
    batch = [e for e in ohrt.json("audit", "list") if e["action"] == "review.batch"]
    assert batch[0]["detail"]["applied"] == 30
    assert ohrt("audit", "verify").exit_code == 0


def test_running_the_same_file_again_changes_nothing(ohrt, tmp_path):
    tasks = import_tasks(ohrt, tmp_path, 12)
    path = tmp_path / "reviews.jsonl"
    write_jsonl(path, [entry(t, i) for i, t in enumerate(tasks)])
    ohrt.ok("review", "--batch", path)
    before = counts(ohrt)
    again = ohrt.json("review", "--batch", path)
    assert again["applied"] == [] and len(again["skipped"]) == 12
    assert again["skipped"][0]["reason"] == "already recorded as V-2026-000001"
    assert counts(ohrt) == before
    assert "skipped 12 already recorded" in ohrt.ok("review", "--batch", path).stdout
    # change one entry: only that task gets a new review, which supersedes its first
    changed = [entry(t, i) for i, t in enumerate(tasks)]
    changed[4]["findings"][0]["note"] = "Names the victim and mocks his death"
    write_jsonl(path, changed)
    third = ohrt.json("review", "--batch", path)
    assert [a["task"] for a in third["applied"]] == [tasks[4]] and len(third["skipped"]) == 11
    history = ohrt.json("review", "show", tasks[4])["history"]
    assert [r["superseded_by"] for r in history] == [third["applied"][0]["review"], None]


def test_one_bad_row_among_many_good_ones_applies_nothing_and_names_every_bad_line(ohrt, tmp_path):
    tasks = import_tasks(ohrt, tmp_path, 40)
    entries = [entry(t, i) for i, t in enumerate(tasks)]
    entries[22]["clauses"] = ["tiktok:violent-criminal-behavior"]            # line 23: another platform's clause
    entries[30]["findings"][0]["factor"] = "bad-vibes"                       # line 31: unknown factor
    entries[34] = '{"task": "' + tasks[34] + '", "decision": "refer",'      # line 35: not JSON
    entries.append({**entry("T-2026-009999", 0)})                           # line 41: no such task
    entries.append({**entry(tasks[0], 0), "format": "video"})               # line 42: task given twice
    path = tmp_path / "reviews.jsonl"
    write_jsonl(path, entries)
    before = counts(ohrt)
    result = ohrt("review", "--batch", path)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[0].split(" (")[0] for line in lines[:-1]] == [
        "line 23", "line 31", "line 35", "line 41", "line 42"]
    assert "TikTok" in lines[0] and "YouTube" in lines[0]
    assert "'bad-vibes'" in lines[1] and "not valid JSON" in lines[2] and "no task" in lines[3]
    assert "already has a review on line 1" in lines[4]
    assert lines[-1].startswith("error: 5 bad row(s)") and "nothing recorded" in lines[-1]
    assert counts(ohrt) == before
    assert {t["status"] for t in ohrt.json("task", "list")} == {"received"}
    data = json.loads(ohrt("review", "--batch", path, "--json").stdout)
    assert [r["line"] for r in data["rejected"]] == [23, 31, 35, 41, 42] and data["applied"] == []


def csv_text(rows: list[list[str]], header=("task", "decision", "format", "factor", "note", "at", "clauses",
                                            "reason", "no_capture")) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def test_csv_rows_of_one_task_make_one_review(ohrt, tmp_path):
    a, b, c = import_tasks(ohrt, tmp_path, 3)
    path = tmp_path / "reviews.csv"
    path.write_text("\ufeff" + csv_text([
        [a, "refer", "music-video", "provocative-language", "Mocks a rival,\nthen names him", "",
         "youtube:violent-criminal-orgs;youtube:harassment-cyberbullying", "Made private", "yes"],
        [b, "nfa", "video", "", "", "", "", "Generic lyrics; no factor", "yes"],
        [a, "", "", "humiliation", "Victim stripped", "", "", "", ""],
        [c, "refer", "video", "9.2.6", "Knives offered for sale", "", "youtube:illegal-regulated-goods",
         "Gone", "true"],
    ]), encoding="utf-8")
    result = ohrt.json("review", "--batch", path)
    assert [(r["line"], r["task"]) for r in result["applied"]] == [(2, a), (4, b), (6, c)]
    first = ohrt.json("review", "show", a)["current"]
    assert [f["factor"] for f in first["findings"]] == ["provocative-language", "humiliation"]
    assert first["findings"][0]["note"] == "Mocks a rival, then names him"
    assert [x["id"] for x in first["clauses"]] == ["youtube:violent-criminal-orgs", "youtube:harassment-cyberbullying"]
    assert ohrt.json("review", "show", b)["current"]["decision"] == "nfa"
    assert ohrt.json("review", "show", c)["current"]["findings"][0]["factor"] == "illegal-sales"
    assert ohrt.json("review", "--batch", path)["applied"] == []


def test_csv_bad_rows_are_named_by_their_line_in_the_file(ohrt, tmp_path):
    a, b, c = import_tasks(ohrt, tmp_path, 3)
    path = tmp_path / "reviews.csv"
    path.write_text(csv_text([
        [a, "refer", "video", "humiliation", "Victim\nslapped", "", "youtube:harassment-cyberbullying", "x", "yes"],
        [a, "nfa", "", "", "", "", "", "", ""],                                       # line 4: disagrees
        [b, "refer", "video", "", "a note", "", "youtube:firearms", "x", "yes"],       # line 5: no factor
        [c, "refer", "video", "humiliation", "x", "", "youtube:firearms", "x", "maybe"],  # line 6
    ]))
    result = ohrt("review", "--batch", path)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("line 4") and "differs from 'refer' on line 2" in lines[0]
    assert lines[1].startswith("line 5") and "without a factor" in lines[1]
    assert lines[2].startswith("line 6") and "not yes or no" in lines[2]
    assert counts(ohrt)[0] == 0


def test_batch_file_problems_are_one_line_each(ohrt, tmp_path):
    missing = ohrt("review", "--batch", tmp_path / "nope.jsonl")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("\n")
    assert "holds no reviews" in ohrt("review", "--batch", empty).stderr
    header = tmp_path / "header.csv"
    header.write_text("task,decision,format,clause\n")
    assert "unknown column(s) clause" in ohrt("review", "--batch", header).stderr
    keys = tmp_path / "keys.jsonl"
    write_jsonl(keys, [{"task": "T-2026-000001", "decision": "nfa", "format": "video", "why": "x"}])
    result = ohrt("review", "--batch", keys)
    assert result.exit_code == 2 and "unknown key(s) why" in result.stderr
    task = add_task(ohrt, "https://youtu.be/abcDEF12345")
    both = ohrt("review", task, "--batch", keys)
    assert both.exit_code == 2 and "give no TASK or other flag" in both.stderr


def test_batch_refuses_a_time_range_past_the_end_of_the_media(ohrt, tmp_path, make_clip):
    tasks = import_tasks(ohrt, tmp_path, 5)
    capture_clip(ohrt, tasks[3], make_clip("review-6s", seconds=6), "https://www.youtube.com/watch?v=vid00000003")
    entries = [entry(t, i) for i, t in enumerate(tasks)]
    entries[3] = {"task": tasks[3], "decision": "refer", "format": "music-video",
                  "findings": [{"factor": "provocative-language", "note": "Mocks a rival", "at": ["00:01-00:03"]},
                               {"factor": "humiliation", "note": "Victim slapped", "at": "00:04-00:05;00:05-00:12"}],
                  "clauses": ["youtube:violent-criminal-orgs"], "reason": None}
    path = tmp_path / "reviews.jsonl"
    write_jsonl(path, entries)
    result = ohrt("review", "--batch", path)
    assert result.exit_code == 2
    assert result.stderr.startswith("line 4") and "00:05-00:12" in result.stderr and "lasts 00:06" in result.stderr
    assert counts(ohrt)[0] == 0
    entries[3]["findings"][1]["at"] = "00:04-00:05;00:05-00:06"
    write_jsonl(path, entries)
    applied = ohrt.json("review", "--batch", path)["applied"]
    assert len(applied) == 5
    review = ohrt.json("review", "show", tasks[3])["current"]
    assert review["capture_id"].startswith("C-") and review["findings"][1]["at"] == ["00:04-00:05", "00:05-00:06"]
