"""Helpers for the referral tests: reviewed tasks made through the real CLI, routes in config.toml, and
reading drafts back."""

from __future__ import annotations

import email
import email.policy
import tomllib
from pathlib import Path

import tomli_w

from .home import CONSTABLE, INSPECTOR, SERGEANT, TASK_ARGS, as_officer  # noqa: F401

URLS = {
    "youtube": "https://youtu.be/dQw4w9WgXcQ?si=SharerId123",
    "instagram": "https://www.instagram.com/reel/Cxyz123/?igsh=abc",
    "tiktok": "https://www.tiktok.com/@drillacc/video/7234567890",
    "facebook": "https://www.facebook.com/watch/?v=1234567",
}
CLAUSES = {
    "youtube": "youtube:violent-criminal-orgs",
    "instagram": "instagram:dangerous-orgs",
    "tiktok": "tiktok:violent-hateful-orgs",
    "facebook": "facebook:dangerous-orgs",
}
FINDING = "provocative-language|Names a rival and mocks his injuries"
NO_CAPTURE = ["--no-capture", "--reason", "Content deleted before capture"]


CONTACTS = {"instagram": "le-referrals@instagram.example.com", "tiktok": "le-referrals@tiktok.example.com"}


def real_contacts(ohrt) -> None:
    """Give the mailbox routes real-looking contacts in place of the shipped placeholders, which QA refuses."""
    for platform, contact in CONTACTS.items():
        set_config(ohrt, f"routes.{platform}", {"contact": contact})


def clause_for(ohrt, platform: str) -> str:
    """A clause id of `platform`'s catalogue (the preferred one when it exists)."""
    clauses = [c["id"] for c in ohrt.json("tos", "list", platform)]
    return CLAUSES[platform] if CLAUSES[platform] in clauses else clauses[0]


def add_task(ohrt, platform: str = "instagram", *extra: str, title: str = "Drill video") -> str:
    args = list(TASK_ARGS)
    args[args.index("--title") + 1] = title
    return ohrt.ok("task", "add", "--url", URLS[platform], *args, *extra).stdout.strip()


def review(ohrt, task_id: str, platform: str, *extra: str, findings=(FINDING,), capture: bool = False) -> None:
    """Review `task_id` through the CLI, deciding to refer, as the constable."""
    args = ["review", task_id, "--decision", "refer", "--format", "music-video", "--clause", clause_for(ohrt, platform)]
    for finding in findings:
        args += ["--finding", finding]
    ohrt.ok(*args, *([] if capture else NO_CAPTURE), *extra, env=as_officer(CONSTABLE))


def reviewed_task(ohrt, platform: str = "instagram", *task_extra: str, title: str = "Drill video",
                  review_extra=(), findings=(FINDING,)) -> str:
    task_id = add_task(ohrt, platform, *task_extra, title=title)
    review(ohrt, task_id, platform, *review_extra, findings=findings)
    return task_id


def draft(ohrt, task_id: str, officer: str = CONSTABLE) -> dict:
    return ohrt.json("refer", "draft", task_id, env=as_officer(officer))


def approve(ohrt, referral_id: str, officer: str = SERGEANT) -> dict:
    return ohrt.json("refer", "qa", referral_id, "--approve", env=as_officer(officer))


def sent(ohrt, referral_id: str, *extra: str) -> dict:
    return ohrt.json("refer", "sent", referral_id, *extra, env=as_officer(CONSTABLE))


def set_config(ohrt, table: str, values: dict) -> None:
    """Merge `values` into config.toml's [table] (dotted, e.g. 'routes.facebook')."""
    path = ohrt.home / "config.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    node = raw
    for part in table.split("."):
        node = node.setdefault(part, {})
    node.update(values)
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")


def drop_config(ohrt, table: str) -> None:
    """Remove config.toml's top-level [table] (and its sub-tables)."""
    path = ohrt.home / "config.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    raw.pop(table, None)
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")


def read_eml(path: str | Path) -> email.message.EmailMessage:
    return email.message_from_bytes(Path(path).read_bytes(), policy=email.policy.default)


def plain_body(message) -> str:
    return message.get_body(("plain",)).get_content()


def task_status(ohrt, task_id: str) -> str:
    return ohrt.json("task", "show", task_id)["status"]
