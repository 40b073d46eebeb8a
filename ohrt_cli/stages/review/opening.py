"""Opening a task for review in the workspace: a consultation of its material, with its reason (SOP 9.1-9.4;
DPA 2018 s.62)."""

from __future__ import annotations

from ...ground import audit, sensitive
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import InputError
from .. import capture as capture_stage
from .. import intake as tasks


def consult(ctx: Context, task_id: str, *, reason: str | None) -> dict:
    """Consult a task's material for its review: the reason is required and checked as `capture open`
    checks it; the task's latest capture is opened through `capture.open_capture` (the same audit entry,
    `capture.open`, with the reason); a task with no capture gets a `review.open` entry with the reason.
    Returns {task_id, capture_id, audit}."""
    reason = " ".join((reason or "").split()) or None
    if not reason:
        raise InputError("--reason is missing: say why you are consulting this material (DPA 2018 s.62), "
                         "e.g. --reason 'review for T-2026-000001'.")
    ctx.actor()
    sensitive.check_reason(ctx, reason)
    task_id = tasks.existing_task(ctx, task_id)
    latest = capture_stage.latest_capture(ctx, task_id)
    if latest is not None:
        opened = capture_stage.open_capture(ctx, latest["id"], reason=reason)
        return {"task_id": task_id, "capture_id": opened["id"], "note": opened["note"]}
    with transaction(ctx.db):
        audit.record(ctx, "review.open", "task", task_id, reason=reason,
                     detail={"purpose": "consultation", "capture": None})
    return {"task_id": task_id, "capture_id": None, "note": None}


def consult_capture(ctx: Context, capture_id: str, *, reason: str) -> dict:
    """Consult another capture beside the task's (a library item's, to compare a re-upload), audited as
    `capture open` audits it."""
    return capture_stage.open_capture(ctx, capture_id, reason=reason)
