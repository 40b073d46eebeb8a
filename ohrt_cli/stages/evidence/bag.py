"""The package as a BagIt bag (RFC 8493) and its zip, published in the transaction that logs it (SOP 6.3)."""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from pathlib import Path

from ... import __version__
from ...ground.progress import Report, meter
from ...ground import audit, exports, signing, store
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import Failure, InputError, StateError
from .. import intake as tasks
from . import exhibits, seal
from .contents import Package


# Media already compressed gain nothing from deflate; storing them keeps `--zip` fast.
STORED_SUFFIXES = {".mp4", ".m4a", ".m4v", ".mov", ".webm", ".mkv", ".mp3", ".ogg", ".opus", ".aac", ".jpg",
                   ".jpeg", ".png", ".webp", ".gif", ".ts", ".zip"}


def bagit_module():
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
        "Bag-Software-Agent": f"ohrt {__version__} (bagit.py {bagit_module().VERSION})",
        "Recipient": package.recipient,
        "Disclosure-Reason": package.reason,
        "Sensitive-Data": ("included in data/sensitive/: handle as its HANDLING.txt says (SOP 6.3)"
                           if package.include_sensitive else "not included (SOP 6.3)"),
        "Signing-Key-Fingerprint": signing.fingerprint(package.public_pem),
    }


BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


def make_bag(ctx: Context, package: Package, folder: Path) -> dict:
    """Make the bag in place (sha256 manifests) as BagIt 1.0, seal it with the home's key (see `seal.py`)
    and validate it in full before it may be published."""
    bagit = bagit_module()
    try:
        bagit.make_bag(str(folder), bag_info(ctx, package), checksums=["sha256"])
        # bagit.py writes 0.97 and has no option for 1.0; with 1.0 in bagit.txt validators apply RFC 8493's
        # rules (a manifest line listed twice is an error, every manifest must be complete).
        (folder / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8", newline="\n")
        bagit.Bag(str(folder)).save()  # the tag manifest again, over the new bagit.txt
        seal.seal(ctx.keys_dir, folder)
        bag = bagit.Bag(str(folder))
        bag.validate(fast=False)
    except bagit.BagError as exc:
        raise Failure(f"the package did not validate as it was made ({exc}): nothing was kept; check the disk "
                      "and run the export again.") from None
    if bag.version_info != (1, 0):
        raise Failure(f"the package was made as BagIt {bag.version}, not 1.0: nothing was kept; report it.")
    oxum = bag.info["Payload-Oxum"]
    size, count = (int(n) for n in oxum.split("."))
    package_sha = hashlib.sha256((folder / seal.TAGMANIFEST).read_bytes()).hexdigest()
    return {"files": count, "bytes": size, "payload_oxum": oxum, "package_sha256": package_sha}


def zip_bag(folder: Path, name: str, target: Path, progress: Report | None = None,
            mode: exports.Mode = exports.PRIVATE) -> str:
    """A zip of the bag with the bag's folder at its top (each file an item to `progress`), created with
    `mode`; its sha256."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    with exports.create(target, mode) as raw, zipfile.ZipFile(raw, "w", allowZip64=True) as archive, \
            meter(progress, "zipping", len(files)) as shown:
        for path in files:
            rel = path.relative_to(folder).as_posix()
            method = zipfile.ZIP_STORED if path.suffix.lower() in STORED_SUFFIXES else zipfile.ZIP_DEFLATED
            archive.write(path, f"{name}/{rel}", compress_type=method)
            shown.advance()
    return store.hash_file(target, md5=False).sha256


def publish(ctx: Context, package: Package, staging: Path, final: Path, zip_sha: str | None, zip_partial: Path,
            summary: dict, made: list[Path], mode: exports.Mode = exports.PRIVATE) -> int:
    """One transaction: the disclosure's audit entry, then the renames into place; if the commit fails the
    renamed package goes too (`made` lists what to remove)."""
    zip_final = final.parent / f"{package.name}.zip"
    with transaction(ctx.db):
        if final.exists() or zip_final.exists():
            raise InputError(f"{final} appeared while the package was being made: run the export again.")
        _refuse_if_purged_meanwhile(ctx, package)
        exhibits.record(ctx, package.new_exhibits)
        seq = audit.record(ctx, "evidence.export", "task", package.task_id, reason=package.reason, detail={
            "recipient": package.recipient, "include_sensitive": package.include_sensitive,
            "package": package.name, "folder": str(final), "captures": [c["id"] for c in package.captures],
            "referrals": [r["id"] for r in package.referrals], "files": summary["files"], "bytes": summary["bytes"],
            "exhibits": [e["reference"] for e in package.exhibits],
            "package_sha256": summary["package_sha256"], "zip_sha256": zip_sha,
            "key_fingerprint": signing.fingerprint(package.public_pem)})
        os.rename(staging, final)
        made.append(final)
        if zip_sha:
            os.rename(zip_partial, zip_final)
            made.append(zip_final)
            sums = final.parent / f"{package.name}.zip.sha256"
            made.append(sums)
            exports.write_bytes(sums, f"{zip_sha}  {zip_final.name}\n".encode("utf-8"), mode)
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
