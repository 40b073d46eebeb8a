"""Evidence packages for the officer in the case: `ohrt export`, and `ohrt verify --package` when one
comes back.

The West Midlands hub's practice (seeds/000) is that "all material is captured to an evidential standard
and a package prepared which is then shared with the officer in charge of the case", with guidance on
court presentation. The package is a BagIt bag (RFC 8493, made and validated with the Library of
Congress `bagit` package) that anyone can check with ordinary tools:

* every capture of the task is re-verified against its signed manifest before it is packaged — evidence
  that fails its own check is never packaged — and copied with its folder intact, so that
  `sha256sum -c SHA256SUMS` and `openssl pkeyutl -verify` work inside the bag as in the store (ACPO
  principles 1 and 3);
* beside the captures: the task's public facts, the review record (JSON and text), the referrals and the
  platform's decisions with every drafted file, the task's library items, the excerpt of the audit chain
  for the task and its objects (each entry with its hashes), the home's public key, and `report.html`;
* the bag is built in a hidden staging folder next to its destination, validated, and renamed into place
  in the transaction that logs the disclosure: nothing half-made is ever left, and no package exists
  that the audit chain does not record;
* disclosure is logged and minimal (DPA 2018 s.62; SOP 6.3): the audit entry `evidence.export` records
  recipient and reason; subjects (8.4.1), incident references (8.3.3) and indices research (9.3) go in
  only with `include_sensitive`, in `data/sensitive/` with handling instructions, and a guard refuses a
  package that would otherwise carry any of them (unless the content itself shows it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from ... import __version__
from ...ground import audit, sensitive, signing, store
from .. import intake as tasks
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import Failure, InputError, IntegrityFailure, NotFound, StateError
from ...ground.render import fields
from ...ground.times import iso
from .contents import Package

PACKAGE_FORMAT = "ohrt-evidence/1"
INDEX = "package.json"
EXCERPT = "audit/audit-excerpt.jsonl"
PUBLIC_KEY = signing.PUBLIC_NAME
SENSITIVE_DIR = "sensitive"
CONTENT_DIRS = ("original", "source", "derived")  # what the content itself is, as captured
REASON_LIMIT = 500
# Media already compressed gain nothing from deflate; storing them keeps `--zip` fast.
STORED_SUFFIXES = {".mp4", ".m4a", ".m4v", ".mov", ".webm", ".mkv", ".mp3", ".ogg", ".opus", ".aac", ".jpg",
                   ".jpeg", ".png", ".webp", ".gif", ".ts", ".zip"}
PACKAGE_FIELDS = ("id", "status", "received_at", "updated_at", "url", "canonical_url", "platform", "title",
                  "upload_date", "applicant_name", "applicant_ocu", "applicant_unit", "rationale", "self_tasked",
                  "intake", "created_by")


# ------------------------------------------------------------------------------------------- inputs

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


# ------------------------------------------------------------------------------------------ gather

def gather(ctx: Context, task_id: str, *, recipient: str, reason: str, include_sensitive: bool) -> Package:
    """Read the task and all that hangs on it; refuse (IntegrityFailure) when the audit chain or any
    capture to be packaged fails its own check."""
    from .. import capture as capture_stage, review as review_stage

    officer = ctx.actor()
    task = tasks.get_task(ctx, task_id)
    chain = _verified_chain(ctx)
    public_pem = _public_key(ctx)
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


def _public_key(ctx: Context) -> bytes:
    try:
        return (ctx.keys_dir / signing.PUBLIC_NAME).read_bytes()
    except FileNotFoundError:
        raise IntegrityFailure(f"the home's public key {ctx.keys_dir / signing.PUBLIC_NAME} is missing: restore it "
                               "from backup; no package can be checked without it.") from None


def _verified_manifest(ctx: Context, capture: dict, public_pem: bytes) -> dict:
    """Never package evidence that fails its own check: re-hash the capture against its signed manifest
    and the manifest hash the database recorded."""
    folder = Path(capture["path"])
    report = store.verify_folder(folder, public_pem, manifest_sha256=capture["manifest_sha256"])
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


# ------------------------------------------------------------------------------------------- export

def export_package(ctx: Context, task_id: str, *, to: str | os.PathLike | None, recipient: str | None,
                   reason: str | None, make_zip: bool = False, include_sensitive: bool = False) -> dict:
    """Build the evidence package of a task for the officer in the case, validate it, and log the
    disclosure (see the module's docstring). Returns what was made (the keys are in the README)."""
    recipient, reason = parse_recipient(recipient), parse_reason(reason)
    task_id = (task_id or "").strip().upper()
    ctx.actor()
    if ctx.db.execute("SELECT 1 FROM tasks WHERE id = ?", [task_id]).fetchone() is None:
        raise NotFound(f"no task {task_id!r} in this home: check the id with `ohrt task list`.")
    folder = destination(ctx, to)
    for flag, value in (("--recipient", recipient), ("--reason", reason)):
        sensitive.check_reason(ctx, value, flag)
    package = gather(ctx, task_id, recipient=recipient, reason=reason, include_sensitive=include_sensitive)
    sweep(folder)
    package.name = _package_name(folder, package.task_id, ctx.today().isoformat())
    final = folder / package.name
    staging = folder / f".{package.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    zip_partial = folder / f".{package.name}.zip.partial-{os.getpid()}-{secrets.token_hex(4)}"
    made: list[Path] = [staging, zip_partial]
    try:
        staging.mkdir()
        write_payload(ctx, package, staging)
        if not include_sensitive:
            guard(staging, sensitive.for_context(ctx), _public_text(package), task_id)
        summary = _bag(ctx, package, staging)
        zipped = _zip(staging, package.name, zip_partial) if make_zip else None
        summary["audit_seq"] = _publish(ctx, package, staging, final, zipped, zip_partial, summary, made)
    except BaseException as exc:
        for path in made:
            store.remove_tree(path) if path.is_dir() else path.unlink(missing_ok=True)
        if store.is_disk_full(exc):
            raise Failure(f"no space left in {folder}: free some space or choose another --to; nothing was kept.") \
                from None
        raise
    return _result(package, final, summary)


# What an export killed outright (power cut, kill -9) leaves: its hidden staging folder or partial zip.
PARTIAL = re.compile(r"\.T-\d{4}-\d{6}-evidence-[0-9-]+(?:\.zip)?\.partial-(\d+)-[0-9a-f]{8}")


def sweep(folder: Path) -> list[str]:
    """Remove the leftovers of exports into `folder` whose process is gone; nothing else is touched."""
    removed = []
    for entry in folder.iterdir():
        match = PARTIAL.fullmatch(entry.name)
        if match and not store.process_alive(int(match[1])):
            store.remove_tree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)
            removed.append(entry.name)
    return removed


def _package_name(folder: Path, task_id: str, day: str) -> str:
    base = f"{task_id}-evidence-{day}"
    name, n = base, 1
    while (folder / name).exists() or (folder / f"{name}.zip").exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _result(package: Package, final: Path, summary: dict) -> dict:
    return {
        "package": str(final), "name": package.name, "task_id": package.task_id,
        "recipient": package.recipient, "reason": package.reason, "include_sensitive": package.include_sensitive,
        "exported_at": package.exported_at, "exported_by": package.officer["number"],
        "captures": [c["id"] for c in package.captures], "referrals": [r["id"] for r in package.referrals],
        "report": str(final / "data" / "report.html"), "files": summary["files"], "bytes": summary["bytes"],
        "bag_valid": True, "package_sha256": summary["package_sha256"],
        "public_key_fingerprint": signing.fingerprint(package.public_pem),
        "zip": str(final.parent / f"{package.name}.zip") if summary.get("zip_sha256") else None,
        "zip_sha256": summary.get("zip_sha256"), "audit_seq": summary["audit_seq"],
    }


# ------------------------------------------------------------------------------------------ payload

def write_payload(ctx: Context, package: Package, root: Path) -> None:
    """Write the package's payload into `root` (which `bagit` turns into the bag's `data/`)."""
    from . import report as evidence_report

    for capture in package.captures:
        copy_capture(Path(capture["path"]), root / "captures" / capture["id"])
    _write_json(root / "task.json", {k: package.task.get(k) for k in PACKAGE_FIELDS})
    _write_json(root / "review" / "review.json", {"current": package.review, "history": package.reviews})
    _write_json(root / "referrals" / "referrals.json", package.referrals)
    for referral in package.referrals:
        _copy_drafts(ctx.home / "referrals" / referral["id"], root / "referrals" / referral["id"])
    if package.library:
        _write_json(root / "library" / "library.json", package.library)
    _write_text(root / EXCERPT, "".join(audit.canonical_json(entry) + "\n" for entry in package.audit))
    (root / PUBLIC_KEY).write_bytes(package.public_pem)
    if package.include_sensitive:
        _write_json(root / SENSITIVE_DIR / "sensitive.json", {"task_id": package.task_id, **package.sensitive})
    _write_json(root / INDEX, _index(package, root))
    renderer = evidence_report.renderer(ctx)
    view = fields("", evidence_report.view(ctx, package, root))  # a missing field is named in full
    for name, target in (("review.txt", "review/review.txt"), ("how-to-check.txt", "HOW-TO-CHECK.txt"),
                         ("report.html", "report.html")):
        _write_text(root / target, renderer.render(name, view))
    if package.include_sensitive:
        _write_text(root / SENSITIVE_DIR / "HANDLING.txt", renderer.render("handling.txt", view))


def copy_capture(source: Path, target: Path) -> int:
    """Copy a verified capture folder file by file, hashing the bytes written and comparing them with its
    SHA256SUMS, so the copy is proved to be the evidence; files stay read-only as in the store."""
    listed = _read_sums(source / store.SUMS)
    for rel, expected in [*listed, (store.SUMS, None)]:
        destination_file = target / rel
        destination_file.parent.mkdir(parents=True, exist_ok=True)
        digest = store.copy_hashed(source / rel, destination_file)
        if expected and digest.sha256 != expected:
            raise IntegrityFailure(f"{source.name}/{rel} changed while it was being copied into the package: "
                                   f"nothing was exported; run `ohrt verify {source.name}` and report it.")
        store.make_read_only(destination_file)
    return len(listed) + 1


def _read_sums(path: Path) -> list[tuple[str, str]]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        sha, _, rel = line.partition("  ")
        entries.append((rel.lstrip("*"), sha))
    return entries


def _copy_drafts(source: Path, target: Path) -> None:
    """Every drafted version of a referral (`v1/`, `v2/` …), as the platform was (to be) sent it."""
    if not source.is_dir():
        return
    for version in sorted(p for p in source.iterdir() if p.is_dir() and re.fullmatch(r"v\d+", p.name)):
        for path in sorted(version.iterdir()):
            if path.is_file():
                (target / version.name).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target / version.name / path.name)


def _index(package: Package, root: Path) -> dict:
    """`package.json`: what the package is, for `verify_package` and for any program reading it."""
    return {
        "format": PACKAGE_FORMAT, "name": package.name, "task_id": package.task_id,
        "exported_at": package.exported_at, "exported_by": package.officer, "recipient": package.recipient,
        "reason": package.reason, "include_sensitive": package.include_sensitive,
        "tools": {"ohrt": __version__, "bagit": _bagit().VERSION},
        "public_key": {"file": PUBLIC_KEY, "fingerprint": signing.fingerprint(package.public_pem)},
        "captures": [{"id": c["id"], "folder": f"captures/{c['id']}", "manifest_sha256": c["manifest_sha256"],
                      "media_kind": c["media_kind"], "status": c["status"]} for c in package.captures],
        "purged_captures": [{"id": c["id"], "purged_at": c["purged_at"]} for c in package.purged],
        "referrals": [{"id": r["id"], "kind": r["kind"], "status": r["status"], "draft_path": _draft_in_package(r),
                       "draft_sha256": r["draft_sha256"]} for r in package.referrals],
        "audit": {"file": EXCERPT, "entries": len(package.audit), "chain_entries_at_export": package.chain["entries"],
                  "chain_head_seq": package.chain["head_seq"], "chain_head_hash": package.chain["head_hash"],
                  "hash_fields": list(audit.FIELDS)},
    }


def _draft_in_package(referral: dict) -> str | None:
    """`referrals/R-…/vN/file` — the referral's current draft as it lies in the package's data/."""
    path = referral.get("draft_path")
    return path if path and path.startswith("referrals/") else None


def _write_json(path: Path, value) -> None:
    _write_text(path, json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n")


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


# ------------------------------------------------------------------------------------------- guard

def _public_text(package: Package) -> str:
    """What the content itself shows: a sensitive string found here (a subject named in the title, say)
    cannot be withheld from a package of that content."""
    pieces = [package.task.get("title"), package.task.get("canonical_url")]
    for capture in package.captures:
        manifest = capture["manifest"]
        pieces += [manifest.get(k) for k in ("title", "channel", "uploader", "requested_url", "final_url",
                                              "canonical_url")]
        info = Path(capture["path"]) / "source" / "info.json"
        if info.is_file():
            try:
                data = json.loads(info.read_text(encoding="utf-8"))
                pieces += [str(data.get(k) or "") for k in ("title", "description", "channel", "uploader")]
            except (ValueError, UnicodeDecodeError):
                pass
    return " ".join(str(p) for p in pieces if p)


def guard(root: Path, checker: sensitive.Guard, public: str, task_id: str) -> None:
    """Refuse (InputError) a package without --include-sensitive that would carry a subject's name, an
    incident reference or indices research of any task anywhere outside the content itself (SOP 6.3). The
    bag's own tag files add only the recipient and reason, which `sensitive.check_reason` has checked."""
    for rel, body in _texts(root):
        hit = checker.first(body, public=public, kinds=sensitive.AUDIT_KINDS)
        if hit:
            raise InputError(f"data/{rel} would disclose {hit.what(task_id)}: such material goes into a package only "
                             "with --include-sensitive (SOP 6.3); add it to disclose it knowingly, or mend the record "
                             "that carries it.")


def _texts(root: Path):
    """(relative path, text) of every file of the payload that is not the content itself; images embedded
    in the report are left out, their base64 being no text."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        parts = rel.split("/")
        if parts[0] == "captures" and len(parts) > 3 and parts[2] in CONTENT_DIRS:
            continue
        body = path.read_bytes().decode("utf-8", errors="replace")
        yield rel, re.sub(r"data:[a-z/+-]+;base64,[A-Za-z0-9+/=]+", "", body)


# -------------------------------------------------------------------------------------- bag and zip

def _bagit():
    """The `bagit` module, its log kept off the officer's screen (its problems are reported our way)."""
    import bagit

    logger = logging.getLogger("bagit")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
    return bagit


def bag_info(ctx: Context, package: Package) -> dict:
    """bag-info.txt (RFC 8493 §2.2.2): who made the package, for whom, why, and of what."""
    officer = package.officer
    captures = ", ".join(c["id"] for c in package.captures) or "none"
    return {
        "Source-Organization": ctx.settings.team_name or "Online Harm Referral Team",
        "Contact-Name": f"{officer['name']} ({officer['number']})",
        "Contact-Email": ctx.settings.mailbox,
        "External-Identifier": package.task_id,
        "External-Description": (f"Evidence package of ohrt task {package.task_id} "
                                 f"({package.task['canonical_url']}): captures {captures}; "
                                 f"{len(package.referrals)} referral(s); prepared for the officer in the case."),
        "Internal-Sender-Identifier": package.name,
        "Bagging-Date": package.exported_at[:10],
        "Bag-Software-Agent": f"ohrt {__version__} (bagit.py {_bagit().VERSION})",
        "Recipient": package.recipient,
        "Disclosure-Reason": package.reason,
        "Sensitive-Data": ("included in data/sensitive/: handle as its HANDLING.txt says (SOP 6.3)"
                           if package.include_sensitive else "not included (SOP 6.3)"),
        "Signing-Key-Fingerprint": signing.fingerprint(package.public_pem),
    }


def _bag(ctx: Context, package: Package, folder: Path) -> dict:
    """Make the bag in place (sha256 manifests) and validate it in full before it may be published."""
    bagit = _bagit()
    try:
        bagit.make_bag(str(folder), bag_info(ctx, package), checksums=["sha256"])
        bagit.Bag(str(folder)).validate(fast=False)
    except bagit.BagError as exc:
        raise Failure(f"the package did not validate as it was made ({exc}): nothing was kept; check the disk "
                      "and run the export again.") from None
    oxum = bagit.Bag(str(folder)).info["Payload-Oxum"]
    size, count = (int(n) for n in oxum.split("."))
    package_sha = hashlib.sha256((folder / "tagmanifest-sha256.txt").read_bytes()).hexdigest()
    return {"files": count, "bytes": size, "payload_oxum": oxum, "package_sha256": package_sha}


def _zip(folder: Path, name: str, target: Path) -> str:
    """A zip of the bag with the bag's folder at its top; returns its sha256."""
    with zipfile.ZipFile(target, "x", allowZip64=True) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(folder).as_posix()
            method = zipfile.ZIP_STORED if path.suffix.lower() in STORED_SUFFIXES else zipfile.ZIP_DEFLATED
            archive.write(path, f"{name}/{rel}", compress_type=method)
    return store.hash_file(target, md5=False).sha256


def _publish(ctx: Context, package: Package, staging: Path, final: Path, zip_sha: str | None, zip_partial: Path,
             summary: dict, made: list[Path]) -> int:
    """One transaction: the disclosure's audit entry, then the renames into place; if the commit fails the
    renamed package goes too (`made` lists what to remove)."""
    zip_final = final.parent / f"{package.name}.zip"
    with transaction(ctx.db):
        if final.exists() or zip_final.exists():
            raise InputError(f"{final} appeared while the package was being made: run the export again.")
        _refuse_if_purged_meanwhile(ctx, package)
        seq = audit.record(ctx, "evidence.export", "task", package.task_id, reason=package.reason, detail={
            "recipient": package.recipient, "include_sensitive": package.include_sensitive,
            "package": package.name, "folder": str(final), "captures": [c["id"] for c in package.captures],
            "referrals": [r["id"] for r in package.referrals], "files": summary["files"], "bytes": summary["bytes"],
            "package_sha256": summary["package_sha256"], "zip_sha256": zip_sha})
        os.rename(staging, final)
        made.append(final)
        if zip_sha:
            os.rename(zip_partial, zip_final)
            made.append(zip_final)
            sums = final.parent / f"{package.name}.zip.sha256"
            made.append(sums)
            sums.write_text(f"{zip_sha}  {zip_final.name}\n", encoding="utf-8")
        store.fsync_dir(final.parent)
    summary["zip_sha256"] = zip_sha
    return seq


def _refuse_if_purged_meanwhile(ctx: Context, package: Package) -> None:
    """`ohrt purge` may have begun on the task while the package was being made (its tombstone lists the
    task's packages in HOME/exports as they were then): a package published now would outlive the purge."""
    ids = [c["id"] for c in package.captures]
    marks = ",".join("?" for _ in ids) or "NULL"
    purged = ctx.db.execute(f"SELECT 1 FROM captures WHERE id IN ({marks}) AND purged_at IS NOT NULL", ids).fetchone()
    tasks.refuse_if_purged(ctx, package.task_id, "nothing was exported")
    if purged:
        raise StateError(f"{package.task_id}'s retention has ended and `ohrt purge` deleted its material while the "
                         f"package was being made: nothing was exported (`ohrt task show {package.task_id}` shows "
                         "what is kept on record).")


# ------------------------------------------------------------------------------------------- verify

def verify_package(path: str | os.PathLike, *, ctx: Context | None = None) -> dict:
    """Check a package that comes back (a bag folder, or its zip): the bag in full (`bagit`, fast=False),
    each capture's SHA256SUMS and manifest signature against the package's own public key, each audit
    entry's hash, each referral draft's recorded hash. With `ctx`, also whether the key is this home's
    and which export of this home the package is.

    Returns {"package", "intact", "bag_valid", "task_id", "captures": [{id, intact, files}],
    "audit_entries", "public_key_fingerprint", "key_matches_home", "export", "problems": [{check (package,
    bag, capture, audit, referral, key), path, problem (changed, missing, unexpected, signature, sums,
    manifest, bag, key), detail}]}."""
    source = Path(path).expanduser()
    if source.is_file() and zipfile.is_zipfile(source):
        with tempfile.TemporaryDirectory(prefix="ohrt-package-") as scratch:
            folder = _unzip(source, Path(scratch))
            report = _verify_folder(folder, ctx)
        report["package"] = str(source)
        return report
    if not source.is_dir():
        raise InputError(f"{source} is neither a package folder nor its zip: give the folder that holds "
                         "bagit.txt, or the .zip made with --zip.")
    return _verify_folder(source.resolve(), ctx)


def _unzip(source: Path, scratch: Path) -> Path:
    with zipfile.ZipFile(source) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
        if len(tops) != 1:
            raise InputError(f"{source} does not hold one package folder at its top: is it a zip made by "
                             "`ohrt export --zip`?")
        archive.extractall(scratch)
    return scratch / tops.pop()


def _verify_folder(folder: Path, ctx: Context | None) -> dict:
    problems: list[dict] = []

    def reporter(check: str) -> Callable[[str, str, str], None]:
        def problem(where: str, kind: str, detail: str) -> None:
            problems.append({"check": check, "path": where, "problem": kind, "detail": detail})
        return problem

    problem = reporter("package")
    result = {"package": str(folder), "intact": False, "bag_valid": False, "task_id": None, "captures": [],
              "audit_entries": 0, "public_key_fingerprint": None, "key_matches_home": None, "export": None,
              "problems": problems}
    if not (folder / "bagit.txt").is_file():
        problem(str(folder), "bag", "not a BagIt bag (no bagit.txt): give the package's folder, which holds "
                                    "bagit.txt and data/")
        return result
    result["bag_valid"] = _check_bag(folder, reporter("bag"))
    data = folder / "data"
    index = _read_json(data / INDEX, f"data/{INDEX}", problem) or {}
    result["task_id"] = index.get("task_id")
    public = _read_bytes(data / PUBLIC_KEY, f"data/{PUBLIC_KEY}", problem)
    if public is not None:
        result["public_key_fingerprint"] = signing.fingerprint(public)
        result["captures"] = _check_captures(data, public, index, reporter("capture"))
    result["audit_entries"] = _check_excerpt(data / EXCERPT, reporter("audit"))
    _check_drafts(data, index, reporter("referral"))
    if ctx is not None and public is not None:
        result["key_matches_home"], result["export"] = _against_home(ctx, folder, public, reporter("key"))
    result["intact"] = not problems
    return result


def _check_bag(folder: Path, problem: Callable) -> bool:
    """RFC 8493 validation with `bagit`, naming each missing, unexpected or changed file."""
    bagit = _bagit()
    try:
        bag = bagit.Bag(str(folder))
        bag.validate(fast=False)
        return True
    except bagit.BagValidationError as exc:
        details = exc.details or _bag_details(bag)
        for detail in details:
            problem(str(detail.path), *_bag_problem(detail))
        if not details:
            problem("bag-info.txt", "bag", exc.message)
    except (bagit.BagError, OSError, ValueError) as exc:
        problem("bagit.txt", "bag", f"not a readable BagIt bag ({exc})")
    return False


def _bag_problem(detail) -> tuple[str, str]:
    """(problem, detail) in our words for one of bagit's findings."""
    kind = type(detail).__name__
    if kind == "ChecksumMismatch":
        return "changed", f"sha256 is {detail.found[:16]}…, the bag's manifest records {detail.expected[:16]}…"
    if kind == "FileMissing":
        return "missing", "listed in the bag's manifest but not in the bag"
    if kind == "UnexpectedFile":
        return "unexpected", "in the bag but not in its manifest"
    return "bag", str(detail)


def _bag_details(bag) -> list:
    """Which files a bag whose Payload-Oxum no longer adds up has lost, gained or changed (bagit stops at
    the sum and names none)."""
    bagit = _bagit()
    missing, unexpected = bag.compare_manifests_with_fs()
    details = [bagit.FileMissing(p) for p in missing] + [bagit.UnexpectedFile(p) for p in unexpected]
    for rel, hashes in sorted(bag.entries.items()):
        target = Path(bag.path) / rel
        if "sha256" in hashes and target.is_file() and rel not in missing:
            actual = store.hash_file(target, md5=False).sha256
            if actual != hashes["sha256"]:
                details.append(bagit.ChecksumMismatch(rel, "sha256", hashes["sha256"], actual))
    return details


def _read_bytes(path: Path, label: str, problem: Callable) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        problem(label, "missing", "not in the package")
        return None


def _read_json(path: Path, label: str, problem: Callable):
    data = _read_bytes(path, label, problem)
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        problem(label, "changed", "is not valid JSON")
        return None


def _check_captures(data: Path, public: bytes, index: dict, problem: Callable) -> list[dict]:
    """Each capture folder as the store checks it: SHA256SUMS, signature with the package's key, and the
    manifest's hash as recorded at export."""
    recorded = {c["id"]: c for c in index.get("captures", [])}
    present = sorted(p.name for p in (data / "captures").iterdir() if p.is_dir()) if (data / "captures").is_dir() else []
    found = []
    for capture_id in sorted(set(recorded) | set(present)):
        folder = data / "captures" / capture_id
        expected = recorded.get(capture_id, {}).get("manifest_sha256")
        report = store.verify_folder(folder, public, manifest_sha256=expected)
        for item in report["problems"]:
            where = f"data/captures/{capture_id}" + ("" if item["path"] == str(folder) else f"/{item['path']}")
            problem(where, item["problem"], item["detail"])
        if capture_id not in recorded:
            problem(f"data/captures/{capture_id}", "unexpected", "a capture folder package.json does not list")
        found.append({"id": capture_id, "intact": report["intact"] and capture_id in recorded,
                      "files": report["files"]})
    return found


def _check_excerpt(path: Path, problem: Callable) -> int:
    """Recompute each audit entry's hash; where two entries follow each other in the chain, check the link."""
    label = f"data/{EXCERPT}"
    raw = _read_bytes(path, label, problem)
    if raw is None:
        return 0
    previous: dict | None = None
    count = 0
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        try:
            entry = json.loads(line)
            actual = audit.entry_hash(entry)
        except (ValueError, KeyError, TypeError):
            problem(label, "changed", f"line {number} is not an audit entry")
            continue
        count += 1
        if actual != entry.get("hash"):
            problem(label, "changed", f"entry {entry.get('seq')} (line {number}) does not match its hash: its "
                                      "contents were altered")
        elif previous and entry["seq"] == previous["seq"] + 1 and entry["prev_hash"] != previous["hash"]:
            problem(label, "changed", f"entry {entry['seq']} does not follow entry {previous['seq']} in the chain")
        previous = entry
    return count


def _check_drafts(data: Path, index: dict, problem: Callable) -> None:
    """Each referral's current draft is the very file that QA approved and the home recorded."""
    for referral in index.get("referrals", []):
        rel = referral.get("draft_path")
        if not rel or not referral.get("draft_sha256"):
            continue
        target = data / rel
        if not target.is_file():
            problem(f"data/{rel}", "missing", f"the current draft of {referral['id']} is not in the package")
        elif hashlib.sha256(target.read_bytes()).hexdigest() != referral["draft_sha256"]:
            problem(f"data/{rel}", "changed", f"is not the draft of {referral['id']} as recorded")


def _against_home(ctx: Context, folder: Path, public: bytes, problem: Callable) -> tuple[bool, dict | None]:
    """Whether the package was signed by this home's key, and the export entry that recorded it."""
    home_key = _public_key(ctx)
    matches = signing.fingerprint(home_key) == signing.fingerprint(public)
    if not matches:
        problem(f"data/{PUBLIC_KEY}", "key", f"is not this home's key ({signing.fingerprint(home_key)}): the package "
                                             "was made by another home, or its key was replaced")
    tagmanifest = folder / "tagmanifest-sha256.txt"
    if not tagmanifest.is_file():
        return matches, None
    digest = hashlib.sha256(tagmanifest.read_bytes()).hexdigest()
    row = ctx.db.execute(
        "SELECT seq, at, officer, object_id, json_extract(detail, '$.recipient') FROM audit "
        "WHERE action = 'evidence.export' AND json_extract(detail, '$.package_sha256') = ? ORDER BY seq LIMIT 1",
        [digest]).fetchone()
    if row is None:
        return matches, None
    return matches, dict(zip(("audit_seq", "at", "officer", "task_id", "recipient"), row))
