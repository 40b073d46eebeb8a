"""The home's SQLite database: connection, transactions, readable ids, and `migrate`, which brings a
home's schema up to date (SOP 8.6 records).

The schema's history itself is the package ground/migrations/: every change a small named function
appended to MIGRATIONS, never edited once shipped; `migrate(db)` applies those not yet recorded in
`_migrations`, in order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .errors import Busy, HomeError, InputError, is_busy
from .migrations import MIGRATIONS

if TYPE_CHECKING:
    import sqlite_utils

# How long a command waits for another's write lock before saying the home is busy. OHRT_BUSY_TIMEOUT
# (seconds) shortens it, e.g. for tests of that refusal.
BUSY_TIMEOUT_S = 30


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
