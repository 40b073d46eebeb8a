"""Seeding homes for the governance tests (issue 7) through the real CLI, with OHRT_NOW placing each
event in the quarter it belongs to. Officers: PS Ann Lee 2345 (sergeant), PC Sam Okafor 7781 (constable),
Insp Ray Diaz 9001 (inspector), and — added here — PS Kim Park 2346 (sergeant, a second supervisor)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from .home import CONSTABLE, INSPECTOR, SERGEANT, Ohrt, new_home
from .library import captured_task, library_item, removed, review as review_music

SECOND_SERGEANT = "2346"

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
        ohrt.ok("refer", "draft", task_id, "--summary", "The clause is cited below.", env={**constable, **at(drafted)})
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


# ------------------------------------------------------------------------------ the Domain library

def music_removed(ohrt: Ohrt, n: int, clip: Path, url: str, when: str, *, fmt: str = "music-video",
                  derivatives: bool = False) -> dict:
    """A task received at `when` (any date: its upload date is that day), its capture of `clip`, a review
    as `fmt` and a referral removed, all at `when`: the library helpers' flow for dates before 2026
    (their tasks are uploaded 2026-01-02). Without derivatives the capture is not fingerprinted, so it
    neither matches nor is matched. Returns `refer outcome`'s result (with `library_item`)."""
    task = add_task(ohrt, n, url, when)
    ohrt.ok("capture", "--file", clip, "--url", url, "--reason", "library figures", "--task", task,
            *([] if derivatives else ["--no-derivatives"]), env={"OHRT_OFFICER": CONSTABLE, **at(when)})
    review_music(ohrt, task, when=when, fmt=fmt)
    return {"task": task, **removed(ohrt, task, when=when)}


def seed_library(ohrt: Ohrt, clip: Path, other_home: Path) -> dict:
    """The Domain library of 2026Q2 and Q3 through the real CLI, on top of the seeded quarters; returns
    the ids. `clip` is the one clip fingerprinted: item A's, and the re-uploads'. The other items are
    captured without derivatives, so they match nothing.

    Items (created; expires): C removed 2025-07-15 (2026-07-15; purged 2026-07-16), F 2025-09-10
    (2026-09-10; its purge on 2026-09-20 is cut short: tombstone 'purging'), E 2025-10-20 (2026-10-20;
    held from 2026-09-01), D added by hand 2025-11-02 (2026-11-02), A 2026-04-10, B 2026-08-01; and X,
    another force's hashes imported 2026-08-20 (expiring 2026-11-20), not this team's item.
    Re-uploads of A's clip: R0 captured 2026-05-20 (and matched again 2026-09-01), R1 2026-07-20 (and again
    2026-08-12), R2 2026-08-10.

    Hand counts at the end of 2026Q3 (2026Q2): size 5 — A B D E F (A C D E F); added 1 — B (A); purged
    1 — C (0); under hold 1 — E (0); expiring next quarter, not held 1 — D (C F: 2); re-uploads 2 — R1 R2
    (R0: 1)."""
    from ohrt_cli.stages.library import retention

    made: dict = {}
    yt = "https://www.youtube.com/watch?v=secretvid{}"
    for key, n, when in (("C", 31, "2025-07-15T09:00:00"), ("F", 32, "2025-09-10T09:00:00"),
                         ("E", 33, "2025-10-20T09:00:00")):
        made[key] = music_removed(ohrt, n, clip, yt.format(n), when)["library_item"]["id"]
    # D: reviewed as a plain video, so its removal made no item; added by hand once the format was corrected.
    outcome = music_removed(ohrt, 34, clip, yt.format(34), "2025-11-02T09:00:00", fmt="video")
    assert outcome["library_item"] is None
    made["D"] = ohrt.json("library", "add", outcome["task"], "--reason", "format corrected to music video",
                          env={"OHRT_OFFICER": CONSTABLE, **at("2025-11-02T10:00:00")})["id"]
    made["A"] = library_item(ohrt, clip, "https://www.youtube.com/watch?v=Lib00000041", when="2026-04-10")["item"]

    def reupload(n: int, when: str) -> str:
        capture = captured_task(ohrt, clip, f"https://www.youtube.com/watch?v=Lib{n:08d}", when=when)[1]
        assert [m["item_id"] for m in capture["matches"]] == [made["A"]]
        return capture["id"]

    def match_again(capture_id: str, when: str) -> None:
        assert ohrt.json("library", "match", capture_id, env={"OHRT_OFFICER": CONSTABLE, **at(when)})["matches"]

    made["R0"] = reupload(50, "2026-05-20")
    ohrt.ok("purge", env=at("2026-07-16T02:00:00"))  # C, as cron runs it
    made["R1"] = reupload(51, "2026-07-20")
    made["B"] = library_item(ohrt, clip, "https://www.youtube.com/watch?v=Lib00000042", when="2026-08-01",
                             derivatives=False)["item"]
    made["R2"] = reupload(52, "2026-08-10")
    match_again(made["R1"], "2026-08-12T09:00:00")
    made["X"] = import_from_another_force(ohrt, clip, other_home, "2026-08-20T09:00:00")
    ohrt.ok("library", "hold", made["E"], "--investigation", "Op Quenby", "--reason", "CPIA 1996: suspect's track",
            env={"OHRT_OFFICER": SERGEANT, **at("2026-09-01T09:00:00")})
    match_again(made["R0"], "2026-09-01T10:00:00")

    def refuse(ctx, folder):  # the disk refuses: F's purge stops after its tombstone, as a killed one does
        raise OSError(16, "Device or resource busy", str(ctx.home / folder))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(retention, "delete_capture_folder", refuse)
        cut_short = ohrt("purge", env=at("2026-09-20T02:00:00"))
    assert cut_short.exit_code == 1 and f"could not finish {made['F']}" in cut_short.stderr
    return made


def import_from_another_force(ohrt: Ohrt, clip: Path, other_home: Path, when: str) -> str:
    """Another force (its own home and keys) removes the clip on 2025-11-20 and shares its hashes; this
    home imports them at `when`. Returns the imported item's id here."""
    other_home.parent.mkdir(parents=True, exist_ok=True)
    other = new_home(other_home, team="West Midlands OHRT", roster=False, env=at("2025-11-01T09:00:00"))
    other.ok("officer", "add", "PC Sam Okafor", "--number", CONSTABLE, "--role", "constable",
             env={"OHRT_OFFICER": SERGEANT, **at("2025-11-01T09:00:00")})
    music_removed(other, 60, clip, "https://www.youtube.com/watch?v=othrforce60", "2025-11-20T09:00:00",
                  derivatives=True)
    shared = other_home.parent / "wmp-hashes.json"
    other.ok("library", "export-hashes", shared, env={"OHRT_OFFICER": CONSTABLE, **at(when)})
    [item] = ohrt.json("library", "import-hashes", shared, "--key", other_home / "keys" / "public.pem",
                       env={"OHRT_OFFICER": CONSTABLE, **at(when)})["added"]
    return item
