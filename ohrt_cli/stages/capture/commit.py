"""Sealing a capture into the store: task, id, signed manifest, rows and audit in one transaction (SOP 9.1, 8.5)."""

from __future__ import annotations

import datetime as dt
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

from ... import __version__
from ...ground import audit, layout, media, store, times, urls
from ...ground.context import Context
from ...ground.db import next_id, transaction
from ...ground.errors import InputError, IntegrityFailure
from .. import intake as tasks
from .draft import FILE_KEYS, MANIFEST_FORMAT, PENDING, Draft, capture_status, cosigner, ordered, signer
from .reading import get_capture


def commit(ctx: Context, draft: Draft, task_id: str | None) -> dict:
    """One transaction: the task (self-tasked if need be), the capture's id, manifest, rows, audit and
    task status, then the rename into place; if the commit fails the folder goes too."""
    with transaction(ctx.db):
        task_id, created = _task_inside(ctx, draft, task_id)
        capture_id = next_id(ctx.db, "C", ctx.now())
        manifest = _manifest(ctx, capture_id, task_id, draft)
        seal = store.make_seal(manifest, signer(ctx), cosigner(ctx, manifest))
        manifest_sha = seal.manifest_sha256
        _insert(ctx, capture_id, task_id, draft, manifest_sha)
        failed = [f["role"] for f in draft.files if f["status"] in PENDING]
        audit.record(ctx, "capture.add", "capture", capture_id, reason=draft.reason, detail={
            "task": task_id, "method": draft.method, "url": draft.canonical_url, "media_kind": draft.kind,
            "originals": [f["sha256"] for f in draft.files if f["role"] == "original"],
            "manifest_sha256": manifest_sha, "derivatives_pending": failed, "self_tasked": created,
            "same_as": sorted({d["capture_id"] for d in draft.duplicates}),
            **({"live": draft.extra["live"]["stopped_because"]} if draft.extra.get("live") else {})})
        if ctx.db.execute("SELECT status FROM tasks WHERE id = ?", [task_id]).fetchone()[0] == "received":
            tasks.set_status(ctx, task_id, "captured", "task.captured", detail={"capture": capture_id})
        store.write_seal(draft.stage.path, seal)
        target = ctx.captures_dir / capture_id
        _clear_orphan(ctx, target)
        draft.stage.publish(target)
    draft.committed = capture_id
    result = get_capture(ctx, capture_id)
    result.update(task_created=created, duplicates=draft.duplicates, matches=[])
    return result


def _task_inside(ctx: Context, draft: Draft, task_id: str | None) -> tuple[str, bool]:
    """The capture's task; a self-tasked one (SOP 8.5) when there is none, created in this transaction."""
    if task_id:
        return task_id, False
    existing = tasks.open_task_for(ctx, draft.canonical_url)
    if existing:
        return existing, False
    raw = tasks.TaskInput(
        url=draft.requested_url, title=_task_title(draft), applicant_name=ctx.actor().name,
        applicant_ocu=ctx.settings.get("team.ocu") or ctx.settings.team_name or "OHRT",
        applicant_unit=ctx.settings.get("team.unit") or ctx.settings.team_name or "OHRT",
        upload_date=_upload_date(draft, ctx.today()), rationale=draft.reason or "",
        platform=None if draft.platform else _platform_from(draft))
    task = tasks.add_task(ctx, raw, intake="capture", self_tasked=True)
    return task["id"], True


def content_title(info: dict) -> str | None:
    """The content's title as the platform shows it. For a page with a <video> tag yt-dlp numbers the
    embedded players ('Title (1)'); the page's own title is what an officer sees and cites."""
    title = (info.get("title") or "").strip()
    if info.get("extractor") == "html5":
        title = re.sub(r"\s*\(\d+\)$", "", title)
    return title or None


def _task_title(draft: Draft) -> str:
    """The officer's --title, else the content's title, else (for a file) its name, else the URL."""
    title = draft.title or content_title(draft.info) or ""
    if not title and draft.method == "file":
        title = Path(draft.original["path"]).stem
    return title.strip() or draft.canonical_url


def _upload_date(draft: Draft, today: dt.date) -> str:
    """The platform's upload date (YYYYMMDD in yt-dlp's info) when it is a real, past date; else today."""
    raw = str(draft.info.get("upload_date") or "")
    try:
        day = dt.datetime.strptime(raw, "%Y%m%d").date()
    except ValueError:
        return today.isoformat()
    return day.isoformat() if day <= today else today.isoformat()


def _platform_from(draft: Draft) -> str:
    """For hosts outside SOP 4.1.4: yt-dlp's extractor when it knows the site (vimeo, soundcloud…),
    else the host name (a generic page is on that site, not on a platform called 'generic')."""
    extractor = (draft.info.get("extractor_key") or draft.info.get("extractor") or "").split(":")[0].lower()
    if extractor and extractor not in ("generic", "html5", "html5mediaembed"):
        try:
            return urls.platform_code(extractor)
        except InputError:
            pass
    host = (re.sub(r"^www\.", "", (urlsplit(draft.canonical_url).hostname or ""))) or "web"
    try:
        return urls.platform_code(host)
    except InputError:
        return "web"


def _manifest(ctx: Context, capture_id: str, task_id: str, draft: Draft) -> dict:
    info = draft.info
    manifest = {
        "format": MANIFEST_FORMAT, "capture_id": capture_id, "task_id": task_id, "method": draft.method,
        "requested_url": draft.requested_url, "canonical_url": draft.canonical_url,
        "final_url": info.get("webpage_url") or info.get("original_url"), "media_url": info.get("url"),
        "extractor": info.get("extractor"), "platform_item_id": info.get("id"),
        "channel": info.get("channel"), "channel_id": info.get("channel_id"), "uploader": info.get("uploader"),
        "uploader_id": info.get("uploader_id"), "upload_date": _iso_day(info.get("upload_date")),
        "title": content_title(info) or draft.title, "duration": draft.duration, "media_kind": draft.kind,
        "officer": draft.officer, "host": socket.gethostname(), "started_at": draft.started_at,
        "finished_at": draft.finished_at, "reason": draft.reason, "machine_clock": times.machine_clock(),
        "tools": {"ohrt": __version__, **media.tool_versions(), **draft.extra.get("tools", {})},
        "files": ordered(draft.files),
    }
    if len(draft.originals) > 1:
        manifest["items"] = post_items(draft)
    manifest.update({k: v for k, v in draft.extra.items() if k != "tools"})
    if ctx.clock_fixed:
        manifest["clock"] = "fixed by OHRT_NOW"
    return manifest


def post_items(draft: Draft) -> list[dict]:
    """The items of a post of several, in its order: each original's number, file, kind, length and address."""
    return [{"item": f.get("item") or n, "path": f["path"], "sha256": f["sha256"], "kind": f.get("kind"),
             "duration": f.get("duration"), "source_url": f.get("source_url")}
            for n, f in enumerate(draft.originals, start=1)]


def _iso_day(raw) -> str | None:
    raw = str(raw or "")
    return f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}" if re.fullmatch(r"\d{8}", raw) else None


def _insert(ctx: Context, capture_id: str, task_id: str, draft: Draft, manifest_sha: str) -> None:
    info = draft.info
    pending = sum(1 for f in draft.files if f["status"] in PENDING)
    ctx.db["captures"].insert({
        "id": capture_id, "task_id": task_id, "status": capture_status(draft.files, draft.extra.get("live")),
        "method": draft.method, "officer": draft.officer["number"], "started_at": draft.started_at,
        "finished_at": draft.finished_at, "requested_url": draft.requested_url,
        "final_url": info.get("webpage_url") or info.get("original_url"), "extractor": info.get("extractor"),
        "platform_item_id": info.get("id"), "channel": info.get("channel") or info.get("uploader"),
        "upload_date": _iso_day(info.get("upload_date")), "title": content_title(info) or draft.title,
        "duration": draft.duration, "media_kind": draft.kind, "folder": layout.capture_folder(capture_id),
        "manifest_sha256": manifest_sha, "derivatives_failed": pending, "purged_at": None})
    insert_files(ctx, capture_id, draft.files)


def insert_files(ctx: Context, capture_id: str, files: list[dict]) -> None:
    rows = []
    for f in ordered(files):
        row = {"capture_id": capture_id, **{k: f.get(k) for k in FILE_KEYS}}
        if f["role"] == "original" and row["item"] is None:  # the one original of a capture
            row["item"] = 1
        rows.append(row)
    ctx.db["capture_files"].insert_all(rows)


def _clear_orphan(ctx: Context, target: Path) -> None:
    """A folder already under the new id with no row is what a process killed between its rename and its
    commit left behind (we hold the write lock, so no live capture owns it): it goes."""
    if target.exists():
        if ctx.db.execute("SELECT 1 FROM captures WHERE id = ?", [target.name]).fetchone():
            raise IntegrityFailure(f"{target} already belongs to capture {target.name}: run `ohrt verify`.")
        store.remove_tree(target)


def reseal(ctx: Context, capture_id: str, folder: Path, manifest: dict, *, roles: set[str], action: str,
            detail: dict) -> None:
    """Inside a transaction: mirror the files of `roles` into the rows, then re-sign the manifest (written
    last, so a failure rolls the rows back and leaves the signed folder as it was)."""
    manifest["files"] = ordered(manifest["files"])
    seal = store.make_seal(manifest, signer(ctx), cosigner(ctx, manifest))
    manifest_sha = seal.manifest_sha256
    ctx.db.execute(f"DELETE FROM capture_files WHERE capture_id = ? AND role IN ({','.join('?' * len(roles))})",
                   [capture_id, *sorted(roles)])
    insert_files(ctx, capture_id, [f for f in manifest["files"] if f["role"] in roles])
    pending = sum(1 for f in manifest["files"] if f["status"] in PENDING)
    ctx.db.execute("UPDATE captures SET manifest_sha256 = ?, derivatives_failed = ?, status = ? WHERE id = ?",
                   [manifest_sha, pending, capture_status(manifest["files"], manifest.get("live")), capture_id])
    audit.record(ctx, action, "capture", capture_id, detail={**detail, "manifest_sha256": manifest_sha})
    store.write_seal(folder, seal)
