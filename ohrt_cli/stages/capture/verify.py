"""Verifying the store: every capture's files re-hashed, signatures and SHA256SUMS checked, and each file's
hash set against the manifest, the database and the chain's own record of the capture (SOP 9.1; ACPO 1, 3).

The home's key can be read by whoever runs ohrt, so a manifest re-signed with it proves little alone: an
original replaced, its hash mended in manifest.json and in the database and the manifest re-signed still
disagrees with the `capture.add` entry the chain holds, and with the sealing officer's own signature."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ...ground import layout, roster, signing, store, store_check
from ...ground.context import Context
from ...ground.progress import Report, meter
from .reading import capture_path, get_capture


def verify_captures(ctx: Context, capture_ids: list[str] | None = None, progress: Report | None = None) -> dict:
    """Re-hash every file of the named captures (default: all not purged), check each signature and
    SHA256SUMS, and, when checking all, look for folders no capture owns.

    Intact is about the files: a `partial` capture (a live recording interrupted) can be intact, and its
    status is in each capture's report so that it is said beside the result.

    Returns {"intact", "checked", "files", "captures": [{id, intact, files, status, problems}], "problems":
    [{capture, path, problem, detail}]} (problem: changed, missing, unexpected, signature, sums, manifest,
    record, chain, key, cosignature)."""
    public = (ctx.keys_dir / signing.PUBLIC_NAME).read_bytes()
    if capture_ids:
        rows = [get_capture(ctx, cid) for cid in capture_ids]
    else:
        rows = [dict(r) for r in ctx.db.query("SELECT * FROM captures ORDER BY id")]
    reports, problems = [], []
    chain = _chain_record(ctx)
    if chain["bound"] and chain["home_key"] and signing.fingerprint(public) != chain["home_key"]:
        problems.append({"capture": "home", "path": f"{layout.KEYS_DIR}/{signing.PUBLIC_NAME}", "problem": "key",
                         "detail": f"the home's key is {signing.fingerprint(public)[:16]}…, but the chain recorded "
                         f"{chain['home_key'][:16]}… at init: the key pair was swapped"})
    shown = meter(progress, "re-hashing captures", len(rows))
    for row in rows:
        shown.advance()
        if row["purged_at"]:
            left = [] if not os.path.lexists(ctx.home / row["folder"]) else [{
                "path": row["folder"], "problem": "unexpected", "detail": f"purged on {row['purged_at']} but its "
                "folder is still there: run `ohrt purge`, which finishes an interrupted purge"}]
            reports.append({"id": row["id"], "intact": not left, "files": 0, "purged_at": row["purged_at"],
                            "status": row["status"], "problems": left})
            problems += [{"capture": row["id"], **p} for p in left]
            continue
        folder = capture_path(ctx, row)
        report = store_check.verify_folder(folder, public, manifest_sha256=row["manifest_sha256"])
        found = report["problems"] + _rows_against_manifest(ctx, row["id"], folder) + _cross_check(ctx, row, folder,
                                                                                                   chain)
        reports.append({"id": row["id"], "intact": not found, "files": report["files"],
                        "purged_at": None, "status": row["status"], "problems": found})
        problems += [{"capture": row["id"], **p} for p in found]
    shown.finish()
    if not capture_ids:
        known = {r["id"] for r in rows}
        for entry in sorted(ctx.captures_dir.iterdir()) if ctx.captures_dir.is_dir() else []:
            if entry.name in known or (entry.name.startswith(store.TMP_PREFIX) and entry.is_dir()):
                continue  # a capture being made now, or one killed, which the next capture sweeps away
            what = "a hidden folder" if entry.name.startswith(".") else "a folder"
            if entry.is_symlink() or not entry.is_dir():
                what = "a link" if entry.is_symlink() else "a file"
            problems.append({"capture": entry.name, "path": layout.capture_folder(entry.name), "problem": "unexpected",
                             "detail": f"{what} in the store that no capture record owns"})
    return {"intact": not problems, "checked": len(reports), "files": sum(r["files"] for r in reports),
            "captures": reports, "problems": problems}


def _rows_against_manifest(ctx: Context, capture_id: str, folder: Path) -> list[dict]:
    """The capture's file rows (what listings, exports and matching read) against its signed manifest."""
    try:
        manifest = store.read_manifest(folder)
    except (OSError, ValueError):
        return []  # verify_folder has said why
    signed = {(f.get("role"), f.get("path")): (f.get("sha256"), f.get("status")) for f in manifest.get("files", [])}
    recorded = {(r[0], r[1]): (r[2], r[3]) for r in ctx.db.execute(
        "SELECT role, path, sha256, status FROM capture_files WHERE capture_id = ?", [capture_id])}
    found = []
    for key in sorted(set(signed) | set(recorded), key=lambda k: (k[1] or "", k[0] or "")):
        where = key[1] or key[0]
        if key not in recorded:
            found.append({"path": where, "problem": "record", "detail": "in manifest.json but not in the database"})
        elif key not in signed:
            found.append({"path": where, "problem": "record", "detail": "in the database but not in manifest.json"})
        elif recorded[key] != signed[key]:
            found.append({"path": where, "problem": "record", "detail": "the database's sha256 or status differs "
                          "from the signed manifest's"})
    return found


def _chain_record(ctx: Context) -> dict:
    """What the chain says of the captures (originals at capture.add, the last manifest hash recorded), of
    the roster's keys and of the home's key."""
    captures: dict[str, dict] = {}
    for object_id, action, detail in ctx.db.execute(
            "SELECT object_id, action, detail FROM audit WHERE object_type = 'capture' ORDER BY seq"):
        detail = json.loads(detail or "{}")
        record = captures.setdefault(object_id, {"originals": None, "manifest_sha256": None})
        if action == "capture.add":
            record["originals"] = detail.get("originals")
        if detail.get("manifest_sha256"):
            record["manifest_sha256"] = detail["manifest_sha256"]
    people = [dict(r) for r in ctx.db.query(
        "SELECT * FROM audit WHERE action LIKE 'officer.%' OR action = 'home.init' ORDER BY seq")]
    for entry in people:
        entry["detail"] = json.loads(entry["detail"] or "{}")
    init = next((e for e in people if e["action"] == "home.init" and e["seq"] == 1), None)
    return {"captures": captures, "roster": roster.final(people),
            "home_key": init["detail"].get("public_key") if init else None,
            "bound": bool(init and "home_id" in init["detail"])}


def _cross_check(ctx: Context, row: dict, folder, chain: dict) -> list[dict]:
    problems: list[dict] = []

    def problem(path: str, kind: str, detail: str) -> None:
        problems.append({"path": path, "problem": kind, "detail": detail})

    try:
        data = (folder / store.MANIFEST).read_bytes()
        manifest = json.loads(data)
    except (OSError, ValueError):
        return problems  # verify_folder has named it
    record = chain["captures"].get(row["id"])
    if record is None:
        problem(store.MANIFEST, "chain", "the chain holds no capture.add entry for this capture")
    else:
        originals = sorted(f["sha256"] for f in manifest.get("files", [])
                           if f.get("role") == "original" and f.get("sha256"))
        if record["originals"] is not None and originals != sorted(record["originals"]):
            recorded = ", ".join(_short(h) for h in record["originals"]) or "none"
            problem(_original_path(manifest), "chain", f"the original's hash is {', '.join(map(_short, originals))} "
                    f"in manifest.json, but the chain's capture.add entry recorded {recorded}: the original was replaced")
        if record["manifest_sha256"] and record["manifest_sha256"] != row["manifest_sha256"]:
            problem(store.MANIFEST, "chain", f"the database records manifest {_short(row['manifest_sha256'])}, the "
                    f"chain's last entry for this capture {_short(record['manifest_sha256'])}")
    _check_cosignature(folder, data, manifest, chain, problem)
    return problems


def _check_cosignature(folder, data: bytes, manifest: dict, chain: dict, problem) -> None:
    sealed_by = manifest.get("sealed_by")
    if not sealed_by:
        if chain["bound"]:
            problem(store.OFFICER_SIGNATURE, "cosignature", "manifest.json names no sealing officer: it was not "
                    "sealed by ohrt in this home")
        return
    standing = chain["roster"].get(str(sealed_by.get("number")))
    if standing is None or not standing.public_key or standing.fingerprint != sealed_by.get("key"):
        problem(store.OFFICER_SIGNATURE, "cosignature", f"sealed_by names officer {sealed_by.get('number')} with key "
                f"{_short(sealed_by.get('key'))}, which is not that officer's key in the chain")
        return
    try:
        signature = (folder / store.OFFICER_SIGNATURE).read_bytes()
    except FileNotFoundError:
        problem(store.OFFICER_SIGNATURE, "cosignature", f"the signature of {standing.name} is missing")
        return
    if not signing.verify(standing.public_key.encode(), signature, data):
        problem(store.OFFICER_SIGNATURE, "cosignature", f"does not verify manifest.json with {standing.name}'s key: "
                "the manifest was re-signed by someone else")


def _original_path(manifest: dict) -> str:
    return next((f["path"] for f in manifest.get("files", []) if f.get("role") == "original" and f.get("path")),
                store.MANIFEST)


def _short(value: str | None) -> str:
    return f"{value[:16]}…" if value else "nothing"
