"""Checking a sealed folder of the store (SOP 9.1 and ACPO principle 3: an audit trail a third party can
repeat): `verify_folder` re-hashes every file, checks the manifest's signature and SHA256SUMS, and names each
changed, missing or unexpected file. It is written for any folder in the store's layout, so evidence
packages reuse it.

This is ground: it knows files, hashes and signatures, not tasks or captures.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

from .store import MANIFEST, OFFICER_SIGNATURE, SIGNATURE, SUMS, hash_file, stored_files


def verify_folder(folder: Path, public_pem: bytes, *, manifest_sha256: str | None = None,
                  on_bytes: Callable[[int], None] | None = None) -> dict:
    """Re-hash every file of a sealed folder and check its signature and SHA256SUMS (`on_bytes(n)` after
    each n bytes of a file re-hashed, for a progress display).

    Works for any folder in the store layout (manifest.json with a `files` list of {path, sha256,
    status}, manifest.sig, SHA256SUMS). `manifest_sha256`, when given, is the manifest's hash as recorded
    elsewhere (the database), so a replaced manifest is caught even with a valid signature from this key.

    Returns {"folder", "files" (count checked), "intact", "problems": [{"path", "problem", "detail"}]} where
    problem is one of: changed, missing, unexpected, signature, sums, manifest."""
    problems: list[dict] = []

    def problem(path: str, kind: str, detail: str) -> None:
        problems.append({"path": path, "problem": kind, "detail": detail})

    if not folder.is_dir():
        problem(str(folder), "missing", "the whole folder is missing")
        return {"folder": str(folder), "files": 0, "intact": False, "problems": problems}
    manifest = _check_manifest(folder, public_pem, manifest_sha256, problem)
    # a manifest whose signature verifies is the reference; SHA256SUMS is a copy for `sha256sum -c`
    trusted = manifest is not None and not problems
    sums = _read_sums(folder, problem)
    listed = dict(sums)
    expected = dict(listed)
    disputed: set[str] = set()
    if manifest is not None:
        for entry in stored_files(manifest):
            if entry["path"] not in listed:
                problem(entry["path"], "sums", "in manifest.json but not in SHA256SUMS")
                expected[entry["path"]] = entry["sha256"]
            elif listed[entry["path"]] != entry["sha256"]:
                if trusted:
                    expected[entry["path"]] = entry["sha256"]
                    disputed.add(entry["path"])
                else:
                    problem(entry["path"], "sums", "SHA256SUMS and manifest.json give different hashes")
    checked = 0
    for path, want in sorted(expected.items()):
        target = folder / path
        if not _inside(folder, target) or not target.is_file():
            problem(path, "missing", "listed but not in the folder")
            continue
        checked += 1
        if path in (MANIFEST, SIGNATURE, OFFICER_SIGNATURE):
            actual = hashlib.sha256(target.read_bytes()).hexdigest()
        else:
            actual = hash_file(target, md5=False, on_bytes=on_bytes).sha256
        if actual != want:
            problem(path, "changed", f"sha256 is {actual[:16]}…, recorded {want[:16]}…")
        if path in disputed:
            problem(SUMS, "sums", f"its line for {path} gives {listed[path][:16]}…, the signed manifest "
                    f"{want[:16]}…" + (": the line is wrong, the file is as signed" if actual == want else ""))
    for path in _files_in(folder):
        if path.endswith("/"):
            problem(path, "unexpected", "an empty folder, not recorded")
        elif path not in listed and path not in expected and path != SUMS:
            problem(path, "unexpected", "in the folder but not recorded")
    return {"folder": str(folder), "files": checked, "intact": not problems, "problems": problems}


def _check_manifest(folder: Path, public_pem: bytes, expected_sha: str | None, problem) -> dict | None:
    from . import signing

    try:
        data = (folder / MANIFEST).read_bytes()
    except FileNotFoundError:
        problem(MANIFEST, "missing", "the manifest is missing")
        return None
    try:
        signature = (folder / SIGNATURE).read_bytes()
    except FileNotFoundError:
        problem(SIGNATURE, "missing", "the signature is missing")
    else:
        if not signing.verify(public_pem, signature, data):
            problem(SIGNATURE, "signature", "does not verify manifest.json with this home's public key")
    if expected_sha and hashlib.sha256(data).hexdigest() != expected_sha:
        problem(MANIFEST, "manifest", "differs from the manifest recorded in the database")
    try:
        manifest = json.loads(data)
    except ValueError:
        problem(MANIFEST, "manifest", "is not valid JSON")
        return None
    return manifest if isinstance(manifest, dict) else None


def _read_sums(folder: Path, problem) -> list[tuple[str, str]]:
    try:
        text = (folder / SUMS).read_text(encoding="utf-8")
    except FileNotFoundError:
        problem(SUMS, "missing", "SHA256SUMS is missing")
        return []
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        sha, sep, path = line.partition("  ")
        if not sep or len(sha) != 64:
            problem(SUMS, "sums", f"line {number} is not '<sha256>  <path>'")
            continue
        entries.append((path.lstrip("*"), sha))
    return entries


def _inside(folder: Path, target: Path) -> bool:
    try:
        target.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _files_in(folder: Path) -> list[str]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            found.append(os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/"))
        if not dirs and not files and os.path.abspath(root) != os.path.abspath(folder):
            found.append(os.path.relpath(root, folder).replace(os.sep, "/") + "/")
    return found
