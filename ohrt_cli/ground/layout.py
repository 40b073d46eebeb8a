"""The home's layout in one place: which file or folder holds what, and how evidence packages are named (SOP 2.2, 9.1).

A home is one folder: the database, the settings, the signing keys, the capture store, the evidence
packages exported for officers in the case, and the referral drafts. Every module that reads or writes
one of them takes its name from here, so the purge finds exactly what the other commands made.
"""

from __future__ import annotations

import re

DB_NAME = "ohrt.db"
CONFIG_NAME = "config.toml"
KEYS_DIR = "keys"
CAPTURES_DIR = "captures"
EXPORTS_DIR = "exports"
REFERRALS_DIR = "referrals"
ROSTER_JOURNAL = ".roster-change"  # a roster change between saving config.toml and its commit (ground/roster.py)
MADE_AT_INIT = (CAPTURES_DIR, EXPORTS_DIR)  # the others appear when first written

# What `ohrt export` writes into EXPORTS_DIR: the package folder TASK-evidence-DATE[-n], its zip and the
# zip's .sha256, and, after an export killed outright, a hidden staging folder or partial zip (named
# with the process id, so a sweep can tell a dead export's leftovers from a running one's).
# The documents of the officer in the case's file written on their own (`ohrt statement`, `ohrt exhibits`,
# `ohrt exhibit label`) are named TASK-KIND-DATE[-n].docx|pdf in the same folder, and purged with the task.
PACKAGE_NAME = re.compile(r"(T-\d{4}-\d{6})-(?:evidence|statement-[0-9A-Za-z]+|exhibits|label-[A-Z]+-\d+)"
                          r"-\d{4}-\d{2}-\d{2}(?:-\d+)?(?:\.zip(?:\.sha256)?|\.docx|\.pdf)?")
PARTIAL_NAME = re.compile(r"\.(T-\d{4}-\d{6})-evidence-[0-9-]+(?:\.zip)?\.partial-(\d+)-[0-9a-f]{8}")


def capture_folder(capture_id: str) -> str:
    """A capture's folder, relative to the home (as the captures table records it)."""
    return f"{CAPTURES_DIR}/{capture_id}"


def referral_folder(referral_id: str) -> str:
    """A referral's drafts, relative to the home."""
    return f"{REFERRALS_DIR}/{referral_id}"


def document_base(task_id: str, kind: str, day: str) -> str:
    """A document's name before its suffix (and any -2, -3…): `kind` is `statement-NUMBER`, `exhibits` or
    `label-SO-1` (the reference with its slash as a hyphen)."""
    return f"{task_id}-{kind}-{day}"


def package_base(task_id: str, day: str) -> str:
    """An evidence package's name before any -2, -3… that keeps it apart from one made the same day."""
    return f"{task_id}-evidence-{day}"
