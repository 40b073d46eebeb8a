"""Reading captures: one, a task's latest, the list, and consulting one with its reason (SOP 9.1; DPA 2018 s.62)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ...ground import audit, purged, sensitive
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import Failure, InputError, IntegrityFailure, NotFound, StateError
from .draft import FILE_KEYS, clean


def get_capture(ctx: Context, capture_id: str) -> dict:
    """One capture: its row, `path` (absolute folder), `review_copy` (what to play, relative to the
    folder), `files` (as in the manifest, without commands) and `live` (the manifest's, or None)."""
    capture_id = (capture_id or "").strip().upper()
    rows = list(ctx.db.query("SELECT * FROM captures WHERE id = ?", [capture_id]))
    if not rows:
        raise NotFound(f"no capture {capture_id!r} in this home: check the id with `ohrt capture list`.")
    capture = rows[0]
    capture["files"] = [dict(r) for r in ctx.db.query(
        f"SELECT {', '.join(FILE_KEYS)} FROM capture_files WHERE capture_id = ? ORDER BY id", [capture_id])]
    capture["path"] = str(capture_path(ctx, capture))
    capture["review_copy"] = review_copy(capture)
    capture["purged"] = None
    if capture["purged_at"]:
        note = purged.of_task(ctx.db, capture["task_id"]) if capture["task_id"] else None
        capture["purged"] = purged.describe(note) or f"purged on {capture['purged_at'][:10]}"
    capture["live"] = _live_of(capture_path(ctx, capture))
    return capture


def _live_of(folder: Path) -> dict | None:
    """The manifest's `live` key (the recording of a live stream: when, how long, why it stopped), or None."""
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("live")
    except (OSError, ValueError, AttributeError):
        return None


def review_copy(capture: dict) -> str | None:
    """The file to play: the review copy (or listening copy); the original when it already plays anywhere
    or is an image; for a page, its screenshot (what the officer saw), else the file as ingested."""
    files = capture["files"]
    ok = {f["role"]: f["path"] for f in files if f["status"] == "ok"}
    planned = {f["role"] for f in files}
    original = ok.get("original")
    if capture["media_kind"] == "page":
        shots = [f["path"] for f in files if f["status"] == "ok" and f["path"] == "page/screenshot.png"]
        return shots[0] if shots else original
    if capture["media_kind"] == "video":
        return ok.get("review") or (original if "review" not in planned else None)
    if capture["media_kind"] == "audio":
        return ok.get("audio") or (original if "audio" not in planned else None)
    return original


def capture_path(ctx: Context, capture: dict) -> Path:
    return ctx.home / capture["folder"]


def latest_capture(ctx: Context, task_id: str) -> dict | None:
    """The task's most recent capture that has not been purged, or None."""
    row = ctx.db.execute("SELECT id FROM captures WHERE task_id = ? AND purged_at IS NULL "
                         "ORDER BY started_at DESC, id DESC LIMIT 1", [(task_id or "").strip().upper()]).fetchone()
    return get_capture(ctx, row[0]) if row else None


def list_captures(ctx: Context, task_id: str | None = None) -> list[dict]:
    sql = ("SELECT id, task_id, status, method, media_kind, title, duration, started_at, officer, "
           "derivatives_failed, purged_at FROM captures")
    params = []
    if task_id:
        sql += " WHERE task_id = ?"
        params.append(task_id.strip().upper())
    return [dict(r) for r in ctx.db.query(sql + " ORDER BY id", params)]


def open_capture(ctx: Context, capture_id: str, *, reason: str | None) -> dict:
    """Consult a capture: the path of the file to play, with an audit entry giving the reason
    (DPA 2018 s.62: consultation, with justification)."""
    reason = clean(reason)
    if not reason:
        raise InputError("--reason is missing: say why you are consulting this material (DPA 2018 s.62), "
                         "e.g. --reason 'review for T-2026-000001'.")
    ctx.actor()
    sensitive.check_reason(ctx, reason)
    capture = get_capture(ctx, capture_id)
    if capture["purged_at"]:
        raise StateError(f"capture {capture['id']} was {capture['purged']}: there is nothing to open (`ohrt task show "
                         f"{capture['task_id']}` shows what is kept on record).")
    chosen = capture["review_copy"]
    note = None
    if chosen is None:
        chosen = next(f["path"] for f in capture["files"] if f["role"] == "original")
        note = f"no review copy yet (run `ohrt capture finish {capture['id']}`): this is the original"
    path = capture_path(ctx, capture) / chosen
    if not path.is_file():
        raise IntegrityFailure(f"{path} is missing: run `ohrt verify {capture['id']}`.")
    with transaction(ctx.db):
        audit.record(ctx, "capture.open", "capture", capture["id"], reason=reason,
                     detail={"purpose": "consultation", "file": chosen, "task": capture["task_id"]})
    return {"id": capture["id"], "task_id": capture["task_id"], "path": str(path), "file": chosen, "note": note}


def play(path: str) -> None:
    """Open a file in the desktop's default player."""
    import shutil

    opener = shutil.which("xdg-open") or shutil.which("open")
    if opener is None:
        raise Failure(f"no desktop opener (xdg-open) on this machine: open {path} in your player yourself.")
    subprocess.Popen([opener, path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
