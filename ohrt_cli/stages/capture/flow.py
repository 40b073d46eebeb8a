"""Every capture's course: check first, fetch into staging, derive, commit, then the registered hooks (SOP 9.1, 8.5)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

from ...ground import live, media, sensitive, store, urls
from ...ground.context import Context
from ...ground.errors import InputError, Interrupted, StateError
from ...ground.times import iso
from .. import intake as tasks
from . import hooks
from . import comments as comments_step
from . import page as page_step
from . import photos
from .commit import commit
from .derivatives import complete
from .download import download
from .draft import PENDING, Draft, Progress, clean, disk_guard
from .files import ingest


def capture_url(ctx: Context, url: str, *, task_id: str | None = None, reason: str | None = None,
                progress: Progress | None = None, derivatives: bool = True, title: str | None = None,
                page: bool = True, max_minutes: float | None = None, comments: bool = False) -> dict:
    """Download `url` to the store and link it to its task (SOP 9.1; self-tasked under 8.5 when no open
    task exists, with `reason` as the rationale), keeping the page as the browser shows it beside the
    media, or as the capture itself when there is no media (`page.py`; `page=False` skips the browser).
    A live stream is recorded for at most `max_minutes` (default `[capture] max_live_minutes`). With
    `comments`, the comments shown are kept too (`comments.py`).
    Returns the capture (see `get_capture`) with `task_created`, `duplicates` and `matches`."""
    limit = live.Limit(live.limit_from(max_minutes, ctx.settings), on_progress=progress, now=ctx.now)
    fetch_media = functools.partial(download, live_limit=limit, comments=comments)

    def fetch(draft: Draft) -> None:
        page_step.fetch(ctx, draft, progress, photos.with_photos(fetch_media), page=page)
        if comments:
            comments_step.keep(draft)

    return _capture(ctx, "download", url, task_id=task_id, reason=reason, title=title, progress=progress,
                    derivatives=derivatives, fetch=fetch)


def capture_file(ctx: Context, path: str | Path, *, url: str, reason: str | None, task_id: str | None = None,
                 progress: Progress | None = None, derivatives: bool = True, title: str | None = None) -> dict:
    """Ingest media obtained elsewhere (a screen recording of a live stream, say) as the capture of `url`,
    marked as ingested in the manifest. `reason` (why it could not be downloaded) is required."""
    if not clean(reason):
        raise InputError("--reason is missing: say why this content was obtained other than by download "
                         "(e.g. 'live stream, screen-recorded').")
    source = Path(path).expanduser()
    if not source.is_file():
        raise InputError(f"{source} is not a file: check the path of the recording.")
    return _capture(ctx, "file", url, task_id=task_id, reason=reason, title=title, progress=progress,
                    derivatives=derivatives, fetch=lambda draft: ingest(draft, source, progress))


def _capture(ctx: Context, method: str, url: str, *, task_id: str | None, reason: str | None, title: str | None,
             progress: Progress | None, derivatives: bool, fetch: Callable[[Draft], None]) -> dict:
    """Every capture's course: check the officer, URL, tools and task first (nothing is fetched for a
    capture that would be refused); fetch into a staging folder; hash, probe and derive there; commit;
    then the registered hooks (`hooks.py`). Any failure before the commit removes the staging folder."""
    officer = ctx.actor()
    reason = clean(reason)
    sensitive.check_reason(ctx, reason)
    canon, platform = urls.canonical(url)
    media.require_tools()
    task = _task_for(ctx, canon, task_id, reason)
    media.prefetch_versions()
    store.sweep(ctx.captures_dir)
    draft = None
    try:
        with disk_guard(ctx), store.staging(ctx.captures_dir) as stage:
            draft = Draft(stage=stage, method=method, requested_url=url.strip(), canonical_url=canon,
                          platform=platform, officer=officer.as_dict(), started_at=iso(ctx.now()), reason=reason,
                          title=clean(title))
            fetch(draft)
            complete(ctx, draft, derivatives, progress)
            # the hooks are recorded as not made in the capture's own commit, so that a crash before they
            # finish leaves them pending, for `capture finish`, rather than silently never made
            draft.files += hooks.not_made(draft)
            result = commit(ctx, draft, task)
        if not derivatives:
            return hooks.after_seal(ctx, {**result, **hooks.empty_results()}, progress)
        return hooks.after_commit(ctx, result, progress)
    except KeyboardInterrupt:
        if draft is None or not draft.committed:
            raise
        raise Interrupted(interrupted_after(ctx, [draft.committed]), kept=[draft.committed]) from None


def interrupted_after(ctx: Context, capture_ids: list[str]) -> str:
    """What an interruption kept: the captures committed (with their tasks) and what each still lacks."""
    from .reading import get_capture

    said = []
    for capture_id in capture_ids:
        capture = get_capture(ctx, capture_id)
        pending = sorted({f["role"] for f in capture["files"] if f["status"] in PENDING})
        said.append(f"capture {capture_id} of task {capture['task_id']} was kept"
                    + (f" without its {', '.join(pending)} (run `ohrt capture finish {capture_id}`)" if pending
                       else ", complete"))
    return "interrupted: " + "; ".join(said) + f": do not capture {'it' if len(said) == 1 else 'them'} again."


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
