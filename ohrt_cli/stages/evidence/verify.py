"""Checking an evidence package that comes back: bag, captures' sums and signatures, audit excerpt, drafts
(SOP 6.3; ACPO 3)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from ...ground import audit, signing, store, store_check
from ...ground.context import Context
from ...ground.errors import InputError
from ...ground.progress import Report, meter
from .. import anchor, ots
from . import seal
from .bag import bagit_module
from .contents import EXCERPT, INDEX, PUBLIC_KEY
from .gather import home_public_key


def verify_package(path: str | os.PathLike, *, ctx: Context | None = None, key_fingerprint: str | None = None,
                   progress: Report | None = None) -> dict:
    """Check a package that comes back (a bag folder, or its zip): the bag in full (as `bagit` validates it,
    every file re-hashed), each capture's SHA256SUMS and manifest signature against the package's own public
    key, each audit entry's hash, each referral draft's recorded hash. With `ctx`, also whether the key is
    this home's and which export of this home the package is. The key is pinned by `key_fingerprint` (see
    `signing.fingerprint`), else by the home's own key when `ctx` is given; unpinned, the package can only be
    shown consistent with the key it carries ("key_pinned" is then None). Each file unzipped and re-hashed
    is told to `progress` in bytes.

    Returns {"package", "intact", "bag_valid", "task_id", "captures": [{id, intact, files}],
    "audit_entries", "public_key_fingerprint", "key_pinned" (the pinned fingerprint), "key_pinned_by"
    ("--key-fingerprint", "home" or None), "sealed", "bagit_version", "key_matches_home", "export",
    "timestamps": [{capture, gen_time, tsa, verified, detail}], "timestamp_ca": {checked_with (home, package),
    path, sha256} or None, "seal_timestamp" (in the issuing home: the stamp of the package's seal, {anchor,
    gen_time, tsa, verified, detail}, or None), "ots": [{capture, state (pending|bitcoin), bitcoin_block,
    verified, detail}] (each capture's OpenTimestamps proof),
    "problems": [{check (package, bag, seal, capture, audit, referral, key, timestamp), path, problem (changed, missing,
    unexpected, signature, sums, manifest, bag, key), detail}]}."""
    pinned = None
    if key_fingerprint is not None:
        pinned = signing.parse_fingerprint(key_fingerprint)
        if pinned is None:
            raise InputError(f"--key-fingerprint {key_fingerprint!r} is not a key fingerprint: give the 64 hex digits "
                             "the team publishes for its key (`ohrt verify --package` prints the package's).")
    source = Path(path).expanduser()
    if source.is_file() and zipfile.is_zipfile(source):
        with tempfile.TemporaryDirectory(prefix="ohrt-package-") as scratch:
            folder = _unzip(source, Path(scratch), progress)
            report = _verify_folder(folder, ctx, pinned, progress)
        report["package"] = str(source)
        return report
    if not source.is_dir():
        raise InputError(f"{source} is neither a package folder nor its zip: give the folder that holds "
                         "bagit.txt, or the .zip made with --zip.")
    return _verify_folder(source.resolve(), ctx, pinned, progress)


def _unzip(source: Path, scratch: Path, progress: Report | None = None) -> Path:
    with zipfile.ZipFile(source) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
        if len(tops) != 1:
            raise InputError(f"{source} does not hold one package folder at its top: is it a zip made by "
                             "`ohrt export --zip`?")
        members = archive.infolist()
        with meter(progress, f"unzipping {source.name[:40]}", sum(m.file_size for m in members), "bytes") as shown:
            for member in members:
                archive.extract(member, scratch)
                shown.advance(member.file_size)
    return scratch / tops.pop()


def _verify_folder(folder: Path, ctx: Context | None, pinned: str | None, progress: Report | None = None) -> dict:
    problems: list[dict] = []

    def reporter(check: str) -> Callable[[str, str, str], None]:
        def problem(where: str, kind: str, detail: str) -> None:
            problems.append({"check": check, "path": where, "problem": kind, "detail": detail})
        return problem

    problem = reporter("package")
    result = {"package": str(folder), "intact": False, "bag_valid": False, "task_id": None, "captures": [],
              "audit_entries": 0, "public_key_fingerprint": None, "key_pinned": None, "key_pinned_by": None,
              "sealed": False, "bagit_version": None, "key_matches_home": None, "export": None, "timestamps": [],
              "timestamp_ca": None, "seal_timestamp": None, "ots": [], "problems": problems}
    if pinned is not None:
        result["key_pinned"], result["key_pinned_by"] = pinned, "--key-fingerprint"
    elif ctx is not None:
        result["key_pinned"], result["key_pinned_by"] = signing.fingerprint(home_public_key(ctx)), "home"
    if not (folder / "bagit.txt").is_file():
        problem(str(folder), "bag", "not a BagIt bag (no bagit.txt): give the package's folder, which holds "
                                    "bagit.txt and data/")
        return result
    result["bag_valid"] = _check_bag(folder, reporter("bag"), progress)
    result["bagit_version"] = _bagit_version(folder, reporter("bag"))
    data = folder / "data"
    index = _read_json(data / INDEX, f"data/{INDEX}", problem) or {}
    result["task_id"] = index.get("task_id")
    public = _public_key(data / PUBLIC_KEY, problem)
    if public is not None:
        result["public_key_fingerprint"] = carried = signing.fingerprint(public)
        if result["key_pinned"] and carried != result["key_pinned"] and result["key_pinned_by"] != "home":
            reporter("key")(f"data/{PUBLIC_KEY}", "key", f"is key {carried}, not the pinned {result['key_pinned']}: "
                                                        "the package was made by another home, or its key was replaced")
        result["sealed"] = seal.check(folder, public, reporter("seal"))
        result["captures"] = _check_captures(data, public, index, reporter("capture"), progress)
    result["timestamps"], result["timestamp_ca"] = _check_timestamps(data, index, ctx, reporter("timestamp"))
    result["ots"] = _check_ots(data, index, reporter("timestamp"))
    result["audit_entries"] = _check_excerpt(data / EXCERPT, index.get("audit") or {}, reporter("audit"))
    _check_drafts(data, index, reporter("referral"))
    if ctx is not None and public is not None:
        result["key_matches_home"], result["export"] = _against_home(ctx, folder, public, reporter("key"),
                                                                     blame=result["key_pinned_by"] == "home")
        if result["key_matches_home"]:
            _excerpt_against_chain(ctx, data / EXCERPT, reporter("audit"))
        if result["sealed"]:
            digest = hashlib.sha256((folder / seal.TAGMANIFEST).read_bytes()).hexdigest()
            result["seal_timestamp"] = anchor.seal_time(ctx, digest)
    result["intact"] = not problems
    return result


def _check_timestamps(data: Path, index: dict, ctx: Context | None, problem: Callable) -> tuple[list, dict | None]:
    """Each capture's RFC 3161 stamp the package carries, over the manifest it carries, checked against the
    authority's certificate this home trusts (`[timestamp] ca_file`), else the one the package carries (whose
    fingerprint the reader compares with the authority's)."""
    recorded = index.get("timestamps") or {}
    if not recorded.get("captures"):
        return [], None
    home_ca = anchor.trusted_ca(ctx) if ctx is not None else None
    carried = data / recorded["trusted_ca"] if recorded.get("trusted_ca") else None
    ca = home_ca if home_ca is not None and home_ca.is_file() else carried
    manifests = {}
    for entry in recorded["captures"]:
        path = data / "captures" / entry["capture"] / "manifest.json"
        if path.is_file():
            manifests[entry["capture"]] = hashlib.sha256(path.read_bytes()).hexdigest()
    found, problems = anchor.check_package(data, recorded, manifests, ca)
    for where, kind, detail in problems:
        problem(where, kind, detail)
    which = "home" if ca is not None and ca == home_ca else "package"
    return found, {"checked_with": which, "path": str(ca) if ca else None,
                   "sha256": hashlib.sha256(ca.read_bytes()).hexdigest() if ca and ca.is_file() else None}


def _check_ots(data: Path, index: dict, problem: Callable) -> list:
    """Each capture's OpenTimestamps proof the package carries: its manifest leads to the root in root.txt,
    and the .ots commits to that file. What it attests is read from the proof, confirmed by `ots verify`."""
    recorded = (index.get("timestamps") or {}).get("ots") or []
    manifests = {}
    for entry in recorded:
        path = data / "captures" / entry["capture"] / "manifest.json"
        if path.is_file():
            manifests[entry["capture"]] = hashlib.sha256(path.read_bytes()).hexdigest()
    found, problems = ots.check_package(data, recorded, manifests)
    for where, kind, detail in problems:
        problem(where, kind, detail)
    return found


def _bagit_version(folder: Path, problem: Callable) -> str | None:
    """The bag's BagIt-Version: packages are made as 1.0 (RFC 8493), whose stricter rules validators apply."""
    text = (folder / "bagit.txt").read_text(encoding="utf-8", errors="replace")
    found = re.search(r"^BagIt-Version:\s*(\S+)", text, re.M)
    version = found[1] if found else None
    if version != "1.0":
        problem("bagit.txt", "changed", f"says BagIt-Version {version or '(none)'}, not 1.0 as the package was made")
    return version


def _public_key(path: Path, problem: Callable) -> bytes | None:
    """The key the package carries, if it is an Ed25519 public key in PEM at all."""
    public = _read_bytes(path, f"data/{PUBLIC_KEY}", problem)
    if public is None:
        return None
    try:
        signing.fingerprint(public)
    except (ValueError, TypeError):
        problem(f"data/{PUBLIC_KEY}", "changed", "is not a public key in PEM")
        return None
    return public


def _check_bag(folder: Path, problem: Callable, progress: Report | None = None) -> bool:
    """RFC 8493 validation with `bagit` (each file's hashes compared here, `_fixity`), naming each missing,
    unexpected or changed file."""
    bagit = bagit_module()
    try:
        bag = bagit.Bag(str(folder))
        bag.validate(completeness_only=True)  # structure, bagit.txt, Payload-Oxum, every file listed and present
        changed = _fixity(bag, progress)
        if changed:
            raise bagit.BagValidationError("Bag validation failed", changed)
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


def _fixity(bag, progress: Report | None) -> list:
    """The rest of bagit's full validation, done here so that it is told in bytes: every file the bag's
    manifests and tag manifests list re-hashed with each algorithm they give; bagit's finding for each file
    that differs or cannot be read."""
    bagit = bagit_module()
    entries = [(rel, os.path.join(bag.path, bag.normalized_filesystem_names.get(rel, rel)), hashes)
               for rel, hashes in sorted(bag.entries.items())]
    total = sum(os.path.getsize(path) for _, path, _ in entries if os.path.isfile(path))
    found = []
    with meter(progress, "checking the bag", total, "bytes") as shown:
        for rel, path, hashes in entries:
            hashers = {alg: hashlib.new(alg) for alg in hashes if alg in bag.algorithms}
            try:
                with open(path, "rb", buffering=0) as handle:
                    while chunk := handle.read(store.HASH_BUFFER):
                        for hasher in hashers.values():
                            hasher.update(chunk)
                        shown.advance(len(chunk))
            except OSError:
                found.append(bagit.FileMissing(rel))
                continue
            found += [bagit.ChecksumMismatch(rel, alg, hashes[alg].lower(), hasher.hexdigest())
                      for alg, hasher in hashers.items() if hashes[alg].lower() != hasher.hexdigest()]
    return found


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
    bagit = bagit_module()
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


def _check_captures(data: Path, public: bytes, index: dict, problem: Callable,
                    progress: Report | None = None) -> list[dict]:
    """Each capture folder as the store checks it: SHA256SUMS, signature with the package's key, and the
    manifest's hash as recorded at export (the bytes re-hashed told to `progress`)."""
    recorded = {c["id"]: c for c in index.get("captures", [])}
    present = sorted(p.name for p in (data / "captures").iterdir() if p.is_dir()) if (data / "captures").is_dir() else []
    total = sum(p.stat().st_size for p in (data / "captures").rglob("*") if p.is_file()) if present else 0
    shown = meter(progress, "re-hashing captures", total, "bytes")
    found = []
    for capture_id in sorted(set(recorded) | set(present)):
        folder = data / "captures" / capture_id
        expected = recorded.get(capture_id, {}).get("manifest_sha256")
        report = store_check.verify_folder(folder, public, manifest_sha256=expected, on_bytes=shown.advance)
        for item in report["problems"]:
            where = f"data/captures/{capture_id}" + ("" if item["path"] == str(folder) else f"/{item['path']}")
            problem(where, item["problem"], item["detail"])
        if capture_id not in recorded:
            problem(f"data/captures/{capture_id}", "unexpected", "a capture folder package.json does not list")
        found.append({"id": capture_id, "intact": report["intact"] and capture_id in recorded,
                      "files": report["files"]})
    shown.finish()
    return found


def _check_excerpt(path: Path, recorded: dict, problem: Callable) -> int:
    """Recompute each audit entry's hash; where two entries follow each other in the chain, check the link;
    and set the entries against the number (and sequence numbers) package.json records."""
    label = f"data/{EXCERPT}"
    raw = _read_bytes(path, label, problem)
    if raw is None:
        return 0
    previous: dict | None = None
    count, seqs = 0, []
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
        seqs.append(entry.get("seq"))
    expected = recorded.get("entries")
    if expected is not None and expected != count:
        gone = sorted(set(recorded.get("seqs") or []) - set(seqs))
        added = sorted(set(seqs) - set(recorded.get("seqs") or [])) if recorded.get("seqs") else []
        which = (f": entr{'y' if len(gone) == 1 else 'ies'} {', '.join(map(str, gone))} removed" if gone else "") + \
                (f"; entr{'y' if len(added) == 1 else 'ies'} {', '.join(map(str, added))} added" if added else "")
        problem(label, "changed", f"holds {count} entries, package.json records {expected}{which}")
    elif recorded.get("seqs") and recorded["seqs"] != seqs:
        problem(label, "changed", "does not hold the entries package.json records (sequence numbers differ)")
    return count


def _excerpt_against_chain(ctx: Context, path: Path, problem: Callable) -> None:
    """In the issuing home, each excerpt entry is the entry of that number in the home's own chain: an entry
    rewritten with a fresh hash (and the links around it) still differs from the one the chain holds."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return
    for line in lines:
        try:
            entry = json.loads(line)
            seq, claimed = int(entry["seq"]), entry["hash"]
        except (ValueError, KeyError, TypeError):
            continue  # already named by _check_excerpt
        row = ctx.db.execute("SELECT hash FROM audit WHERE seq = ?", [seq]).fetchone()
        if row is None:
            problem(f"data/{EXCERPT}", "unexpected", f"entry {seq} is not in this home's audit chain")
        elif row[0] != claimed:
            problem(f"data/{EXCERPT}", "changed", f"entry {seq} is not the entry {seq} of this home's audit chain")


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


def _against_home(ctx: Context, folder: Path, public: bytes, problem: Callable, *,
                  blame: bool) -> tuple[bool, dict | None]:
    """Whether the package was signed by this home's key (a problem when the home's key is the pinned one),
    and the export entry that recorded it."""
    home_key = home_public_key(ctx)
    matches = signing.fingerprint(home_key) == signing.fingerprint(public)
    if not matches and blame:
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
