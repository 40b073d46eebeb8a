"""Reading captures: one, a task's latest, the list, and consulting one with its reason (SOP 9.1; DPA 2018 s.62)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from ...ground import audit, purged, sensitive
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import Failure, InputError, IntegrityFailure, NotFound, StateError
from .draft import FILE_KEYS, clean


def get_capture(ctx: Context, capture_id: str) -> dict:
    """One capture: its row, `path` (absolute folder), `review_copy` (what to play, relative to the
    folder), `files` (as in the manifest, without commands), and the manifest's `live` and `comments` (or None)."""
    capture_id = (capture_id or "").strip().upper()
    rows = list(ctx.db.query("SELECT * FROM captures WHERE id = ?", [capture_id]))
    if not rows:
        raise NotFound(f"no capture {capture_id!r} in this home: check the id with `ohrt capture list`.")
    capture = rows[0]
    capture["files"] = [dict(r) for r in ctx.db.query(
        f"SELECT {', '.join(FILE_KEYS)} FROM capture_files WHERE capture_id = ? ORDER BY id", [capture_id])]
    capture["path"] = str(capture_path(ctx, capture))
    capture["items"] = items_of(capture)
    capture["review_copy"] = review_copy(capture)
    capture["purged"] = None
    if capture["purged_at"]:
        note = purged.of_task(ctx.db, capture["task_id"]) if capture["task_id"] else None
        capture["purged"] = purged.describe(note) or f"purged on {capture['purged_at'][:10]}"
    manifest = _manifest_of(capture_path(ctx, capture))
    capture["live"] = manifest.get("live")
    capture["comments"] = manifest.get("comments")
    capture["clock"] = clock_evidence(manifest, clock_limit(ctx)) if manifest else None
    return capture


DEFAULT_CLOCK_SKEW_MINUTES = 2


def clock_limit(ctx: Context) -> float:
    """`[timestamp] max_clock_skew_minutes`: how far the server's clock may stand from ours unflagged."""
    try:
        return float(ctx.settings.get("timestamp.max_clock_skew_minutes", DEFAULT_CLOCK_SKEW_MINUTES))
    except (TypeError, ValueError):
        return DEFAULT_CLOCK_SKEW_MINUTES


def clock_evidence(manifest: dict, limit_minutes: float) -> dict:
    """What a capture's manifest holds of the clocks it was made by: this machine's clock as read when it was
    sealed (`machine_clock`: clock source, NTP), the page server's `Date` header and its difference from our
    clock (the page's provenance), and whether that difference is over `limit_minutes` (`flagged`)."""
    page = manifest.get("page") if isinstance(manifest.get("page"), dict) else {}
    skew = page.get("clock_skew_seconds")
    return {"machine": manifest.get("machine_clock"), "fixed": manifest.get("clock"),
            "server_date": page.get("server_date"), "skew_seconds": skew, "limit_minutes": limit_minutes,
            "flagged": skew is not None and abs(skew) > limit_minutes * 60}


def clock_text(clock: dict | None) -> str:
    """The clock evidence in one line, for `capture show` and the report."""
    if not clock:
        return "—"
    machine = clock.get("machine") or {}
    parts = []
    if clock.get("fixed"):
        parts.append(f"times {clock['fixed']}")
    if machine.get("clocksource"):
        parts.append(f"clock source {machine['clocksource']}")
    if "ntp_synchronized" in machine:
        parts.append("NTP-synchronised" if machine["ntp_synchronized"] else "NOT synchronised by NTP")
    elif machine:
        parts.append("NTP synchronisation could not be read")
    if not machine:
        parts.append("the machine's clock was not recorded")
    if clock.get("server_date"):
        skew = clock.get("skew_seconds")
        parts.append(f"server's Date {clock['server_date']}" + ("" if skew is None else f", {skew:+.1f} s from ours"))
        if clock.get("flagged"):
            parts.append(f"OVER the {clock['limit_minutes']:g}-minute limit: one of the two clocks was wrong")
    return "; ".join(parts)


def _manifest_of(folder: Path) -> dict:
    """The manifest as stored ({} when it cannot be read: `ohrt verify` says why)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def items_of(capture: dict) -> list[dict]:
    """The capture's items in the post's order (one for most captures): number, original file, kind,
    duration, source URL, and the file to play or view (`review_copy`)."""
    originals = [f for f in capture["files"] if f["role"] == "original"]
    items = []
    for number, original in enumerate(originals, start=1):
        item = original.get("item") or number
        kind = original.get("kind") if len(originals) > 1 else capture["media_kind"]
        items.append({"item": item, "path": original["path"], "sha256": original["sha256"], "kind": kind,
                      "duration": original.get("duration") if len(originals) > 1 else capture.get("duration"),
                      "source_url": original.get("source_url"),
                      "review_copy": _copy_of(capture["files"], kind, item if len(originals) > 1 else None)})
    return items


def review_copy(capture: dict) -> str | None:
    """The file to play: the review copy (or listening copy); the original when it already plays anywhere
    or is an image; for a page, its screenshot (what the officer saw), else the file as ingested. For a
    post of several items, that of its first item."""
    files = capture["files"]
    if capture["media_kind"] == "page":
        original = next((f["path"] for f in files if f["role"] == "original" and f["status"] == "ok"), None)
        shots = [f["path"] for f in files if f["status"] == "ok" and f["path"] == "page/screenshot.png"]
        return shots[0] if shots else original
    items = capture.get("items") or items_of(capture)
    return items[0]["review_copy"] if items else None


def _copy_of(files: list[dict], kind: str | None, item: int | None) -> str | None:
    """The review copy of one item (`item` None: the capture's one original)."""
    mine = [f for f in files if item is None or f.get("item") == item]
    ok = {f["role"]: f["path"] for f in mine if f["status"] == "ok"}
    planned = {f["role"] for f in mine}
    original = ok.get("original")
    if kind == "video":
        return ok.get("review") or (original if "review" not in planned else None)
    if kind == "audio":
        return ok.get("audio") or (original if "audio" not in planned else None)
    return ok.get("review") or original


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
    # xdg-open hands the file to the player and returns at once; an exit status other than 0 (no player for
    # the type, no desktop session) is said, not lost. A player that stays attached is left running.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen([opener, path], stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True)
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return
        if code != 0:
            errors.seek(0)
            said = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise Failure(f"the player did not open {path} ({Path(opener).name} exited with {code}"
                          + (f": {said[-1][:200]}" if said else "") + "): open it in your player yourself.")
