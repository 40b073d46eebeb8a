"""Seeding homes for the governance tests (issue 7) through the real CLI, with OHRT_NOW placing each
event in the quarter it belongs to. Officers: PS Ann Lee 2345 (sergeant), PC Sam Okafor 7781 (constable),
Insp Ray Diaz 9001 (inspector), and — added here — PS Kim Park 2346 (sergeant, a second supervisor)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from conftest import Ohrt

CONSTABLE, SERGEANT, INSPECTOR, SECOND_SERGEANT = "7781", "2345", "9001", "2346"

# Everything a report must never show (SOP 6.5): names, URLs, titles, subjects, incident references.
SECRET_APPLICANT = "DC Priya Quenby"
SECRET_SUBJECT = "Zebedee Ovington"
SECRET_TITLE = "Quillfeather drill premiere"
SECRET_RATIONALE = "Taunts the Marlowe estate"
OFFICER_NAMES = ("PS Ann Lee", "PC Sam Okafor", "Insp Ray Diaz", "PS Kim Park")


def at(moment: str) -> dict:
    """The environment that puts a command at `moment` (UTC)."""
    return {"OHRT_NOW": f"{moment}+00:00" if "+" not in moment else moment}


def add_second_sergeant(ohrt: Ohrt) -> None:
    ohrt.ok("officer", "add", "PS Kim Park", "--number", SECOND_SERGEANT, "--role", "sergeant",
            env={"OHRT_OFFICER": SERGEANT})


def set_route_contact(ohrt: Ohrt, platform: str, contact: str) -> None:
    """A real-looking contact for a mailbox route in config.toml: QA refuses the shipped placeholders."""
    config = ohrt.home / "config.toml"
    config.write_text(config.read_text() + f'\n[routes.{platform}]\ncontact = "{contact}"\n')


def add_task(ohrt: Ohrt, n: int, url: str, received: str, *, ocu: str = "Central West", unit: str = "Gangs") -> str:
    """A task received at `received`, with a secret title, applicant, subject and rationale."""
    return ohrt.ok(
        "task", "add", "--url", url, "--title", f"{SECRET_TITLE} {n}", "--applicant", SECRET_APPLICANT,
        "--ocu", ocu, "--unit", unit, "--uploaded", received[:10], "--rationale", SECRET_RATIONALE,
        "--subject", SECRET_SUBJECT, "--ref", f"CRIS:{4200000 + n}/26",
        env={"OHRT_OFFICER": CONSTABLE, **at(received)}).stdout.strip()


def review(ohrt: Ohrt, task_id: str, decision: str, when: str, *, officer: str = CONSTABLE,
           platform: str = "youtube") -> None:
    """A review without a capture (the content was gone), recorded at `when` and dated that day."""
    args = ["review", task_id, "--decision", decision, "--format", "video", "--no-capture",
            "--reason", "content gone before capture", "--date", when[:10]]
    if decision == "refer":
        clause = {"youtube": "youtube:violent-criminal-orgs", "tiktok": "tiktok:violent-criminal-behavior"}[platform]
        args += ["--finding", "provocative-language|Goads a rival group", "--clause", clause]
    ohrt.ok(*args, env={"OHRT_OFFICER": officer, **at(when)})


def refer(ohrt: Ohrt, task_id: str, *, drafted: str, sent: str, decided: str | None = None,
          removed: bool = True, returned_once: bool = False) -> str:
    """Draft (by the constable), QA (by the sergeant; returned once first if asked), send and, when
    `decided` is given, record the platform's decision; each step at its own moment. Returns the R-id."""
    constable = {"OHRT_OFFICER": CONSTABLE}
    sergeant = {"OHRT_OFFICER": SERGEANT}
    referral = ohrt.json("refer", "draft", task_id, env={**constable, **at(drafted)})["id"]
    if returned_once:
        ohrt.ok("refer", "qa", referral, "--return", "--note", "cite the clause", env={**sergeant, **at(drafted)})
        ohrt.ok("refer", "draft", task_id, env={**constable, **at(drafted)})
    ohrt.ok("refer", "qa", referral, "--approve", env={**sergeant, **at(drafted)})
    ohrt.ok("refer", "sent", referral, env={**constable, **at(sent)})
    if decided:
        ohrt.ok("refer", "outcome", referral, "--removed" if removed else "--not-removed",
                env={**constable, **at(decided)})
    return referral


def appeal(ohrt: Ohrt, referral_id: str, *, drafted: str, sent: str, decided: str, removed: bool) -> str:
    constable = {"OHRT_OFFICER": CONSTABLE}
    appeal_id = ohrt.json("refer", "appeal", referral_id, "--grounds", "The clip names the victim",
                          env={**constable, **at(drafted)})["id"]
    ohrt.ok("refer", "qa", appeal_id, "--approve", env={"OHRT_OFFICER": SERGEANT, **at(drafted)})
    ohrt.ok("refer", "sent", appeal_id, env={**constable, **at(sent)})
    ohrt.ok("refer", "outcome", appeal_id, "--removed" if removed else "--not-removed",
            env={**constable, **at(decided)})
    return appeal_id


def import_tasks(ohrt: Ohrt, tmp: Path, count: int, received: str) -> list[str]:
    """`count` YouTube tasks imported in one go at `received`."""
    path = tmp / f"tasks-{count}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["applicant_name", "applicant_ocu", "applicant_unit", "upload_date", "incident_refs", "title",
                         "url", "platform", "rationale", "subjects"])
        for i in range(count):
            writer.writerow([SECRET_APPLICANT, "Central West", "Gangs", received[:10], "", f"{SECRET_TITLE} {i}",
                             f"https://www.youtube.com/watch?v=imp{i:08d}", "", SECRET_RATIONALE, SECRET_SUBJECT])
    result = ohrt.json("task", "import", path, env={"OHRT_OFFICER": CONSTABLE, **at(received)})
    return result["imported"]


def review_batch(ohrt: Ohrt, tmp: Path, task_ids: list[str], when: str, *, officer: str = CONSTABLE) -> None:
    """No-further-action reviews of `task_ids`, in one `ohrt review --batch`, dated and recorded at `when`."""
    path = tmp / f"reviews-{when[:10]}-{len(task_ids)}.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for task_id in task_ids:
            handle.write(json.dumps({"task": task_id, "decision": "nfa", "format": "video", "no_capture": True,
                                     "reason": "content gone; nothing harmful in the description",
                                     "review_date": when[:10]}) + "\n")
    ohrt.ok("review", "--batch", path, env={"OHRT_OFFICER": officer, **at(when)})


def write_library_rows(ohrt: Ohrt) -> None:
    """STAND-IN, written directly with sqlite: the library stage (`ohrt_cli/library.py`) is not in the tree
    yet, so its items, holds, tombstones and re-upload matches are written here in the shape the report
    reads (library_items, holds, tombstones; audit entries 'library.match' through the real audit chain).
    Replace with the library's own commands once it exists.

    At the end of 2026Q3 (2026Q2): size 4 (4), added 1 (1), purged 1 (0), under hold 1 (0), expiring next
    quarter and not held 1 (1); re-uploads detected 2 (0)."""
    from ohrt_cli import audit
    from ohrt_cli.context import open_context
    from ohrt_cli.db import transaction

    db = ohrt.db()
    tasks = [row[0] for row in db.execute("SELECT id FROM tasks ORDER BY id LIMIT 5")]
    items = [  # id, created, expires
        ("L-2026-000001", "2026-04-10T09:00:00+00:00", "2027-04-10"),
        ("L-2026-000002", "2026-08-01T09:00:00+00:00", "2027-08-01"),
        ("L-2025-000003", "2025-07-15T09:00:00+00:00", "2026-07-15"),  # purged 2026-07-16
        ("L-2025-000004", "2025-11-02T09:00:00+00:00", "2026-11-02"),  # expires in Q4
        ("L-2025-000005", "2025-10-20T09:00:00+00:00", "2026-10-20"),  # expires in Q4, held from 2026-09-01
    ]
    for (item_id, created, expires), task_id in zip(items, tasks):
        db["library_items"].insert({"id": item_id, "task_id": task_id, "source": "removal", "status": "kept",
                                    "created_at": created, "expires_on": expires, "format": "music-video",
                                    "title": SECRET_TITLE, "url": "https://www.youtube.com/watch?v=secretvid77",
                                    "channel": "Quenby Crew Official", "platforms": "youtube"})
    db["holds"].insert({"item_id": "L-2025-000005", "investigation": "Op Quenby", "reason": "CPIA 1996",
                        "placed_by": SERGEANT, "placed_at": "2026-09-01T09:00:00+00:00"})
    db["tombstones"].insert({"object_type": "library_item", "object_id": "L-2025-000003", "task_id": tasks[2],
                             "rule": "retention 12 months (SOP 10.8)", "purged_at": "2026-07-16T02:00:00+00:00",
                             "purged_by": "scheduled", "detail": "{}"})
    db.conn.close()
    ctx = open_context(ohrt.home, SERGEANT)
    ctx.clock = lambda: dt.datetime(2026, 8, 5, 9, 0, tzinfo=dt.timezone.utc)
    with transaction(ctx.db):
        for capture_id in ("C-2026-000101", "C-2026-000101", "C-2026-000102"):  # two entries, one capture
            audit.record(ctx, "library.match", "capture", capture_id, detail={"item": "L-2026-000001"})
    ctx.close()
