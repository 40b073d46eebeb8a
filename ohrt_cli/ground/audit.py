"""The audit chain: every state change, consultation or disclosure of material, hash-chained (DPA 2018 s.62; SOP 8.6).

Each entry's hash covers its own fields and the previous entry's hash, so an entry edited, removed or
moved with the `sqlite3` shell breaks the chain at that point (DPA 2018 s.62 logging). The head row
catches entries cut off the end.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .db import insert_rows
from .errors import InputError, IntegrityFailure

if TYPE_CHECKING:
    from .context import Context

GENESIS = "0" * 64
TRAINING_MARK = "officer chosen freely: a training home proves nobody"
# Every entry carries the signature of who wrote it: the acting officer's personal key, or the home's key
# for a scheduled job. The role-gated acts below need at least that role; `audit verify` checks both the
# signature and the role against the roster as it stood when the entry was written.
ROLE_GATED: dict[str, str] = {
    "officer.add": "sergeant", "officer.role": "sergeant", "officer.disable": "sergeant",
    "referral.qa": "sergeant", "library.hold": "sergeant", "library.release": "sergeant",
    "dip_sample.draw": "inspector", "dip_sample.record": "sergeant",
}
HOME_SIGNER = "home"
FIELDS = ("seq", "at", "officer", "officer_name", "action", "object_type", "object_id", "reason", "detail", "prev_hash")


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_hash(entry: dict) -> str:
    payload = canonical_json([entry[name] for name in FIELDS])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(ctx: "Context", action: str, object_type: str, object_id: str, *, reason: str | None = None,
           detail: dict | None = None) -> int:
    """Append one entry; must run inside the transaction that makes the change it records."""
    return record_many(ctx, [(action, object_type, object_id, reason, detail)])[-1]


def record_many(ctx: "Context", entries: Iterable[tuple]) -> list[int]:
    """Append (action, object_type, object_id, reason, detail) entries in one go; for batch work."""
    db = ctx.db
    if not db.conn.in_transaction:
        raise RuntimeError("audit entries must be written in the transaction of the change they record")
    head = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    seq, prev = head if head else (0, GENESIS)
    at = _iso_now(ctx)
    officer = ctx.officer
    rows = []
    for action, object_type, object_id, reason, detail in entries:
        detail = dict(detail or {})
        if ctx.clock_fixed:
            detail["clock"] = "fixed by OHRT_NOW"
        if ctx.settings.training:
            detail["training"] = TRAINING_MARK
        seq += 1
        entry = {
            "seq": seq,
            "at": at,
            "officer": officer.number if officer else "scheduled",
            "officer_name": officer.name if officer else "scheduled job",
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "reason": reason,
            "detail": canonical_json(detail),
            "prev_hash": prev,
        }
        entry["hash"] = prev = entry_hash(entry)
        rows.append(entry)
    if not rows:
        return []
    insert_rows(db, "audit", rows)
    _sign_acts(ctx, rows)
    if _checkpoint not in ctx.on_close:
        ctx.on_close.append(_checkpoint)
    db.execute(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        [seq, prev],
    )
    return [row["seq"] for row in rows]


def _sign_acts(ctx: "Context", rows: list[dict]) -> None:
    """The signature over the hash of each entry: the acting officer's personal key, the home's key when
    no officer acts (a scheduled purge). An officer whose key is not made yet signs nothing."""
    import base64

    from . import officer_keys, signing

    key = officer_keys.signer_for(ctx) if ctx.officer is not None else None
    if key is not None:
        who, fingerprint, sign = ctx.officer.number, ctx.officer.fingerprint, key.sign
    elif ctx.officer is None:
        who, fingerprint = HOME_SIGNER, signing.fingerprint((ctx.keys_dir / signing.PUBLIC_NAME).read_bytes())
        private = signing.load_private(ctx.keys_dir)
        sign = private.sign
    else:
        return
    insert_rows(ctx.db, "audit_signatures", [
        {"seq": row["seq"], "officer": who, "key": fingerprint,
         "signature": base64.b64encode(sign(row["hash"].encode("ascii"))).decode("ascii")} for row in rows])


def _checkpoint(ctx: "Context") -> None:
    from . import checkpoints

    checkpoints.write(ctx)


def signatures(db) -> dict[int, dict]:
    return {row["seq"]: dict(row) for row in db.query("SELECT * FROM audit_signatures")}


def _iso_now(ctx) -> str:
    from .times import iso

    return iso(ctx.now())


def entries(db, object_id: str | None = None) -> list[dict]:
    sql = "SELECT * FROM audit"
    params: list = []
    if object_id:
        sql += " WHERE object_id = ?"
        params.append(object_id)
    rows = [dict(row) for row in db.query(sql + " ORDER BY seq", params)]
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    return rows


def verify(db) -> int:
    """Recompute the chain; return the number of entries, or raise naming the first bad one."""
    expected_seq, prev = 1, GENESIS
    cursor = db.conn.execute(f"SELECT {', '.join(FIELDS)}, hash FROM audit ORDER BY seq")
    names = FIELDS + ("hash",)
    for values in cursor:
        entry = dict(zip(names, values))
        seq = entry["seq"]
        if seq != expected_seq:
            raise IntegrityFailure(
                f"audit chain broken at entry {expected_seq}: it is missing (next present is {seq}); "
                "restore the database from backup and report the break."
            )
        if entry["prev_hash"] != prev:
            raise IntegrityFailure(
                f"audit chain broken at entry {seq}: it does not follow entry {seq - 1} "
                "(an entry was removed or reordered); restore from backup and report the break."
            )
        if entry_hash(entry) != entry["hash"]:
            raise IntegrityFailure(
                f"audit chain broken at entry {seq}: its contents were altered after it was written; "
                "restore from backup and report the break."
            )
        prev = entry["hash"]
        expected_seq += 1
    count = expected_seq - 1
    head = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    head_seq, head_hash = head if head else (0, GENESIS)
    if (head_seq, head_hash) != (count, prev):
        raise IntegrityFailure(
            f"audit chain broken after entry {count}: the chain once reached entry {head_seq}, "
            "so entries were removed from its end; restore from backup and report the break."
        )
    return count


def export(ctx: "Context", path: Path, mode: str | None = None) -> dict:
    """Write the chain as JSON lines (the last one the signed checkpoint of its head) plus `FILE.sig`, an
    Ed25519 signature over the exact file bytes; both with `mode` (ground/exports.py)."""
    from . import exports, signing
    from .db import transaction

    path = Path(path)
    if path.exists():
        raise InputError(f"{path} already exists: choose a new file name.")
    if not path.parent.is_dir():
        raise InputError(f"folder {path.parent} does not exist: create it or choose another path.")
    permissions = exports.for_context(ctx, path.parent, mode)
    ctx.actor()
    count = verify(ctx.db)
    from . import checkpoints

    lines = []
    for row in entries(ctx.db):
        if row["seq"] > count:  # written by another command since the check: the next export has it
            break
        lines.append(canonical_json(row) + "\n")
    # the signed checkpoint of the head exported, as the last line: once the file has left the machine,
    # `ohrt audit verify --against FILE` catches a chain cut or rewritten below it
    head = checkpoints.make(ctx, upto=count)
    if head is not None:
        lines.append(checkpoints.line(head))
    data = "".join(lines).encode("utf-8")
    signature = signing.sign(ctx.keys_dir, data)
    exports.write_bytes(path.with_name(path.name + ".sig"), signature, permissions)
    exports.write_bytes(path, data, permissions)
    with transaction(ctx.db):
        record(ctx, "audit.export", "audit", "chain", detail={"entries": count, "file": str(path)})
    return {"file": str(path), "signature": str(path) + ".sig", "entries": count,
            "public_key": str(ctx.keys_dir / signing.PUBLIC_NAME)}
