"""Seeding homes for the governance tests (issue 7) through the real CLI, with OHRT_NOW placing each
event in the quarter it belongs to. Officers: PS Ann Lee 2345 (sergeant), PC Sam Okafor 7781 (constable),
Insp Ray Diaz 9001 (inspector), and — added here — PS Kim Park 2346 (sergeant, a second supervisor)."""

from __future__ import annotations

import csv
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
