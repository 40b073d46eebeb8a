"""Fault injection: `ohrt task import` and `ohrt review --batch` killed with SIGKILL at random moments, then the
home checked.

Each trial runs the command on a fresh copy of a template home and kills it after a random delay within its
measured run time. Each is one transaction, so after a kill all its rows are there or none (never some), the
audit chain and `ohrt verify` pass, and the next run of the same command succeeds and leaves every row there
exactly once.
Run: .venv/bin/python bench/faults_batches.py [N]   (N trials of each; not part of the test suite)
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import faultlib as f

TASKS = 1500
REVIEWS = 600
HEADER = "applicant_name,applicant_ocu,applicant_unit,upload_date,incident_refs,title,url,platform,rationale,subjects"


def tasks_csv(path: Path, count: int, offset: int = 0) -> Path:
    rows = [f"DC Rae,Central West,Gangs,2026-01-02,CAD:{1000 + i}/02JAN26,Drill {i},"
            f"https://www.youtube.com/watch?v=v{offset + i:010d},,Goads rivals,Subject {i};Other {i}"
            for i in range(count)]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def reviews_jsonl(path: Path, task_ids: list[str]) -> Path:
    lines = []
    for i, task in enumerate(task_ids):
        lines.append(json.dumps({
            "task": task, "decision": "refer", "format": "video", "no_capture": True,
            "reason": "Made private before capture",
            "findings": [{"factor": "provocative-language", "note": f"Mocks a rival's death (verse {i})"}],
            "clauses": ["youtube:violent-criminal-orgs"]}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def trials(work: Path, base: Path, name: str, args: list[str], table: str, expected: int, n: int) -> dict:
    took = f.timed(base, *args)
    counts = dict(trials=0, kills=0, finished_first=0, all_rows_at_kill=0, no_rows_at_kill=0,
                  some_rows_at_kill=0, verify_failed=0, audit_failed=0, next_run_failed=0,
                  rows_after_next_wrong=0, tracebacks=0)
    before = f.rows(base, f"SELECT count(*) FROM {table}")[0][0]
    for i in range(n):
        home = work / f"{name}-{i}"
        shutil.copytree(base, home)
        counts["trials"] += 1
        proc = f.start(home, *args)
        if not f.kill_after(proc, f.uniform(0.15 * took, 1.1 * took)):
            counts["finished_first"] += 1
        else:
            counts["kills"] += 1
            have = f.rows(home, f"SELECT count(*) FROM {table}")[0][0] - before
            key = "all_rows_at_kill" if have == expected else "no_rows_at_kill" if have == 0 else "some_rows_at_kill"
            counts[key] += 1
            ok, problems = f.verify(home)
            counts["verify_failed"] += int(not ok)
            counts["audit_failed"] += int(not f.audit_verify(home))
        again = f.run(home, *args)
        counts["tracebacks"] += int(f.traceback_in(again.stderr))
        if again.returncode != 0:
            counts["next_run_failed"] += 1
            print(f"{name} {i}: the next run said {again.stderr.strip()}", file=sys.stderr)
        have = f.rows(home, f"SELECT count(*) FROM {table}")[0][0] - before
        counts["rows_after_next_wrong"] += int(have != expected)
        counts["audit_failed"] += int(not f.audit_verify(home))
        shutil.rmtree(home, ignore_errors=True)
    f.table(f"{' '.join(args[:2])} of {expected} rows killed at random (one run takes {took:.2f} s)", counts)
    return counts


def main(n: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="ohrt-faults-batches-"))
    home = work / "template"
    f.init(home)
    trials(work, home, "import", ["task", "import", str(tasks_csv(work / "tasks.csv", TASKS))], "tasks", TASKS, n)

    reviewed = work / "template-review"
    f.init(reviewed)
    imported = json.loads(f.run(reviewed, "task", "import", tasks_csv(work / "to-review.csv", REVIEWS, 10**6),
                                "--json", check=True).stdout)["imported"]
    trials(work, reviewed, "review", ["review", "--batch", str(reviews_jsonl(work / "reviews.jsonl", imported))],
           "reviews", REVIEWS, n)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
