"""Derivatives of an original (review copy, audio, keyframes, contact sheet), and same-bytes detection (SOP 9.1)."""

from __future__ import annotations

from typing import Callable

import filecmp
import os
from pathlib import Path

from ...ground import media, store
from ...ground.context import Context
from ...ground.errors import Failure
from ...ground.times import iso
from . import hooks
from .draft import Draft, Progress, record


def complete(ctx: Context, draft: Draft, derivatives: bool, progress: Progress | None) -> None:
    """Probe each original, note earlier captures of the same bytes, make the derivatives of each."""
    if draft.kind == "page":  # a page has no streams to probe and no review derivatives: its files are its own
        draft.duplicates = _same_bytes(ctx, draft)
        draft.finished_at = iso(ctx.now())
        return
    originals = draft.originals
    several = len(originals) > 1
    kinds, durations, made = [], [], []
    for number, original in enumerate(originals, start=1):
        path = draft.stage.path / original["path"]
        info = (draft.probe if number == 1 else None) or media.probe(path)
        info.get("format", {})["filename"] = original["path"]
        kind = media.media_kind(info)
        if kind is None:
            raise Failure(f"{Path(original['path']).name} holds no video, audio or image: nothing was kept; check "
                          "the URL or file.")
        original["probe"] = {"format": info.get("format", {}), "streams": info.get("streams", [])}
        kinds.append(kind)
        if kind != "image":  # ffprobe gives a still one frame's duration; it has none
            durations.append(media.duration(info) or (None if several else _number(draft.info.get("duration"))))
        made += make_derivatives(ctx, draft.stage.path, original, kind, make=derivatives, progress=progress,
                                 into=item_folder(number) if several else "derived",
                                 fingerprints=derivatives and hooks.fingerprinted())
        original.update(kind=kind, duration=durations[-1] if kind != "image" else None)
    draft.kind = kind_of_post(kinds)
    draft.duration = max((d for d in durations if d), default=None)
    draft.duplicates = _same_bytes(ctx, draft)
    draft.files += made
    draft.finished_at = iso(ctx.now())


def item_folder(number: int) -> str:
    """Where the derivatives of item `number` of a post of several items go."""
    return f"derived/item-{number}"


def kind_of_post(kinds: list[str]) -> str:
    """The media kind of a capture: its items' kind when they share one, else "mixed" (a slideshow's
    photos and sound, a carousel of photos and videos)."""
    return kinds[0] if len(set(kinds)) == 1 else "mixed"


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
                     roles: set[str] | None = None, progress: Progress | None = None,
                     into: str = "derived", fingerprints: bool = False) -> list[dict]:
    """The review derivatives of one original (SOP 9.1: "video analysis software to assist"), made in
    `folder` (which holds `original/`), under `into` (`derived/`; an item of a post of several has its
    own folder there). Each failure is recorded as a failed entry and costs nothing else; with make=False each is
    recorded as not made, for `capture finish` to make later. Each entry names its original's item.

    A video's keyframes and contact sheet are made by one ffmpeg process that decodes it once
    (`media.plan_pass`); with `fingerprints`, the same decode also gives the original's fingerprints, kept
    for the hook that stores them (`fingerprint.remember`). When that one process fails, each derivative
    is made by its own command, so that each failure is recorded with its own reason."""
    info = original["probe"]
    options = media.settings_with_defaults(ctx.settings)
    named = original.get("item") if into != "derived" else None  # the progress names the item of a post of several
    steps = [step for step in media.plan_derivatives(original["path"], info, kind, options, into)
             if roles is None or step.role in roles]
    # the pictures made from one decode depend on the decoded frames alone; the review copy and the audio
    # do not: an MP4's interleaving, and a copied sound's last timestamps, follow what else the process
    # reads and decodes, so each has a command of its own (which, a copy or re-encoding of streams, takes
    # no more than it did)
    alone = [step for step in steps if step.role in ("review", "audio")]
    together = [step for step in steps if step.role not in ("review", "audio")]
    if not make:
        entries = [_pending(step, original, "not-made", None) for step in steps]
    elif kind == "video" and (len(together) > 1 or fingerprints):
        entries = _each(folder, original, alone, progress, named)
        made = _one_pass(folder, original, kind, options, into, {s.role for s in together}, progress, named,
                         fingerprints)
        entries += made if made is not None else _each(folder, original, together, progress, named)
    else:
        entries = _each(folder, original, steps, progress, named)
    for entry in entries:
        if original.get("item") is not None:
            entry["item"] = original["item"]
    return entries


def _each(folder: Path, original: dict, steps: list[media.Step], progress: Progress | None,
          named: int | None) -> list[dict]:
    """Each derivative by its own command."""
    info = original["probe"]
    entries = []
    for step in steps:
        if progress:
            progress({"event": "step", "role": step.role, "status": "started", "item": named})
        seconds = None
        if progress:
            total = media.duration(info)
            seconds = lambda done, role=step.role, total=total: progress(  # noqa: E731
                {"event": "step", "role": role, "status": "running", "done": min(done, total or done),
                 "total": total})
        entry = _run(folder, step, original, seconds)
        if progress:
            progress({"event": "step", "role": step.role, "status": entry[0]["status"], "error": entry[0]["error"],
                      "item": named})
        entries += entry
    return entries


def _one_pass(folder: Path, original: dict, kind: str, options: dict, into: str, roles: set[str],
              progress: Progress | None, named: int | None, fingerprints: bool) -> list[dict] | None:
    """Every derivative in `roles` (and the fingerprints) from one decode; None when that failed, with
    nothing of it left behind."""
    info = original["probe"]
    plan = media.plan_pass(original["path"], info, kind, options, into, roles)
    reader = None
    if fingerprints:
        from ...ground import fingerprint

        reader = fingerprint.Reader(folder / original["path"], info, standard=True)
    total = media.duration(info)
    for step in plan.steps:
        if progress:
            progress({"event": "step", "role": step.role, "status": "started", "item": named})

    def seconds(done: float) -> None:
        for step in plan.steps:
            progress({"event": "step", "role": step.role, "status": "running", "done": min(done, total or done),
                      "total": total})

    try:
        log = media.run_pass(plan, folder, reading=reader.reading() if reader else None,
                             on_seconds=seconds if progress else None)
        if reader:
            fingerprint.remember(original["sha256"], reader.fingerprint(), reader.standard_hashes())
    except media.StepFailed:
        for step in plan.steps:
            _remove_outputs(folder, step)
            if progress:
                progress({"event": "step", "role": step.role, "status": "retrying", "error": None, "item": named})
        return None
    except BaseException:
        for step in plan.steps:
            _remove_outputs(folder, step)
        raise
    finally:
        if reader:
            reader.close()
    entries = []
    together = plan.outputs if len(plan.steps) > 1 else None
    for step in plan.steps:
        entries += _recorded(folder, step, original, plan.command, log, together)
        if progress:
            progress({"event": "step", "role": step.role, "status": "ok", "error": None, "item": named})
    return entries


def _pending(step: media.Step, original: dict, status: str, error: str | None) -> dict:
    return {"path": step.output, "role": step.role, "sha256": None, "md5": None, "bytes": None,
            "parent_sha256": original["sha256"], "command": step.command, "status": status, "error": error}


def _run(folder: Path, step: media.Step, original: dict,
         on_seconds: "Callable[[float], None] | None" = None) -> list[dict]:
    try:
        log = media.run_step(step, folder, on_seconds)
    except media.StepFailed as exc:
        _remove_outputs(folder, step)
        return [_pending(step, original, "failed", exc.reason)]
    return _recorded(folder, step, original, step.command, log)


def _recorded(folder: Path, step: media.Step, original: dict, command: list[str], log: str,
              together: list[str] | None = None) -> list[dict]:
    """The manifest entries of what `step` made, each naming its parent and the command that makes it
    (`together`: every output that one command makes, when it makes several)."""
    extra = {"parent_sha256": original["sha256"], "command": command}
    if together:
        extra["made_together"] = together
    if step.note:
        extra["note"] = step.note
    outputs = media.step_outputs(step, folder)
    if step.role == "keyframes":
        times = media.keyframe_times(log)
        return [record(folder, folder / rel, "keyframes", **extra, **_at(times, i))
                for i, rel in enumerate(outputs)]
    return [record(folder, folder / outputs[0], step.role, **extra, **step.options)]


def _at(times: list[float], index: int) -> dict:
    return {"at": round(times[index], 3)} if index < len(times) else {}


def _remove_outputs(folder: Path, step: media.Step) -> None:
    target = folder / step.output
    if target.is_dir():
        store.remove_tree(target)
    elif target.exists():
        target.unlink()
