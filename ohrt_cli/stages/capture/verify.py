"""Verifying the store: every capture's files re-hashed, signatures and SHA256SUMS checked (SOP 9.1; ACPO 1)."""

from __future__ import annotations

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
            reports.append({"id": row["id"], "intact": True, "files": 0, "purged_at": row["purged_at"],
                            "status": row["status"], "problems": []})
            continue
        report = store.verify_folder(capture_path(ctx, row), public, manifest_sha256=row["manifest_sha256"])
        reports.append({"id": row["id"], "intact": report["intact"], "files": report["files"],
                        "purged_at": None, "status": row["status"], "problems": report["problems"]})
        problems += [{"capture": row["id"], **p} for p in report["problems"]]
    if not capture_ids:
        known = {r["id"] for r in rows}
        for entry in sorted(ctx.captures_dir.iterdir()) if ctx.captures_dir.is_dir() else []:
            if not entry.name.startswith(".") and entry.name not in known:
                problems.append({"capture": entry.name, "path": layout.capture_folder(entry.name), "problem": "unexpected",
                                 "detail": "a folder in the store that no capture record owns"})
    return {"intact": not problems, "checked": len(reports), "files": sum(r["files"] for r in reports),
            "captures": reports, "problems": problems}
