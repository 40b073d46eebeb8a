"""Review figures (issue 4): a batch of 10,000 reviews (target ≤ 10 s), its no-op re-run, a CSV batch that
re-reviews the same 10,000 tasks (superseding each first review), and one `ohrt review` from the shell.

Set-up, not timed: 10,000 tasks through `ohrt task import`, on YouTube, TikTok and Instagram. Capturing
10,000 media files is the capture stage's own figure, so each task is given a capture *row* (a 3-minute
video, status complete) written straight into the database with no media behind it: the review reads
only the row (its duration, to check the time ranges). The figures' names say so.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
COUNT = 10_000
PLATFORMS = [
    ("https://www.youtube.com/watch?v=r{:08d}", "youtube:violent-criminal-orgs", "youtube:harassment-cyberbullying"),
    ("https://www.tiktok.com/@drill/video/{:010d}", "tiktok:violent-criminal-behavior", "tiktok:harassment-bullying"),
    ("https://www.instagram.com/reel/R{:08d}/", "instagram:violence-incitement", "instagram:dangerous-orgs"),
]


def _ohrt(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OHRT_HOME": str(home), "OHRT_OFFICER": "2345"}
    return subprocess.run([str(BIN / "ohrt"), *args], env=env, check=True, capture_output=True, text=True)


def _timed(home: Path, *args: str) -> float:
    start = time.perf_counter()
    _ohrt(home, *args)
    return time.perf_counter() - start


def make_tasks(home: Path, work: Path) -> list[str]:
    path = work / "tasks.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["applicant_name", "applicant_ocu", "applicant_unit", "upload_date", "incident_refs",
                         "title", "url", "platform", "rationale", "subjects"])
        for i in range(COUNT):
            writer.writerow([f"DC Applicant {i % 40}", f"OCU {i % 12}", "Gangs", "2026-03-01", "",
                             f"Drill video {i}", PLATFORMS[i % 3][0].format(i), "", "Goads a rival group", ""])
    return json.loads(_ohrt(home, "task", "import", str(path), "--json").stdout)["imported"]


def give_capture_rows(home: Path, task_ids: list[str]) -> None:
    """One capture row per task (no media files): what a review reads of a capture."""
    conn = sqlite3.connect(home / "ohrt.db")
    with conn:
        conn.executemany(
            "INSERT INTO captures (id, task_id, status, method, officer, started_at, finished_at, requested_url, "
            "duration, media_kind, folder, derivatives_failed) VALUES (?, ?, 'complete', 'download', '2345', "
            "'2026-03-02T09:00:00+00:00', '2026-03-02T09:01:00+00:00', 'bench', 180.0, 'video', ?, 0)",
            [(f"C-2026-{n:06d}", task, f"captures/C-2026-{n:06d}") for n, task in enumerate(task_ids, start=1)])
        conn.execute("UPDATE tasks SET status = 'captured'")
    conn.close()


def write_jsonl(path: Path, task_ids: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for i, task in enumerate(task_ids):
            _, first, second = PLATFORMS[i % 3]
            if i % 4 == 3:
                review = {"task": task, "decision": "nfa", "format": "video",
                          "findings": [{"factor": "provocative-language", "note": "Boasts, names no one",
                                        "at": ["00:10-00:25"]}],
                          "clauses": [], "reason": "No real-world threat; lyrics are generic"}
            else:
                review = {"task": task, "decision": "refer", "format": "music-video",
                          "findings": [{"factor": "provocative-language", "note": f"Mocks a rival's death, take {i}",
                                        "at": ["01:23-01:40", "02:00-02:05"]},
                                       {"factor": "gang-affiliation", "note": "Gang signs and colours throughout",
                                        "at": ["00:05-00:30"]}],
                          "clauses": [first, second], "reason": None}
            handle.write(json.dumps(review) + "\n")


def write_csv(path: Path, task_ids: list[str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["task", "decision", "format", "factor", "note", "at", "clauses", "reason"])
        for i, task in enumerate(task_ids):
            _, first, second = PLATFORMS[i % 3]
            writer.writerow([task, "refer", "music-video", "humiliation", "Victim stripped and filmed",
                             "00:40-00:55;01:10-01:12", f"{first};{second}", ""])
            writer.writerow([task, "", "", "public-safety", "Calls for a fight at a named park", "02:30-02:45",
                             "", ""])


def run(work: Path) -> list[dict]:
    home = work / "home"
    _ohrt(home, "init", "--training", "--team", "Bench", "--mailbox", "bench@example.police.uk", "--officer", "PS Bench",
          "--number", "2345", "--role", "sergeant")
    task_ids = make_tasks(home, work)
    give_capture_rows(home, task_ids)
    jsonl = work / "reviews.jsonl"
    write_jsonl(jsonl, task_ids)
    batch_s = _timed(home, "review", "--batch", str(jsonl))
    rerun_s = _timed(home, "review", "--batch", str(jsonl))
    table = work / "reviews.csv"
    write_csv(table, task_ids)
    csv_s = _timed(home, "review", "--batch", str(table))

    single = []
    for n in range(5):
        task = task_ids[n]
        single.append(_timed(home, "review", task, "--decision", "nfa", "--format", "video",
                             "--reason", f"Second look {n}: generic"))
    return [
        {"figure": "review --batch, 10,000 JSONL reviews (capture rows only)", "value": batch_s, "unit": "s",
         "target": "≤ 10 s", "ok": batch_s <= 10},
        {"figure": "review --batch, same file again (no-op)", "value": rerun_s, "unit": "s", "target": "", "ok": None},
        {"figure": "review --batch, 10,000 CSV re-reviews (20,000 rows, superseding)", "value": csv_s, "unit": "s",
         "target": "≤ 10 s", "ok": csv_s <= 10},
        {"figure": "ohrt review, one task (median of 5, 10,000 in home)", "value": statistics.median(single),
         "unit": "s", "target": "", "ok": None},
    ]
