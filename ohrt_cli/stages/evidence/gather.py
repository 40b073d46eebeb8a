"""Gathering a task's evidence package: recipient and reason checked, chain and captures verified first (SOP 6.3)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ...ground import audit, signing, store, store_check
from ...ground.context import Context
from ...ground.errors import InputError, IntegrityFailure
from ...ground.times import iso
from .. import intake as tasks
from .contents import Package


REASON_LIMIT = 500


PACKAGE_FIELDS = ("id", "status", "received_at", "updated_at", "url", "canonical_url", "platform", "title",
                  "upload_date", "applicant_name", "applicant_ocu", "applicant_unit", "rationale", "self_tasked",
                  "intake", "created_by")


def parse_recipient(text: str | None) -> str:
    """The officer in the case as 'NAME, UNIT' (the disclosure log names who received the material)."""
    text = _one_line(text)
    name, sep, unit = text.partition(",")
    if not text:
        raise InputError("--recipient is missing: name who receives the package, as 'NAME, UNIT', e.g. "
                         "--recipient 'DC Jo Bloggs, Trident Central' (DPA 2018 s.62 disclosure log).")
    if not sep or not name.strip() or not unit.strip():
        raise InputError(f"--recipient {text!r} must be 'NAME, UNIT', e.g. 'DC Jo Bloggs, Trident Central'.")
    if len(text) > 200:
        raise InputError("--recipient is longer than 200 characters: give the officer's name and unit only.")
    return f"{name.strip()}, {unit.strip()}"


def parse_reason(text: str | None) -> str:
    """Why the material is disclosed (DPA 2018 s.62 asks for the justification of every disclosure)."""
    text = _one_line(text)
    if not text:
        raise InputError("--reason is missing: say why the package is disclosed (DPA 2018 s.62), e.g. "
                         "--reason 'evidence for the CPS charging decision'.")
    if len(text) > REASON_LIMIT:
        raise InputError(f"--reason is longer than {REASON_LIMIT} characters: say why in a sentence.")
    return text


def _one_line(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def destination(ctx: Context, to: str | os.PathLike | None) -> Path:
    """The folder the package is written into (default: the home's `exports/`): it must exist, be
    writable, and lie outside the store."""
    if to is None or not str(to).strip():
        ctx.exports_dir.mkdir(exist_ok=True)
        to = ctx.exports_dir
    folder = Path(to).expanduser().resolve()
    if not folder.is_dir():
        raise InputError(f"folder {folder} does not exist: create it or choose another --to.")
    if folder.is_relative_to(ctx.captures_dir.resolve()) or folder.is_relative_to(ctx.home.resolve() / "referrals"):
        raise InputError(f"{folder} is inside the evidence store: choose a folder outside {ctx.home}, "
                         f"e.g. {ctx.exports_dir}.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"folder {folder} is not writable: choose another --to or check its permissions.")
    return folder


def gather(ctx: Context, task_id: str, *, recipient: str, reason: str, include_sensitive: bool) -> Package:
    """Read the task and all that hangs on it; refuse (IntegrityFailure) when the audit chain or any
    capture to be packaged fails its own check."""
    from .. import capture as capture_stage, review as review_stage

    officer = ctx.actor()
    task = tasks.get_task(ctx, task_id)
    chain = _verified_chain(ctx)
    public_pem = home_public_key(ctx)
    captures, purged = [], []
    for (capture_id,) in ctx.db.execute("SELECT id FROM captures WHERE task_id = ? ORDER BY id", [task["id"]]):
        capture = capture_stage.get_capture(ctx, capture_id)
        (purged if capture["purged_at"] else captures).append(capture)
    for capture in captures:
        capture["manifest"] = _verified_manifest(ctx, capture, public_pem)
    package = Package(
        task=task, captures=captures, purged=purged, review=review_stage.current_review(ctx, task["id"]),
        reviews=review_stage.review_history(ctx, task["id"]), referrals=_referrals(ctx, task["id"]),
        library=_library_items(ctx, task["id"]), audit=[], chain=chain,
        sensitive=_sensitive_record(ctx, task["id"]), public_pem=public_pem, officer=officer.as_dict(),
        recipient=recipient, reason=reason, include_sensitive=include_sensitive, exported_at=iso(ctx.now()))
    package.audit = audit_excerpt(ctx, task["id"], package.object_ids())
    return package


def _verified_chain(ctx: Context) -> dict:
    """The audit chain must verify before any excerpt of it is disclosed; its size and head at export are
    recorded, so the excerpt can later be set against the home's chain."""
    entries = audit.verify(ctx.db)
    head = ctx.db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    return {"entries": entries, "head_seq": head[0] if head else 0, "head_hash": head[1] if head else audit.GENESIS}


def home_public_key(ctx: Context) -> bytes:
    try:
        return (ctx.keys_dir / signing.PUBLIC_NAME).read_bytes()
    except FileNotFoundError:
        raise IntegrityFailure(f"the home's public key {ctx.keys_dir / signing.PUBLIC_NAME} is missing: restore it "
                               "from backup; no package can be checked without it.") from None


def _verified_manifest(ctx: Context, capture: dict, public_pem: bytes) -> dict:
    """Never package evidence that fails its own check: re-hash the capture against its signed manifest
    and the manifest hash the database recorded."""
    folder = Path(capture["path"])
    report = store_check.verify_folder(folder, public_pem, manifest_sha256=capture["manifest_sha256"])
    if not report["intact"]:
        first = report["problems"][0]
        more = f" (and {len(report['problems']) - 1} more)" if len(report["problems"]) > 1 else ""
        raise IntegrityFailure(f"capture {capture['id']} fails its own check — {first['problem']} {first['path']}: "
                               f"{first['detail']}{more}; nothing was exported: run `ohrt verify {capture['id']}` "
                               "and report it.")
    return store.read_manifest(folder)


def _referrals(ctx: Context, task_id: str) -> list[dict]:
    from .. import refer

    found = []
    for row in ctx.db.query("SELECT id FROM referrals WHERE task_id = ? ORDER BY id", [task_id]):
        referral = refer.get_referral(ctx, row["id"])
        referral.pop("files", None)
        referral.pop("draft_file", None)  # an absolute path in this home means nothing to the recipient
        found.append(referral)
    return found


def _library_items(ctx: Context, task_id: str) -> list[dict]:
    items = [dict(r) for r in ctx.db.query("SELECT * FROM library_items WHERE task_id = ? ORDER BY id", [task_id])]
    for item in items:
        item["holds"] = [dict(r) for r in ctx.db.query("SELECT * FROM holds WHERE item_id = ? ORDER BY id",
                                                       [item["id"]])]
    return items


def audit_excerpt(ctx: Context, task_id: str, object_ids: list[str]) -> list[dict]:
    """The audit entries about the task and its objects (captures, reviews, referrals, library items),
    and those whose detail names the task, exactly as stored: `detail` stays the stored JSON text so that
    anyone can recompute each entry's hash (see `audit.entry_hash`)."""
    marks = ",".join("?" for _ in object_ids)
    rows = ctx.db.execute(
        f"SELECT {', '.join(audit.FIELDS)}, hash FROM audit WHERE object_id IN ({marks}) "
        "OR json_extract(detail, '$.task') = ? ORDER BY seq", [*object_ids, task_id]).fetchall()
    return [dict(zip((*audit.FIELDS, "hash"), row)) for row in rows]


def _sensitive_record(ctx: Context, task_id: str) -> dict:
    """Subjects (8.4.1), incident references (8.3.3) and indices research (9.3) of the task."""
    from .. import review as review_stage

    return {
        "subjects": [name for (name,) in ctx.db.execute(
            "SELECT name FROM subjects WHERE task_id = ? ORDER BY id", [task_id])],
        "incident_refs": [f"{system}:{reference}" for system, reference in ctx.db.execute(
            "SELECT system, reference FROM incident_refs WHERE task_id = ? ORDER BY id", [task_id])],
        "indices_research": review_stage.research_for(ctx, task_id),
    }
