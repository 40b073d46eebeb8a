"""Recording reviews and indices research, and reading them back (SOP 9.2–9.4, 10.3, 8.6)."""

from __future__ import annotations

from ...ground import audit, purged, sensitive
from ...ground.context import Context
from ...ground.db import insert_rows, next_ids, transaction
from ...ground.errors import InputError
from ...ground.times import iso
from .. import intake as tasks
from .checks import Clean, check, load_facts
from .form import ResearchInput, ReviewInput, parse_input, parse_research
from .tos import load_catalogues
from .vocabulary import FACTORS, REDRAFT_REFERRALS, REVIEW_AUDIT_REASON, STATUS_AFTER, split_cell


def write_reviews(ctx: Context, cleans: list[Clean], *, batch: str | None = None) -> list[str]:
    """Write reviews, their findings, clauses and research, supersede earlier reviews, move each task
    on (reviewed or closed) and audit it all; inside a transaction."""
    officer = ctx.actor()
    now = ctx.now()
    at, today = iso(now), ctx.today().isoformat()
    ids = next_ids(ctx.db, "V", now.year, len(cleans))
    reviews, findings, clauses, research, superseded, entries, changes = [], [], [], [], [], [], []
    for review_id, clean in zip(ids, cleans):
        draft, facts = clean.draft, clean.facts
        capture_id = facts.capture["id"] if facts.capture else None
        previous = facts.current[0] if facts.current else None
        reviews.append({
            "id": review_id, "task_id": draft.task_id, "capture_id": capture_id, "officer": officer.number,
            "reviewed_at": at, "review_date": draft.review_date or today, "decision": draft.decision,
            "format": draft.format, "basis": clean.basis, "reason": draft.reason,
            "no_capture_reason": draft.reason if draft.no_capture else None, "superseded_by": None,
            "batch_key": clean.key,
        })
        findings += [{"review_id": review_id, "factor": f.factor, "note": f.note, "at": ";".join(f.at) or None}
                     for f in draft.findings]
        clauses += [{"review_id": review_id, "clause_id": c.id, "platform": c.platform, "title": c.title,
                     "summary": c.summary, "url": c.url, "as_of": c.as_of} for c in clean.clauses]
        research += [{"task_id": draft.task_id, "review_id": review_id, "system": r.system,
                      "reference": r.reference, "searched_on": r.searched_on, "summary": r.summary,
                      "officer": officer.number, "recorded_at": at} for r in draft.research]
        if previous:
            superseded.append([review_id, previous])
        entries.append(("review.record", "review", review_id,
                        REVIEW_AUDIT_REASON if capture_id else f"{REVIEW_AUDIT_REASON}, no capture: {draft.reason}",
                        {"task": draft.task_id, "capture": capture_id, "decision": draft.decision,
                         "format": draft.format, "factors": [f.factor for f in draft.findings],
                         "clauses": [c.id for c in clean.clauses], "supersedes": previous,
                         "research_entries": len(draft.research), "batch": batch}))
        changes.append((draft.task_id, STATUS_AFTER[draft.decision],
                        draft.reason if draft.decision == "nfa" else None,
                        {"review": review_id, "decision": draft.decision}))
    insert_rows(ctx.db, "reviews", reviews)
    insert_rows(ctx.db, "findings", findings)
    insert_rows(ctx.db, "review_clauses", clauses)
    insert_rows(ctx.db, "indices_research", research)
    ctx.db.conn.executemany("UPDATE reviews SET superseded_by = ? WHERE id = ?", superseded)
    audit.record_many(ctx, entries)
    tasks.set_status_many(ctx, changes, "review.decide")
    return ids


def record_review(ctx: Context, raw: ReviewInput) -> dict:
    """Record one review and its decision (SOP 9.2–9.4, 10.3); returns what was recorded."""
    ctx.actor()
    draft = parse_input(raw, ctx.today())
    catalogues = load_catalogues(ctx.home)
    with transaction(ctx.db):
        facts = load_facts(ctx, [draft.task_id]).get(draft.task_id)
        clean = check(draft, facts, catalogues, sensitive.for_context(ctx))
        [review_id] = write_reviews(ctx, [clean])
    redraft = [r for r, status in clean.facts.referrals if status in REDRAFT_REFERRALS]
    return {"review": current_review(ctx, draft.task_id), "supersedes": facts.current[0] if facts.current else None,
            "task_status": STATUS_AFTER[draft.decision], "research_entries": len(draft.research),
            "referrals_to_redraft": redraft}


def record_research(ctx: Context, task_id: str, entries: list[ResearchInput]) -> list[dict]:
    """Record searches of police indices (SOP 9.3) against a task, outside a review. Police-only: kept in
    `indices_research`, shown by `review show`, never in `current_review` or anything for a platform."""
    officer = ctx.actor()
    task_id = (task_id or "").strip().upper()
    if not entries:
        raise InputError("nothing to record: give the system, date and summary of the search.")
    parsed = [parse_research(e, ctx.today()) for e in entries]
    with transaction(ctx.db):
        tasks.existing_task(ctx, task_id)
        at = iso(ctx.now())
        insert_rows(ctx.db, "indices_research", [
            {"task_id": task_id, "review_id": None, "system": r.system, "reference": r.reference,
             "searched_on": r.searched_on, "summary": r.summary, "officer": officer.number, "recorded_at": at}
            for r in parsed])
        # the audit entry says that research was recorded, never what it found
        audit.record(ctx, "review.research", "task", task_id, detail={"entries": len(parsed)})
    return research_for(ctx, task_id)[-len(parsed):]


def research_for(ctx: Context, task_id: str) -> list[dict]:
    """The task's indices research (9.3), oldest first: police-only, never for a platform."""
    rows = ctx.db.execute(
        "SELECT id, review_id, system, reference, searched_on, summary, officer, recorded_at FROM indices_research "
        "WHERE task_id = ? ORDER BY id", [(task_id or "").strip().upper()]).fetchall()
    keys = ("id", "review_id", "system", "reference", "searched_on", "summary", "officer", "recorded_at")
    return [dict(zip(keys, row)) for row in rows]


REVIEW_KEYS = ("id", "task_id", "capture_id", "officer", "reviewed_at", "review_date", "decision", "format",
               "basis", "reason", "no_capture_reason")


def _review_dicts(ctx: Context, rows: list[tuple]) -> list[tuple[dict, str | None]]:
    """Review rows (REVIEW_KEYS + superseded_by) → (the shape of `current_review`, superseded_by)."""
    reviews = []
    for row in rows:
        review = dict(zip(REVIEW_KEYS, row[:len(REVIEW_KEYS)]))
        review["findings"] = [
            {"factor": factor, "factor_title": FACTORS[factor].title if factor in FACTORS else factor,
             "note": note, "at": split_cell(at)}
            for factor, note, at in ctx.db.execute(
                "SELECT factor, note, at FROM findings WHERE review_id = ? ORDER BY id", [review["id"]])]
        review["clauses"] = [
            dict(zip(("id", "platform", "title", "summary", "url", "as_of"), clause))
            for clause in ctx.db.execute(
                "SELECT clause_id, platform, title, summary, url, as_of FROM review_clauses WHERE review_id = ? "
                "ORDER BY id", [review["id"]])]
        reviews.append((review, row[len(REVIEW_KEYS)]))
    return reviews


def current_review(ctx: Context, task_id: str) -> dict | None:
    """The review in force for a task, or None: keys `id, task_id, capture_id, officer, reviewed_at,
    review_date, decision, format, basis, reason, no_capture_reason, findings[{factor, factor_title, note,
    at[]}], clauses[{id, platform, title, summary, url, as_of}]`. It holds nothing from a sensitive table,
    so a referral to the platform may be rendered from it (SOP 6.4)."""
    rows = ctx.db.execute(
        f"SELECT {', '.join(REVIEW_KEYS)}, superseded_by FROM reviews WHERE task_id = ? AND superseded_by IS NULL "
        "ORDER BY reviewed_at DESC, id DESC LIMIT 1", [(task_id or "").strip().upper()]).fetchall()
    return _review_dicts(ctx, rows)[0][0] if rows else None


def review_history(ctx: Context, task_id: str) -> list[dict]:
    """Every review of a task, oldest first, each as `current_review` plus `superseded_by`."""
    rows = ctx.db.execute(
        f"SELECT {', '.join(REVIEW_KEYS)}, superseded_by FROM reviews WHERE task_id = ? ORDER BY reviewed_at, id",
        [(task_id or "").strip().upper()]).fetchall()
    return [{**review, "superseded_by": superseded_by} for review, superseded_by in _review_dicts(ctx, rows)]


def show_review(ctx: Context, task_id: str) -> dict:
    """For `ohrt review show`: the task, its review in force, the history, and the indices research
    (police-only: this is for officers, never for a platform)."""
    task_id = (task_id or "").strip().upper()
    row = ctx.db.execute("SELECT id, status, platform, title FROM tasks WHERE id = ?", [task_id]).fetchone()
    if row is None:
        raise tasks.no_task(task_id)
    task = {**dict(zip(("id", "status", "platform", "title"), row)),
            "purged": purged.describe(purged.of_task(ctx.db, task_id))}
    return {"task": task, "current": current_review(ctx, task_id),
            "history": review_history(ctx, task_id), "research": research_for(ctx, task_id)}
