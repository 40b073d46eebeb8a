"""Referral to platforms, SOP 10.1–10.7: routes, drafting, sergeant QA, sending, outcomes and appeals,
and the Connect intelligence record (10.4).

A referral is drafted from a template (10.1) as files in the home — an email (`.eml`) for mailbox and
individual routes, portal text plus a checklist for the Trusted Flagger portal (10.5) — then checked by a
sergeant or above who did not draft it (10.2), marked sent, and given the platform's decision (10.6). A
refusal may be appealed (10.7): an appeal is a referral of kind "appeal" citing the original, and goes
through QA, sending and outcome the same way.

    drafted ──qa approve──▶ approved ──sent──▶ sent ──outcome──▶ removed | not-removed ──appeal──▶ …
       ▲  └──qa return──▶ returned
       └──── draft again ────┘

Every step is one transaction: the referral row, its audit entry and the task's status move together, and
a draft's files are renamed into place only inside that transaction (removed again if it fails). What a
platform is told is built by `disclosure.platform_context` (SOP 6.4).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import tempfile
import tomllib
from pathlib import Path
from typing import Iterator

from ..ground import audit, mail, resources, sensitive, store, urls
from . import disclosure, intake as tasks
from .library import items as library
from ..ground.context import Context
from ..ground.layout import referral_folder
from ..ground.db import next_id, transaction
from ..ground.errors import Failure, InputError, NotAllowed, NotFound, StateError
from ..ground.render import Renderer
from ..ground.times import iso, parse_date

KINDS = ("referral", "appeal")
STATUSES = ("drafted", "returned", "approved", "sent", "removed", "not-removed")
ROUTES = {
    "portal": "Trusted Flagger portal (SOP 10.5.1)",
    "mailbox": "platform mailbox (SOP 10.5.2)",
    "individual": "named individual at the platform (SOP 10.5.3)",
}
EMAIL_ROUTES = ("mailbox", "individual")
REDRAFTABLE = ("drafted", "returned")

LIST_COLUMNS = ("id", "task_id", "kind", "appeal_of", "platform", "route", "status", "version", "drafted_by",
                "drafted_at", "qa_by", "sent_on", "platform_ref", "outcome", "outcome_on")


# ------------------------------------------------------------------------------------------- routes

def shipped_routes() -> dict:
    """The shipped defaults, `templates/routes.toml`."""
    with open(resources.templates_dir() / "routes.toml", "rb") as handle:
        return tomllib.load(handle)


def route_for(ctx: Context, platform: str) -> dict:
    """How referrals reach `platform` (SOP 10.5): shipped defaults overridden by `[routes.<platform>]` (and
    `[routes.default]`) in config.toml. Raises InputError saying what to set when the route is unusable."""
    shipped, configured = shipped_routes(), ctx.settings.raw.get("routes") or {}
    merged: dict = {}
    for layer in (shipped.get("default"), configured.get("default"), shipped.get(platform), configured.get(platform)):
        merged.update(layer or {})
    route = str(merged.get("route") or "").strip().lower()
    where = f"[routes.{platform}] in config.toml"
    if route not in ROUTES:
        raise InputError(f"route {route!r} for {platform} is not one of {', '.join(ROUTES)}: set route in {where}.")
    result = {
        "platform": platform,
        "platform_name": urls.PLATFORM_NAMES.get(platform, platform.title()),
        "route": route,
        "contact": str(merged.get("contact") or "").strip(),
        "contact_name": str(merged.get("contact_name") or "").strip(),
        "portal": str(merged.get("portal") or "").strip() or ("Trusted Flagger portal" if route == "portal" else ""),
    }
    if route in EMAIL_ROUTES:
        if not result["contact"]:
            raise InputError(f"no contact for {platform} referrals (route {route}, SOP 10.5): set "
                             f'contact = "name@platform.example" (and contact_name) in {where}.')
        if not mail.valid_address(result["contact"]):
            raise InputError(f"contact {result['contact']!r} for {platform} is not an email address: correct it in "
                             f"{where}.")
    result["placeholder"] = route in EMAIL_ROUTES and mail.is_placeholder(result["contact"])
    return result


def list_routes(ctx: Context) -> list[dict]:
    """Every platform's route: the SOP 4.1.4 platforms and any other named in the shipped file or config."""
    names = list(urls.PLATFORMS)
    for table in (shipped_routes(), ctx.settings.raw.get("routes") or {}):
        names += [name for name in table if name != "default" and name not in names]
    found = []
    for platform in names:
        try:
            found.append({**route_for(ctx, platform), "problem": None})
        except InputError as exc:
            found.append({"platform": platform, "platform_name": urls.PLATFORM_NAMES.get(platform, platform),
                          "route": None, "contact": None, "contact_name": None, "portal": None,
                          "placeholder": False, "problem": exc.message})
    return found


# ------------------------------------------------------------------------------------------ reading

def _row(ctx: Context, referral_id: str) -> dict:
    referral_id = (referral_id or "").strip().upper()
    rows = list(ctx.db.query("SELECT * FROM referrals WHERE id = ?", [referral_id]))
    if not rows:
        raise NotFound(f"no referral {referral_id!r} in this home: check the id with `ohrt refer list`.")
    return rows[0]


def get_referral(ctx: Context, referral_id: str) -> dict:
    """One referral with its QA history, its appeals and the files of its current draft."""
    row = _row(ctx, referral_id)
    row["qa"] = [dict(r) for r in ctx.db.query(
        "SELECT version, verdict, officer, at, note FROM referral_qa WHERE referral_id = ? ORDER BY id", [row["id"]])]
    row["appeals"] = [r for (r,) in ctx.db.execute(
        "SELECT id FROM referrals WHERE appeal_of = ? ORDER BY id", [row["id"]])]
    folder = (ctx.home / row["draft_path"]).parent if row["draft_path"] else None
    row["files"] = sorted(str(p) for p in folder.iterdir()) if folder and folder.is_dir() else []
    row["draft_file"] = str(ctx.home / row["draft_path"]) if row["draft_path"] else None
    return row


def list_referrals(ctx: Context, *, status: str | None = None, task_id: str | None = None) -> list[dict]:
    """Referrals and appeals, oldest first, optionally of one status or one task."""
    if status and status not in STATUSES:
        raise InputError(f"status {status!r} is not one of {', '.join(STATUSES)}.")
    sql, params, where = f"SELECT {', '.join(LIST_COLUMNS)} FROM referrals", [], []
    if status:
        where.append("status = ?")
        params.append(status)
    if task_id:
        where.append("task_id = ?")
        params.append(task_id.strip().upper())
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [dict(r) for r in ctx.db.query(sql + " ORDER BY id", params)]


def _task_referrals(ctx: Context, task_id: str) -> list[dict]:
    return list(ctx.db.query("SELECT * FROM referrals WHERE task_id = ? ORDER BY id", [task_id]))


# ----------------------------------------------------------------------------------------- drafting

def _referable_review(ctx: Context, task_id: str) -> dict:
    """The task's current review, which must decide to refer and cite findings and this platform's terms."""
    from . import review as review_stage

    review = review_stage.current_review(ctx, task_id)
    if review is None or review.get("decision") != "refer":
        raise StateError(f"{task_id} has no review deciding to refer it (SOP 10.3.1): review it first with "
                         f"`ohrt review {task_id} --decision refer --format … --finding … --clause …`.")
    platform = ctx.db.execute("SELECT platform FROM tasks WHERE id = ?", [task_id]).fetchone()[0]
    if not review.get("findings"):
        raise StateError(f"review {review['id']} of {task_id} records no finding to refer on: review it again "
                         "with at least one --finding.")
    if not disclosure.shape_clauses(review, platform, disclosure.shape_findings(review)):
        raise StateError(f"review {review['id']} of {task_id} cites no clause of {platform}'s terms: review it "
                         f"again with --clause {platform}:… (see `ohrt tos list {platform}`).")
    return review


def _task_id(ctx: Context, task_id: str) -> str:
    task_id = (task_id or "").strip().upper()
    row = ctx.db.execute("SELECT status FROM tasks WHERE id = ?", [task_id]).fetchone()
    if row is None:
        raise tasks.no_task(task_id)
    if row[0] == "closed":
        raise StateError(f"{task_id} is closed: nothing more can be referred on it.")
    return task_id


NEXT_STEP = {
    "approved": "mark it sent with `ohrt refer sent {id}`",
    "sent": "record the platform's decision with `ohrt refer outcome {id} --removed` or `--not-removed`",
    "not-removed": "appeal with `ohrt refer appeal {id}`, or close the task with `ohrt refer close {task}`",
    "removed": "the content was removed; nothing more to refer",
}


def draft_referral(ctx: Context, task_id: str) -> dict:
    """Draft the referral of a reviewed task (SOP 10.1), or a new version of a returned (or not yet
    checked) draft. Returns the referral as `get_referral` does, plus `warnings`."""
    ctx.actor()
    task_id = _task_id(ctx, task_id)
    with _drafting(ctx) as made:
        tasks.refuse_if_purged(ctx, task_id, "no draft was made")
        latest = (_task_referrals(ctx, task_id) or [None])[-1]
        if latest and latest["status"] not in REDRAFTABLE:
            raise StateError(f"{task_id} already has {latest['kind']} {latest['id']} ({latest['status']}): "
                             + NEXT_STEP[latest["status"]].format(id=latest["id"], task=task_id) + ".")
        original = _row(ctx, latest["appeal_of"]) if latest and latest["appeal_of"] else None
        referral_id, warnings = _draft(ctx, task_id, made, kind=latest["kind"] if latest else "referral",
                                       existing=latest, original=original, grounds=None)
    return {**get_referral(ctx, referral_id), "warnings": warnings}


def draft_appeal(ctx: Context, referral_id: str, *, grounds: str | None = None) -> dict:
    """Draft an appeal against a platform's refusal to remove (SOP 10.7), citing the original referral;
    again on a returned appeal, a new version of it."""
    ctx.actor()
    original = _row(ctx, referral_id)
    if original["status"] != "not-removed":
        raise StateError(f"{original['id']} is {original['status']}: only a referral the platform did not remove can "
                         f"be appealed (record the decision with `ohrt refer outcome {original['id']} --not-removed`).")
    task_id = _task_id(ctx, original["task_id"])
    with _drafting(ctx) as made:
        tasks.refuse_if_purged(ctx, task_id, "no appeal was drafted")
        appeals = list(ctx.db.query("SELECT * FROM referrals WHERE appeal_of = ? ORDER BY id", [original["id"]]))
        existing = appeals[-1] if appeals else None
        if existing and existing["status"] not in REDRAFTABLE:
            raise StateError(f"{original['id']} already has appeal {existing['id']} ({existing['status']}): "
                             + NEXT_STEP[existing["status"]].format(id=existing["id"], task=task_id) + ".")
        referral_id, warnings = _draft(ctx, task_id, made, kind="appeal", existing=existing, original=original,
                                       grounds=grounds)
    return {**get_referral(ctx, referral_id), "warnings": warnings}


@contextlib.contextmanager
def _drafting(ctx: Context) -> Iterator[list[Path]]:
    """A transaction for drafting: the version folders written in it (listed in the yielded list) are
    removed again if it does not commit, so a failure leaves neither a row nor a file."""
    made: list[Path] = []
    try:
        with transaction(ctx.db):
            yield made
    except BaseException as exc:
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)
            with contextlib.suppress(OSError):
                folder.parent.rmdir()  # only if this was the referral's first version
        if isinstance(exc, sqlite3.IntegrityError):
            # A constraint the checks above did not foresee (a row changed by another command meanwhile, a
            # team's own trigger): a refusal of this draft, not a crash.
            raise StateError(f"the database refused the draft ({exc}): nothing was drafted and no file was kept; "
                             "check the task with `ohrt task show`, then draft again.") from None
        raise


def _draft(ctx: Context, task_id: str, made: list[Path], *, kind: str, existing: dict | None,
           original: dict | None, grounds: str | None) -> tuple[str, list[str]]:
    """Render, guard, write and record one draft version inside `_drafting`; (referral id, warnings)."""
    officer = ctx.actor()
    review = _referable_review(ctx, task_id)
    platform = ctx.db.execute("SELECT platform FROM tasks WHERE id = ?", [task_id]).fetchone()[0]
    route = route_for(ctx, platform)
    referral_id = existing["id"] if existing else next_id(ctx.db, "R", ctx.now())
    version = existing["version"] + 1 if existing else 1
    context = disclosure.platform_context(ctx, task_id, review, route=route, original=original, grounds=grounds,
                                          referral={"id": referral_id, "version": version, "kind": kind})
    pieces = _render(ctx, task_id, route, kind, context)
    folder = _write_version(ctx, referral_id, version, pieces.files)
    made.append(folder)
    main = folder / pieces.main
    fields = {
        "review_id": review["id"], "platform": platform, "route": route["route"], "status": "drafted",
        "version": version, "drafted_by": officer.number, "drafted_at": iso(ctx.now()),
        "draft_path": main.relative_to(ctx.home).as_posix(), "draft_sha256": _sha256(main),
        "recipient": route["contact"] if route["route"] in EMAIL_ROUTES else route["portal"],
        "message_id": pieces.message_id, "qa_by": None, "qa_at": None,
    }
    if existing:
        ctx.db["referrals"].update(referral_id, fields)
    else:
        ctx.db["referrals"].insert({"id": referral_id, "task_id": task_id, "kind": kind,
                                    "appeal_of": original["id"] if original else None, **fields})
    action = f"{'appeal' if kind == 'appeal' else 'referral'}.{'redraft' if existing else 'draft'}"
    audit.record(ctx, action, "referral", referral_id, detail={
        "task": task_id, "version": version, "route": route["route"], "platform": platform,
        "review": review["id"], "file": fields["draft_path"], "sha256": fields["draft_sha256"],
        **({"appeal_of": original["id"]} if original else {})})
    tasks.set_status(ctx, task_id, "appeal-drafted" if kind == "appeal" else "referral-drafted", "task.status",
                     detail={"referral": referral_id, "version": version})
    return referral_id, _warnings(route, context)


def _warnings(route: dict, context: dict) -> list[str]:
    found = []
    if route["placeholder"]:
        found.append(f"{route['contact']} is the shipped placeholder for {route['platform']}: set the real contact "
                     f"in config.toml [routes.{route['platform']}] and draft again before sending.")
    if not context["content"]["captured"]:
        found.append("no capture of the content: the referral's facts come from the task as the applicant gave them.")
    return found


class _Pieces:
    """A draft version's files (name → bytes), which one is the main file, and its Message-ID if email."""

    def __init__(self, files: dict[str, bytes], main: str, message_id: str | None = None):
        self.files, self.main, self.message_id = files, main, message_id


def platform_renderer(ctx: Context) -> Renderer:
    """The referral templates of this home (team overrides first), with the 6.4 forbidden names."""
    return Renderer(ctx.home, "referral", disclosure.PLATFORM_FORBIDDEN)


def _render(ctx: Context, task_id: str, route: dict, kind: str, context: dict) -> _Pieces:
    """Render every piece of the draft in memory, then check nothing sensitive is in it (SOP 6.4)."""
    renderer = platform_renderer(ctx)
    platform = route["platform"]
    if route["route"] == "portal":
        texts = renderer.render_all([("portal text", f"{kind}-portal.txt"), ("checklist", "portal-checklist.txt")],
                                    context, platform=platform)
        disclosure.check_disclosure(ctx, task_id, context, texts)
        return _Pieces({"portal.txt": texts["portal text"].encode("utf-8"),
                        "checklist.txt": texts["checklist"].encode("utf-8")}, "portal.txt")
    names = [("email subject", f"{kind}-subject.txt"), ("email body", f"{kind}-body.txt")]
    if ctx.settings.get("referral.html", True) and renderer.exists(f"{kind}-body.html", platform=platform):
        names.append(("email's HTML body", f"{kind}-body.html"))
    texts = renderer.render_all(names, context, platform=platform)
    disclosure.check_disclosure(ctx, task_id, context, texts)
    subject = mail.one_line(texts["email subject"])
    if not subject:
        raise InputError(f"template {kind}-subject.txt renders an empty subject: mend the template.")
    data, message_id = mail.build_message(
        sender_name=ctx.settings.team_name, sender=ctx.settings.mailbox, to_name=route["contact_name"] or None,
        to=route["contact"], subject=subject, text=texts["email body"], html=texts.get("email's HTML body"),
        when=ctx.now(), id_string=f"{context['referral']['id']}.v{context['referral']['version']}")
    return _Pieces({f"{kind}.eml": data}, f"{kind}.eml", message_id)


def _write_version(ctx: Context, referral_id: str, version: int, files: dict[str, bytes]) -> Path:
    """Write a draft version's files in a temporary folder, then rename it to `v<N>`: all or nothing."""
    parent = ctx.home / referral_folder(referral_id)
    parent.mkdir(parents=True, exist_ok=True)
    target = parent / f"v{version}"
    if target.exists():
        raise StateError(f"{target} already exists but is not recorded: move it aside, then draft again.")
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-v{version}-", dir=parent))
    try:
        for name, data in files.items():
            path = staging / name
            with open(path, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            path.chmod(0o444)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            parent.rmdir()  # only if empty: this was to be the referral's first version
        raise
    return target


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _intact_draft(ctx: Context, row: dict) -> bytes:
    """The current draft's main file, as it was drafted; StateError when it is missing or changed."""
    path = ctx.home / row["draft_path"]
    redo = f"draft it again with `ohrt refer draft {row['task_id']}`"
    if row["kind"] == "appeal":
        redo = f"draft it again with `ohrt refer appeal {row['appeal_of']}`"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StateError(f"the draft of {row['id']} ({path}) is missing: {redo}.") from None
    if hashlib.sha256(data).hexdigest() != row["draft_sha256"]:
        raise StateError(f"the draft of {row['id']} ({path}) was changed after it was drafted: {redo}.")
    return data


# ----------------------------------------------------------------------------------------------- QA

def qa_referral(ctx: Context, referral_id: str, *, approve: bool, note: str | None = None) -> dict:
    """The sergeant's quality check of a draft (SOP 10.2): approve it, or return it with a note saying what
    to mend. By a sergeant or above who did not draft this version."""
    officer = ctx.actor("sergeant")
    row = _row(ctx, referral_id)
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
    _intact_draft(ctx, row)
    if approve:
        _check_review_current(ctx, row)
        _check_recipient(row)
    verdict = "approved" if approve else "returned"
    with transaction(ctx.db):
        current = _row(ctx, row["id"])
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
    from . import review as review_stage

    review = review_stage.current_review(ctx, row["task_id"])
    if review is None or review["id"] != row["review_id"]:
        raise StateError(f"{row['id']} was drafted from review {row['review_id']}, which is no longer the task's "
                         f"current review: draft it again so it says what the review now finds.")


# ------------------------------------------------------------------------------------------ sending

def mark_sent(ctx: Context, referral_id: str, *, on: str | None = None, platform_ref: str | None = None,
              smtp: bool = False) -> dict:
    """Record that an approved draft went to the platform (by hand, through the portal, or — with
    `smtp` — sent now through the team's relay, recording the Message-ID). SOP 10.5, 8.6.3.

    A relay can take its time, so the message is not sent inside a write transaction (that would hold the
    home's write lock and turn other officers away). Instead: one transaction records the attempt on the
    referral (still approved) and audits it; the message goes; a second transaction records it sent, or
    records the relay's refusal and clears the attempt. A command killed in between leaves the referral
    approved with the attempt on it: another send waits while that process lives, and once it is gone may
    send again (the message keeps its Message-ID, so a duplicate is recognisable) or record it sent by hand."""
    officer = ctx.actor()
    row = _row(ctx, referral_id)
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
    data = _intact_draft(ctx, row)
    via = "smtp" if smtp else ("portal" if row["route"] == "portal" else "email")
    detail = {"task": row["task_id"], "on": sent_on.isoformat(), "via": via, "version": row["version"],
              "platform_ref": platform_ref, "message_id": row["message_id"] if row["route"] in EMAIL_ROUTES else None,
              "recipient": row["recipient"]}
    if row["send_attempt_at"]:
        detail["after_interrupted_attempt"] = row["send_attempt_at"]
    if relay is not None:
        _begin_attempt(ctx, row, detail)
        try:
            relay.send(mail.without_unsent(data), ctx.settings.mailbox, [row["recipient"]])
        except Failure as exc:
            with transaction(ctx.db):
                _clear_attempt(ctx, row["id"])
                audit.record(ctx, "referral.send-failed", "referral", row["id"],
                             detail={"task": row["task_id"], "message_id": row["message_id"], "error": exc.message})
            raise
    with transaction(ctx.db):
        current = _row(ctx, row["id"])
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
        current = _row(ctx, row["id"])
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


# ----------------------------------------------------------------------------------------- outcomes

def record_outcome(ctx: Context, referral_id: str, *, removed: bool, on: str | None = None,
                   note: str | None = None) -> dict:
    """Record the platform's decision (SOP 10.6): removed (10.6.1) or not removed (10.6.2). A removal is
    offered to the Domain library (10.8) in the same transaction."""
    officer = ctx.actor()
    row = _row(ctx, referral_id)
    if row["status"] != "sent":
        raise StateError(f"{row['id']} is {row['status']}: a platform's decision can be recorded only for a referral "
                         "marked sent (`ohrt refer sent`).")
    decided_on = parse_date(on or ctx.today().isoformat(), "decision date", today=ctx.today())
    if decided_on.isoformat() < row["sent_on"]:
        raise InputError(f"decision date {decided_on} is before the referral was sent ({row['sent_on']}): check --on.")
    outcome = "removed" if removed else "not-removed"
    library_item = None
    with transaction(ctx.db):
        if _row(ctx, row["id"])["status"] != "sent":
            raise StateError(f"{row['id']} changed meanwhile: check it with `ohrt refer show {row['id']}`.")
        ctx.db["referrals"].update(row["id"], {
            "status": outcome, "outcome": outcome, "outcome_on": decided_on.isoformat(),
            "outcome_note": (note or "").strip() or None, "outcome_by": officer.number, "outcome_at": iso(ctx.now())})
        audit.record(ctx, "referral.outcome", "referral", row["id"],
                     detail={"task": row["task_id"], "outcome": outcome, "on": decided_on.isoformat()})
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
    task_id = _task_id(ctx, task_id)
    if not reason:
        raise InputError("closing needs --reason, e.g. --reason 'no grounds for appeal: platform decision stands'.")
    sensitive.check_reason(ctx, reason)
    with transaction(ctx.db):
        status = ctx.db.execute("SELECT status FROM tasks WHERE id = ?", [task_id]).fetchone()[0]
        if status not in ("removed", "not-removed"):
            raise StateError(f"{task_id} is {status}: only a task whose platform decided (removed or not-removed) "
                             "can be closed here.")
        latest = _task_referrals(ctx, task_id)[-1]
        tasks.set_status(ctx, task_id, "closed", "task.close", reason=reason,
                         detail={"referral": latest["id"], "outcome": latest["outcome"]})
    return {"task_id": task_id, "status": "closed", "referral": latest["id"], "outcome": latest["outcome"]}


# -------------------------------------------------------------------------------------------- intel

def intel_renderer(ctx: Context) -> Renderer:
    return Renderer(ctx.home, "intel", disclosure.INTEL_FORBIDDEN)


def intel_record(ctx: Context, task_id: str) -> dict:
    """The Connect intelligence record for a referred task (SOP 10.4) as text to paste; audited, since it
    discloses the review into another system."""
    ctx.actor()
    task_id = tasks.existing_task(ctx, task_id)
    review = _referable_review(ctx, task_id)
    referrals = _task_referrals(ctx, task_id)
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
