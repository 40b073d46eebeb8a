"""Sharing the Domain library's fingerprints with another force, without content (SOP 10.8).

`export_hashes` writes the fingerprints of the library's own items — PDQ hashes, Chromaprint values,
dates and format; no media, no title, URL, channel, name or reference — as one JSON file with a detached
Ed25519 signature (FILE.sig, checkable with openssl like every signature of the home). `import_hashes`
checks the signature against the sending force's public key, given by the officer, and adds the items
as imported library items that match like local ones and name their source; importing a newer file
from the same force updates them. Imported items expire on the date the sending force gave.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ...ground import audit, exports, signing
from ...ground.context import Context
from ...ground.db import next_id, transaction
from ...ground.errors import InputError, IntegrityFailure
from .matching import bump_generation, stored_fingerprint
from ...ground.times import iso, parse_date

FORMAT = "ohrt-library-hashes/1"


def settings() -> dict:
    """The fingerprinting settings a file was made with; an importer must use the same."""
    from ...ground import fingerprint as fp

    return {"pdq": {"fps": fp.PDQ_FPS, "short_fps": fp.SHORT_FPS, "short_s": fp.SHORT_S, "frame_size": fp.FRAME_SIZE,
                    "min_quality": fp.MIN_QUALITY, "zooms": fp.ZOOMS, "variants": list(fp.VARIANTS)},
            "chromaprint": {"algorithm": 1, "step_s": round(fp.AUDIO_STEP_S, 6)}}


# -------------------------------------------------------------------------------------------- export

def export_hashes(ctx: Context, path: Path, mode: str | None = None) -> dict:
    """Write the kept local items' fingerprints to `path` (+ `path`.sig), with `mode` (ground/exports.py);
    audited."""
    ctx.actor()
    _check_target(path)
    permissions = exports.for_context(ctx, path.parent, mode)
    today = ctx.today().isoformat()
    items = []
    for row in ctx.db.query(
            "SELECT id, capture_id, removed_on, expires_on, format, duration FROM library_items WHERE status = 'kept' "
            "AND source != 'import' AND capture_id IS NOT NULL AND expires_on > ? ORDER BY id", [today]):
        fp = stored_fingerprint(ctx, capture_id=row["capture_id"])
        if fp is None:
            continue
        items.append({"ref": row["id"], "removed_on": row["removed_on"], "expires_on": row["expires_on"],
                      "format": row["format"], "fingerprint": fp.shareable()})
    public = (ctx.keys_dir / signing.PUBLIC_NAME).read_bytes()
    document = {"format": FORMAT, "team": ctx.settings.team_name, "exported_at": iso(ctx.now()),
                "public_key_fingerprint": signing.fingerprint(public), "settings": settings(), "items": items}
    data = (json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")
    signature = signing.sign(ctx.keys_dir, data)
    exports.write_bytes(path.with_name(path.name + ".sig"), signature, permissions)
    exports.write_bytes(path, data, permissions)
    sha = hashlib.sha256(data).hexdigest()
    with transaction(ctx.db):
        audit.record(ctx, "library.export", "file", path.name, reason="sharing fingerprints without content",
                     detail={"items": [i["ref"] for i in items], "sha256": sha})
    return {"file": str(path), "signature": str(path) + ".sig", "items": len(items), "sha256": sha,
            "public_key": str(ctx.keys_dir / signing.PUBLIC_NAME),
            "public_key_fingerprint": document["public_key_fingerprint"]}


def _check_target(path: Path) -> None:
    if path.exists():
        raise InputError(f"{path} already exists: choose a new file name.")
    if not path.parent.is_dir():
        raise InputError(f"folder {path.parent} does not exist: create it or choose another path.")


# -------------------------------------------------------------------------------------------- import

def import_hashes(ctx: Context, path: Path, *, key: Path) -> dict:
    """Check `path` against its signature and the sender's public key `key`, then add or update its
    items; returns {file, source, public_key_fingerprint, added, updated, skipped}."""
    officer = ctx.actor()
    data, public = _read_signed(path, key)
    document = _parse(data, path)
    key_print = signing.fingerprint(public)
    if document.get("public_key_fingerprint") != key_print:
        raise IntegrityFailure(f"{path.name} names key {document.get('public_key_fingerprint')} but was signed with "
                               f"{key_print}: ask the sending force for a fresh export.")
    own = signing.fingerprint((ctx.keys_dir / signing.PUBLIC_NAME).read_bytes())
    if key_print == own:
        raise InputError(f"{path.name} is this home's own export: its items are already here.")
    source = str(document.get("team") or "").strip() or f"key {key_print}"
    items, skipped = _items(document, path, ctx.today())
    added, updated, unchanged = [], [], []
    with transaction(ctx.db):
        for entry, fp in items:
            existing = ctx.db.execute(
                "SELECT id FROM library_items WHERE source = 'import' AND source_key = ? AND source_ref = ? "
                "AND status = 'kept'", [key_print, entry["ref"]]).fetchone()
            fields = {"removed_on": entry["removed_on"], "expires_on": entry["expires_on"], "format": entry["format"],
                      "duration": fp.duration, "source_name": source}
            if existing and _same(ctx, existing[0], fields, fp):
                unchanged.append(existing[0])  # the same file again: nothing to change
                continue
            if existing:
                item_id = existing[0]
                ctx.db["library_items"].update(item_id, fields)
                updated.append(item_id)
            else:
                item_id = next_id(ctx.db, "L", ctx.now())
                ctx.db["library_items"].insert({"id": item_id, "source": "import", "status": "kept",
                                                "created_at": iso(ctx.now()), "created_by": officer.number,
                                                "source_key": key_print, "source_ref": entry["ref"], **fields})
                added.append(item_id)
            _store(ctx, item_id, fp)
        bump_generation(ctx)
        audit.record(ctx, "library.import", "file", path.name, reason=f"fingerprints shared by {source}", detail={
            "source": source, "public_key": key_print, "sha256": hashlib.sha256(data).hexdigest(),
            "added": added, "updated": updated, "unchanged": len(unchanged), "skipped": len(skipped)})
    return {"file": str(path), "source": source, "public_key_fingerprint": key_print, "added": added,
            "updated": updated, "unchanged": unchanged, "skipped": skipped}


def _same(ctx: Context, item_id: str, fields: dict, fp) -> bool:
    """Whether an imported item already holds these fields and these fingerprints."""
    from ...ground import fingerprint as fpmod

    row = ctx.db["library_items"].get(item_id)
    if any(row.get(key) != value for key, value in fields.items()):
        return False
    stored = list(ctx.db.query("SELECT * FROM fingerprints WHERE item_id = ?", [item_id]))
    wanted = {**fpmod.index_columns(fp), **fp.blobs()}
    return len(stored) == 1 and all(stored[0].get(key) == value for key, value in wanted.items())


def _read_signed(path: Path, key: Path) -> tuple[bytes, bytes]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path} does not exist: check the path of the hash file.") from None
    try:
        signature = path.with_name(path.name + ".sig").read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path.name}.sig is missing: the signature must be beside the file.") from None
    try:
        public = key.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{key} does not exist: give the sending force's public key (their keys/public.pem) "
                         "with --key.") from None
    try:
        valid = signing.verify(public, signature, data)
    except (ValueError, TypeError):
        raise InputError(f"{key} is not an Ed25519 public key in PEM: give the sending force's public.pem.") from None
    if not valid:
        raise IntegrityFailure(f"{path.name} does not match its signature under {key.name}: it was changed, or it "
                               "is not from the holder of that key; nothing imported.")
    return data, public


def _parse(data: bytes, path: Path) -> dict:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{path.name} is not a hash file (not JSON): export it with `ohrt library export-hashes`.") \
            from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InputError(f"{path.name} is not an {FORMAT} file: export it with `ohrt library export-hashes`.")
    if document.get("settings") != settings():
        raise InputError(f"{path.name} was made with other fingerprint settings ({document.get('settings')}): the "
                         "sending force must export with the same ohrt version.")
    if not isinstance(document.get("items"), list):
        raise InputError(f"{path.name} has no list of items.")
    return document


def _items(document: dict, path: Path, today) -> tuple[list, list]:
    """The file's items as (entry, Fingerprint), leaving out those already expired."""
    from ...ground import fingerprint as fpmod
    from .items import ITEM_RE

    found, skipped = [], []
    for number, entry in enumerate(document["items"], start=1):
        try:
            ref = str(entry["ref"])
            if not ITEM_RE.fullmatch(ref):
                raise ValueError(f"ref {ref!r}")
            removed = parse_date(str(entry["removed_on"]), "removed_on")
            expires = parse_date(str(entry["expires_on"]), "expires_on")
            fp = fpmod.Fingerprint.from_shareable(entry["fingerprint"])
        except (KeyError, TypeError, ValueError, InputError) as exc:
            raise InputError(f"{path.name}: item {number} is malformed ({exc}); nothing imported.") from None
        if expires <= today:
            skipped.append({"ref": ref, "reason": f"expired on {expires}"})
            continue
        found.append(({"ref": ref, "removed_on": removed.isoformat(), "expires_on": expires.isoformat(),
                       "format": entry.get("format")}, fp))
    return found, skipped


def _store(ctx: Context, item_id: str, fp) -> None:
    from ...ground import fingerprint as fpmod

    ctx.db.execute("DELETE FROM fingerprints WHERE item_id = ?", [item_id])
    ctx.db["fingerprints"].insert({"item_id": item_id, "created_at": iso(ctx.now()), **fpmod.index_columns(fp),
                                   **fp.blobs()})
