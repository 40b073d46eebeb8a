"""Exporting an evidence package for the officer in the case: written, guarded, bagged, logged (SOP 6.3, 6.4)."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from pathlib import Path

from ... import __version__
from ...ground import audit, checkpoints, exports, layout, sensitive, signing, store
from ...ground.context import Context
from ...ground.progress import Report, meter
from ...ground.errors import Failure, InputError, IntegrityFailure
from ...ground.render import fields
from .. import anchor
from .. import intake as tasks
from .bag import bagit_module, make_bag, publish, zip_bag
from . import exhibits as exhibit_refs
from .contents import (CHECKPOINT, CONTENT_DIRS, EXCERPT, INDEX, OFFICER_DIR, OFFICERS_DIR, PACKAGE_FORMAT,
                       PROVENANCE, PUBLIC_KEY, SENSITIVE_DIR, SIGNATURES_DIR, SIGNED_ACTS, TIMESTAMPS_DIR, Package)
from .gather import PACKAGE_FIELDS, destination, gather, parse_reason, parse_recipient


def export_package(ctx: Context, task_id: str, *, to: str | os.PathLike | None, recipient: str | None,
                   reason: str | None, make_zip: bool = False, include_sensitive: bool = False,
                   progress: Report | None = None, mode: str | None = None) -> dict:
    """Build the evidence package of a task for the officer in the case, validate it, and log the
    disclosure (see the docstring of `ohrt_cli.stages.evidence`). Returns what was made (the keys are in the README).
    The package, its zip and .sha256 get `mode` (`--mode`, default private: see ground/exports.py)."""
    recipient, reason = parse_recipient(recipient), parse_reason(reason)
    ctx.actor()
    task_id = tasks.existing_task(ctx, task_id)
    folder = destination(ctx, to)
    permissions = exports.for_context(ctx, folder, mode)
    for flag, value in (("--recipient", recipient), ("--reason", reason)):
        sensitive.check_reason(ctx, value, flag)
    package = gather(ctx, task_id, recipient=recipient, reason=reason, include_sensitive=include_sensitive)
    # First exhibited now, if not before: the references are in the documents, and written when it is published.
    package.new_exhibits, package.exhibits = exhibit_refs.with_planned(ctx, package.task_id)
    sweep(folder)
    package.name = _package_name(folder, package.task_id, ctx.today().isoformat())
    final = folder / package.name
    staging = folder / f".{package.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    zip_partial = folder / f".{package.name}.zip.partial-{os.getpid()}-{secrets.token_hex(4)}"
    made: list[Path] = [staging, zip_partial]
    try:
        exports.make_folder(staging, permissions)  # nobody else can reach what is written in it meanwhile
        write_payload(ctx, package, staging, progress)
        if not include_sensitive:
            guard(staging, sensitive.for_context(ctx), _public_text(package), task_id)
        summary = make_bag(ctx, package, staging)
        exports.settle(staging, permissions)
        zipped = zip_bag(staging, package.name, zip_partial, progress, permissions) if make_zip else None
        summary["audit_seq"] = publish(ctx, package, staging, final, zipped, zip_partial, summary, made, permissions)
    except BaseException as exc:
        for path in made:
            store.remove_tree(path) if path.is_dir() else path.unlink(missing_ok=True)
        if store.is_disk_full(exc):
            raise Failure(f"no space left in {folder}: free some space or choose another --to; nothing was kept.") \
                from None
        raise
    result = _result(package, final, summary)
    result["timestamp"] = anchor.on_package(ctx, package.name, summary["package_sha256"])
    return result


def sweep(folder: Path) -> list[str]:
    """Remove the leftovers of exports into `folder` whose process is gone; nothing else is touched."""
    removed = []
    for entry in folder.iterdir():
        match = layout.PARTIAL_NAME.fullmatch(entry.name)  # what an export killed outright left
        if match and not store.process_alive(int(match[2])):
            store.remove_tree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)
            removed.append(entry.name)
    return removed


def _package_name(folder: Path, task_id: str, day: str) -> str:
    base = layout.package_base(task_id, day)
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
        "exhibits": [e["reference"] for e in package.exhibits],
        "statements": [str(final / "data" / p) for p in package_files(final, "statement-")],
        "exhibit_list": [str(final / "data" / p) for p in package_files(final, "exhibits.")],
        "provenance": str(final / "data" / PROVENANCE),
    }


def package_files(final: Path, prefix: str) -> list[str]:
    """The officer's documents of a published package whose names start with `prefix`, relative to data/."""
    folder = final / "data" / OFFICER_DIR
    return sorted(f"{OFFICER_DIR}/{p.name}" for p in folder.glob(f"{prefix}*")) if folder.is_dir() else []


def write_payload(ctx: Context, package: Package, root: Path, progress: Report | None = None) -> None:
    """Write the package's payload into `root` (which `bagit` turns into the bag's `data/`); each capture
    copied is an item to `progress`."""
    from . import report as evidence_report

    with meter(progress, "copying captures", len(package.captures)) as shown:
        for capture in package.captures:
            copy_capture(Path(capture["path"]), root / "captures" / capture["id"])
            shown.advance()
    package.timestamps = anchor.package_stamps(ctx, [c["id"] for c in package.captures], root / TIMESTAMPS_DIR,
                                               {c["id"]: c["manifest_sha256"] for c in package.captures})
    _write_json(root / "task.json", {k: package.task.get(k) for k in PACKAGE_FIELDS})
    _write_json(root / "review" / "review.json", {"current": package.review, "history": package.reviews})
    _write_json(root / "referrals" / "referrals.json", package.referrals)
    for referral in package.referrals:
        _copy_drafts(ctx.home / "referrals" / referral["id"], root / "referrals" / referral["id"])
    if package.library:
        _write_json(root / "library" / "library.json", package.library)
    _write_text(root / EXCERPT, "".join(audit.canonical_json(entry) + "\n" for entry in package.audit))
    head = checkpoints.make(ctx, upto=package.chain["head_seq"])  # the chain's head at export, signed
    if head is not None:
        _write_text(root / CHECKPOINT, checkpoints.line(head))
    write_signed_acts(ctx, package, root)
    (root / PUBLIC_KEY).write_bytes(package.public_pem)
    if package.include_sensitive:
        _write_json(root / SENSITIVE_DIR / "sensitive.json", {"task_id": package.task_id, **package.sensitive})
    write_officer_file(ctx, package, root)
    _write_json(root / INDEX, _index(package, root))
    renderer = evidence_report.renderer(ctx)
    view = fields("", evidence_report.view(ctx, package, root))  # a missing field is named in full
    for name, target in (("review.txt", "review/review.txt"), ("how-to-check.txt", "HOW-TO-CHECK.txt"),
                         ("report.html", "report.html")):
        _write_text(root / target, renderer.render(name, view))
    if package.include_sensitive:
        _write_text(root / SENSITIVE_DIR / "HANDLING.txt", renderer.render("handling.txt", view))


def write_officer_file(ctx: Context, package: Package, root: Path) -> None:
    """`officer/`: the witness statement (MG11) of each officer who captured the packaged material and the
    exhibit list (MG12), as DOCX and PDF, drafted without sensitive material (that goes in `sensitive/`
    alone); then `provenance.jsonld`, the package's provenance in CASE/UCO, over every file written so far."""
    from . import exhibit_list, provenance, statement
    from .gather import _sensitive_record
    from .paper import Guarded, read_records, write_pair

    records = read_records(ctx, package.task_id, exhibits=package.exhibits)
    folder = root / OFFICER_DIR
    folder.mkdir(parents=True, exist_ok=True)
    secrets_of_task = _sensitive_record(ctx, package.task_id)
    for number in statement.capturing_officers(records):
        document = statement.statement_document(ctx, records, number, False, secrets_of_task)
        stem = "statement-" + (re.sub(r"[^0-9A-Za-z]", "", number) or "officer")
        write_pair(document, folder / f"{stem}.docx", folder / f"{stem}.pdf")
    guard_pieces = Guarded(ctx, records, False)
    listing = exhibit_list.build(ctx, records, guard_pieces)
    guard_pieces.check(listing)
    write_pair(listing, folder / "exhibits.docx", folder / "exhibits.pdf")
    written = [{"path": f"data/{p.relative_to(root).as_posix()}", "bytes": p.stat().st_size,
                "sha256": store.hash_file(p, md5=False).sha256}
               for p in sorted(root.rglob("*")) if p.is_file() and not p.relative_to(root).as_posix().startswith("captures/")]
    names = {o.number: o.name for o in ctx.settings.officers}
    provenance.write(root / PROVENANCE, provenance.build(package, package.exhibits, names, written,
                                                         team=ctx.settings.team_name, root=root))


def write_signed_acts(ctx: Context, package: Package, root: Path) -> None:
    """For each act of SIGNED_ACTS in the excerpt: the entry's hash and its writer's signature, and the
    public key of every officer who signed one or sealed a capture, so anyone checks who did it with openssl."""
    import base64

    from ...ground import roster

    signed = audit.signatures(ctx.db)
    numbers = {c["manifest"].get("sealed_by", {}).get("number") for c in package.captures} - {None}
    for entry in package.audit:
        found = signed.get(entry["seq"])
        if entry["action"] in SIGNED_ACTS and found and found["officer"] != audit.HOME_SIGNER:
            (root / SIGNATURES_DIR).mkdir(parents=True, exist_ok=True)
            (root / SIGNATURES_DIR / f"{entry['seq']}.hash").write_bytes(entry["hash"].encode("ascii"))
            (root / SIGNATURES_DIR / f"{entry['seq']}.sig").write_bytes(base64.b64decode(found["signature"]))
            numbers.add(found["officer"])
    if not numbers:
        return
    people = [dict(r) for r in ctx.db.query(
        "SELECT * FROM audit WHERE action LIKE 'officer.%' OR action = 'home.init' ORDER BY seq")]
    for entry in people:
        entry["detail"] = json.loads(entry["detail"] or "{}")
    standing = roster.final(people)
    (root / OFFICERS_DIR).mkdir(exist_ok=True)
    for number in sorted(numbers):
        if standing.get(number) and standing[number].public_key:
            (root / OFFICERS_DIR / f"{number}.pem").write_text(standing[number].public_key, encoding="ascii")


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
        "tools": {"ohrt": __version__, "bagit": bagit_module().VERSION},
        "public_key": {"file": PUBLIC_KEY, "fingerprint": signing.fingerprint(package.public_pem)},
        "captures": [{"id": c["id"], "folder": f"captures/{c['id']}", "manifest_sha256": c["manifest_sha256"],
                      "media_kind": c["media_kind"], "status": c["status"]} for c in package.captures],
        "timestamps": package.timestamps,
        "purged_captures": [{"id": c["id"], "purged_at": c["purged_at"]} for c in package.purged],
        "referrals": [{"id": r["id"], "kind": r["kind"], "status": r["status"], "draft_path": _draft_in_package(r),
                       "draft_sha256": r["draft_sha256"]} for r in package.referrals],
        "audit": {"file": EXCERPT, "entries": len(package.audit), "seqs": [e["seq"] for e in package.audit],
                  "chain_entries_at_export": package.chain["entries"],
                  "chain_head_seq": package.chain["head_seq"], "chain_head_hash": package.chain["head_hash"],
                  "hash_fields": list(audit.FIELDS)},
        "exhibits": [{"reference": e["reference"], "capture_id": e["capture_id"], "item": e["item"],
                      "officer": e["officer"], "file": e["file"], "sha256": e["sha256"]} for e in package.exhibits],
        "officer_file": sorted(f"{OFFICER_DIR}/{p.name}" for p in (root / OFFICER_DIR).glob("*")),
        "provenance": PROVENANCE if (root / PROVENANCE).is_file() else None,
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
