"""The home's SQLite database: connection, transactions, readable ids, the schema's history (SOP 8.6 records).

Every schema change is a small named function appended to MIGRATIONS; `migrate(db)` applies those not
yet recorded in `_migrations`, in order. Reading this file top to bottom is the history of the schema.

Never edit a shipped migration, add one: a home that already ran it will never run it again, so an edit
would leave old homes and new ones with different schemas. tests/test_migrations.py pins the source of
each shipped migration (a new one is pinned there when it is added) and opens a frozen 0.1.0 home with
the current code.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from .errors import Busy, HomeError, InputError, is_busy

if TYPE_CHECKING:
    import sqlite_utils

# How long a command waits for another's write lock before saying the home is busy. OHRT_BUSY_TIMEOUT
# (seconds) shortens it, e.g. for tests of that refusal.
BUSY_TIMEOUT_S = 30

MIGRATIONS: list[tuple[str, Callable]] = []


def migration(fn: Callable) -> Callable:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def _sqlite_utils():
    """sqlite-utils, imported without pandas and numpy: it imports both, when installed, only to map their
    types to columns, which ohrt never hands it (fingerprints are stored as bytes), and they would cost every
    command a quarter of a second. A module already imported is left as it is."""
    import sys

    hidden = [name for name in ("pandas", "numpy") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` now fails at once
    try:
        import sqlite_utils
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]
    return sqlite_utils


def connect(path: Path) -> "sqlite_utils.Database":
    """Open (and bring up to date) the database at `path`: WAL, a busy timeout, foreign keys on."""
    sqlite_utils = _sqlite_utils()

    timeout = busy_timeout()
    try:
        conn = sqlite3.connect(str(path), timeout=timeout)
        conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as exc:
        if is_busy(exc):
            raise Busy() from None
        raise HomeError(f"cannot open the database {path} ({exc}): check the file or restore it from backup.") from None
    conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=FULL")
    # what is deleted or overwritten is zeroed on its page, not left readable in free space (a purge's
    # personal data above all); Debian builds SQLite with this on, others do not
    conn.execute("PRAGMA secure_delete=ON")
    # no sqlite-utils plugins: none may change the connection of a home's records, and looking for them
    # means reading every installed package's entry points
    db = sqlite_utils.Database(conn, execute_plugins=False)
    migrate(db)
    return db


def clear_wal(db: "sqlite_utils.Database", attempts: int = 20) -> bool:
    """Copy the write-ahead log into the database and empty it, so that earlier versions of the pages a
    purge zeroed are in neither file (no VACUUM needed: secure_delete zeroed them). False when readers
    kept it from completing after `attempts` tries; the next purge tries again."""
    import time

    for _ in range(attempts):
        busy, _, _ = db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return True
        time.sleep(0.05)
    return False


def busy_timeout() -> float:
    """Seconds to wait for another command's lock: BUSY_TIMEOUT_S, or $OHRT_BUSY_TIMEOUT when set."""
    text = os.environ.get("OHRT_BUSY_TIMEOUT", "").strip()
    if not text:
        return BUSY_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 3600:
        raise InputError(f"OHRT_BUSY_TIMEOUT={text!r} is not a number of seconds (0 to 3600): unset it or correct it.")
    return value


@contextlib.contextmanager
def transaction(db: "sqlite_utils.Database") -> Iterator["sqlite_utils.Database"]:
    """One all-or-nothing unit of work. Takes the write lock at once (BEGIN IMMEDIATE) so that two
    processes (a scheduled purge and an officer) queue on the busy timeout instead of deadlocking.
    Nested use becomes a savepoint."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


def next_ids(db: "sqlite_utils.Database", prefix: str, year: int, count: int = 1) -> list[str]:
    """Reserve `count` readable ids such as T-2026-000123; call inside a transaction."""
    row = db.execute("SELECT last FROM counters WHERE prefix = ? AND year = ?", [prefix, year]).fetchone()
    last = row[0] if row else 0
    db.execute(
        "INSERT INTO counters (prefix, year, last) VALUES (?, ?, ?) "
        "ON CONFLICT(prefix, year) DO UPDATE SET last = excluded.last",
        [prefix, year, last + count],
    )
    return [f"{prefix}-{year}-{n:06d}" for n in range(last + 1, last + count + 1)]


def next_id(db: "sqlite_utils.Database", prefix: str, now: dt.datetime) -> str:
    return next_ids(db, prefix, now.year)[0]


def insert_rows(db: "sqlite_utils.Database", table: str, rows: list[dict]) -> None:
    """Insert many rows of the same keys in one executemany: the bulk path of imports and batch reviews,
    where sqlite-utils' per-call table introspection would dominate. A key a row lacks is stored as NULL."""
    if not rows:
        return
    columns = list(rows[0])
    db.conn.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        [[row.get(c) for c in columns] for row in rows],
    )


def migrate(db: "sqlite_utils.Database") -> None:
    import datetime as _dt

    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    applied = [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
    known = {name for name, _ in MIGRATIONS}
    unknown = [name for name in applied if name not in known]
    if unknown:
        raise HomeError(
            f"this home's database was written by a newer ohrt (migration {unknown[0]!r}): "
            "install that version of ohrt to open it."
        )
    for name, fn in MIGRATIONS:
        if name in applied:
            continue
        with transaction(db):
            fn(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                [name, _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")],
            )


# ---------------------------------------------------------------------------------------------------
# The schema's history. Sensitive data (SOP 8.4 subjects, 9.3 indices research, incident references)
# lives in its own tables; stages/disclosure.py keeps it from anything bound for a platform.


@migration
def m001_foundation(db):
    db["counters"].create({"prefix": str, "year": int, "last": int}, pk=("prefix", "year"))
    db["audit"].create(
        {
            "seq": int,
            "at": str,
            "officer": str,
            "officer_name": str,
            "action": str,
            "object_type": str,
            "object_id": str,
            "reason": str,
            "detail": str,
            "prev_hash": str,
            "hash": str,
        },
        pk="seq",
        not_null={"at", "action", "prev_hash", "hash"},
    )
    db["audit"].create_index(["object_id"])
    # Append-only: ohrt itself never updates or deletes an audit row.
    db.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END"
    )
    # The chain's head, so that entries cut off the end are noticed too.
    db["audit_head"].create({"id": int, "seq": int, "hash": str}, pk="id")
    db["tasks"].create(
        {
            "id": str,
            "status": str,
            "received_at": str,
            "updated_at": str,
            "url": str,
            "canonical_url": str,
            "platform": str,
            "title": str,
            "applicant_name": str,
            "applicant_ocu": str,
            "applicant_unit": str,
            "upload_date": str,
            "rationale": str,
            "self_tasked": int,
            "intake": str,
            "import_key": str,
            "created_by": str,
        },
        pk="id",
        not_null={"status", "received_at", "url", "canonical_url", "platform"},
    )
    db["tasks"].create_index(["canonical_url"])
    db["tasks"].create_index(["status"])
    db["tasks"].create_index(["import_key"])
    db["incident_refs"].create(
        {"id": int, "task_id": str, "system": str, "reference": str},
        pk="id",
        foreign_keys=[("task_id", "tasks", "id")],
    )
    db["incident_refs"].create_index(["task_id"])
    db["subjects"].create(
        {"id": int, "task_id": str, "name": str}, pk="id", foreign_keys=[("task_id", "tasks", "id")]
    )
    db["subjects"].create_index(["task_id"])


@migration
def m002_capture(db):
    db["captures"].create(
        {
            "id": str,
            "task_id": str,
            "status": str,
            "method": str,
            "officer": str,
            "started_at": str,
            "finished_at": str,
            "requested_url": str,
            "final_url": str,
            "extractor": str,
            "platform_item_id": str,
            "channel": str,
            "upload_date": str,
            "title": str,
            "duration": float,
            "media_kind": str,
            "folder": str,
            "manifest_sha256": str,
            "derivatives_failed": int,
            "purged_at": str,
        },
        pk="id",
        foreign_keys=[("task_id", "tasks", "id")],
    )
    db["captures"].create_index(["task_id"])
    db["capture_files"].create(
        {
            "id": int,
            "capture_id": str,
            "path": str,
            "role": str,
            "sha256": str,
            "md5": str,
            "bytes": int,
            "parent_sha256": str,
            "status": str,
            "error": str,
        },
        pk="id",
        foreign_keys=[("capture_id", "captures", "id")],
    )
    db["capture_files"].create_index(["capture_id"])
    db["capture_files"].create_index(["sha256"])


@migration
def m003_review(db):
    db["reviews"].create(
        {
            "id": str,
            "task_id": str,
            "capture_id": str,
            "officer": str,
            "reviewed_at": str,
            "review_date": str,
            "decision": str,
            "format": str,
            "basis": str,
            "reason": str,
            "no_capture_reason": str,
            "superseded_by": str,
            "batch_key": str,
        },
        pk="id",
        foreign_keys=[("task_id", "tasks", "id")],
    )
    db["reviews"].create_index(["task_id"])
    db["findings"].create(
        {"id": int, "review_id": str, "factor": str, "note": str, "at": str},
        pk="id",
        foreign_keys=[("review_id", "reviews", "id")],
    )
    db["findings"].create_index(["review_id"])
    # A cited clause is kept as it read when cited, so the record stays true after the platform or the
    # team changes its catalogue.
    db["review_clauses"].create(
        {"id": int, "review_id": str, "clause_id": str, "platform": str, "title": str, "summary": str,
         "url": str, "as_of": str},
        pk="id",
        foreign_keys=[("review_id", "reviews", "id")],
    )
    db["review_clauses"].create_index(["review_id"])
    db["indices_research"].create(
        {
            "id": int,
            "task_id": str,
            "review_id": str,
            "system": str,
            "reference": str,
            "searched_on": str,
            "summary": str,
            "officer": str,
            "recorded_at": str,
        },
        pk="id",
        foreign_keys=[("task_id", "tasks", "id")],
    )
    db["indices_research"].create_index(["task_id"])


@migration
def m004_referral(db):
    db["referrals"].create(
        {
            "id": str,
            "task_id": str,
            "review_id": str,
            "kind": str,
            "appeal_of": str,
            "platform": str,
            "route": str,
            "status": str,
            "version": int,
            "drafted_by": str,
            "drafted_at": str,
            "draft_path": str,
            # The draft's main file as QA approves it: sending checks the file is still these bytes.
            "draft_sha256": str,
            "recipient": str,
            "message_id": str,
            "qa_by": str,
            "qa_at": str,
            "sent_by": str,
            "sent_at": str,
            "sent_on": str,
            "sent_via": str,
            "platform_ref": str,
            "outcome": str,
            "outcome_on": str,
            "outcome_note": str,
            "outcome_by": str,
            "outcome_at": str,
        },
        pk="id",
        foreign_keys=[("task_id", "tasks", "id")],
    )
    db["referrals"].create_index(["task_id"])
    db["referrals"].create_index(["status"])
    db["referral_qa"].create(
        {"id": int, "referral_id": str, "version": int, "officer": str, "at": str, "verdict": str, "note": str},
        pk="id",
        foreign_keys=[("referral_id", "referrals", "id")],
    )
    db["referral_qa"].create_index(["referral_id"])


@migration
def m005_library(db):
    db["library_items"].create(
        {
            "id": str,
            "task_id": str,
            "capture_id": str,
            "referral_id": str,
            "source": str,
            "status": str,
            "created_at": str,
            "created_by": str,
            "removed_on": str,
            "expires_on": str,
            "format": str,
            "title": str,
            "url": str,
            "platforms": str,
            "channel": str,
            "rationale": str,
            "summary": str,
            "breach": str,
            # the review summarised, and for imported items (source 'import') whose hashes they are
            "review_id": str,
            "source_name": str,
            "source_key": str,
            "source_ref": str,
            "duration": float,
        },
        pk="id",
        foreign_keys=[("task_id", "tasks", "id")],
    )
    db["library_items"].create_index(["expires_on"])
    db["library_items"].create_index(["task_id"])
    db["library_items"].create_index(["source_key", "source_ref"])
    db["holds"].create(
        {
            "id": int,
            "item_id": str,
            "investigation": str,
            "reason": str,
            "placed_by": str,
            "placed_at": str,
            "released_by": str,
            "released_at": str,
            "release_reason": str,
        },
        pk="id",
        foreign_keys=[("item_id", "library_items", "id")],
    )
    db["holds"].create_index(["item_id"])
    # One row per capture (or per imported item): the numbers of fingerprint.Fingerprint as little-endian
    # blobs. The index columns come first so that building the look-up index reads little else.
    db["fingerprints"].create(
        {
            "id": int,
            "capture_id": str,
            "item_id": str,
            "index_pdq": bytes,
            "index_audio": bytes,
            "created_at": str,
            "duration": float,
            "frames": int,
            "audio_values": int,
            "crop": str,
            "tools": str,
            "positions": bytes,
            "quality": bytes,
            "pdq": bytes,
            "audio": bytes,
        },
        pk="id",
    )
    db["fingerprints"].create_index(["capture_id"], unique=True)
    db["fingerprints"].create_index(["item_id"], unique=True)
    # Changes whenever the set of fingerprints the library matches against changes; names the index cache.
    db["library_generation"].create({"id": int, "token": str, "changed_at": str}, pk="id")
    db["tombstones"].create(
        {
            "id": int,
            "object_type": str,
            "object_id": str,
            "task_id": str,
            "rule": str,
            "purged_at": str,
            "purged_by": str,
            "detail": str,
            # 'purging' is committed before anything is deleted, 'done' after: a purge cut short is
            # finished by the next run (library.purge)
            "state": str,
            "started_at": str,
            "expired_on": str,
        },
        pk="id",
    )
    db["tombstones"].create_index(["object_id"])
    db["tombstones"].create_index(["state"])


@migration
def m006_governance(db):
    db["dip_samples"].create(
        {
            "quarter": str,
            "seed": str,
            "algorithm": str,
            "drawn_at": str,
            "drawn_by": str,
            "population": int,
            "size": int,
            "task_ids": str,
            # The population as drawn from (JSON list, sorted) and its digest, so that a later check can
            # say which tasks changed and a third party can reproduce the draw from this row alone.
            "population_ids": str,
            "population_sha256": str,
        },
        pk="quarter",
    )
    db["dip_sample_results"].create(
        {
            "id": int,
            "quarter": str,
            "task_id": str,
            "accurate": int,
            "quality": int,
            "compliant": int,
            "note": str,
            "officer": str,
            "recorded_at": str,
        },
        pk="id",
    )
    db["dip_sample_results"].create_index(["quarter"])


@migration
def m007_referral_send_attempt(db):
    # A send through the SMTP relay happens between two transactions (refer.mark_sent); the attempt is
    # recorded first, with the sending process, so that one killed midway is known for what it is.
    db["referrals"].add_column("send_attempt_at", str)
    db["referrals"].add_column("send_attempt_by", str)
    db["referrals"].add_column("send_attempt_pid", int)


@migration
def m008_guard_keys(db):
    # The keys the one guard finds every task's sensitive values by (ground/sensitive.py): src is the
    # source (1 subjects, 2 incident references, 3 research references, 4 research summaries, 5 applicants,
    # 6 platforms given as host names), row the rowid of its table. Triggers note each row added or changed
    # in guard_dirty, whose keys the guard makes before its next check, and drop a deleted row's keys, so a
    # purge leaves none behind.
    db.execute("CREATE TABLE guard_keys (key TEXT NOT NULL, src INTEGER NOT NULL, row INTEGER NOT NULL)")
    db.execute("CREATE INDEX idx_guard_keys_key ON guard_keys (key)")
    db.execute("CREATE INDEX idx_guard_keys_row ON guard_keys (row, src)")
    db.execute("CREATE TABLE guard_dirty (tab TEXT NOT NULL, row INTEGER NOT NULL)")
    for table, columns, codes in (("subjects", "name", "1"), ("incident_refs", "reference, system", "2"),
                                  ("indices_research", "reference, summary", "3, 4"),
                                  ("tasks", "applicant_name, platform", "5, 6")):
        drop = f"DELETE FROM guard_keys WHERE row = old.rowid AND src IN ({codes});"
        note = f"INSERT INTO guard_dirty VALUES ('{table}', new.rowid);"
        db.execute(f"CREATE TRIGGER guard_{table}_insert AFTER INSERT ON {table} BEGIN {note} END")
        db.execute(f"CREATE TRIGGER guard_{table}_update AFTER UPDATE OF {columns} ON {table} BEGIN {drop} {note} END")
        db.execute(f"CREATE TRIGGER guard_{table}_delete AFTER DELETE ON {table} BEGIN {drop} END")
        db.execute(f"INSERT INTO guard_dirty SELECT '{table}', rowid FROM {table}")


@migration
def m009_referral_officer_text(db):
    # The officer-written parts of a draft (a summary; an appeal's grounds), kept so that the next version
    # starts from them, and the sha256 of the draft's rendered texts, so that a version identical to the
    # one QA returned is refused (stages/refer/drafting.py).
    db["referrals"].add_column("summary", str)
    db["referrals"].add_column("grounds", str)
    db["referrals"].add_column("basis_sha256", str)


@migration
def m010_exhibits(db):
    # Exhibit references as officers give them (SO/1, SO/2 …): the producing officer's initials and a running
    # number, given to an item of a capture (its first original is item 1) when it is first exhibited.
    # A reference is never reused or renumbered: rows are never updated or deleted (a purge leaves them,
    # so a spent number stays spent), and (initials, number) is unique.
    db["exhibits"].create(
        {"reference": str, "capture_id": str, "item": int, "initials": str, "number": int, "officer": str,
         "exhibited_at": str, "exhibited_by": str},
        pk="reference",
        not_null={"capture_id", "item", "initials", "number", "officer", "exhibited_at"},
        foreign_keys=[("capture_id", "captures", "id")],
    )
    db["exhibits"].create_index(["capture_id", "item"], unique=True)
    db["exhibits"].create_index(["initials", "number"], unique=True)
    for event in ("UPDATE", "DELETE"):
        db.execute(f"CREATE TRIGGER exhibits_no_{event.lower()} BEFORE {event} ON exhibits "
                   "BEGIN SELECT RAISE(ABORT, 'an exhibit reference is never changed or reused'); END")


@migration
def m011_anchors(db):
    # Trusted time (stages/anchor.py): one row per RFC 3161 request, online or carried offline, whose
    # imprint is the Merkle root of its items; each item (a capture's manifest, a package's seal, the
    # audit chain's head) keeps its digest and its path to the root. Only digests: no personal data.
    db["anchors"].create({
        "id": str, "made_at": str, "officer": str, "mode": str, "url": str, "root": str, "nonce": str,
        "status": str, "error": str, "answered_at": str, "gen_time": str, "tsa": str, "serial": str,
        "folder": str,
    }, pk="id", not_null={"made_at", "mode", "root", "status", "folder"})
    db["anchor_items"].create({
        "anchor_id": str, "position": int, "kind": str, "object_id": str, "digest": str, "proof": str,
    }, pk=("anchor_id", "position"), foreign_keys=[("anchor_id", "anchors", "id")])
    db["anchor_items"].create_index(["kind", "object_id"])
    db["anchor_items"].create_index(["digest"])


@migration
def m012_observations(db):
    # `ohrt refer check` (SOP 10.6 follow-up): one row per run, and one per URL looked at in it. An
    # observation is not a decision: the officer records the platform's decision, and may point at the
    # observation that saw the content gone (referrals.outcome_observation). A run's rows are written in
    # batches as it goes; its audit entry (one per run) is written at its end, or by the next run for a
    # run cut short (state 'running' while no check holds the lock).
    db["check_runs"].create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "by": str,
            "state": str,        # running | done | interrupted
            "targets": int,
            "detail": str,       # JSON: counts, limits, skipped
            "audit_seq": int,
        },
        pk="id",
    )
    db["observations"].create(
        {
            "id": int,
            "run_id": int,
            "observed_at": str,
            "url": str,
            "host": str,
            "platform": str,
            "purpose": str,      # awaiting (a sent referral) | removed (a removal, for reinstatement) | reupload
            "task_id": str,
            "referral_id": str,
            "item_id": str,
            "result": str,       # available | gone | unreachable
            "http_status": int,
            "message": str,      # the platform's words when gone; the failure when unreachable
            "evidence": str,     # JSON: via, final_url, content_type, matched, extractor, title, error…
            "reinstated": int,   # 1: available again after a removal
        },
        pk="id",
        foreign_keys=[("run_id", "check_runs", "id")],
    )
    db["observations"].create_index(["task_id", "id"])
    db["observations"].create_index(["referral_id", "id"])
    db["observations"].create_index(["url", "id"])
    db["observations"].create_index(["run_id"])
    db["referrals"].add_column("outcome_observation", int)


@migration
def m013_capture_items(db):
    # A post of several items (a carousel, a page with two videos, a slideshow's photos and sound) is one
    # capture with several originals: `item` is each original's place in the post (1, 2, …) and names the
    # item of each derived file too; `source_url` is where an original's bytes came from, `kind` and
    # `duration` what it is (a page's files: which page file). Captures made before hold one item.
    # Fingerprints are kept per item, so a match can say which item matched.
    db["capture_files"].add_column("item", int)
    db["capture_files"].add_column("source_url", str)
    db["capture_files"].add_column("kind", str)
    db["capture_files"].add_column("duration", float)
    db.execute("UPDATE capture_files SET item = 1 WHERE role = 'original' OR parent_sha256 IN "
               "(SELECT o.sha256 FROM capture_files o WHERE o.capture_id = capture_files.capture_id "
               "AND o.role = 'original')")
    db.execute("UPDATE capture_files SET source_url = (SELECT COALESCE(c.final_url, c.requested_url) FROM captures c "
               "WHERE c.id = capture_files.capture_id) WHERE role = 'original'")
    db.execute("UPDATE capture_files SET (kind, duration) = (SELECT c.media_kind, c.duration FROM captures c "
               "WHERE c.id = capture_files.capture_id) WHERE role = 'original' AND capture_id IN "
               "(SELECT id FROM captures WHERE media_kind != 'page')")
    db["fingerprints"].add_column("item", int)
    db.execute("UPDATE fingerprints SET item = 1 WHERE capture_id IS NOT NULL")
    db.execute("DROP INDEX IF EXISTS idx_fingerprints_capture_id")
    db.execute("CREATE UNIQUE INDEX idx_fingerprints_capture_item ON fingerprints (capture_id, item)")


@migration
def m014_audit_signatures(db):
    # The signature over the hash of each audit entry by who wrote it: the acting officer's personal
    # Ed25519 key ('officer' their number), or the home's key for a scheduled job ('officer' = 'home').
    # Kept beside the chain, not in it, because it signs the entry's hash. `key` is the fingerprint of the
    # key that signed; `signature` is base64.
    db.execute("CREATE TABLE audit_signatures (seq INTEGER PRIMARY KEY REFERENCES audit(seq), "
               "officer TEXT NOT NULL, key TEXT NOT NULL, signature TEXT NOT NULL)")


@migration
def m015_standard_hashes(db):
    # The standard hashes other hash-sharing tools read, beside ohrt's own fingerprints: a photo's PDQ as
    # Meta's pdq-photo-hasher makes it, a video's vPDQ frames (number, time, quality, 32-byte PDQ each);
    # for an imported item, also the MD5 and SHA-256 a hash list gives. One row per original of a capture
    # (capture_id, item), or per imported library item (item_id); deleted with them.
    db.execute("CREATE TABLE standard_hashes (id INTEGER PRIMARY KEY, capture_id TEXT REFERENCES captures(id), "
               "item INTEGER, item_id TEXT REFERENCES library_items(id), pdq TEXT, pdq_quality INTEGER, "
               "vpdq_frames INTEGER, vpdq_numbers BLOB, vpdq_times BLOB, vpdq_quality BLOB, vpdq BLOB, md5 TEXT, "
               "sha256 TEXT, tools TEXT, created_at TEXT NOT NULL)")
    db.execute("CREATE UNIQUE INDEX idx_standard_hashes_capture_item ON standard_hashes (capture_id, item)")
    db.execute("CREATE UNIQUE INDEX idx_standard_hashes_item_id ON standard_hashes (item_id)")
    db.execute("CREATE INDEX idx_standard_hashes_md5 ON standard_hashes (md5)")
    db.execute("CREATE INDEX idx_standard_hashes_sha256 ON standard_hashes (sha256)")
    db.execute("CREATE INDEX idx_capture_files_md5 ON capture_files (md5)")
    # A hash list imported in another tool's format (ThreatExchange's signal file, a CSV of MD5, SHA-256
    # and PDQ hashes with labels): who gave it (name), its provenance (what the officer recorded, the file,
    # its SHA-256, its format) and the expiry its items take when a row gives none. Each of its items is an
    # imported library item (source 'import', hash_source naming the list, title its label).
    db.execute("CREATE TABLE hash_sources (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, format TEXT NOT NULL, "
               "provenance TEXT, expires_on TEXT, file_name TEXT, file_sha256 TEXT, imported_at TEXT NOT NULL, "
               "imported_by TEXT NOT NULL)")
    db["library_items"].add_column("hash_source", int)
