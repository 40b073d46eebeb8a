"""Hash exchange in the formats other tools use (SOP 10.8): ThreatExchange's signal file, hash-list CSV.

ohrt's own signed format (`sharing.py`: PDQ and Chromaprint fingerprints, Ed25519-signed) stays the
default between forces. Beside it:

* `export_threatexchange` writes the library's own items as the `threatexchange` CLI (Meta's
  python-threatexchange, its local-file collaboration) reads signals: one signal a line, its type, a
  space and the signal: `vpdq` (the video's vPDQ frames as a JSON list of "hash,quality,timestamp"),
  `video_md5` (the original file's MD5) and `pdq` (a photo's PDQ hash). No titles, names, references or
  sound; audited.
* `import_list` reads such a file, or a CSV of MD5, SHA-256 and PDQ hashes with labels (the shape of
  industry hash lists), as a named source with its provenance and expiry (`hash_sources`): each signal or
  row becomes an imported library item (its label as title) whose hashes `standard.py` holds against
  every new capture. Re-importing a source updates it; an item keeps its own expiry when a row gives one.
  A bad file changes nothing: it is read whole first, then written in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from ...ground import audit, exports, sensitive, tabular
from ...ground.context import Context
from ...ground.db import next_ids, transaction
from ...ground.errors import InputError
from ...ground.times import add_months, iso, parse_date
from . import standard
from .matching import bump_generation, fingerprint_capture

FORMATS = ("ohrt", "threatexchange", "csv")
MD5_RE = re.compile(r"[0-9a-f]{32}")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
TE_TYPES = {"pdq": "pdq", "vpdq": "vpdq", "video_md5": "md5", "photo_md5": "md5", "md5": "md5"}
CSV_COLUMNS = {"md5": "md5", "sha256": "sha256", "sha-256": "sha256", "sha_256": "sha256", "pdq": "pdq",
               "label": "label", "category": "label", "classification": "label", "id": "id", "ref": "id",
               "reference": "id", "expires_on": "expires_on", "expires": "expires_on"}
MAX_ITEMS = 1_000_000


# -------------------------------------------------------------------------------------------- export

def export_threatexchange(ctx: Context, path: Path, mode: str | None = None) -> dict:
    """Write the kept local items' standard hashes to `path` as ThreatExchange signals, with `mode`
    (ground/exports.py); audited."""
    ctx.actor()
    if path.exists():
        raise InputError(f"{path} already exists: choose a new file name.")
    if not path.parent.is_dir():
        raise InputError(f"folder {path.parent} does not exist: create it or choose another path.")
    permissions = exports.for_context(ctx, path.parent, mode)
    today = ctx.today().isoformat()
    lines, items, signals = [], [], {"vpdq": 0, "video_md5": 0, "pdq": 0}
    for row in ctx.db.query(
            "SELECT id, capture_id FROM library_items WHERE status = 'kept' AND source != 'import' AND capture_id "
            "IS NOT NULL AND expires_on > ? ORDER BY id", [today]):
        if not standard.has_hashes(ctx, row["capture_id"]):
            fingerprint_capture(ctx, row["capture_id"])  # made before the standard hashes were
        md5s = dict(ctx.db.execute("SELECT COALESCE(item, 1), md5 FROM capture_files WHERE capture_id = ? AND "
                                   "role = 'original' AND status = 'ok'", [row["capture_id"]]).fetchall())
        found = False
        for item, hashes in standard.of_capture(ctx, row["capture_id"]):
            if hashes.frames:
                lines.append("vpdq " + json.dumps(hashes.vpdq_features()))
                signals["vpdq"] += 1
                if md5s.get(item):
                    lines.append(f"video_md5 {md5s[item]}")
                    signals["video_md5"] += 1
                found = True
            elif hashes.pdq is not None:
                lines.append(f"pdq {hashes.pdq}")
                signals["pdq"] += 1
                found = True
        if found:
            items.append(row["id"])
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    exports.write_bytes(path, data, permissions)
    sha = hashlib.sha256(data).hexdigest()
    with transaction(ctx.db):
        audit.record(ctx, "library.export", "file", path.name, reason="sharing hashes without content",
                     detail={"format": "threatexchange", "items": items, "signals": signals, "sha256": sha})
    return {"file": str(path), "format": "threatexchange", "items": len(items), "signals": signals, "sha256": sha}


# -------------------------------------------------------------------------------------------- import

def detect_format(path: Path, text: str) -> str:
    """ohrt's own format (JSON), a CSV hash list, or a ThreatExchange signal file."""
    start = text.lstrip()[:1]
    if start == "{":
        return "ohrt"
    first = next((line for line in text.splitlines() if line.strip()), "")
    if path.suffix.lower() == ".csv" or ("," in first and first.split(" ", 1)[0].lower() not in TE_TYPES):
        return "csv"
    return "threatexchange"


def import_list(ctx: Context, path: Path, *, fmt: str, source: str | None, provenance: str | None,
                expires: str | None, label: str | None) -> dict:
    """Import a hash list (`fmt` threatexchange or csv) as the source `source`; returns what changed."""
    officer = ctx.actor()
    name = (source or "").strip()
    if not name:
        raise InputError(f"name who gave the hash list with --source, e.g. --source 'GIFCT hash list' (a {fmt} "
                         "file does not say).")
    if len(name) > 200 or any(ord(c) < 32 for c in name):
        raise InputError("--source is over 200 characters or holds control characters: give a short name.")
    # both go into the audit chain (its reason and detail), which is never purged
    sensitive.check_reason(ctx, name, "--source")
    sensitive.check_reason(ctx, provenance, "--provenance")
    today = ctx.today()
    default_expiry = _expiry(expires, today) if expires else add_months(today, _months(ctx))
    if default_expiry <= today:
        raise InputError(f"--expires {default_expiry} is not after today ({today}): give the date the source "
                         "says its hashes may be kept until.")
    text = tabular.read_text(path, "hash list")
    entries = _threatexchange(text, path) if fmt == "threatexchange" else _csv(text, path)
    if not entries:
        raise InputError(f"{path.name} holds no hashes: check that it is a {fmt} hash list.")
    if len(entries) > MAX_ITEMS:
        raise InputError(f"{path.name} holds {len(entries):,} hashes, more than the {MAX_ITEMS:,} one import takes: "
                         "split the file.")
    skipped, kept = [], []
    for entry in entries:
        entry["expires_on"] = _expiry(entry["expires_on"], today, entry["where"]) if entry["expires_on"] \
            else default_expiry
        if entry["expires_on"] <= today:
            skipped.append({"ref": entry["ref"], "reason": f"expired on {entry['expires_on']}"})
            continue
        entry["label"] = entry["label"] or (label or "").strip() or None
        kept.append(entry)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    key = f"list:{name}"
    added, updated, unchanged = [], [], []
    with transaction(ctx.db):
        known = ctx.db.execute("SELECT id FROM hash_sources WHERE name = ?", [name]).fetchone()
        fields = {"name": name, "format": fmt, "provenance": (provenance or "").strip() or None,
                  "expires_on": default_expiry.isoformat(), "file_name": path.name, "file_sha256": sha,
                  "imported_at": iso(ctx.now()), "imported_by": officer.number}
        if known:
            source_id = known[0]
            ctx.db["hash_sources"].update(source_id, fields)
        else:
            source_id = ctx.db["hash_sources"].insert(fields).last_pk
        existing = {ref: (item_id, title, expires_on) for item_id, ref, title, expires_on in ctx.db.execute(
            "SELECT id, source_ref, title, expires_on FROM library_items WHERE source = 'import' AND source_key = ? "
            "AND status = 'kept'", [key])}
        fresh = [e for e in kept if e["ref"] not in existing]
        ids = iter(next_ids(ctx.db, "L", ctx.now().year, len(fresh)) if fresh else [])
        for entry in kept:
            hashes = entry["hashes"]
            if entry["ref"] in existing:
                item_id, title, expires_on = existing[entry["ref"]]
                if (title, expires_on) == (entry["label"], entry["expires_on"].isoformat()) and \
                        _same_hashes(ctx, item_id, entry):
                    unchanged.append(item_id)
                    continue
                ctx.db["library_items"].update(item_id, {"title": entry["label"],
                                                         "expires_on": entry["expires_on"].isoformat(),
                                                         "source_name": name, "hash_source": source_id})
                updated.append(item_id)
            else:
                item_id = next(ids)
                ctx.db["library_items"].insert({
                    "id": item_id, "source": "import", "status": "kept", "created_at": iso(ctx.now()),
                    "created_by": officer.number, "source_key": key, "source_ref": entry["ref"],
                    "source_name": name, "hash_source": source_id, "title": entry["label"],
                    "removed_on": today.isoformat(), "expires_on": entry["expires_on"].isoformat(),
                    "format": entry["kind"]})
                added.append(item_id)
            standard.store_for_item(ctx, item_id, hashes, md5=entry.get("md5"), sha256=entry.get("sha256"))
        bump_generation(ctx)
        audit.record(ctx, "library.import", "file", path.name, reason=f"hash list from {name}", detail={
            "format": fmt, "source": name, "provenance": fields["provenance"], "sha256": sha,
            "expires_on": fields["expires_on"], "added": len(added), "updated": len(updated),
            "unchanged": len(unchanged), "skipped": len(skipped),
            "items": [added[0], added[-1]] if added else []})
    return {"file": str(path), "format": fmt, "source": name, "provenance": fields["provenance"],
            "expires_on": fields["expires_on"], "added": added, "updated": updated, "unchanged": unchanged,
            "skipped": skipped}


def _months(ctx: Context) -> int:
    from .items import retention_months

    return retention_months(ctx)


def _expiry(text: str, today, where: str = "--expires"):
    """An expiry date as YYYY-MM-DD (the past is allowed: such an item is skipped as expired)."""
    return parse_date(text, f"{where}: expiry date")


def _same_hashes(ctx: Context, item_id: str, entry: dict) -> bool:
    row = ctx.db.execute("SELECT pdq, vpdq, md5, sha256 FROM standard_hashes WHERE item_id = ?", [item_id]).fetchone()
    blobs = entry["hashes"].blobs()
    return row is not None and tuple(row) == (blobs["pdq"], blobs["vpdq"], entry.get("md5"), entry.get("sha256"))


def _threatexchange(text: str, path: Path) -> list[dict]:
    """A ThreatExchange signal file: `TYPE SIGNAL` a line (pdq, vpdq, video_md5)."""
    from ...ground.fingerprint import StandardHashes, pdq_bytes

    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        kind, _, signal = line.partition(" ")
        kind, signal = kind.lower(), signal.strip()
        where = f"{path.name} line {number}"
        if kind not in TE_TYPES:
            raise InputError(f"{where}: signal type {kind[:40]!r} is not one ohrt matches (pdq, vpdq, video_md5): "
                             "remove those lines; nothing imported.")
        try:
            if TE_TYPES[kind] == "pdq":
                pdq_bytes(signal)
                entry = {"hashes": StandardHashes(pdq=signal.lower())}
            elif TE_TYPES[kind] == "vpdq":
                entry = {"hashes": StandardHashes.from_vpdq_features(json.loads(signal))}
            else:
                if not MD5_RE.fullmatch(signal.lower()):
                    raise ValueError(f"{signal[:80]!r} is not an MD5 (32 hex digits)")
                entry = {"hashes": StandardHashes(), "md5": signal.lower()}
        except (ValueError, TypeError, json.JSONDecodeError) as exc:
            raise InputError(f"{where}: the {kind} signal is malformed ({exc}); nothing imported.") from None
        entries.append({**entry, "kind": TE_TYPES[kind], "label": None, "expires_on": None, "where": where,
                        "ref": f"{kind}:{hashlib.sha256(signal.encode('utf-8')).hexdigest()[:16]}"})
    return entries


def _csv(text: str, path: Path) -> list[dict]:
    """A CSV hash list: a header naming md5, sha256 and/or pdq columns, and optionally label, id and
    expires_on; or the long shape, a `type` (md5, sha256, pdq) and a `hash` column."""
    from ...ground.fingerprint import StandardHashes, pdq_bytes

    parsed = tabular.csv_rows(text)
    if parsed is None:
        raise InputError(f"{path.name} is empty: give a CSV hash list with a header row.")
    header, _, rows = parsed
    long = ("type" in header or "hash_type" in header) and ("hash" in header or "value" in header)
    named = {CSV_COLUMNS[h] for h in header if h in CSV_COLUMNS}
    if not long and not named & {"md5", "sha256", "pdq"}:
        raise InputError(f"{path.name}'s header ({', '.join(header)[:120]}) names no md5, sha256 or pdq column: "
                         "give a header row such as md5,sha256,pdq,label.")
    entries = []
    for row in rows:
        where = f"{path.name} line {row.line}"
        if row.error:
            raise InputError(f"{where} {row.error}: check that line; nothing imported.")
        values = {}
        for column, cell in row.values.items():
            if column in CSV_COLUMNS and cell.strip():
                values[CSV_COLUMNS[column]] = cell.strip()
        if long:
            kind = (row.values.get("type") or row.values.get("hash_type") or "").strip().lower().replace("-", "")
            value = (row.values.get("hash") or row.values.get("value") or "").strip()
            if kind not in ("md5", "sha256", "pdq"):
                raise InputError(f"{where}: hash type {kind[:20]!r} is not md5, sha256 or pdq; nothing imported.")
            values[kind] = value
        hashes = {k: values[k].lower() for k in ("md5", "sha256", "pdq") if values.get(k)}
        if not hashes:
            raise InputError(f"{where} has no hash: give an md5, sha256 or pdq on each row; nothing imported.")
        for kind, pattern in (("md5", MD5_RE), ("sha256", SHA256_RE)):
            if kind in hashes and not pattern.fullmatch(hashes[kind]):
                raise InputError(f"{where}: {hashes[kind][:80]!r} is not an {kind.upper()} "
                                 f"({32 if kind == 'md5' else 64} hex digits); nothing imported.")
        if "pdq" in hashes:
            try:
                pdq_bytes(hashes["pdq"])
            except ValueError as exc:
                raise InputError(f"{where}: {exc}; nothing imported.") from None
        label = values.get("label")
        if label and (len(label) > 500 or any(ord(c) < 32 for c in label)):
            raise InputError(f"{where}: the label is over 500 characters or holds control characters; "
                             "nothing imported.")
        ref = values.get("id") or hashlib.sha256("|".join(f"{k}={v}" for k, v in sorted(hashes.items()))
                                                 .encode("utf-8")).hexdigest()[:16]
        if len(ref) > 200:
            raise InputError(f"{where}: the id is over 200 characters; nothing imported.")
        kind = "pdq" if "pdq" in hashes else "sha256" if "sha256" in hashes else "md5"
        entries.append({"hashes": StandardHashes(pdq=hashes.get("pdq")), "md5": hashes.get("md5"),
                        "sha256": hashes.get("sha256"), "kind": kind, "label": label, "ref": ref,
                        "expires_on": values.get("expires_on"), "where": where})
    refs = [e["ref"] for e in entries]
    if len(set(refs)) != len(refs):
        twice = next(r for r in refs if refs.count(r) > 1)
        raise InputError(f"{path.name}: id {twice[:80]!r} is on more than one row: give each row its own id; "
                         "nothing imported.")
    return entries


# ------------------------------------------------------------------------------------------- sources

def list_sources(ctx: Context) -> list[dict]:
    """Every source of imported hashes: the hash lists (name, format, provenance, file, expiry) and the
    forces whose signed ohrt files were imported; with their kept items and the latest expiry."""
    ctx.actor()
    found = []
    for row in ctx.db.query("SELECT * FROM hash_sources ORDER BY name"):
        kept, first, last = ctx.db.execute(
            "SELECT COUNT(*), MIN(expires_on), MAX(expires_on) FROM library_items WHERE hash_source = ? AND "
            "status = 'kept'", [row["id"]]).fetchone()
        found.append({"name": row["name"], "format": row["format"], "provenance": row["provenance"],
                      "items": kept, "expires_on": row["expires_on"], "first_expiry": first, "last_expiry": last,
                      "file": row["file_name"], "file_sha256": row["file_sha256"], "imported_at": row["imported_at"],
                      "imported_by": row["imported_by"]})
    for name, key, kept, first, last, when in ctx.db.execute(
            "SELECT source_name, source_key, COUNT(*), MIN(expires_on), MAX(expires_on), MAX(created_at) FROM "
            "library_items WHERE source = 'import' AND hash_source IS NULL AND status = 'kept' GROUP BY source_key "
            "ORDER BY source_name"):
        found.append({"name": name, "format": "ohrt", "provenance": f"signed with key {key}", "items": kept,
                      "expires_on": None, "first_expiry": first, "last_expiry": last, "file": None,
                      "file_sha256": None, "imported_at": when, "imported_by": None})
    return found
