"""Sealed evidence packages (issue 14, part 1): BagIt 1.0, the home's signature over the tag manifest, the
key pinned by its fingerprint, and `verify --package` naming whatever was changed in a package re-bagged
with the `bagit` library after an edit."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import bagit
import pytest

from support.home import Ohrt
from test_evidence import capture_folder, copy_package, export, flow  # noqa: F401 (flow is a fixture)

from ohrt_cli.ground import signing
from ohrt_cli.stages import evidence
from ohrt_cli.stages.evidence import seal

BAGIT_PY = Path(sys.executable).parent / "bagit.py"


@pytest.fixture(scope="module")
def sealed(flow, tmp_path_factory):  # noqa: F811
    ohrt, task_id, _ = flow
    result = export(ohrt, task_id, tmp_path_factory.mktemp("sealed"))
    return ohrt, result, Path(result["package"])


def rebag(folder: Path) -> None:
    """What a careful editor does after changing a file: recompute the bag's manifests with `bagit`."""
    bag = bagit.Bag(str(folder))
    bag.save(manifests=True)
    bagit.Bag(str(folder)).validate(fast=False)  # the edited bag is a valid bag again


def problems(report: dict) -> set[tuple[str, str, str]]:
    return {(p["check"], p["path"], p["problem"]) for p in report["problems"]}


def test_the_package_is_bagit_1_0_and_bagit_py_validates_it(sealed, tmp_path):
    _, _, package = sealed
    assert (package / "bagit.txt").read_text() == "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    assert bagit.Bag(str(package)).version_info == (1, 0)
    checked = subprocess.run([sys.executable, str(BAGIT_PY), "--validate", str(package)], capture_output=True,
                             text=True)
    assert checked.returncode == 0 and "is valid" in checked.stderr, checked.stderr
    assert evidence.verify_package(package)["bagit_version"] == "1.0"
    # 1.0's rules apply: a payload line listed twice is an error (0.97 only warned)
    copy = copy_package(package, tmp_path / package.name)
    manifest = copy / "manifest-sha256.txt"
    manifest.write_text(manifest.read_text() + manifest.read_text().splitlines()[0] + "\n")
    checked = subprocess.run([sys.executable, str(BAGIT_PY), "--validate", str(copy)], capture_output=True, text=True)
    assert checked.returncode == 1 and "multiple times" in checked.stderr


def test_the_seal_verifies_with_openssl_and_the_fingerprint_is_recorded_everywhere(sealed):
    ohrt, result, package = sealed
    fingerprint = result["public_key_fingerprint"]
    assert len(fingerprint) == 64
    text = (package / "data" / "HOW-TO-CHECK.txt").read_text()
    html = (package / "data" / "report.html").read_text()
    name = package.name
    seal_command = (f"openssl pkeyutl -verify -pubin -inkey {name}/data/public.pem -rawin "
                    f"-in {name}/tagmanifest-sha256.txt -sigfile {name}/seal/tagmanifest-sha256.txt.sig")
    key_command = f"openssl pkey -pubin -in {name}/data/public.pem -outform DER | sha256sum"
    for body in (text, html):
        assert seal_command in body and key_command in body and fingerprint in body
        assert f"ohrt verify --package {name} --key-fingerprint {fingerprint}" in body
    ran = subprocess.run(["bash", "-c", seal_command], cwd=package.parent, capture_output=True, text=True)
    assert ran.returncode == 0 and "Signature Verified Successfully" in ran.stdout
    ran = subprocess.run(["bash", "-c", key_command], cwd=package.parent, capture_output=True, text=True)
    assert ran.stdout.split()[0] == fingerprint
    [entry] = [json.loads(r["detail"]) for r in ohrt.db().query(
        "SELECT detail FROM audit WHERE action = 'evidence.export' AND json_extract(detail, '$.package') = ?",
        [package.name])]
    assert entry["key_fingerprint"] == fingerprint
    assert json.loads((package / "data" / "package.json").read_text())["public_key"]["fingerprint"] == fingerprint


def _edit_review(data: Path) -> str:
    path = data / "review" / "review.txt"
    path.write_text(path.read_text().replace("Names a rival", "Threatens to kill"))
    return "data/review/review.txt"


def _edit_report(data: Path) -> str:
    path = data / "report.html"
    path.write_text(path.read_text().replace("Names a rival", "Threatens to kill"))
    return "data/report.html"


def _edit_task(data: Path) -> str:
    path = data / "task.json"
    task = json.loads(path.read_text())
    task["title"] = "Threat to kill"
    path.write_text(json.dumps(task, indent=2) + "\n")
    return "data/task.json"


def _delete_audit_line(data: Path) -> str:
    path = data / "audit" / "audit-excerpt.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3] + lines[4:]))
    return "data/audit/audit-excerpt.jsonl"


def _edit_index(data: Path) -> str:
    path = data / "package.json"
    index = json.loads(path.read_text())
    index["recipient"] = "Defence solicitor"
    path.write_text(json.dumps(index, indent=2) + "\n")
    return "data/package.json"


def _edit_instructions(data: Path) -> str:
    path = data / "HOW-TO-CHECK.txt"
    path.write_text(path.read_text().replace("Signature Verified Successfully", "any output"))
    return "data/HOW-TO-CHECK.txt"


@pytest.mark.parametrize("edit", [_edit_review, _edit_report, _edit_task, _delete_audit_line, _edit_index,
                                  _edit_instructions])
def test_an_edit_rebagged_with_bagit_fails_naming_the_file(sealed, tmp_path, edit):
    ohrt, result, package = sealed
    copy = copy_package(package, tmp_path / package.name)
    changed = edit(copy / "data")
    rebag(copy)
    for report in (evidence.verify_package(copy), evidence.verify_package(copy, key_fingerprint=result[
            "public_key_fingerprint"])):
        assert not report["intact"] and report["bag_valid"] and not report["sealed"]
        assert ("seal", changed, "changed") in problems(report)
    shown = ohrt("verify", "--package", str(copy))
    assert shown.exit_code == 1 and f"seal check: changed {changed}" in shown.stderr


def test_a_deleted_audit_line_is_named_by_its_count_and_entry(sealed, tmp_path):
    _, _, package = sealed
    copy = copy_package(package, tmp_path / package.name)
    excerpt = copy / "data" / "audit" / "audit-excerpt.jsonl"
    removed = json.loads(excerpt.read_text().splitlines()[3])["seq"]
    _delete_audit_line(copy / "data")
    recorded = json.loads((copy / "data" / "package.json").read_text())["audit"]["entries"]
    [problem] = [p for p in evidence.verify_package(copy)["problems"] if p["check"] == "audit"]
    assert problem["detail"] == (f"holds {recorded - 1} entries, package.json records {recorded}: "
                                 f"entry {removed} removed")


def test_a_package_whose_seal_was_removed_fails(sealed, tmp_path):
    _, _, package = sealed
    copy = copy_package(package, tmp_path / package.name)
    shutil.rmtree(copy / "seal")
    report = evidence.verify_package(copy)
    assert not report["intact"] and ("seal", "seal/tagmanifest-sha256.txt.sig", "missing") in problems(report)


def _swap_key(copy: Path, keys: Path) -> str:
    """Everything a forger can do without the home's key: a new key in the package, every capture manifest
    signed again with it, package.json's fingerprint edited, the bag re-made and sealed again."""
    signing.create_key(keys)
    public = (keys / signing.PUBLIC_NAME).read_bytes()
    (copy / "data" / "public.pem").write_bytes(public)
    for folder in (copy / "data" / "captures").iterdir():
        signature = signing.sign(keys, (folder / "manifest.json").read_bytes())
        sums = (folder / "SHA256SUMS").read_text()
        old = hashlib.sha256((folder / "manifest.sig").read_bytes()).hexdigest()
        (folder / "manifest.sig").write_bytes(signature)
        (folder / "SHA256SUMS").write_text(sums.replace(old, hashlib.sha256(signature).hexdigest()))
    index = json.loads((copy / "data" / "package.json").read_text())
    index["public_key"]["fingerprint"] = signing.fingerprint(public)
    (copy / "data" / "package.json").write_text(json.dumps(index, indent=2) + "\n")
    shutil.rmtree(copy / "seal")
    rebag(copy)
    seal.seal(keys, copy)
    return signing.fingerprint(public)


def test_a_swapped_key_passes_only_as_consistent_and_fails_when_the_key_is_pinned(sealed, tmp_path):
    ohrt, result, package = sealed
    copy = copy_package(package, tmp_path / "copy" / package.name)
    forged = _swap_key(copy, tmp_path / "forger")
    alone = evidence.verify_package(copy)
    assert alone["intact"] and alone["sealed"] and alone["key_pinned"] is None  # consistent, nothing more
    assert alone["public_key_fingerprint"] == forged
    nohome = Ohrt(tmp_path / "no-home")
    said = nohome("verify", "--package", str(copy))
    assert said.exit_code == 0 and "key NOT pinned" in said.stdout and "only consistent with the key it carries" \
        in said.stdout and forged in said.stdout

    pinned = evidence.verify_package(copy, key_fingerprint=result["public_key_fingerprint"])
    assert not pinned["intact"] and ("key", "data/public.pem", "key") in problems(pinned)
    refused = nohome("verify", "--package", str(copy), "--key-fingerprint", result["public_key_fingerprint"])
    assert refused.exit_code == 1 and f"is key {forged}, not the pinned" in refused.stderr
    at_home = ohrt("verify", "--package", str(copy))  # the issuing home pins its own key
    assert at_home.exit_code == 1 and "is not this home's key" in at_home.stderr

    good = nohome("verify", "--package", str(package), "--key-fingerprint", result["public_key_fingerprint"].upper())
    assert good.exit_code == 0 and "sealed by the pinned key" in good.stdout
    bad = nohome("verify", "--package", str(package), "--key-fingerprint", "abc123")
    assert bad.exit_code == 2 and "is not a key fingerprint" in bad.stderr


def test_an_excerpt_entry_rewritten_with_a_fresh_hash_is_not_the_home_s_entry(sealed, tmp_path):
    """In the issuing home each excerpt entry is set against the entry of that number in the chain itself."""
    from ohrt_cli.ground import audit

    ohrt, _, package = sealed
    copy = copy_package(package, tmp_path / package.name)
    excerpt = copy / "data" / "audit" / "audit-excerpt.jsonl"
    lines = excerpt.read_text().splitlines()
    entry = json.loads(lines[-1])
    entry["reason"] = "Requested by the defence"
    entry["hash"] = audit.entry_hash(entry)  # consistent with itself: its own hash checks
    lines[-1] = audit.canonical_json(entry)
    excerpt.write_text("\n".join(lines) + "\n")
    rebag(copy)
    elsewhere = evidence.verify_package(copy)
    assert not [p for p in elsewhere["problems"] if p["check"] == "audit"]  # alone, only the seal tells
    shown = ohrt("verify", "--package", str(copy))
    assert shown.exit_code == 1
    assert f"audit check: changed data/audit/audit-excerpt.jsonl: entry {entry['seq']} is not the entry " \
           f"{entry['seq']} of this home's audit chain" in shown.stderr
