"""Capture: online content preserved to the write-once store, SOP 9.1, to an evidential standard.

`capture_url` downloads one piece of content with yt-dlp into a staging folder, hashes it, makes the
review derivatives, and only then, in one transaction, links it to its task (the open task for the
canonical URL, or a self-tasked one, SOP 8.5, whose rationale is `--reason`), moves the task to
`captured`, seals the manifest and renames the folder into place. Anything that fails before that leaves
nothing behind: no row, no folder, no task. A derivative that fails is recorded as failed and costs
nothing else; `finish_capture` makes it later. `capture_file` ingests media obtained elsewhere (a screen
recording of a live stream). `open_capture` is a consultation, logged with its reason (DPA 2018 s.62).

The store's layout, which review, library and evidence read, is described in `store.py` and the README.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import filecmp
import importlib
import importlib.util
import os
import re
import socket
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

from .. import __version__
from ..ground import audit, media, store, urls
from . import intake as tasks
from ..ground.context import Context
from ..ground.db import next_id, transaction
from ..ground.errors import Failure, InputError, IntegrityFailure, NotFound, OhrtError, StateError
from ..ground.times import iso

MANIFEST_FORMAT = "ohrt-capture/1"
PENDING = ("failed", "not-made")
FILE_KEYS = ("path", "role", "sha256", "md5", "bytes", "parent_sha256", "status", "error")
SUBTITLE_EXTS = {".vtt", ".srt", ".ass", ".ssa", ".ttml", ".srv1", ".srv2", ".srv3", ".json3", ".lrc"}

Progress = Callable[[dict], None]


@dataclass
class Draft:
    """A capture being made in its staging folder, before it has an id or a row."""

    stage: store.Staging
    method: str
    requested_url: str
    canonical_url: str
    platform: str | None
    officer: dict
    started_at: str
    reason: str | None
    title: str | None = None
    info: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)
    kind: str = ""
    duration: float | None = None
    finished_at: str = ""
    duplicates: list[dict] = field(default_factory=list)
    probe: dict | None = None

    @property
    def original(self) -> dict:
        return next(f for f in self.files if f["role"] == "original")


# ------------------------------------------------------------------------------------- the captures

def capture_url(ctx: Context, url: str, *, task_id: str | None = None, reason: str | None = None,
                progress: Progress | None = None, derivatives: bool = True, title: str | None = None) -> dict:
    """Download `url` to the store and link it to its task (SOP 9.1; self-tasked under 8.5 when no open
    task exists, with `reason` as the rationale). Returns the capture (see `get_capture`) with
    `task_created`, `duplicates` and `matches`."""
    return _capture(ctx, "download", url, task_id=task_id, reason=reason, title=title, progress=progress,
                    derivatives=derivatives, fetch=lambda draft: _download(draft, progress))


def capture_file(ctx: Context, path: str | Path, *, url: str, reason: str | None, task_id: str | None = None,
                 progress: Progress | None = None, derivatives: bool = True, title: str | None = None) -> dict:
    """Ingest media obtained elsewhere (a screen recording of a live stream, say) as the capture of `url`,
    marked as ingested in the manifest. `reason` (why it could not be downloaded) is required."""
    if not _clean(reason):
        raise InputError("--reason is missing: say why this content was obtained other than by download "
                         "(e.g. 'live stream, screen-recorded').")
    source = Path(path).expanduser()
    if not source.is_file():
        raise InputError(f"{source} is not a file: check the path of the recording.")
    return _capture(ctx, "file", url, task_id=task_id, reason=reason, title=title, progress=progress,
                    derivatives=derivatives, fetch=lambda draft: _ingest(draft, source))


def _capture(ctx: Context, method: str, url: str, *, task_id: str | None, reason: str | None, title: str | None,
             progress: Progress | None, derivatives: bool, fetch: Callable[[Draft], None]) -> dict:
    """Every capture's course: check the officer, URL, tools and task first (nothing is fetched for a
    capture that would be refused); fetch into a staging folder; hash, probe and derive there; commit;
    then the library's fingerprints. Any failure before the commit removes the staging folder."""
    officer = ctx.actor()
    reason = _clean(reason)
    canon, platform = urls.canonical(url)
    media.require_tools()
    task = _task_for(ctx, canon, task_id, reason)
    media.prefetch_versions()
    store.sweep(ctx.captures_dir)
    with _disk_guard(ctx), store.staging(ctx.captures_dir) as stage:
        draft = Draft(stage=stage, method=method, requested_url=url.strip(), canonical_url=canon,
                      platform=platform, officer=officer.as_dict(), started_at=iso(ctx.now()), reason=reason,
                      title=_clean(title))
        fetch(draft)
        _complete(ctx, draft, derivatives, progress)
        if not derivatives:
            draft.files += _fingerprints_later(draft)
        result = _commit(ctx, draft, task)
    if not derivatives:
        return {**result, "matches": []}
    return _after_commit(ctx, result, progress)


def read_batch(path: str | Path) -> list[tuple[int, str]]:
    """(line number, URL) for each line of a batch file; blank lines and # comments are skipped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path} does not exist: give a text file with one URL per line.") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text: save it as UTF-8 with one URL per line.") from None
    items = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.strip().startswith("#")]
    if not items:
        raise InputError(f"{path} lists no URLs: put one URL per line (# starts a comment).")
    return items


def capture_batch(ctx: Context, path: str | Path, *, reason: str | None = None, progress: Progress | None = None,
                  derivatives: bool = True) -> dict:
    """Capture every URL of a batch file in this one process, carrying on past failures.

    Returns {"captured", "failed", "results": [{line, url, ok, capture_id, task_id, error, ...}]}. Stops
    early only when the disk is full (every later capture would fail the same way)."""
    ctx.actor()
    items = read_batch(path)
    media.require_tools()
    results = []
    for index, (line, url) in enumerate(items):
        row = {"line": line, "url": url, "ok": False, "capture_id": None, "task_id": None, "task_created": False,
               "duplicates": 0, "derivatives_failed": 0, "error": None}
        try:
            done = capture_url(ctx, url, reason=reason, progress=progress, derivatives=derivatives)
        except OhrtError as exc:
            row["error"] = exc.message
            results.append(row)
            if isinstance(exc, media.DiskFull):
                results += [{**row, "line": n, "url": u, "error": "not attempted: the disk is full"}
                            for n, u in items[index + 1:]]
                break
            continue
        row.update(ok=True, capture_id=done["id"], task_id=done["task_id"], task_created=done["task_created"],
                   duplicates=len(done["duplicates"]), derivatives_failed=done["derivatives_failed"])
        results.append(row)
    ok = sum(1 for r in results if r["ok"])
    return {"captured": ok, "failed": len(results) - ok, "results": results}


# ------------------------------------------------------------------------------ steps of a capture

def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _task_for(ctx: Context, canonical_url: str, task_id: str | None, reason: str | None) -> str | None:
    """The task a capture belongs to; None when it will be self-tasked (which needs a reason)."""
    if task_id:
        task = tasks.get_task(ctx, task_id)
        if task["status"] == "closed":
            raise StateError(f"task {task['id']} is closed: capture without --task to self-task the content "
                             "afresh, or pick an open task.")
        return task["id"]
    existing = tasks.open_task_for(ctx, canonical_url)
    if existing:
        return existing
    if not reason:
        raise InputError(f"no open task for {canonical_url}: give --task ID, or --reason TEXT (the rationale) "
                         "to self-task this capture (SOP 8.5).")
    return None


@contextlib.contextmanager
def _disk_guard(ctx: Context) -> Iterator[None]:
    """'No space left on device' anywhere in a capture (files or database) becomes one clear line."""
    try:
        yield
    except OSError as exc:
        if store.is_disk_full(exc):
            raise media.disk_full(ctx.captures_dir) from None
        raise
    except sqlite3.OperationalError as exc:
        if "full" in str(exc):
            raise media.disk_full(ctx.home) from None
        raise


def _download(draft: Draft, progress: Progress | None) -> None:
    """yt-dlp into original/ and source/, hashing while the bytes arrive."""
    hashers = store.StreamHashers()

    def on_block(block: media.Progress) -> None:
        if block.temp_path or block.status == "finished":
            hashers.update(block.temp_path or block.path, block.downloaded, finished=block.status != "downloading")
        if progress is not None:
            progress({"event": "download", "status": block.status, "downloaded": block.downloaded,
                      "total": block.total, "speed": block.speed, "eta": block.eta,
                      "name": Path(block.path or "").name})

    try:
        fetched = media.download(draft.requested_url, draft.stage.path, on_progress=on_block)
        draft.info = fetched.info
        draft.extra["yt_dlp"] = {"format": "bv*+ba/b", "postprocessors": fetched.postprocessors,
                                 "postprocessor_args": ["-bitexact"], "warnings": fetched.warnings}
        _keep_only(draft.stage.path / "original", fetched.originals)
        probing = media.probe_soon(fetched.originals[0])
        draft.files += [_record(draft.stage.path, p, "original", hashers.digest_for(p)) for p in fetched.originals]
        draft.probe = probing.result()
    finally:
        hashers.close()
    draft.files += _record_sources(draft.stage.path)


def _keep_only(folder: Path, keep: list[Path]) -> None:
    """Drop the downloader's leftovers (part files of merged formats) so only the originals remain."""
    wanted = {p.resolve() for p in keep}
    for path in folder.iterdir():
        if path.resolve() not in wanted:
            store.remove_tree(path) if path.is_dir() else path.unlink()


def _ingest(draft: Draft, source: Path) -> None:
    """Copy a file obtained elsewhere into original/, hashing the bytes written."""
    folder = draft.stage.path / "original"
    folder.mkdir()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name).strip("._") or "recording"
    target = folder / name
    digest = store.copy_hashed(source, target)
    stat = source.stat()
    draft.extra["ingest"] = {"source_name": source.name, "source_bytes": stat.st_size,
                             "source_modified": iso(dt.datetime.fromtimestamp(stat.st_mtime, dt.timezone.utc))}
    draft.files.append(_record(draft.stage.path, target, "original", digest))


def _record(folder: Path, path: Path, role: str, digest: store.Digest | None = None, **extra) -> dict:
    """A manifest entry for a file now in the store: hashed (unless the hash came with it), read-only."""
    digest = digest or store.hash_file(path)
    store.make_read_only(path)
    return {"path": path.relative_to(folder).as_posix(), "role": role, "sha256": digest.sha256, "md5": digest.md5,
            "bytes": digest.bytes, "parent_sha256": extra.pop("parent_sha256", None),
            "command": extra.pop("command", None), "status": "ok", "error": None, **extra}


def _record_sources(folder: Path) -> list[dict]:
    """yt-dlp's info JSON (as `source/info.json`), thumbnails and subtitles, as received."""
    source = folder / "source"
    if not source.is_dir():
        return []
    entries = []
    for path in sorted(source.iterdir()):
        if path.name.endswith(".info.json"):
            path = path.rename(source / "info.json") if not (source / "info.json").exists() else path
            role = "info"
        elif path.suffix.lower() in SUBTITLE_EXTS:
            role = "subtitle"
        else:
            role = "thumbnail"
        entries.append(_record(folder, path, role))
    return entries


def _complete(ctx: Context, draft: Draft, derivatives: bool, progress: Progress | None) -> None:
    """Probe the original, note earlier captures of the same bytes, make the derivatives."""
    original = draft.original
    path = draft.stage.path / original["path"]
    info = draft.probe or media.probe(path)
    info.get("format", {})["filename"] = original["path"]
    kind = media.media_kind(info)
    if kind is None:
        raise Failure(f"{Path(original['path']).name} holds no video, audio or image: nothing was kept; check "
                      "the URL or file.")
    original["probe"] = {"format": info.get("format", {}), "streams": info.get("streams", [])}
    draft.kind = kind
    if kind != "image":  # ffprobe gives a still one frame's duration; it has none
        draft.duration = media.duration(info) or _number(draft.info.get("duration"))
    draft.duplicates = _same_bytes(ctx, draft)
    draft.files += make_derivatives(ctx, draft.stage.path, original, kind, make=derivatives, progress=progress)
    draft.finished_at = iso(ctx.now())


def _number(value) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _same_bytes(ctx: Context, draft: Draft) -> list[dict]:
    """Earlier captures holding a file with the same sha256 as an original (a re-upload is evidence too,
    so the capture is still recorded). Identical bytes share storage by hard link where they can."""
    found = []
    for entry in [f for f in draft.files if f["role"] == "original"]:
        row = ctx.db.execute(
            "SELECT cf.capture_id, cf.path, c.folder FROM capture_files cf JOIN captures c ON c.id = cf.capture_id "
            "WHERE cf.sha256 = ? AND cf.status = 'ok' AND c.purged_at IS NULL ORDER BY c.started_at, c.id LIMIT 1",
            [entry["sha256"]]).fetchone()
        if row is None:
            continue
        earlier, earlier_path, folder = row
        linked = _share(draft.stage.path / entry["path"], ctx.home / folder / earlier_path)
        entry["same_as"] = {"capture_id": earlier, "path": earlier_path}
        found.append({"path": entry["path"], "sha256": entry["sha256"], "capture_id": earlier, "linked": linked})
    return found


def _share(new: Path, earlier: Path) -> bool:
    """Replace `new` by a hard link to `earlier` when their bytes are the same, byte for byte."""
    link = new.with_name(new.name + ".link")
    try:
        if new.stat().st_size != earlier.stat().st_size or not filecmp.cmp(new, earlier, shallow=False):
            return False
        os.link(earlier, link)
        os.replace(link, new)
    except OSError:  # another file system, or the earlier file is gone: keep our own copy
        link.unlink(missing_ok=True)
        return False
    return True


def make_derivatives(ctx: Context, folder: Path, original: dict, kind: str, *, make: bool = True,
                     roles: set[str] | None = None, progress: Progress | None = None) -> list[dict]:
    """The review derivatives of one original (SOP 9.1: "video analysis software to assist"), made in
    `folder` (which holds `original/`). Each failure is recorded as a failed entry and costs nothing else;
    with make=False each is recorded as not made, for `capture finish` to make later."""
    info = original["probe"]
    options = media.settings_with_defaults(ctx.settings)
    entries = []
    for step in media.plan_derivatives(original["path"], info, kind, options):
        if roles is not None and step.role not in roles:
            continue
        if not make:
            entries.append(_pending(step, original, "not-made", None))
            continue
        if progress:
            progress({"event": "step", "role": step.role, "status": "started"})
        entry = _run(folder, step, original)
        if progress:
            progress({"event": "step", "role": step.role, "status": entry[0]["status"], "error": entry[0]["error"]})
        entries += entry
    return entries


def _pending(step: media.Step, original: dict, status: str, error: str | None) -> dict:
    return {"path": step.output, "role": step.role, "sha256": None, "md5": None, "bytes": None,
            "parent_sha256": original["sha256"], "command": step.command, "status": status, "error": error}


def _run(folder: Path, step: media.Step, original: dict) -> list[dict]:
    try:
        log = media.run_step(step, folder)
    except media.StepFailed as exc:
        _remove_outputs(folder, step)
        return [_pending(step, original, "failed", exc.reason)]
    extra = {"parent_sha256": original["sha256"], "command": step.command}
    if step.note:
        extra["note"] = step.note
    outputs = media.step_outputs(step, folder)
    if step.role == "keyframes":
        times = media.keyframe_times(log)
        return [_record(folder, folder / rel, "keyframes", **extra, **_at(times, i))
                for i, rel in enumerate(outputs)]
    return [_record(folder, folder / outputs[0], step.role, **extra, **step.options)]


def _at(times: list[float], index: int) -> dict:
    return {"at": round(times[index], 3)} if index < len(times) else {}


def _remove_outputs(folder: Path, step: media.Step) -> None:
    target = folder / step.output
    if target.is_dir():
        store.remove_tree(target)
    elif target.exists():
        target.unlink()


# ----------------------------------------------------------------------------------------- commit

def _commit(ctx: Context, draft: Draft, task_id: str | None) -> dict:
    """One transaction: the task (self-tasked if need be), the capture's id, manifest, rows, audit and
    task status, then the rename into place; if the commit fails the folder goes too."""
    with transaction(ctx.db):
        task_id, created = _task_inside(ctx, draft, task_id)
        capture_id = next_id(ctx.db, "C", ctx.now())
        seal = store.make_seal(_manifest(ctx, capture_id, task_id, draft), _signer(ctx))
        manifest_sha = seal.manifest_sha256
        _insert(ctx, capture_id, task_id, draft, manifest_sha)
        failed = [f["role"] for f in draft.files if f["status"] in PENDING]
        audit.record(ctx, "capture.add", "capture", capture_id, reason=draft.reason, detail={
            "task": task_id, "method": draft.method, "url": draft.canonical_url, "media_kind": draft.kind,
            "originals": [f["sha256"] for f in draft.files if f["role"] == "original"],
            "manifest_sha256": manifest_sha, "derivatives_pending": failed, "self_tasked": created,
            "same_as": sorted({d["capture_id"] for d in draft.duplicates})})
        if ctx.db.execute("SELECT status FROM tasks WHERE id = ?", [task_id]).fetchone()[0] == "received":
            tasks.set_status(ctx, task_id, "captured", "task.captured", detail={"capture": capture_id})
        store.write_seal(draft.stage.path, seal)
        target = ctx.captures_dir / capture_id
        _clear_orphan(ctx, target)
        draft.stage.publish(target)
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


def _signer(ctx: Context) -> Callable[[bytes], bytes]:
    from ..ground import signing

    return lambda data: signing.sign(ctx.keys_dir, data)


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
        "finished_at": draft.finished_at, "reason": draft.reason,
        "tools": {"ohrt": __version__, **media.tool_versions()},
        "files": _ordered(draft.files),
    }
    manifest.update(draft.extra)
    if ctx.clock_fixed:
        manifest["clock"] = "fixed by OHRT_NOW"
    return manifest


def _iso_day(raw) -> str | None:
    raw = str(raw or "")
    return f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}" if re.fullmatch(r"\d{8}", raw) else None


ROLE_ORDER = ("original", "info", "thumbnail", "subtitle", "review", "audio", "keyframes", "contact-sheet",
              "fingerprints")


def _ordered(files: list[dict]) -> list[dict]:
    rank = {role: i for i, role in enumerate(ROLE_ORDER)}
    return sorted(files, key=lambda f: (rank.get(f["role"], len(rank)), f.get("path") or ""))


def _insert(ctx: Context, capture_id: str, task_id: str, draft: Draft, manifest_sha: str) -> None:
    info = draft.info
    pending = sum(1 for f in draft.files if f["status"] in PENDING)
    ctx.db["captures"].insert({
        "id": capture_id, "task_id": task_id, "status": "incomplete" if pending else "complete",
        "method": draft.method, "officer": draft.officer["number"], "started_at": draft.started_at,
        "finished_at": draft.finished_at, "requested_url": draft.requested_url,
        "final_url": info.get("webpage_url") or info.get("original_url"), "extractor": info.get("extractor"),
        "platform_item_id": info.get("id"), "channel": info.get("channel") or info.get("uploader"),
        "upload_date": _iso_day(info.get("upload_date")), "title": content_title(info) or draft.title,
        "duration": draft.duration, "media_kind": draft.kind, "folder": f"captures/{capture_id}",
        "manifest_sha256": manifest_sha, "derivatives_failed": pending, "purged_at": None})
    _insert_files(ctx, capture_id, draft.files)


def _insert_files(ctx: Context, capture_id: str, files: list[dict]) -> None:
    ctx.db["capture_files"].insert_all(
        [{"capture_id": capture_id, **{k: f.get(k) for k in FILE_KEYS}} for f in _ordered(files)])


def _clear_orphan(ctx: Context, target: Path) -> None:
    """A folder already under the new id with no row is what a process killed between its rename and its
    commit left behind (we hold the write lock, so no live capture owns it): it goes."""
    if target.exists():
        if ctx.db.execute("SELECT 1 FROM captures WHERE id = ?", [target.name]).fetchone():
            raise IntegrityFailure(f"{target} already belongs to capture {target.name}: run `ohrt verify`.")
        store.remove_tree(target)


def _after_commit(ctx: Context, result: dict, progress: Progress | None = None) -> dict:
    """The library's fingerprints and matches (if that stage is installed); its failure is recorded as a
    failed derivative ('fingerprints'), never a failed capture."""
    matches, error = _fingerprint(ctx, result["id"], progress)
    if error:
        _set_fingerprints(ctx, result["id"], "failed", error)
        fresh = get_capture(ctx, result["id"])
        result.update({k: fresh[k] for k in ("status", "derivatives_failed", "files", "manifest_sha256")})
    result["matches"] = matches
    return result


def _fingerprint(ctx: Context, capture_id: str, progress: Progress | None) -> tuple[list, str | None]:
    """Run the library's hook as one more step on the progress display."""
    if progress:
        progress({"event": "step", "role": "fingerprints", "status": "started"})
    matches, error = _library_hook(ctx, capture_id)
    if progress:
        progress({"event": "step", "role": "fingerprints", "status": "failed" if error else "ok", "error": error})
    return matches, error


def _library_on_capture() -> tuple[Callable | None, str | None]:
    """The library stage's `on_capture` if that stage is installed; else None, with the reason when its
    module is there but does not load."""
    name = f"{__package__}.library.items"
    if importlib.util.find_spec(name) is None:
        return None, None
    try:
        library = importlib.import_module(name)
    except Exception as exc:  # a broken library module must not fail a committed capture
        return None, f"the library stage could not load ({type(exc).__name__}: {exc})"
    return getattr(library, "on_capture", None), None


def _library_hook(ctx: Context, capture_id: str) -> tuple[list, str | None]:
    """(matches, None), or ([], why the fingerprints failed)."""
    hook, error = _library_on_capture()
    if hook is None:
        return [], error
    try:
        return list(hook(ctx, capture_id) or []), None
    except OhrtError as exc:
        return [], exc.message
    except Exception as exc:
        return [], f"{type(exc).__name__}: {exc}"


def _fingerprints_later(draft: Draft) -> list[dict]:
    """Under --no-derivatives the library's fingerprints are not made either; `capture finish` makes them."""
    hook, error = _library_on_capture()
    if hook is None and error is None:
        return []
    return [{"path": None, "role": "fingerprints", "sha256": None, "md5": None, "bytes": None,
             "parent_sha256": draft.original["sha256"], "command": None, "status": "not-made", "error": None}]


def _set_fingerprints(ctx: Context, capture_id: str, status: str, error: str | None) -> None:
    """Record the fingerprints step's outcome in the manifest (re-signed) and rows."""
    capture = get_capture(ctx, capture_id)
    folder = capture_path(ctx, capture)
    manifest = store.read_manifest(folder)
    manifest["files"] = [f for f in manifest["files"] if f["role"] != "fingerprints"]
    if status != "ok":
        original = next(f for f in manifest["files"] if f["role"] == "original")
        manifest["files"].append({"path": None, "role": "fingerprints", "sha256": None, "md5": None, "bytes": None,
                                  "parent_sha256": original["sha256"], "command": None, "status": status,
                                  "error": error})
    with transaction(ctx.db):
        _reseal(ctx, capture_id, folder, manifest, roles={"fingerprints"}, action="capture.fingerprints",
                detail={"status": status, "error": error})


# ------------------------------------------------------------------------------------------ finish

def finish_capture(ctx: Context, capture_id: str, *, progress: Progress | None = None) -> dict:
    """Make the derivatives that failed or were skipped, then re-sign the manifest. The originals are
    checked first and never touched (ACPO principle 1).

    Returns {"id", "made": [roles], "still_failed": [{role, error}], "capture": get_capture(...)}."""
    ctx.actor()
    capture = get_capture(ctx, capture_id)
    if capture["purged_at"]:
        raise StateError(f"capture {capture['id']} was purged on {capture['purged_at']}: nothing to finish.")
    folder = capture_path(ctx, capture)
    manifest = store.read_manifest(folder)
    pending = {f["role"] for f in manifest["files"] if f["status"] in PENDING}
    if not pending:
        return {"id": capture["id"], "made": [], "still_failed": [], "capture": capture}
    original = next(f for f in manifest["files"] if f["role"] == "original")
    _check_original(folder, original, capture["id"])
    made, failed = set(), []
    if pending - {"fingerprints"}:
        media.require_tools()
        made, failed = _remake(ctx, capture["id"], folder, manifest, original, pending - {"fingerprints"}, progress)
    if "fingerprints" in pending:
        _, error = _fingerprint(ctx, capture["id"], progress)
        _set_fingerprints(ctx, capture["id"], "failed" if error else "ok", error)
        if error:
            failed.append({"role": "fingerprints", "error": error})
        else:
            made.add("fingerprints")
    return {"id": capture["id"], "made": sorted(made), "still_failed": failed, "capture": get_capture(ctx, capture_id)}


def _check_original(folder: Path, original: dict, capture_id: str) -> None:
    path = folder / original["path"]
    if not path.is_file() or store.hash_file(path, md5=False).sha256 != original["sha256"]:
        raise IntegrityFailure(f"the original of {capture_id} ({original['path']}) is missing or changed: "
                               f"nothing was derived from it; run `ohrt verify {capture_id}` and report it.")


def _remake(ctx: Context, capture_id: str, folder: Path, manifest: dict, original: dict, roles: set[str],
            progress: Progress | None) -> tuple[set, list]:
    """Make `roles` in a scratch folder beside the store, then move them in and re-seal in one transaction."""
    store.sweep(ctx.captures_dir)
    with _disk_guard(ctx), store.staging(ctx.captures_dir) as scratch:
        os.symlink(folder / "original", scratch.path / "original")
        entries = make_derivatives(ctx, scratch.path, original, manifest["media_kind"], roles=roles,
                                   progress=progress)
        made = {e["role"] for e in entries if e["status"] == "ok"}
        failed = [{"role": e["role"], "error": e["error"]} for e in entries if e["status"] != "ok"]
        if not made:
            return made, failed
        attempted = {e["role"] for e in entries}
        moved: list[Path] = []
        try:
            _move_in(scratch.path, folder, [e for e in entries if e["status"] == "ok"], moved)
            manifest["files"] = [f for f in manifest["files"] if f["role"] not in attempted] + entries
            manifest.setdefault("revisions", []).append({
                "at": iso(ctx.now()), "officer": ctx.actor().as_dict(), "made": sorted(made),
                "tools": {"ohrt": __version__, **media.tool_versions()}})
            with transaction(ctx.db):
                _reseal(ctx, capture_id, folder, manifest, roles=attempted, action="capture.finish",
                        detail={"made": sorted(made), "still_failed": [f["role"] for f in failed]})
        except BaseException:
            for path in moved:
                store.remove_tree(path) if path.is_dir() else path.unlink(missing_ok=True)
            raise
    return made, failed


def _move_in(scratch: Path, folder: Path, entries: list[dict], moved: list[Path]) -> None:
    for entry in entries:
        source, target = scratch / entry["path"], folder / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()  # left by an interrupted finish: it is not in the sealed manifest
        os.rename(source, target)
        moved.append(target)


def _reseal(ctx: Context, capture_id: str, folder: Path, manifest: dict, *, roles: set[str], action: str,
            detail: dict) -> None:
    """Inside a transaction: mirror the files of `roles` into the rows, then re-sign the manifest (written
    last, so a failure rolls the rows back and leaves the signed folder as it was)."""
    manifest["files"] = _ordered(manifest["files"])
    seal = store.make_seal(manifest, _signer(ctx))
    manifest_sha = seal.manifest_sha256
    ctx.db.execute(f"DELETE FROM capture_files WHERE capture_id = ? AND role IN ({','.join('?' * len(roles))})",
                   [capture_id, *sorted(roles)])
    _insert_files(ctx, capture_id, [f for f in manifest["files"] if f["role"] in roles])
    pending = sum(1 for f in manifest["files"] if f["status"] in PENDING)
    ctx.db.execute("UPDATE captures SET manifest_sha256 = ?, derivatives_failed = ?, status = ? WHERE id = ?",
                   [manifest_sha, pending, "incomplete" if pending else "complete", capture_id])
    audit.record(ctx, action, "capture", capture_id, detail={**detail, "manifest_sha256": manifest_sha})
    store.write_seal(folder, seal)


# ------------------------------------------------------------------------------------------- reading

def get_capture(ctx: Context, capture_id: str) -> dict:
    """One capture: its row, `path` (absolute folder), `review_copy` (what to play, relative to the
    folder) and `files` (as in the manifest, without commands)."""
    capture_id = (capture_id or "").strip().upper()
    rows = list(ctx.db.query("SELECT * FROM captures WHERE id = ?", [capture_id]))
    if not rows:
        raise NotFound(f"no capture {capture_id!r} in this home: check the id with `ohrt capture list`.")
    capture = rows[0]
    capture["files"] = [dict(r) for r in ctx.db.query(
        f"SELECT {', '.join(FILE_KEYS)} FROM capture_files WHERE capture_id = ? ORDER BY id", [capture_id])]
    capture["path"] = str(capture_path(ctx, capture))
    capture["review_copy"] = review_copy(capture)
    return capture


def review_copy(capture: dict) -> str | None:
    """The file to play: the review copy (or listening copy); the original when it already plays anywhere
    or is an image."""
    files = capture["files"]
    ok = {f["role"]: f["path"] for f in files if f["status"] == "ok"}
    planned = {f["role"] for f in files}
    original = ok.get("original")
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
    reason = _clean(reason)
    if not reason:
        raise InputError("--reason is missing: say why you are consulting this material (DPA 2018 s.62), "
                         "e.g. --reason 'review for T-2026-000001'.")
    ctx.actor()
    capture = get_capture(ctx, capture_id)
    if capture["purged_at"]:
        raise StateError(f"capture {capture['id']} was purged on {capture['purged_at']}: there is nothing to open.")
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


# ------------------------------------------------------------------------------------------- verify

def verify_captures(ctx: Context, capture_ids: list[str] | None = None) -> dict:
    """Re-hash every file of the named captures (default: all not purged), check each signature and
    SHA256SUMS, and, when checking all, look for folders no capture owns.

    Returns {"intact", "checked", "files", "captures": [{id, intact, files, problems}], "problems":
    [{capture, path, problem, detail}]}."""
    from ..ground import signing

    public = (ctx.keys_dir / signing.PUBLIC_NAME).read_bytes()
    if capture_ids:
        rows = [get_capture(ctx, cid) for cid in capture_ids]
    else:
        rows = [dict(r) for r in ctx.db.query("SELECT * FROM captures ORDER BY id")]
    reports, problems = [], []
    for row in rows:
        if row["purged_at"]:
            reports.append({"id": row["id"], "intact": True, "files": 0, "purged_at": row["purged_at"],
                            "problems": []})
            continue
        report = store.verify_folder(capture_path(ctx, row), public, manifest_sha256=row["manifest_sha256"])
        reports.append({"id": row["id"], "intact": report["intact"], "files": report["files"],
                        "purged_at": None, "problems": report["problems"]})
        problems += [{"capture": row["id"], **p} for p in report["problems"]]
    if not capture_ids:
        known = {r["id"] for r in rows}
        for entry in sorted(ctx.captures_dir.iterdir()) if ctx.captures_dir.is_dir() else []:
            if not entry.name.startswith(".") and entry.name not in known:
                problems.append({"capture": entry.name, "path": f"captures/{entry.name}", "problem": "unexpected",
                                 "detail": "a folder in the store that no capture record owns"})
    return {"intact": not problems, "checked": len(reports), "files": sum(r["files"] for r in reports),
            "captures": reports, "problems": problems}
