"""Drafting a referral or an appeal from its template, as files in the home, and reading referrals (SOP 10.1, 10.7)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Iterator

from ...ground import audit, mail, purged, store
from ...ground.context import Context
from ...ground.db import next_id, transaction
from ...ground.errors import InputError, IntegrityFailure, NotFound, StateError
from ...ground.layout import REFERRALS_DIR, referral_folder
from ...ground.render import Renderer
from ...ground.times import iso
from .. import disclosure, intake as tasks
from . import checking
from .routes import EMAIL_ROUTES, LIST_COLUMNS, REDRAFTABLE, STATUSES, route_for


def referral_row(ctx: Context, referral_id: str) -> dict:
    referral_id = (referral_id or "").strip().upper()
    rows = list(ctx.db.query("SELECT * FROM referrals WHERE id = ?", [referral_id]))
    if not rows:
        raise NotFound(f"no referral {referral_id!r} in this home: check the id with `ohrt refer list`.")
    return rows[0]


def get_referral(ctx: Context, referral_id: str) -> dict:
    """One referral with its QA history, its appeals and the files of its current draft."""
    row = referral_row(ctx, referral_id)
    row["qa"] = [dict(r) for r in ctx.db.query(
        "SELECT version, verdict, officer, at, note FROM referral_qa WHERE referral_id = ? ORDER BY id", [row["id"]])]
    row["appeals"] = [r for (r,) in ctx.db.execute(
        "SELECT id FROM referrals WHERE appeal_of = ? ORDER BY id", [row["id"]])]
    folder = (ctx.home / row["draft_path"]).parent if row["draft_path"] else None
    row["files"] = sorted(str(p) for p in folder.iterdir()) if folder and folder.is_dir() else []
    row["draft_file"] = str(ctx.home / row["draft_path"]) if row["draft_path"] else None
    row["purged"] = purged.describe(purged.of_task(ctx.db, row["task_id"]))
    row["observations"] = checking.referral_observations(ctx, row["id"])
    row["suggestion"] = checking.suggestion(ctx, row["id"])
    row["reinstated"] = bool(row["observations"] and row["observations"][0]["reinstated"])
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
    return checking.with_observations(ctx, [dict(r) for r in ctx.db.query(sql + " ORDER BY id", params)])


def task_referrals(ctx: Context, task_id: str) -> list[dict]:
    return list(ctx.db.query("SELECT * FROM referrals WHERE task_id = ? ORDER BY id", [task_id]))


def referable_review(ctx: Context, task_id: str) -> dict:
    """The task's current review, which must decide to refer and cite findings and this platform's terms."""
    from .. import review as review_stage

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


def open_task_id(ctx: Context, task_id: str) -> str:
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


def draft_referral(ctx: Context, task_id: str, *, summary: str | None = None, grounds: str | None = None) -> dict:
    """Draft the referral of a reviewed task (SOP 10.1), or a new version of a returned (or not yet
    checked) draft. `summary` (and, on an appeal, `grounds`) are the officer's own words; None keeps the
    previous version's. Returns the referral as `get_referral` does, plus `warnings`."""
    ctx.actor()
    task_id = open_task_id(ctx, task_id)
    with _drafting(ctx) as made:
        tasks.refuse_if_purged(ctx, task_id, "no draft was made")
        latest = (task_referrals(ctx, task_id) or [None])[-1]
        if latest and latest["status"] not in REDRAFTABLE:
            raise StateError(f"{task_id} already has {latest['kind']} {latest['id']} ({latest['status']}): "
                             + NEXT_STEP[latest["status"]].format(id=latest["id"], task=task_id) + ".")
        kind = latest["kind"] if latest else "referral"
        if grounds is not None and kind != "appeal":
            raise InputError(f"grounds belong to an appeal, and {task_id}'s draft is a referral: put your own words "
                             "in --summary.")
        original = referral_row(ctx, latest["appeal_of"]) if latest and latest["appeal_of"] else None
        referral_id, warnings = _draft(ctx, task_id, made, kind=kind, existing=latest, original=original,
                                       grounds=grounds, summary=summary)
    return {**get_referral(ctx, referral_id), "warnings": warnings}


def draft_appeal(ctx: Context, referral_id: str, *, grounds: str | None = None, summary: str | None = None) -> dict:
    """Draft an appeal against a platform's refusal to remove (SOP 10.7), citing the original referral;
    again on a returned appeal, a new version of it."""
    ctx.actor()
    original = referral_row(ctx, referral_id)
    if original["status"] != "not-removed":
        raise StateError(f"{original['id']} is {original['status']}: only a referral the platform did not remove can "
                         f"be appealed (record the decision with `ohrt refer outcome {original['id']} --not-removed`).")
    task_id = open_task_id(ctx, original["task_id"])
    with _drafting(ctx) as made:
        tasks.refuse_if_purged(ctx, task_id, "no appeal was drafted")
        appeals = list(ctx.db.query("SELECT * FROM referrals WHERE appeal_of = ? ORDER BY id", [original["id"]]))
        existing = appeals[-1] if appeals else None
        if existing and existing["status"] not in REDRAFTABLE:
            raise StateError(f"{original['id']} already has appeal {existing['id']} ({existing['status']}): "
                             + NEXT_STEP[existing["status"]].format(id=existing["id"], task=task_id) + ".")
        referral_id, warnings = _draft(ctx, task_id, made, kind="appeal", existing=existing, original=original,
                                       grounds=grounds, summary=summary)
    return {**get_referral(ctx, referral_id), "warnings": warnings}


def officer_text(ctx: Context, task_id: str) -> dict:
    """What an officer may write in the task's next draft, as it stands: {task, kind, referral, version,
    summary, grounds, returned} — `returned` is QA's note when the latest version was returned. For
    `ohrt refer draft --edit`, which shows these in the editor."""
    task_id = open_task_id(ctx, task_id)
    latest = (task_referrals(ctx, task_id) or [None])[-1]
    if latest and latest["status"] not in REDRAFTABLE:
        raise StateError(f"{task_id} already has {latest['kind']} {latest['id']} ({latest['status']}): "
                         + NEXT_STEP[latest["status"]].format(id=latest["id"], task=task_id) + ".")
    return {"task": task_id, "kind": latest["kind"] if latest else "referral",
            "referral": latest["id"] if latest else None,
            "version": latest["version"] + 1 if latest else 1,
            "summary": (latest or {}).get("summary") or "", "grounds": (latest or {}).get("grounds") or "",
            "returned": _returned_note(ctx, latest) if latest and latest["status"] == "returned" else None}


def _returned_note(ctx: Context, row: dict) -> str:
    found = ctx.db.execute("SELECT note FROM referral_qa WHERE referral_id = ? AND version = ? AND verdict = 'returned' "
                           "ORDER BY id DESC LIMIT 1", [row["id"], row["version"]]).fetchone()
    return (found[0] if found else None) or "no note"


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
           original: dict | None, grounds: str | None, summary: str | None = None) -> tuple[str, list[str]]:
    """Render, guard, write and record one draft version inside `_drafting`; (referral id, warnings).
    A version whose rendered texts are those of the version QA returned is refused: nothing was mended."""
    officer = ctx.actor()
    review = referable_review(ctx, task_id)
    platform = ctx.db.execute("SELECT platform FROM tasks WHERE id = ?", [task_id]).fetchone()[0]
    route = route_for(ctx, platform)
    referral_id = existing["id"] if existing else next_id(ctx.db, "R", ctx.now())
    version = existing["version"] + 1 if existing else 1
    summary = _officer_words(summary if summary is not None else (existing or {}).get("summary"))
    grounds = _officer_words(grounds if grounds is not None else (existing or {}).get("grounds"))
    context = disclosure.platform_context(ctx, task_id, review, route=route, original=original, grounds=grounds,
                                          summary=summary,
                                          referral={"id": referral_id, "version": version, "kind": kind})
    pieces = _render(ctx, task_id, route, kind, context)
    if existing and existing["status"] == "returned" and existing.get("basis_sha256") == pieces.basis:
        what = "--summary TEXT" + (" or --grounds TEXT" if kind == "appeal" else "")
        raise StateError(f"v{version} would be the same as v{existing['version']}, which QA returned: "
                         f"\"{_returned_note(ctx, existing)}\". Mend it first: your own words with `ohrt refer draft "
                         f"{task_id} --edit` (or {what}), the findings by reviewing {task_id} again, or the route "
                         "in config.toml.")
    folder = _write_version(ctx, referral_id, version, pieces.files)
    made.append(folder)
    main = folder / pieces.main
    fields = {
        "review_id": review["id"], "platform": platform, "route": route["route"], "status": "drafted",
        "version": version, "drafted_by": officer.number, "drafted_at": iso(ctx.now()),
        "draft_path": main.relative_to(ctx.home).as_posix(), "draft_sha256": _sha256(main),
        "recipient": route["contact"] if route["route"] in EMAIL_ROUTES else route["portal"],
        "message_id": pieces.message_id, "qa_by": None, "qa_at": None,
        "summary": summary, "grounds": grounds, "basis_sha256": pieces.basis,
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


def _officer_words(text: str | None) -> str | None:
    """An officer's paragraph as the draft carries it: trimmed, with no control characters; None if empty."""
    text = "".join(ch if ch in "\n\t" or ch.isprintable() else " " for ch in (text or "")).strip()
    return text or None


class _Pieces:
    """A draft version's files (name → bytes), which one is the main file, its Message-ID if email, and
    `basis`: the sha256 of the rendered texts (not of the files, whose Date and Message-ID differ)."""

    def __init__(self, files: dict[str, bytes], main: str, message_id: str | None = None, *,
                 texts: dict[str, str] | None = None):
        self.files, self.main, self.message_id = files, main, message_id
        digest = hashlib.sha256()
        for name, text in sorted((texts or {}).items()):
            digest.update(f"{name}\0{text}\0".encode("utf-8"))
        self.basis = digest.hexdigest()


def platform_renderer(ctx: Context) -> Renderer:
    """The referral templates of this home (team overrides first), with the 6.4 forbidden names."""
    return Renderer(ctx.home, "referral", disclosure.PLATFORM_FORBIDDEN)


def _texts(ctx: Context, route: dict, kind: str, context: dict) -> dict[str, str]:
    """Every piece of a draft rendered in memory, by name, unchecked."""
    renderer = platform_renderer(ctx)
    platform = route["platform"]
    if route["route"] == "portal":
        return renderer.render_all([("portal text", f"{kind}-portal.txt"), ("checklist", "portal-checklist.txt")],
                                   context, platform=platform)
    names = [("email subject", f"{kind}-subject.txt"), ("email body", f"{kind}-body.txt")]
    if ctx.settings.get("referral.html", True) and renderer.exists(f"{kind}-body.html", platform=platform):
        names.append(("email's HTML body", f"{kind}-body.html"))
    return renderer.render_all(names, context, platform=platform)


def preview_referral(ctx: Context, task_id: str) -> dict:
    """The task's next draft as `draft_referral` would render it, written nowhere and recorded nowhere, with
    the guard's verdict (SOP 6.4): {task, kind, referral, version, route, texts{piece: text}, verdict (None
    when the guard lets it go, else its one-line refusal), warnings}. For the workspace, before QA."""
    task_id = open_task_id(ctx, task_id)
    review = referable_review(ctx, task_id)
    platform = ctx.db.execute("SELECT platform FROM tasks WHERE id = ?", [task_id]).fetchone()[0]
    route = route_for(ctx, platform)
    latest = (task_referrals(ctx, task_id) or [None])[-1]
    if latest and latest["status"] not in REDRAFTABLE:
        raise StateError(f"{task_id} already has {latest['kind']} {latest['id']} ({latest['status']}): "
                         + NEXT_STEP[latest["status"]].format(id=latest["id"], task=task_id) + ".")
    kind = latest["kind"] if latest else "referral"
    referral_id = latest["id"] if latest else "R-(next)"
    version = latest["version"] + 1 if latest else 1
    original = referral_row(ctx, latest["appeal_of"]) if latest and latest["appeal_of"] else None
    context = disclosure.platform_context(
        ctx, task_id, review, route=route, original=original, grounds=_officer_words((latest or {}).get("grounds")),
        summary=_officer_words((latest or {}).get("summary")),
        referral={"id": referral_id, "version": version, "kind": kind})
    texts = _texts(ctx, route, kind, context)
    try:
        disclosure.check_disclosure(ctx, task_id, context, texts)
        verdict = None
    except InputError as exc:
        verdict = exc.message
    return {"task": task_id, "kind": kind, "referral": latest["id"] if latest else None, "version": version,
            "route": route["route"], "texts": texts, "verdict": verdict, "warnings": _warnings(route, context)}


def _render(ctx: Context, task_id: str, route: dict, kind: str, context: dict) -> _Pieces:
    """Render every piece of the draft in memory, then check nothing sensitive is in it (SOP 6.4)."""
    texts = _texts(ctx, route, kind, context)
    disclosure.check_disclosure(ctx, task_id, context, texts)
    if route["route"] == "portal":
        return _Pieces({"portal.txt": texts["portal text"].encode("utf-8"),
                        "checklist.txt": texts["checklist"].encode("utf-8")}, "portal.txt", texts=texts)
    subject = mail.one_line(texts["email subject"])
    if not subject:
        raise InputError(f"template {kind}-subject.txt renders an empty subject: mend the template.")
    data, message_id = mail.build_message(
        sender_name=ctx.settings.team_name, sender=ctx.settings.mailbox, to_name=route["contact_name"] or None,
        to=route["contact"], subject=subject, text=texts["email body"], html=texts.get("email's HTML body"),
        when=ctx.now(), id_string=f"{context['referral']['id']}.v{context['referral']['version']}")
    return _Pieces({f"{kind}.eml": data}, f"{kind}.eml", message_id,
                   texts={**texts, "to": f"{route['contact_name']} <{route['contact']}>"})


def _write_version(ctx: Context, referral_id: str, version: int, files: dict[str, bytes]) -> Path:
    """Write a draft version's files in a temporary folder, then rename it to `v<N>`: all or nothing."""
    parent = ctx.home / referral_folder(referral_id)
    parent.mkdir(parents=True, exist_ok=True)
    target = parent / f"v{version}"
    _clear_orphans(ctx, referral_id, version, parent)
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


def _clear_orphans(ctx: Context, referral_id: str, version: int, parent: Path) -> None:
    """What a draft killed between its rename and its commit (or before its rename) left in the referral's
    folder: a `v<N>` no row records, `.tmp-v…` folders. We hold the write lock, so no live draft owns them;
    they go, as a capture's orphans do. A version the row does record is never touched."""
    row = ctx.db.execute("SELECT version FROM referrals WHERE id = ?", [referral_id]).fetchone()
    recorded = row[0] if row else 0
    target = parent / f"v{version}"
    if version <= recorded:
        raise IntegrityFailure(f"{target} already belongs to {referral_id} version {version}: run `ohrt verify`.")
    for orphan in [target, *parent.glob(".tmp-v*")]:
        if orphan.is_dir() and not orphan.is_symlink():
            store.remove_tree(orphan)
        elif orphan.exists() or orphan.is_symlink():
            orphan.unlink()


def unowned_drafts(ctx: Context) -> list[dict]:
    """For `ohrt verify`: what is in HOME/referrals that no referral row owns (a folder of no referral, a
    version after the recorded one, a draft's staging folder left by a killed process). Each is
    {capture (the referral id or the name), path (in the home), problem "unexpected", detail}."""
    root = ctx.home / REFERRALS_DIR
    versions = dict(ctx.db.execute("SELECT id, version FROM referrals").fetchall())
    found = []

    def stray(owner: str, path: Path, detail: str) -> None:
        found.append({"capture": owner, "path": path.relative_to(ctx.home).as_posix(), "problem": "unexpected",
                      "detail": detail})

    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.name not in versions or not folder.is_dir() or folder.is_symlink():
            stray(folder.name, folder, "in the referral drafts but no referral record owns it")
            continue
        recorded = versions[folder.name] or 0
        for entry in sorted(folder.iterdir()):
            number = entry.name[1:]
            if not (entry.name.startswith("v") and number.isascii() and number.isdigit()
                    and 1 <= int(number) <= recorded and entry.is_dir() and not entry.is_symlink()):
                stray(folder.name, entry, f"not a draft {folder.name} records (its last version is v{recorded}): "
                      "left by a draft that was stopped; the next draft removes it")
    return found


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def intact_draft(ctx: Context, row: dict) -> bytes:
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
