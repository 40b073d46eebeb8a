"""Retention and the scheduled purge: SOP 10.8 (the Domain library), SOP 2.2 (everything else captured)
and DESIGN invariant 4 (nothing held is deleted; everything past retention is, leaving a tombstone).

What is due, by rule (`plan`):
* `library` — a library item whose expiry (date of removal + retention.months) has come and that has
  no active hold (CPIA 1996). The whole task's material goes: every capture, not only the item's.
* `import` — another force's hashes, on the expiry date that force gave them.
* `captured` — a task with no library item whose work has ended (closed, not-removed, or removed but
  not musical), retention.capture_months (default: retention.months) after its last capture, or after
  it was received when it was never captured. A task still open at that date is not purged: it is
  listed as overdue, for an officer to finish or close it.

How (`purge`): under a lock (one purge at a time), each batch is done in three steps. (1) One committed
transaction writes a tombstone in state 'purging' for each unit — ids, sha256 of every original, dates,
the rule, who ("scheduled" when no officer is acting), and the other copies of the material in the home
that will go with it: the task's evidence packages in HOME/exports (found by bag-info.txt's
External-Identifier, or by their name: `exports.py`) and its referral drafts (HOME/referrals/<R-id>/) — and marks its
captures purged. (2) The capture folders, those packages and those drafts are deleted, read-only files
made writable first. (3) One transaction deletes the fingerprints,
the file rows and the personal data (subjects, incident references, indices research), blanks the
content's identifying fields (and the URL and evidence of what `ohrt refer check` observed of it: its
results and dates stay, for the report), closes the task, marks the tombstone 'done' and writes the audit entries.
A purge killed at any point leaves tombstones saying 'purging'; the next run finishes them first.
The referral rows (with each draft's sha256) stay, as the record of what the platform was sent; a package
exported with `--to` outside the home is the officer in the case's to keep or destroy (CPIA 1996).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import os
import shutil
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

from ...ground import audit
from ...ground.context import Context
from ...ground.progress import Report, meter
from ...ground.db import clear_wal, transaction
from ...ground.errors import StateError
from ...ground.layout import REFERRALS_DIR, referral_folder
from ...ground.times import add_months, iso, parse_iso
from .. import intake as tasks
from .exports import ExportIndex
from .items import RECORD_FIELDS, retention_months
from .matching import bump_generation


LOCK_NAME = ".purge.lock"
LOCK_WAIT_S = 120          # a second purge waits this long for the first, then gives up saying so
BATCH = 200                # units per pair of transactions
DELETERS = 8               # capture folders deleted at once
ENDED = ("closed", "not-removed", "removed")
RULES = {
    "library": "Domain library: {months} months from the date of removal, no active hold (SOP 10.8)",
    "import": "imported hashes: the sending force's expiry date",
    "captured": "captured material not in the library: {months} months from its last capture (SOP 2.2)",
}
REASONS = {"library": "retention ended (SOP 10.8)", "import": "the sending force's expiry date came",
           "captured": "retention ended (SOP 2.2)"}
CAPTURE_FIELDS = ("title", "channel", "final_url", "requested_url", "platform_item_id")


@dataclasses.dataclass
class Unit:
    """One thing to purge: a library item (with its task's material) or a task."""

    object_type: str            # "library_item" or "task"
    object_id: str
    task_id: str | None
    rule: str
    expired_on: str
    captures: list[dict] = dataclasses.field(default_factory=list)   # {id, folder}
    exports: list[str] = dataclasses.field(default_factory=list)     # exports/T-…-evidence-… (relative to home)
    drafts: list[str] = dataclasses.field(default_factory=list)      # referrals/R-… (relative to home)
    tombstone: int | None = None
    resumed: bool = False
    files: int = 0
    bytes: int = 0

    def summary(self) -> dict:
        return {"object_type": self.object_type, "object_id": self.object_id, "task_id": self.task_id,
                "rule": self.rule, "expired_on": self.expired_on, "captures": [c["id"] for c in self.captures],
                "exports": self.exports, "referral_drafts": self.drafts, "files": self.files, "bytes": self.bytes,
                "resumed": self.resumed}


@dataclasses.dataclass
class Plan:
    due: list[Unit]
    held: list[dict]
    overdue: list[dict]


def capture_months(ctx: Context) -> int:
    return retention_months(ctx, "retention.capture_months")


def plan(ctx: Context) -> Plan:
    """What is due today (ctx.today(), which OHRT_NOW fixes), what is kept only by a hold, and which
    open tasks are past retention."""
    today = ctx.today().isoformat()
    due, held = _library_due(ctx, today)
    tasks_due, overdue = _tasks_due(ctx, ctx.today())
    return Plan(due=due + tasks_due, held=held, overdue=overdue)


def _library_due(ctx: Context, today: str) -> tuple[list[Unit], list[dict]]:
    due, held = [], []
    for item_id, task_id, expires_on, source, holds in ctx.db.execute(
            "SELECT li.id, li.task_id, li.expires_on, li.source, (SELECT COUNT(*) FROM holds h WHERE h.item_id = li.id "
            "AND h.released_at IS NULL) FROM library_items li WHERE li.status = 'kept' AND li.expires_on <= ? "
            "ORDER BY li.expires_on, li.id", [today]).fetchall():
        if holds:
            held.append({"id": item_id, "task_id": task_id, "expires_on": expires_on, "holds": holds})
            continue
        rule = "import" if source == "import" else "library"
        due.append(Unit("library_item", item_id, task_id, rule, expires_on,
                        _captures_of(ctx, task_id) if task_id else []))
    return due, held


def _tasks_due(ctx: Context, today: dt.date) -> tuple[list[Unit], list[dict]]:
    months = capture_months(ctx)
    due, overdue = [], []
    for task_id, status, received_at, last_capture in ctx.db.execute(
            "SELECT t.id, t.status, t.received_at, (SELECT MAX(c.started_at) FROM captures c WHERE c.task_id = t.id) "
            "FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM library_items li WHERE li.task_id = t.id) "
            "AND NOT EXISTS (SELECT 1 FROM tombstones s WHERE s.object_type = 'task' AND s.object_id = t.id) "
            "ORDER BY t.id").fetchall():
        base = parse_iso(last_capture or received_at).date()
        expires = add_months(base, months)
        if expires > today:
            continue
        if status in ENDED:
            due.append(Unit("task", task_id, task_id, "captured", expires.isoformat(), _captures_of(ctx, task_id)))
        else:
            overdue.append({"task_id": task_id, "status": status, "due_on": expires.isoformat()})
    return due, overdue


def _captures_of(ctx: Context, task_id: str) -> list[dict]:
    return [{"id": c, "folder": f} for c, f in ctx.db.execute(
        "SELECT id, folder FROM captures WHERE task_id = ? AND purged_at IS NULL ORDER BY id", [task_id])]


def purge(ctx: Context, *, dry_run: bool = False, progress: Report | None = None) -> dict:
    """Purge everything due (see the module's docstring); a dry run only says what would go. Returns
    {dry_run, at, by, purged[], resumed[], held[], overdue[], failed[]}."""
    who = ctx.officer.number if ctx.officer else "scheduled"
    result = {"dry_run": dry_run, "at": iso(ctx.now()), "by": who, "purged": [], "resumed": [], "held": [],
              "overdue": [], "failed": []}
    exports = ExportIndex(ctx)
    if dry_run:  # what a run would do: finish the interrupted, then purge what is due
        todo = plan(ctx)
        for unit in todo.due:
            _home_copies(ctx, unit, exports)
        return _fill(result, todo, [], interrupted(ctx))
    with purge_lock(ctx):
        resumed = _finish_all(ctx, interrupted(ctx), result["failed"])
        todo = plan(ctx)
        purged = []
        with meter(progress, "purging", len(todo.due)) as shown:  # items: tasks and library items
            for batch in _batches(todo.due):
                purged += _finish_all(ctx, _start(ctx, batch, exports), result["failed"])
                shown.advance(len(batch))
        if purged or resumed:
            with transaction(ctx.db):
                audit.record(ctx, "purge.run", "purge", result["at"], detail={
                    "purged": len(purged), "resumed": len(resumed), "held": len(todo.held),
                    "overdue": len(todo.overdue), "failed": len(result["failed"])})
            result["log_cleared"] = clear_wal(ctx.db)
    return _fill(result, todo, purged, resumed)


def _fill(result: dict, todo: Plan, purged: list[Unit], resumed: list[Unit]) -> dict:
    shown = todo.due if result["dry_run"] else purged
    result.update(purged=[u.summary() for u in shown], resumed=[u.summary() for u in resumed], held=todo.held,
                  overdue=todo.overdue)
    return result


def _batches(units: list[Unit]) -> Iterator[list[Unit]]:
    for start in range(0, len(units), BATCH):
        yield units[start:start + BATCH]


@contextlib.contextmanager
def purge_lock(ctx: Context) -> Iterator[None]:
    """One purge at a time per home: an fcntl lock on HOME/.purge.lock (released by the system if the
    process dies). A second purge waits up to LOCK_WAIT_S, then stops saying so."""
    path = ctx.home / LOCK_NAME
    with open(path, "a+") as handle:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StateError(f"another `ohrt purge` has held {path} for over {LOCK_WAIT_S} s: let it "
                                     "finish, then run the purge again.") from None
                time.sleep(0.2)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _start(ctx: Context, batch: list[Unit], exports: "ExportIndex") -> list[Unit]:
    """Step 1: re-check each unit under the write lock, then commit its tombstone ('purging') — which
    lists every folder and file step 2 will delete — and mark its captures purged, before anything is
    deleted. An export still being made is refused when it would be published, its task's captures being
    marked purged (stages/evidence)."""
    started = []
    now = iso(ctx.now())
    who = ctx.officer.number if ctx.officer else "scheduled"
    with transaction(ctx.db):
        for unit in batch:
            if not _still_due(ctx, unit):
                continue
            unit.captures = _captures_of(ctx, unit.task_id) if unit.task_id else []
            _home_copies(ctx, unit, exports)
            detail = _tombstone_detail(ctx, unit)
            unit.tombstone = ctx.db["tombstones"].insert({
                "object_type": unit.object_type, "object_id": unit.object_id, "task_id": unit.task_id,
                "rule": unit.rule, "state": "purging", "started_at": now, "purged_at": None, "purged_by": who,
                "expired_on": unit.expired_on, "detail": json.dumps(detail, sort_keys=True)}).last_pk
            ids = [c["id"] for c in unit.captures]
            ctx.db.execute(f"UPDATE captures SET purged_at = ? WHERE id IN ({_marks(ids)})", [now, *ids])
            if unit.object_type == "library_item":
                ctx.db.execute("UPDATE library_items SET status = 'purging' WHERE id = ?", [unit.object_id])
            started.append(unit)
    return started


def _still_due(ctx: Context, unit: Unit) -> bool:
    if unit.object_type == "library_item":
        return ctx.db.execute(
            "SELECT 1 FROM library_items li WHERE li.id = ? AND li.status = 'kept' AND NOT EXISTS (SELECT 1 FROM "
            "holds h WHERE h.item_id = li.id AND h.released_at IS NULL)", [unit.object_id]).fetchone() is not None
    return ctx.db.execute(
        f"SELECT 1 FROM tasks t WHERE t.id = ? AND t.status IN ({_marks(ENDED)}) AND NOT EXISTS (SELECT 1 FROM "
        "library_items li WHERE li.task_id = t.id) AND NOT EXISTS (SELECT 1 FROM tombstones s WHERE "
        "s.object_type = 'task' AND s.object_id = t.id)", [unit.object_id, *ENDED]).fetchone() is not None


def _tombstone_detail(ctx: Context, unit: Unit) -> dict:
    """What stays on record: the captures with the sha256 and size of each original, the dates, the
    rule in words and the retention that applied. No title, URL, name or reference."""
    months = retention_months(ctx) if unit.rule != "captured" else capture_months(ctx)
    detail = {"rule": RULES[unit.rule].format(months=months), "retention_months": months,
              "expired_on": unit.expired_on, "captures": []}
    for capture in unit.captures:
        started = ctx.db.execute("SELECT started_at FROM captures WHERE id = ?", [capture["id"]]).fetchone()[0]
        originals = [{"sha256": sha, "bytes": size} for sha, size in ctx.db.execute(
            "SELECT sha256, bytes FROM capture_files WHERE capture_id = ? AND role = 'original' ORDER BY id",
            [capture["id"]])]
        detail["captures"].append({"id": capture["id"], "folder": capture["folder"], "captured_at": started,
                                   "originals": originals})
    detail["exports"] = unit.exports          # evidence packages in HOME/exports (SOP 2.2: copies of the material)
    detail["referral_drafts"] = unit.drafts   # HOME/referrals/<R-id>/: the drafts (their rows and sha256 stay)
    if unit.object_type == "library_item":
        row = ctx.db.execute("SELECT removed_on, expires_on, source, source_name, source_ref, created_at FROM "
                             "library_items WHERE id = ?", [unit.object_id]).fetchone()
        detail.update(removed_on=row[0], expires_on=row[1], source=row[2], added_at=row[5])
        if row[2] == "import":
            detail.update(source_name=row[3], source_ref=row[4])
    if unit.task_id:
        detail["task_received_at"] = ctx.db.execute("SELECT received_at FROM tasks WHERE id = ?",
                                                    [unit.task_id]).fetchone()[0]
    return detail


def interrupted(ctx: Context) -> list[Unit]:
    """Purges that were cut short: tombstones still in state 'purging'."""
    units = []
    for tomb_id, object_type, object_id, task_id, rule, expired_on, detail in ctx.db.execute(
            "SELECT id, object_type, object_id, task_id, rule, expired_on, detail FROM tombstones "
            "WHERE state = 'purging' ORDER BY id").fetchall():
        recorded = json.loads(detail or "{}")
        captures = [{"id": c["id"], "folder": c["folder"]} for c in recorded.get("captures", [])]
        units.append(Unit(object_type, object_id, task_id, rule, expired_on, captures, recorded.get("exports", []),
                          recorded.get("referral_drafts", []), tomb_id, resumed=True))
    return units


def _finish_all(ctx: Context, units: list[Unit], failed: list[dict]) -> list[Unit]:
    """Steps 2 and 3 for units whose tombstones are committed; a unit whose files cannot be deleted
    stays 'purging' (and is reported) for the next run."""
    with ThreadPoolExecutor(DELETERS) as pool:  # deleting is waiting on the disk: do several at once
        outcomes = list(pool.map(lambda unit: _delete_files(ctx, unit), units))
    deleted = []
    for unit, error in zip(units, outcomes):
        if error:
            failed.append({"object_id": unit.object_id, "error": error})
        else:
            deleted.append(unit)
    for batch in _batches(deleted):
        _erase_rows(ctx, batch)
    return deleted


def _delete_files(ctx: Context, unit: Unit) -> str | None:
    """Step 2 for one unit: its capture folders, evidence packages in HOME/exports and referral drafts;
    the error in words, or None."""
    try:
        for capture in unit.captures:
            files, size = delete_capture_folder(ctx, capture["folder"])
            unit.files += files
            unit.bytes += size
        for rel in unit.exports + unit.drafts:
            files, size = delete_home_copy(ctx, rel)
            unit.files += files
            unit.bytes += size
    except OSError as exc:
        return f"{exc.strerror or exc} ({exc.filename}): check the permissions, then run `ohrt purge` again to finish it."
    return None


def delete_capture_folder(ctx: Context, folder: str | None) -> tuple[int, int]:
    """Delete one capture folder, making its read-only files and folders writable first; (files, bytes)
    deleted. A file hard-linked from another capture (identical bytes stored once) keeps its read-only
    mode, which it shares with the other capture's copy. Refuses anything outside HOME/captures; a folder
    already gone counts nothing."""
    if not folder:
        return 0, 0
    root = ctx.captures_dir.resolve()
    target = ctx.home / folder
    if target.is_symlink():
        target.unlink()
        return 0, 0
    resolved = target.resolve()
    if resolved == root or root not in resolved.parents:
        raise OSError(0, "refusing to delete a folder outside the store", str(target))
    if not resolved.exists():
        return 0, 0
    return _remove(resolved)


def delete_home_copy(ctx: Context, rel: str) -> tuple[int, int]:
    """Delete one evidence package (folder, zip or .sha256) in HOME/exports or one referral's drafts folder
    in HOME/referrals, as recorded in a tombstone; (files, bytes) deleted. Refuses anything else; a symbolic
    link is removed, never followed; what is already gone counts nothing."""
    target = ctx.home / rel
    roots = {ctx.exports_dir.resolve(), (ctx.home / REFERRALS_DIR).resolve()}
    if target.name in ("", ".", "..") or target.parent.resolve() not in roots:
        raise OSError(0, "refusing to delete what is neither an export nor a referral's drafts", str(target))
    if target.is_symlink():
        target.unlink()
        return 0, 0
    if not target.exists():
        return 0, 0
    return _remove(target)


def _remove(target: Path | str) -> tuple[int, int]:
    """Delete a folder (or one file), making read-only files and folders writable first; a file hard-linked
    from elsewhere keeps its mode, which it shares with the other copy. (files, bytes) deleted."""
    info = os.lstat(target)
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(target)
        return 1, info.st_size
    files = size = 0
    for path, dirs, names in os.walk(target):
        os.chmod(path, stat.S_IRWXU)
        for name in names:
            full = os.path.join(path, name)
            info = os.lstat(full)
            files += 1
            size += info.st_size
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
                os.chmod(full, stat.S_IRUSR | stat.S_IWUSR)
    shutil.rmtree(target)
    return files, size


def _home_copies(ctx: Context, unit: Unit, exports: "ExportIndex") -> None:
    """Find the unit's task's other copies in the home: its evidence packages in HOME/exports and its
    referrals' draft folders (each .eml/.txt carries the title, the URL and the channel)."""
    if not unit.task_id:
        unit.exports, unit.drafts = [], []
        return
    unit.exports = exports.of(unit.task_id)
    unit.drafts = [referral_folder(rid) for (rid,) in ctx.db.execute(
        "SELECT id FROM referrals WHERE task_id = ? ORDER BY id", [unit.task_id])
        if os.path.lexists(ctx.home / referral_folder(rid))]


def _erase_rows(ctx: Context, batch: list[Unit]) -> None:
    """Step 3, in one transaction: fingerprints, file rows, personal data and identifying fields go; the
    tombstones are marked done; every unit gets its audit entry."""
    now = iso(ctx.now())
    entries = []
    library_changed = False
    with transaction(ctx.db):
        for unit in batch:
            ids = [c["id"] for c in unit.captures]
            _erase_captures(ctx, ids, now)
            if unit.object_type == "library_item":
                library_changed = True
                ctx.db.execute("DELETE FROM fingerprints WHERE item_id = ?", [unit.object_id])
                ctx.db.execute("DELETE FROM standard_hashes WHERE item_id = ?", [unit.object_id])
                blank = ", ".join(f"{name} = NULL" for name in RECORD_FIELDS)
                ctx.db.execute(f"UPDATE library_items SET status = 'purged', {blank} WHERE id = ?", [unit.object_id])
            if unit.task_id:
                _erase_task(ctx, unit)
            ctx.db.execute("UPDATE tombstones SET state = 'done', purged_at = ? WHERE id = ?", [now, unit.tombstone])
            action = "library.purge" if unit.object_type == "library_item" else "task.purge"
            entries.append((action, unit.object_type, unit.object_id, REASONS[unit.rule],
                            {"task": unit.task_id, "rule": unit.rule, "expired_on": unit.expired_on,
                             "captures": ids, "exports": unit.exports, "referral_drafts": unit.drafts,
                             "files": unit.files, "bytes": unit.bytes, "resumed": unit.resumed,
                             "tombstone": unit.tombstone}))
        audit.record_many(ctx, entries)
        if library_changed:
            bump_generation(ctx)


def _erase_captures(ctx: Context, ids: list[str], now: str) -> None:
    if not ids:
        return
    marks = _marks(ids)
    ctx.db.execute(f"DELETE FROM fingerprints WHERE capture_id IN ({marks})", ids)
    ctx.db.execute(f"DELETE FROM standard_hashes WHERE capture_id IN ({marks})", ids)
    ctx.db.execute(f"DELETE FROM capture_files WHERE capture_id IN ({marks})", ids)
    blank = ", ".join(f"{name} = NULL" for name in CAPTURE_FIELDS)
    ctx.db.execute(f"UPDATE captures SET purged_at = COALESCE(purged_at, ?), {blank} WHERE id IN ({marks})",
                   [now, *ids])


def _erase_task(ctx: Context, unit: Unit) -> None:
    """The task's personal data (subjects 8.4, incident references 8.3.3, indices research 9.3) and the
    content's identifying fields; the task is closed, since nothing is left to work on."""
    task_id = unit.task_id
    for table in ("subjects", "incident_refs", "indices_research"):
        ctx.db.execute(f"DELETE FROM {table} WHERE task_id = ?", [task_id])
    ctx.db.execute("UPDATE tasks SET title = NULL, rationale = NULL, applicant_name = NULL, url = '', "
                   "canonical_url = '' WHERE id = ?", [task_id])
    # what the reviewing officer wrote about the content may name people too
    ctx.db.execute("UPDATE findings SET note = NULL WHERE review_id IN (SELECT id FROM reviews WHERE task_id = ?)",
                   [task_id])
    # what `ohrt refer check` saw stays as results and dates (the report's figures), without the address
    ctx.db.execute("UPDATE observations SET url = NULL, evidence = NULL WHERE task_id = ?", [task_id])
    ctx.db.execute("UPDATE reviews SET reason = NULL, no_capture_reason = NULL WHERE task_id = ?", [task_id])
    status = ctx.db.execute("SELECT status FROM tasks WHERE id = ?", [task_id]).fetchone()[0]
    if status != "closed":
        tasks.set_status(ctx, task_id, "closed", "task.close", reason="retention ended: material purged",
                         detail={"purged_as": unit.object_id})


def _marks(values) -> str:
    return ",".join("?" for _ in values) or "NULL"
