"""After drafting: sergeant QA, sending (by hand or SMTP), the platform's decision, closing (SOP 10.2, 10.5, 10.6)."""

from __future__ import annotations

import os
from typing import Callable

from ...ground import audit, mail, sensitive, store
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import Failure, InputError, NotAllowed, StateError
from ...ground.times import iso, parse_date
from .. import intake as tasks
from ..library import items as library
from .checking import observation_on
from .drafting import get_referral, intact_draft, open_task_id, referral_row, task_referrals
from .routes import EMAIL_ROUTES, ROUTES


def qa_referral(ctx: Context, referral_id: str, *, approve: bool, note: str | None = None) -> dict:
    """The sergeant's quality check of a draft (SOP 10.2): approve it, or return it with a note saying what
    to mend. By a sergeant or above who did not draft this version."""
    officer = ctx.actor("sergeant")
    row = referral_row(ctx, referral_id)
    note = (note or "").strip() or None
    if row["status"] != "drafted":
        hint = {"returned": f"it was returned: it must be drafted again first (`ohrt refer draft {row['task_id']}`)"}
        raise StateError(f"{row['id']} is {row['status']}, not awaiting QA"
                         + (f": {hint['returned']}." if row["status"] == "returned" else "."))
    if row["drafted_by"] == officer.number:
        raise NotAllowed(f"{officer} drafted version {row['version']} of {row['id']}: QA must be done by another "
                         "sergeant or above (SOP 10.2).")
    if not approve and not note:
        raise InputError("a returned draft needs --note saying what to mend, e.g. --note 'cite the time ranges'.")
    intact_draft(ctx, row)
    if approve:
        _check_review_current(ctx, row)
        _check_recipient(row)
    verdict = "approved" if approve else "returned"
    with transaction(ctx.db):
        current = referral_row(ctx, row["id"])
        if (current["status"], current["version"]) != ("drafted", row["version"]):
            raise StateError(f"{row['id']} changed while you were checking it: run the command again.")
        at = iso(ctx.now())
        ctx.db["referral_qa"].insert({"referral_id": row["id"], "version": row["version"], "officer": officer.number,
                                      "at": at, "verdict": verdict, "note": note})
        ctx.db["referrals"].update(row["id"], {"status": verdict, "qa_by": officer.number, "qa_at": at})
        audit.record(ctx, "referral.qa", "referral", row["id"],
                     detail={"verdict": verdict, "version": row["version"], "task": row["task_id"]})
        tasks.set_status(ctx, row["task_id"], "qa-approved" if approve else "referral-returned", "task.status",
                         detail={"referral": row["id"], "version": row["version"]})
    return get_referral(ctx, row["id"])


def _check_recipient(row: dict) -> None:
    """An approved email must be able to go as it is: not to a shipped placeholder address."""
    if row["route"] in EMAIL_ROUTES and mail.is_placeholder(row["recipient"] or ""):
        raise StateError(f"{row['id']} is addressed to the placeholder {row['recipient']}: set the platform's real "
                         f"contact in config.toml [routes.{row['platform']}], draft it again "
                         f"(`ohrt refer draft {row['task_id']}`), then approve that.")


def _check_review_current(ctx: Context, row: dict) -> None:
    from .. import review as review_stage

    review = review_stage.current_review(ctx, row["task_id"])
    if review is None or review["id"] != row["review_id"]:
        raise StateError(f"{row['id']} was drafted from review {row['review_id']}, which is no longer the task's "
                         f"current review: draft it again so it says what the review now finds.")


def mark_sent(ctx: Context, referral_id: str, *, on: str | None = None, platform_ref: str | None = None,
              smtp: bool = False, warn: Callable[[str], None] | None = None) -> dict:
    """Record that an approved draft went to the platform (by hand, through the portal, or — with
    `smtp` — sent now through the team's relay, recording the Message-ID). SOP 10.5, 8.6.3.

    A relay can take its time, so the message is not sent inside a write transaction (that would hold the
    home's write lock and turn other officers away). Instead: one transaction records the attempt on the
    referral (still approved) and audits it; the message goes; a second transaction records it sent, or
    records the relay's refusal and clears the attempt. A command killed in between leaves the referral
    approved with the attempt on it: another send waits while that process lives, and once it is gone may
    send again (the message keeps its Message-ID, so a duplicate is recognisable) or record it sent by hand.
    `warn` is told, each time before a message goes, that the relay's password will cross unencrypted when
    config.toml allows that."""
    officer = ctx.actor()
    row = referral_row(ctx, referral_id)
    if row["status"] != "approved":
        raise StateError(f"{row['id']} is {row['status']}: only a draft a sergeant has approved can be sent "
                         f"(`ohrt refer qa {row['id']} --approve`, SOP 10.2).")
    _check_no_live_attempt(row)
    if smtp and on and on.strip() != ctx.today().isoformat():
        raise InputError("--smtp sends it now: leave out --on (or give today's date).")
    sent_on = parse_date(on or ctx.today().isoformat(), "sent date", today=ctx.today())
    approved_on = row["qa_at"][:10]
    if sent_on.isoformat() < approved_on:
        raise InputError(f"sent date {sent_on} is before the draft was approved ({approved_on}): check --on.")
    platform_ref = _platform_ref(platform_ref)
    relay = _smtp_plan(ctx, row) if smtp else None
    data = intact_draft(ctx, row)
    via = "smtp" if smtp else ("portal" if row["route"] == "portal" else "email")
    detail = {"task": row["task_id"], "on": sent_on.isoformat(), "via": via, "version": row["version"],
              "platform_ref": platform_ref, "message_id": row["message_id"] if row["route"] in EMAIL_ROUTES else None,
              "recipient": row["recipient"]}
    if row["send_attempt_at"]:
        detail["after_interrupted_attempt"] = row["send_attempt_at"]
    if relay is not None:
        _begin_attempt(ctx, row, detail)
        if warn is not None and relay.plaintext_warning():
            warn(relay.plaintext_warning())
        try:
            relay.send(mail.without_unsent(data), ctx.settings.mailbox, [row["recipient"]])
        except Failure as exc:
            with transaction(ctx.db):
                _clear_attempt(ctx, row["id"])
                audit.record(ctx, "referral.send-failed", "referral", row["id"],
                             detail={"task": row["task_id"], "message_id": row["message_id"], "error": exc.message})
            raise
    with transaction(ctx.db):
        current = referral_row(ctx, row["id"])
        changed = current["status"] != "approved"
        if changed and relay is not None:  # it went, whatever happened meanwhile: the chain must say so
            audit.record(ctx, "referral.sent", "referral", row["id"], detail={**detail, "status_was": current["status"]})
            _clear_attempt(ctx, row["id"])
        elif not changed:
            if relay is None:
                _check_no_live_attempt(current)
            ctx.db["referrals"].update(row["id"], {
                "status": "sent", "sent_by": officer.number, "sent_at": iso(ctx.now()),
                "sent_on": sent_on.isoformat(), "sent_via": via, "platform_ref": platform_ref})
            _clear_attempt(ctx, row["id"])
            audit.record(ctx, "referral.sent", "referral", row["id"], detail=detail)
            tasks.set_status(ctx, row["task_id"], "sent", "task.status", detail={"referral": row["id"]})
    if changed:
        raise StateError(f"{row['id']} changed meanwhile: check it with `ohrt refer show {row['id']}`.")
    return get_referral(ctx, row["id"])


def _check_no_live_attempt(row: dict) -> None:
    """Refuse while another command's send through the relay of this referral may still be under way."""
    pid = row["send_attempt_pid"]
    if row["send_attempt_at"] and pid and store.process_alive(int(pid)):
        raise Failure(f"{row['id']} is being sent through the relay by another ohrt command (since "
                      f"{row['send_attempt_at']}): wait for it, then check with `ohrt refer show {row['id']}`.")


def _begin_attempt(ctx: Context, row: dict, detail: dict) -> None:
    """Mark the referral as being sent by this process, and audit the attempt, before anything leaves."""
    with transaction(ctx.db):
        current = referral_row(ctx, row["id"])
        if current["status"] != "approved" or current["send_attempt_at"] != row["send_attempt_at"]:
            raise StateError(f"{row['id']} changed meanwhile: check it with `ohrt refer show {row['id']}`.")
        ctx.db["referrals"].update(row["id"], {"send_attempt_at": iso(ctx.now()), "send_attempt_by": ctx.actor().number,
                                               "send_attempt_pid": os.getpid()})
        audit.record(ctx, "referral.send-attempt", "referral", row["id"], detail=detail)


def _clear_attempt(ctx: Context, referral_id: str) -> None:
    ctx.db["referrals"].update(referral_id, {"send_attempt_at": None, "send_attempt_by": None,
                                             "send_attempt_pid": None})


def _platform_ref(text: str | None) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > 200 or any(ch in text for ch in "\r\n"):
        raise InputError("--platform-ref must be one line of at most 200 characters: give the platform's reference.")
    return text


def _smtp_plan(ctx: Context, row: dict) -> mail.Relay:
    """Check that this draft can go through the relay now; the relay settings from config.toml."""
    if row["route"] not in EMAIL_ROUTES:
        raise InputError(f"{row['id']} goes by the {ROUTES[row['route']]}: submit it there and run "
                         f"`ohrt refer sent {row['id']}` without --smtp.")
    _check_recipient(row)
    return mail.Relay.from_settings(ctx.settings)


def record_outcome(ctx: Context, referral_id: str, *, removed: bool, on: str | None = None,
                   note: str | None = None, observed_on: str | None = None) -> dict:
    """Record the platform's decision (SOP 10.6): removed (10.6.1) or not removed (10.6.2). A removal is
    offered to the Domain library (10.8) in the same transaction. `observed_on` records a removal the
    platform never announced, on the day `ohrt refer check` first saw the content gone: it must name a
    day with such an observation, which the referral then points at (its decision date is that day)."""
    officer = ctx.actor()
    row = referral_row(ctx, referral_id)
    if row["status"] != "sent":
        raise StateError(f"{row['id']} is {row['status']}: a platform's decision can be recorded only for a referral "
                         "marked sent (`ohrt refer sent`).")
    observation = None
    if observed_on is not None:
        if on is not None:
            raise InputError("give --on (the platform's decision date) or --observed-on (the day the check saw it "
                             "gone), not both.")
        if not removed:
            raise InputError("--observed-on records a removal seen by `ohrt refer check`: use it with --removed.")
        seen_on = parse_date(observed_on, "observation date", today=ctx.today())
        observation = observation_on(ctx, row["id"], seen_on)
        if observation is None:
            raise InputError(f"no check saw {row['id']}'s content gone on {seen_on}: see its observations with "
                             f"`ohrt refer show {row['id']}`, or give the platform's decision date with --on.")
        on = seen_on.isoformat()
    decided_on = parse_date(on or ctx.today().isoformat(), "decision date", today=ctx.today())
    if decided_on.isoformat() < row["sent_on"]:
        raise InputError(f"decision date {decided_on} is before the referral was sent ({row['sent_on']}): check --on.")
    outcome = "removed" if removed else "not-removed"
    library_item = None
    with transaction(ctx.db):
        if referral_row(ctx, row["id"])["status"] != "sent":
            raise StateError(f"{row['id']} changed meanwhile: check it with `ohrt refer show {row['id']}`.")
        ctx.db["referrals"].update(row["id"], {
            "status": outcome, "outcome": outcome, "outcome_on": decided_on.isoformat(),
            "outcome_note": (note or "").strip() or None, "outcome_by": officer.number, "outcome_at": iso(ctx.now()),
            "outcome_observation": observation["id"] if observation else None})
        detail = {"task": row["task_id"], "outcome": outcome, "on": decided_on.isoformat()}
        if observation:
            detail["observation"] = observation["id"]
        audit.record(ctx, "referral.outcome", "referral", row["id"], detail=detail)
        tasks.set_status(ctx, row["task_id"], outcome, "task.status", detail={"referral": row["id"]})
        if removed:
            library_item = library.on_removal(ctx, row["id"])
    result = get_referral(ctx, row["id"])
    result["library_item"] = library_item
    return result


def close_task(ctx: Context, task_id: str, *, reason: str) -> dict:
    """Close a task whose referral has run its course: removed, or not removed and not to be appealed
    (the decision not to appeal, 10.7, is recorded with its reason)."""
    ctx.actor()
    reason = (reason or "").strip()
    task_id = open_task_id(ctx, task_id)
    if not reason:
        raise InputError("closing needs --reason, e.g. --reason 'no grounds for appeal: platform decision stands'.")
    sensitive.check_reason(ctx, reason)
    with transaction(ctx.db):
        status = ctx.db.execute("SELECT status FROM tasks WHERE id = ?", [task_id]).fetchone()[0]
        if status not in ("removed", "not-removed"):
            raise StateError(f"{task_id} is {status}: only a task whose platform decided (removed or not-removed) "
                             "can be closed here.")
        latest = task_referrals(ctx, task_id)[-1]
        tasks.set_status(ctx, task_id, "closed", "task.close", reason=reason,
                         detail={"referral": latest["id"], "outcome": latest["outcome"]})
    return {"task_id": task_id, "status": "closed", "referral": latest["id"], "outcome": latest["outcome"]}
