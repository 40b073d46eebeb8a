"""Verifying the store: every capture's files re-hashed, signatures and SHA256SUMS checked (SOP 9.1; ACPO 1)."""

from __future__ import annotations

import os
from pathlib import Path

from ...ground import layout, store
from ...ground.context import Context
from .reading import capture_path, get_capture


def verify_captures(ctx: Context, capture_ids: list[str] | None = None) -> dict:
    """Re-hash every file of the named captures (default: all not purged), check each signature and
    SHA256SUMS, and, when checking all, look for folders no capture owns.

    Intact is about the files: a `partial` capture (a live recording interrupted) can be intact, and its
    status is in each capture's report so that it is said beside the result.

    Returns {"intact", "checked", "files", "captures": [{id, intact, files, status, problems}], "problems":
    [{capture, path, problem, detail}]}."""
    from ...ground import signing

    public = (ctx.keys_dir / signing.PUBLIC_NAME).read_bytes()
    if capture_ids:
        rows = [get_capture(ctx, cid) for cid in capture_ids]
    else:
        rows = [dict(r) for r in ctx.db.query("SELECT * FROM captures ORDER BY id")]
    reports, problems = [], []
    for row in rows:
        if row["purged_at"]:
            left = [] if not os.path.lexists(ctx.home / row["folder"]) else [{
                "path": row["folder"], "problem": "unexpected", "detail": f"purged on {row['purged_at']} but its "
                "folder is still there: run `ohrt purge`, which finishes an interrupted purge"}]
            reports.append({"id": row["id"], "intact": not left, "files": 0, "purged_at": row["purged_at"],
                            "status": row["status"], "problems": left})
            problems += [{"capture": row["id"], **p} for p in left]
            continue
        folder = capture_path(ctx, row)
        report = store.verify_folder(folder, public, manifest_sha256=row["manifest_sha256"])
        found = report["problems"] + _rows_against_manifest(ctx, row["id"], folder)
        reports.append({"id": row["id"], "intact": not found, "files": report["files"],
                        "purged_at": None, "status": row["status"], "problems": found})
        problems += [{"capture": row["id"], **p} for p in found]
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
