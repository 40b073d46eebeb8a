"""Exhibit references as officers give them (SOP 9.1; the prosecution file's MG12): the producing officer's
initials and a running number, `SO/1`, `SO/2` …

A reference is given to each item of a capture (its originals, in the order the capture recorded them; one
for most captures) when the task is first exhibited — by `ohrt export`, `ohrt statement` or `ohrt exhibits`
— by the officer who captured it, and audited. It is never renumbered nor reused: the rows are never changed
or deleted (the database refuses it), a purge leaves them, and the next number of an officer's initials is
always one past the highest ever given. Two officers with the same initials share one run of numbers, so a
reference names one item however many officers hold those initials.
"""

from __future__ import annotations

import re
from pathlib import Path

from ...ground import audit, documents, exports, layout, sensitive, store
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import Failure, InputError, NotFound, StateError
from ...ground.times import iso
from .. import intake as tasks
from .paper import output_folder, unique_path, write_atomically

REFERENCE = re.compile(r"([A-Z]{1,6})\s*/\s*(\d{1,6})")
KIND_WORDS = {"video": "Video", "audio": "Sound recording", "image": "Image", "page": "Web page"}


def initials(name: str | None, number: str) -> str:
    """The initials of an officer's name without rank or title ('PC Sam Okafor' → 'SO'); the officer's number
    stands in when the name gives none."""
    parts = [p for p in re.split(r"[\s\-]+", name or "") if p]
    letters = [p[0].upper() for p in parts if p.lower().strip(".") not in sensitive.RANKS and p[0].isalpha()]
    found = "".join(letters)[:6]
    return found if re.fullmatch(r"[A-Z]+", found or "") else "OFF" + re.sub(r"\D", "", number)[:3]


def parse_reference(text: str) -> str:
    match = REFERENCE.fullmatch((text or "").strip().upper())
    if not match:
        raise InputError(f"{text!r} is not an exhibit reference: give the officer's initials and number, e.g. SO/1 "
                         "(`ohrt exhibit list` shows them).")
    return f"{match[1]}/{int(match[2])}"


def officer_name(ctx: Context, number: str | None, manifest_officer: dict | None = None) -> str | None:
    """The officer's name from the roster, else as the capture's manifest recorded it."""
    for officer in ctx.settings.officers:
        if officer.number == str(number or ""):
            return officer.name
    return (manifest_officer or {}).get("name")


def originals(ctx: Context, capture_id: str) -> dict[int, dict]:
    """The capture's items by number: its original files, each with the item the capture recorded (1, 2 … in
    the post's order; a capture of one original is item 1), where its bytes came from and what it is."""
    found: dict[int, dict] = {}
    rows = ctx.db.query("SELECT item, path, sha256, md5, bytes, status, source_url, kind FROM capture_files "
                        "WHERE capture_id = ? AND role = 'original' ORDER BY COALESCE(item, 1), id", [capture_id])
    for n, row in enumerate(rows, start=1):
        found.setdefault(row["item"] or n, dict(row))
    return found


def plan(ctx: Context, task_id: str) -> list[dict]:
    """The rows that the task's items without a reference (in captures not purged) would be given now, in
    capture order; nothing is written (`record` writes them)."""
    rows, following = [], {}
    captures = ctx.db.execute("SELECT id, officer FROM captures WHERE task_id = ? AND purged_at IS NULL ORDER BY id",
                              [task_id]).fetchall()
    for capture_id, officer in captures:
        have = {item for (item,) in ctx.db.execute("SELECT item FROM exhibits WHERE capture_id = ?", [capture_id])}
        for item in sorted(originals(ctx, capture_id)):
            if item in have:
                continue
            letters = initials(officer_name(ctx, officer), officer or "")
            if letters not in following:
                (last,) = ctx.db.execute("SELECT COALESCE(MAX(number), 0) FROM exhibits WHERE initials = ?",
                                         [letters]).fetchone()
                following[letters] = last + 1
            number = following[letters]
            following[letters] += 1
            rows.append({"reference": f"{letters}/{number}", "capture_id": capture_id, "item": item,
                         "initials": letters, "number": number, "officer": officer, "exhibited_at": iso(ctx.now()),
                         "exhibited_by": ctx.officer.number if ctx.officer else None, "task_id": task_id})
    return rows


def record(ctx: Context, rows: list[dict]) -> None:
    """Write planned references with one audit entry each; must run inside the caller's transaction. A
    number another command took meanwhile refuses the whole step (nothing is written)."""
    import sqlite3

    columns = ("reference", "capture_id", "item", "initials", "number", "officer", "exhibited_at", "exhibited_by")
    try:
        for row in rows:
            ctx.db.execute(f"INSERT INTO exhibits ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                           [row[c] for c in columns])
    except sqlite3.IntegrityError:
        raise Failure("another command gave exhibit references while this one was working: nothing was written; "
                      "run it again.") from None
    audit.record_many(ctx, [("exhibit.assign", "capture", row["capture_id"], None,
                             {"task": row["task_id"], "reference": row["reference"], "item": row["item"],
                              "officer": row["officer"]}) for row in rows])


def assign(ctx: Context, task_id: str) -> list[dict]:
    """Give every item of the task's captures (not purged) that has none its reference, in one transaction
    with one audit entry each; returns the task's exhibits, new and old."""
    ctx.actor()
    task_id = tasks.existing_task(ctx, task_id)
    with transaction(ctx.db):
        record(ctx, plan(ctx, task_id))
    return list_exhibits(ctx, task_id)


def with_planned(ctx: Context, task_id: str) -> tuple[list[dict], list[dict]]:
    """(the rows still to write, every exhibit of the task as it will be once they are written): for a step
    that writes them in its own transaction, such as an export."""
    rows = plan(ctx, task_id)
    return rows, list_exhibits(ctx, task_id) + [describe(ctx, row) for row in rows]


def list_exhibits(ctx: Context, task_id: str | None = None) -> list[dict]:
    """The exhibits (of one task, or all), oldest first, each with what it is read from the records."""
    sql = ("SELECT e.*, c.task_id FROM exhibits e JOIN captures c ON c.id = e.capture_id"
           + (" WHERE c.task_id = ?" if task_id else "") + " ORDER BY e.exhibited_at, e.rowid")
    params = [tasks.existing_task(ctx, task_id)] if task_id else []
    return [describe(ctx, dict(row)) for row in ctx.db.query(sql, params)]


def get_exhibit(ctx: Context, reference: str) -> dict:
    reference = parse_reference(reference)
    rows = list(ctx.db.query("SELECT e.*, c.task_id FROM exhibits e JOIN captures c ON c.id = e.capture_id "
                             "WHERE e.reference = ?", [reference]))
    if not rows:
        raise NotFound(f"no exhibit {reference} in this home: `ohrt exhibit list` shows those given; a capture is "
                       "given its reference by `ohrt exhibits TASK`, `ohrt statement TASK` or `ohrt export TASK`.")
    return describe(ctx, rows[0])


def describe(ctx: Context, row: dict) -> dict:
    """An exhibit with its item's facts from the capture's records (blank where a record holds none, and
    none of them once the capture is purged)."""
    capture = next(iter(ctx.db.query("SELECT * FROM captures WHERE id = ?", [row["capture_id"]])))
    items = originals(ctx, row["capture_id"])
    item = items.get(row["item"], {})
    kind = KIND_WORDS.get(item.get("kind") or capture.get("media_kind") or "", "Material")
    title = capture.get("title")
    where = item.get("source_url") or capture.get("requested_url")
    description = None
    if not capture.get("purged_at") and item:
        of = f", item {row['item']} of {len(items)}" if len(items) > 1 else ""
        description = f"{kind}" + (f" “{title}”" if title else "") + \
            f", capture {row['capture_id']}{of}, file {item['path']}"
    return {
        "reference": row["reference"], "capture_id": row["capture_id"], "item": row["item"], "task_id": row["task_id"],
        "officer": row["officer"], "officer_name": officer_name(ctx, row["officer"]),
        "exhibited_at": row["exhibited_at"], "exhibited_by": row["exhibited_by"],
        "description": description, "where_found": where, "final_url": capture.get("final_url"),
        "media_kind": capture.get("media_kind"), "title": title,
        "seized_at": capture.get("finished_at"), "file": item.get("path"), "sha256": item.get("sha256"),
        "bytes": item.get("bytes"), "purged_at": capture.get("purged_at"),
    }


def qr_text(exhibit: dict) -> str:
    """What the label's QR code holds: the reference and the item's SHA-256."""
    return f"{exhibit['reference']} sha256:{exhibit['sha256']}"


def write_label(ctx: Context, reference: str, to: str | Path | None = None, mode: str | None = None) -> dict:
    """A printable label (PDF, 102 × 76 mm) for an exhibit: reference, description, officer, when seized,
    SHA-256 and a QR code of the reference and hash, with `mode` (ground/exports.py); audited."""
    ctx.actor()
    exhibit = get_exhibit(ctx, reference)
    if exhibit["purged_at"] or not exhibit["sha256"]:
        raise StateError(f"exhibit {exhibit['reference']} ({exhibit['capture_id']}) was purged on "
                         f"{exhibit['purged_at'] or 'an unrecorded date'}: there is nothing left to label.")
    folder = output_folder(ctx, to)
    permissions = exports.for_context(ctx, folder, mode)
    marking = ctx.settings.get("export.marking", "OFFICIAL-SENSITIVE")
    officer = documents.join([documents.value(exhibit["officer_name"], "the officer's name")])
    seized = documents.join([documents.value(_when(exhibit["seized_at"]), "time seized")])
    lines = [exhibit["description"], f"Seized by: {officer} ({exhibit['officer']})", f"Seized: {seized}",
             f"Task {exhibit['task_id']}", "SHA-256:"]
    path = unique_path(folder, layout.document_base(exhibit["task_id"], "label-" + exhibit["reference"].replace("/", "-"),
                                                    ctx.today().isoformat()), (".pdf",))[0]
    write_atomically(path, lambda target: documents.write_label_pdf(
        target, title=f"Exhibit {exhibit['reference']}", lines=lines, code=exhibit["sha256"], qr_data=qr_text(exhibit),
        marking=marking), permissions)
    with transaction(ctx.db):
        seq = audit.record(ctx, "exhibit.label", "capture", exhibit["capture_id"], detail={
            "task": exhibit["task_id"], "reference": exhibit["reference"], "file": str(path),
            "sha256": store.hash_file(path, md5=False).sha256})
    return {**exhibit, "label": str(path), "qr": qr_text(exhibit), "audit_seq": seq}


def _when(value: str | None) -> str | None:
    return f"{value[:10]} {value[11:19]} UTC" if value and len(value) >= 19 else value
