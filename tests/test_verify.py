"""`ohrt verify` and `ohrt verify --package` on damaged material (SOP 9.1; ACPO principle 1): a folder,
manifest, signature or SHA256SUMS that is missing or malformed is named in one line each, exit 1, never a
traceback; a package that is not one is refused (exit 2)."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from ohrt_cli.ground import store
from support.home import copy_home, new_home

URL = "https://www.youtube.com/watch?v=verify00001"


@pytest.fixture(scope="module")
def template(tmp_path_factory, make_clip) -> tuple[Path, str]:
    """A home with one capture of a local clip (no derivatives: only the original, the manifest, its
    signature and SHA256SUMS)."""
    ohrt = new_home(tmp_path_factory.mktemp("verify") / "home")
    capture = ohrt.json("capture", "--file", make_clip("verify-clip", seconds=2), "--url", URL,
                        "--reason", "verify test", "--no-derivatives")
    return ohrt.home, capture["id"]


@pytest.fixture
def damaged(template, tmp_path):
    """A copy of the template home, and its capture's folder made writable so a test can damage it."""
    source, capture_id = template
    ohrt = copy_home(source, tmp_path / "home")
    folder = ohrt.home / "captures" / capture_id
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return ohrt, capture_id, folder


def damage_folder(folder: Path) -> None:
    store.remove_tree(folder)


def damage_manifest_missing(folder: Path) -> None:
    (folder / "manifest.json").unlink()


def damage_manifest_malformed(folder: Path) -> None:
    (folder / "manifest.json").write_text('{"files": [', encoding="utf-8")


def damage_signature_missing(folder: Path) -> None:
    (folder / "manifest.sig").unlink()


def damage_signature_malformed(folder: Path) -> None:
    (folder / "manifest.sig").write_bytes(b"not a signature")


def damage_sums_missing(folder: Path) -> None:
    (folder / "SHA256SUMS").unlink()


def damage_sums_malformed(folder: Path) -> None:
    with open(folder / "SHA256SUMS", "a", encoding="utf-8") as handle:
        handle.write("this line is no checksum\n")


# (damage, the problem `verify --json` reports: path (None: the folder itself), kind)
DAMAGES = {
    "folder missing": (damage_folder, None, "missing"),
    "manifest missing": (damage_manifest_missing, "manifest.json", "missing"),
    "manifest malformed": (damage_manifest_malformed, "manifest.json", "manifest"),
    "signature missing": (damage_signature_missing, "manifest.sig", "missing"),
    "signature malformed": (damage_signature_malformed, "manifest.sig", "signature"),
    "SHA256SUMS missing": (damage_sums_missing, "SHA256SUMS", "missing"),
    "SHA256SUMS malformed": (damage_sums_malformed, "SHA256SUMS", "sums"),
}


def test_the_undamaged_copy_verifies(damaged):
    ohrt, capture_id, _ = damaged
    assert ohrt.ok("verify", capture_id).stdout.startswith("store intact: 1 capture(s)")


@pytest.mark.parametrize("name", DAMAGES)
def test_verify_names_a_missing_or_malformed_part_of_a_capture(damaged, name):
    ohrt, capture_id, folder = damaged
    damage, path, kind = DAMAGES[name]
    damage(folder)
    report = ohrt("verify", "--json")
    assert report.exit_code == 1
    found = {(p["capture"], p["path"], p["problem"]) for p in json.loads(report.stdout)["problems"]}
    assert (capture_id, path or str(folder), kind) in found
    result = ohrt("verify", capture_id)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"{capture_id}: {kind} {path or folder}" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("store NOT intact: ")


# ------------------------------------------------------------------------------------------ packages

def test_verify_package_refuses_what_is_not_a_package(damaged, tmp_path):
    ohrt, _, _ = damaged
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("no bag here", encoding="utf-8")
    result = ohrt("verify", "--package", plain)
    assert result.exit_code == 1 and "not a BagIt bag (no bagit.txt)" in result.stderr
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("one/bagit.txt", "BagIt-Version: 1.0\n")
        archive.writestr("other/bagit.txt", "BagIt-Version: 1.0\n")
    result = ohrt("verify", "--package", two)
    assert result.exit_code == 2 and "does not hold one package folder at its top" in result.stderr
    result = ohrt("verify", "C-2026-000001", "--package", plain)
    assert result.exit_code == 2 and "give capture ids or --package, not both" in result.stderr


def test_verify_package_names_a_package_whose_capture_lost_its_signature_and_sums(damaged, tmp_path):
    ohrt, _, _ = damaged
    task_id = ohrt.json("task", "list")[0]["id"]
    out = tmp_path / "out"
    out.mkdir()
    package = Path(ohrt.json("export", task_id, "--to", out, "--recipient", "DC Jo Bloggs, Trident Central", "--reason",
                             "verify test")["package"])
    copy = tmp_path / "copy" / package.name
    shutil.copytree(package, copy)
    for path in copy.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    [capture] = sorted((copy / "data" / "captures").iterdir())
    (capture / "manifest.sig").unlink()
    (capture / "SHA256SUMS").write_text("garbage\n", encoding="utf-8")
    report = json.loads(ohrt("verify", "--package", copy, "--json").stdout)
    assert report["intact"] is False
    found = {(p["check"], p["path"], p["problem"]) for p in report["problems"]}
    where = f"data/captures/{capture.name}"
    assert ("capture", f"{where}/manifest.sig", "missing") in found
    assert ("capture", f"{where}/SHA256SUMS", "sums") in found
    assert ("bag", f"{where}/manifest.sig", "missing") in found
    result = ohrt("verify", "--package", copy)
    assert result.exit_code == 1 and "manifest.sig" in result.stderr and "Traceback" not in result.stderr
