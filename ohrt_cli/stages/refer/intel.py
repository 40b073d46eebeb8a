"""The Connect intelligence record for a referred task, as text to paste (SOP 10.4)."""

from __future__ import annotations

from ...ground import audit, sensitive
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import InputError
from ...ground.render import Renderer
from .. import disclosure, intake as tasks
from .drafting import referable_review, task_referrals


def intel_renderer(ctx: Context) -> Renderer:
    return Renderer(ctx.home, "intel", disclosure.INTEL_FORBIDDEN)


def intel_record(ctx: Context, task_id: str) -> dict:
    """The Connect intelligence record for a referred task (SOP 10.4) as text to paste; audited, since it
    discloses the review into another system."""
    ctx.actor()
    task_id = tasks.existing_task(ctx, task_id)
    review = referable_review(ctx, task_id)
    referrals = task_referrals(ctx, task_id)
    platform = ctx.db.execute("SELECT platform FROM tasks WHERE id = ?", [task_id]).fetchone()[0]
    context = disclosure.intel_context(ctx, task_id, review, referrals)
    text = intel_renderer(ctx).render("connect.txt", context, platform=platform)
    # The review's free text may not add a subject's name or indices research to the record: 10.8 copies it
    # into the Domain library, which must not become a list of names. The applicant's rationale is the
    # police's own and is given to the record as it stands.
    public = disclosure.public_text(ctx, context) + "\n" + str(context["task"]["rationale"] or "")
    hit = sensitive.for_context(ctx).first(text, public=public, kinds=(sensitive.SUBJECT, sensitive.RESEARCH))
    if hit:
        raise InputError(f"the Connect record would carry {hit.what(task_id)}, which is linked in Connect itself, "
                         "not written into the record's text (SOP 10.4, 9.3): re-review the task so that the "
                         "notes say only what the content shows.")
    with transaction(ctx.db):
        audit.record(ctx, "intel.render", "task", task_id, reason="Connect intelligence record (SOP 10.4)",
                     detail={"review": review["id"], "referrals": [r["id"] for r in referrals]})
    return {"task_id": task_id, "review_id": review["id"], "text": text}
