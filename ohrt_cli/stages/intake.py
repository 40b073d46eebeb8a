"""Tasking intake and record keeping, SOP 8.1–8.6.

A task is one referral from a colleague about one piece of content (8.3), with its linked subjects (8.4)
kept in their own sensitive table. Tasks come in one at a time (`ohrt task add`), in bulk from the
tasking form's export (`ohrt task import`), or self-tasked at capture (8.5). Every status change is one
row change and one audit entry in one transaction.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Iterable

from ..ground import audit, exports, purged, tabular
from ..ground.context import Context
from ..ground.progress import Report, meter
from ..ground.db import insert_rows, next_ids, transaction
from ..ground.errors import InputError, NotFound, StateError, refuse_control_characters
from ..ground.times import iso, parse_date
from ..ground.urls import platform_for

# The task's life (DESIGN.md). "closed" is the only status in which a task is no longer open.
STATUSES = (
    "received", "captured", "reviewed", "referral-drafted", "referral-returned", "qa-approved", "sent",
    "removed", "not-removed", "appeal-drafted", "closed",
)
OPEN_STATUSES = tuple(s for s in STATUSES if s != "closed")

# Incident reference systems (8.3.3) and, where the system has a known form, that form.
REF_SYSTEMS = {"connect": "Connect", "cad": "CAD", "cris": "CRIS", "crimint": "Crimint", "merlin": "Merlin",
               "apmis": "APMIS"}
REF_FORMS = {
    "CAD": (re.compile(r"[0-9]{1,5}/[0-9]{2}[A-Z]{3}[0-9]{2}"), "1234/21NOV26 (number/ddMMMyy)"),
    "CRIS": (re.compile(r"[0-9]{7}/[0-9]{2}"), "4212345/26 (seven digits/yy)"),
    "Merlin": (re.compile(r"[0-9]{2}[A-Z]{3}[0-9]{6}"), "26MAB012345 (yy, three letters, six digits)"),
    "Crimint": (re.compile(r"[0-9]{5,12}"), "a number of 5 to 12 digits"),
}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

IMPORT_COLUMNS = ("applicant_name", "applicant_ocu", "applicant_unit", "upload_date", "incident_refs", "title",
                  "url", "platform", "rationale", "subjects")
REQUIRED = {
    "applicant_name": "the applicant's name (--applicant)",
    "applicant_ocu": "the applicant's OCU (--ocu)",
    "applicant_unit": "the applicant's unit (--unit)",
    "title": "the content's title (--title)",
    "rationale": "the rationale for the referral (--rationale)",
}


# The longest each field may be, in characters (a 2 MB title is a pasting accident, not a title).
LIMITS = {"title": 1_000, "applicant_name": 200, "applicant_ocu": 200, "applicant_unit": 200, "rationale": 10_000,
          "upload_date": 40, "platform": 100, "refs": 100, "subjects": 200}


def check_text(value: str, what: str, limit: int) -> None:
    """Refuse a NUL character or other control character (C0, DEL or C1; a tab and line ends excepted) and
    text over `limit`."""
    if len(value) > limit:
        raise InputError(f"{what} is {len(value):,} characters long, more than the {limit:,} allowed: shorten it.")
    refuse_control_characters(value, what)


class DuplicateTask(InputError):
    def __init__(self, message: str, existing: str):
        super().__init__(message)
        self.existing = existing


@dataclasses.dataclass
class TaskInput:
    """The tasking form's fields (8.3, 8.4) as received, before validation."""

    url: str
    title: str
    applicant_name: str
    applicant_ocu: str
    applicant_unit: str
    upload_date: str
    rationale: str
    platform: str | None = None
    refs: list[str] = dataclasses.field(default_factory=list)
    subjects: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class CleanTask:
    fields: dict
    refs: list[tuple[str, str]]
    subjects: list[str]

    def key(self) -> str:
        """What makes a row the same row again: its content, so a re-import adds nothing."""
        payload = audit.canonical_json([self.fields, self.refs, self.subjects])
        return hashlib.sha256(payload.encode()).hexdigest()


def parse_ref(text: str) -> tuple[str, str]:
    """'CAD:1234/21Nov26' → ('CAD', '1234/21NOV26'), checked against the system's form where known."""
    system, sep, reference = (text or "").partition(":")
    system_name = REF_SYSTEMS.get(system.strip().lower())
    if not sep or not system_name:
        raise InputError(
            f"incident reference {text!r} must be SYSTEM:REFERENCE with SYSTEM one of "
            f"{', '.join(REF_SYSTEMS.values())}, e.g. CAD:1234/21NOV26."
        )
    reference = re.sub(r"\s+", "", reference).upper()
    if not reference:
        raise InputError(f"incident reference {text!r} has no reference after the colon.")
    form = REF_FORMS.get(system_name)
    if form and not form[0].fullmatch(reference):
        raise InputError(f"{system_name} reference {reference!r} is not of the form {form[1]}.")
    if system_name == "CAD" and reference[-5:-2] not in MONTHS:
        raise InputError(f"CAD reference {reference!r} has no month: expected {REF_FORMS['CAD'][1]}.")
    return system_name, reference


def validate(raw: TaskInput, ctx: Context) -> CleanTask:
    for name, limit in LIMITS.items():
        values = getattr(raw, name) or ""
        for value in (values if isinstance(values, list) else [values]):
            check_text(value or "", name.replace("_", " "), limit)
    fields = {name: (getattr(raw, name) or "").strip() for name in REQUIRED}
    for name, what in REQUIRED.items():
        if not fields[name]:
            raise InputError(f"{what} is missing: every referral needs it (SOP 8.3).")
    if not (raw.url or "").strip():
        raise InputError("the content URL is missing (--url): every referral needs it (SOP 8.3.5).")
    canon, platform = platform_for(raw.url, raw.platform)
    uploaded = parse_date(raw.upload_date, "upload date", today=ctx.today())
    refs = [parse_ref(r) for r in raw.refs if r and r.strip()]
    subjects = [s.strip() for s in raw.subjects if s and s.strip()]
    fields.update(url=raw.url.strip(), canonical_url=canon, platform=platform, upload_date=uploaded.isoformat())
    return CleanTask(fields=fields, refs=sorted(set(refs)), subjects=subjects)


def open_task_for(ctx: Context, canonical_url: str) -> str | None:
    row = ctx.db.execute(
        f"SELECT id FROM tasks WHERE canonical_url = ? AND status IN ({','.join('?' * len(OPEN_STATUSES))}) "
        "ORDER BY id LIMIT 1",
        [canonical_url, *OPEN_STATUSES],
    ).fetchone()
    return row[0] if row else None


def _insert(ctx: Context, clean: list[CleanTask], *, intake: str, self_tasked: bool = False,
            keys: list[str | None] | None = None) -> list[str]:
    """Write tasks, their references and subjects, and one audit entry each; inside a transaction."""
    now = ctx.now()
    officer = ctx.actor()
    ids = next_ids(ctx.db, "T", now.year, len(clean))
    at = iso(now)
    keys = keys or [None] * len(clean)
    task_rows, ref_rows, subject_rows, entries = [], [], [], []
    for task_id, item, key in zip(ids, clean, keys):
        task_rows.append({**item.fields, "id": task_id, "status": "received", "received_at": at, "updated_at": at,
                          "self_tasked": int(self_tasked), "intake": intake, "import_key": key,
                          "created_by": officer.number})
        ref_rows += [{"task_id": task_id, "system": s, "reference": r} for s, r in item.refs]
        subject_rows += [{"task_id": task_id, "name": n} for n in item.subjects]
        entries.append(("task.add", "task", task_id, None, {
            "intake": intake, "platform": item.fields["platform"], "url": item.fields["canonical_url"],
            "self_tasked": self_tasked, "incident_refs": len(item.refs), "subjects": len(item.subjects)}))
    insert_rows(ctx.db, "tasks", task_rows)
    insert_rows(ctx.db, "incident_refs", ref_rows)
    insert_rows(ctx.db, "subjects", subject_rows)
    audit.record_many(ctx, entries)
    return ids


def add_task(ctx: Context, raw: TaskInput, *, allow_duplicate: bool = False, intake: str = "add",
             self_tasked: bool = False) -> dict:
    ctx.actor()
    clean = validate(raw, ctx)
    with transaction(ctx.db):
        existing = open_task_for(ctx, clean.fields["canonical_url"])
        if existing and not allow_duplicate:
            raise DuplicateTask(
                f"{clean.fields['canonical_url']} already has an open task, {existing}: work that one, "
                "or add --allow-duplicate to open another.",
                existing,
            )
        [task_id] = _insert(ctx, [clean], intake=intake, self_tasked=self_tasked)
    return get_task(ctx, task_id)


def no_task(task_id: str) -> NotFound:
    """The one refusal for an id that names no task in this home."""
    return NotFound(f"no task {task_id!r} in this home: check the id with `ohrt task list`.")


def existing_task(ctx: Context, task_id: str) -> str:
    """The task's id as stored (upper case, trimmed), or NotFound when no such task is in this home."""
    task_id = (task_id or "").strip().upper()
    if ctx.db.execute("SELECT 1 FROM tasks WHERE id = ?", [task_id]).fetchone() is None:
        raise no_task(task_id)
    return task_id


def get_task(ctx: Context, task_id: str) -> dict:
    task_id = (task_id or "").strip().upper()
    row = ctx.db.execute("SELECT * FROM tasks WHERE id = ?", [task_id]).fetchone()
    if row is None:
        raise no_task(task_id)
    task = dict(zip([d[0] for d in ctx.db.conn.execute("SELECT * FROM tasks LIMIT 0").description], row))
    task["self_tasked"] = bool(task["self_tasked"])
    task["incident_refs"] = [f"{s}:{r}" for s, r in ctx.db.execute(
        "SELECT system, reference FROM incident_refs WHERE task_id = ? ORDER BY id", [task_id])]
    task["subjects"] = [n for (n,) in ctx.db.execute("SELECT name FROM subjects WHERE task_id = ? ORDER BY id",
                                                      [task_id])]
    task["purged"] = purged.describe(purged.of_task(ctx.db, task_id))
    return task


def list_tasks(ctx: Context, status: str | None = None) -> list[dict]:
    """Tasks, oldest first, optionally of one status; `purged` says when and under which rule a task's
    material was purged (None if not), and `--status purged` lists those tasks."""
    if status and status not in (*STATUSES, "purged"):
        raise InputError(f"status {status!r} is not one of {', '.join(STATUSES)}, purged.")
    sql = ("SELECT id, status, received_at, platform, title, canonical_url AS url, applicant_name, applicant_ocu, "
           "applicant_unit, upload_date, self_tasked FROM tasks")
    params = []
    if status == "purged":
        sql += " WHERE id IN (SELECT task_id FROM tombstones)"
    elif status:
        sql += " WHERE status = ?"
        params.append(status)
    rows = [dict(r) for r in ctx.db.query(sql + " ORDER BY id", params)]
    notes = purged.of_tasks(ctx.db, None)
    for row in rows:
        row["self_tasked"] = bool(row["self_tasked"])
        row["purged"] = purged.describe(notes.get(row["id"]))
    return rows


def set_status(ctx: Context, task_id: str, status: str, action: str, *, reason: str | None = None,
               detail: dict | None = None) -> None:
    """Move a task to `status` and audit it; call inside the transaction of the change that causes it."""
    if status not in STATUSES:
        raise ValueError(f"unknown task status {status}")
    before = ctx.db.execute("SELECT status FROM tasks WHERE id = ?", [task_id]).fetchone()
    if before is None:
        raise no_task(task_id)
    ctx.db.execute("UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?", [status, iso(ctx.now()), task_id])
    audit.record(ctx, action, "task", task_id, reason=reason,
                 detail={"from": before[0], "to": status, **(detail or {})})


def set_status_many(ctx: Context, changes: list[tuple[str, str, str | None, dict | None]], action: str) -> None:
    """`set_status` for batch work: (task_id, status, reason, detail) for each task (once each), in one
    `executemany` and one `record_many`; call inside the transaction of the change that causes them."""
    if not changes:
        return
    for _, status, _, _ in changes:
        if status not in STATUSES:
            raise ValueError(f"unknown task status {status}")
    ids = [task_id for task_id, _, _, _ in changes]
    before: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        before.update(ctx.db.execute(
            f"SELECT id, status FROM tasks WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    missing = [task_id for task_id in ids if task_id not in before]
    if missing:
        raise no_task(missing[0])
    at = iso(ctx.now())
    ctx.db.conn.executemany("UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?",
                            [[status, at, task_id] for task_id, status, _, _ in changes])
    audit.record_many(ctx, [
        (action, "task", task_id, reason, {"from": before[task_id], "to": status, **(detail or {})})
        for task_id, status, reason, detail in changes])


def refuse_if_purged(ctx: Context, task_id: str, outcome: str) -> None:
    """Refuse new material for a task whose retention ended (SOP 2.2): once `ohrt purge` has begun on it
    (its tombstone says 'purging' or 'done'), a file written now would outlive the purge. Call inside the
    transaction that writes, so a purge's intent and this check cannot pass each other."""
    row = ctx.db.execute("SELECT state FROM tombstones WHERE task_id = ? AND state IN ('purging', 'done') LIMIT 1",
                         [task_id]).fetchone()
    if row:
        verb = "is deleting" if row[0] == "purging" else "deleted"
        raise StateError(f"{task_id}'s retention has ended and `ohrt purge` {verb} its material: {outcome} "
                         f"(`ohrt task show {task_id}` shows what is kept on record).")


# --------------------------------------------------------------------------------------- batch intake

@dataclasses.dataclass
class ImportRow:
    line: int
    raw_text: str
    values: dict


@dataclasses.dataclass
class ImportResult:
    imported: list[str]
    skipped: list[dict]
    rejected: list[dict]
    rejects_file: str | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def read_rows(path: Path) -> tuple[str, list[ImportRow], str]:
    """(kind, rows, header text) from a CSV or JSONL export; BOM, CRLF and quoted newlines handled."""
    path = Path(path)
    text = tabular.read_text(path, "tasking export")
    if tabular.is_jsonl(path):
        rows = []
        for row in tabular.jsonl_rows(text):
            values = row.values
            if row.error:
                values = {"__error__": row.error}
            elif not isinstance(values, dict):
                values = {"__error__": "not a JSON object"}
            rows.append(ImportRow(row.line, row.raw_text, values))
        return "jsonl", rows, ""
    table = tabular.csv_rows(text)
    if table is None:
        raise InputError(f"{path} is empty: export the tasking form with its header row.")
    header, header_text, found = table
    missing = [c for c in IMPORT_COLUMNS if c not in header and c not in ("platform", "subjects", "incident_refs")]
    if missing:
        raise InputError(f"{path} lacks the column(s) {', '.join(missing)}: the header must name "
                         f"{', '.join(IMPORT_COLUMNS)}.")
    rows = [ImportRow(row.line, row.raw_text, {**row.values, "__error__": row.error} if row.error else row.values)
            for row in found]
    return "csv", rows, header_text


def _split(cell, name: str) -> list[str]:
    if cell is None:
        return []
    if isinstance(cell, list):
        if not all(isinstance(c, str) for c in cell):
            raise InputError(f"{name} must be a list of text (e.g. [\"Jon Smith\"]), not {_json(cell)}: "
                             "mend that row.")
        return list(cell)
    if not isinstance(cell, str):
        raise InputError(f"{name} must be text or a list of text, not {_json(cell)}: mend that row.")
    return [part for part in cell.split(";") if part.strip()]


def _cell(values: dict, name: str) -> str:
    """A field of an imported row as text: a number, list or object where text belongs is refused."""
    value = values.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{name} must be text, not {_json(value)}: mend that row.")
    return value


def _json(value) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "…"


def import_tasks(ctx: Context, path: Path, *, skip_invalid: bool = False,
                 progress: Report | None = None) -> ImportResult:
    """Validate every row first (each row an item to `progress`); import all (or, with skip_invalid, the
    good ones) in one transaction."""
    ctx.actor()
    path = Path(path)
    kind, rows, header_text = read_rows(path)
    good: list[tuple[ImportRow, CleanTask]] = []
    rejected: list[dict] = []
    shown = meter(progress, f"checking {path.name[:30]}", len(rows))
    for row in rows:
        shown.advance()
        try:
            if "__error__" in row.values:
                raise InputError(row.values["__error__"])
            v = row.values
            if not isinstance(v, dict):
                raise InputError(f"the row is {_json(v)}, not an object of fields: mend that row.")
            raw = TaskInput(
                url=_cell(v, "url"), title=_cell(v, "title"), applicant_name=_cell(v, "applicant_name"),
                applicant_ocu=_cell(v, "applicant_ocu"), applicant_unit=_cell(v, "applicant_unit"),
                upload_date=_cell(v, "upload_date"), rationale=_cell(v, "rationale"),
                platform=_cell(v, "platform").strip() or None,
                refs=_split(v.get("incident_refs"), "incident_refs"), subjects=_split(v.get("subjects"), "subjects"),
            )
            good.append((row, validate(raw, ctx)))
        except InputError as exc:
            rejected.append({"line": row.line, "reason": exc.message, "raw": row.raw_text})
    shown.finish()
    if rejected and not skip_invalid:
        return ImportResult(imported=[], skipped=[], rejected=rejected)
    result = ImportResult(imported=[], skipped=[], rejected=rejected)
    with transaction(ctx.db):
        keys_seen = {k for (k,) in ctx.db.execute("SELECT import_key FROM tasks WHERE import_key IS NOT NULL")}
        open_urls = dict(ctx.db.execute(
            f"SELECT canonical_url, id FROM tasks WHERE status IN ({','.join('?' * len(OPEN_STATUSES))})",
            list(OPEN_STATUSES)).fetchall())
        to_add, keys = [], []
        for row, clean in good:
            key = clean.key()
            url = clean.fields["canonical_url"]
            if key in keys_seen:
                result.skipped.append({"line": row.line, "reason": "already imported"})
            elif url in open_urls:
                result.skipped.append({"line": row.line, "reason": f"open task {open_urls[url] or 'in this file'} "
                                                                   "already covers this URL"})
            else:
                keys_seen.add(key)
                open_urls[url] = None
                to_add.append(clean)
                keys.append(key)
        if to_add:
            result.imported = _insert(ctx, to_add, intake="import", keys=keys)
        audit.record(ctx, "task.import", "file", path.name, detail={
            "imported": len(result.imported), "skipped": len(result.skipped), "rejected": len(rejected)})
    if rejected:
        result.rejects_file = str(_write_rejects(path, kind, header_text, rejected))
    return result


def _write_rejects(path: Path, kind: str, header_text: str, rejected: Iterable[dict]) -> Path:
    target = path.with_name(f"{path.stem}.rejects{path.suffix}")
    body = "".join(r["raw"] if r["raw"].endswith(("\n", "\r")) else r["raw"] + "\n" for r in rejected)
    # the rows as given, personal data and all: private to the officer, like every export
    exports.write_bytes(target, (header_text + body if kind == "csv" else body).encode("utf-8"), exports.PRIVATE)
    return target
