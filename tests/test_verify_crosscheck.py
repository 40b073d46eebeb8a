"""`ohrt verify` sets each file's hash against the manifest, the database and the chain's capture.add entry,
and the keys against the fingerprints the chain recorded (SOP 9.1; ACPO 1, 3): an original replaced by an
insider who mends every copy of its hash they can reach, and re-signs with the home's key (readable by
whoever runs ohrt) or with a key pair of their own, is still named."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from ohrt_cli.ground import signing, store
from support.home import copy_home, new_home

URL = "https://www.youtube.com/watch?v=crosscheck1"


@pytest.fixture(scope="module")
def template(tmp_path_factory, make_clip) -> tuple[Path, str]:
    ohrt = new_home(tmp_path_factory.mktemp("crosscheck") / "home")
    capture = ohrt.json("capture", "--file", make_clip("crosscheck-clip", seconds=2), "--url", URL,
                        "--reason", "cross-check test", "--no-derivatives")
    return ohrt.home, capture["id"]


def forge_original(home: Path, capture_id: str, *, new_key: bool) -> None:
    """Replace the original, mend its hash in manifest.json, SHA256SUMS and the database, re-sign."""
    folder = home / "captures" / capture_id
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    manifest = json.loads((folder / store.MANIFEST).read_text())
    original = next(f for f in manifest["files"] if f["role"] == "original")
    target = folder / original["path"]
    target.write_bytes(target.read_bytes()[:-100] + b"\0" * 100)
    digest = store.hash_file(target)
    original.update(sha256=digest.sha256, md5=digest.md5, bytes=digest.bytes)
    if new_key:
        (home / "keys" / "signing.key").unlink()
        (home / "keys" / "public.pem").unlink()
        signing.create_key(home / "keys")
    seal = store.make_seal(manifest, lambda data: signing.sign(home / "keys", data))
    (folder / store.OFFICER_SIGNATURE).unlink()  # the insider cannot make the officer's: it would not verify
    (folder / store.MANIFEST).write_bytes(seal.manifest)
    (folder / store.SIGNATURE).write_bytes(seal.signature)
    (folder / store.SUMS).write_bytes(seal.sums)
    db = sqlite3.connect(home / "ohrt.db")
    db.execute("UPDATE captures SET manifest_sha256 = ? WHERE id = ?", [seal.manifest_sha256, capture_id])
    db.execute("UPDATE capture_files SET sha256 = ?, md5 = ?, bytes = ? WHERE capture_id = ? AND role = 'original'",
               [digest.sha256, digest.md5, digest.bytes, capture_id])
    db.commit()
    db.close()


def problems(ohrt) -> set:
    result = ohrt("verify", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["intact"] else 1)
    return {(p["problem"], p["path"].split("/")[-1]) for p in report["problems"]}


def test_an_untouched_capture_is_co_signed_by_its_officer_and_verifies(template, tmp_path):
    ohrt = copy_home(template[0], tmp_path / "home")
    assert problems(ohrt) == set()
    manifest = json.loads((ohrt.home / "captures" / template[1] / store.MANIFEST).read_text())
    assert manifest["sealed_by"]["number"] == "2345"


def test_an_original_replaced_and_re_signed_with_the_home_key_is_named(template, tmp_path):
    ohrt = copy_home(template[0], tmp_path / "home")
    forge_original(ohrt.home, template[1], new_key=False)
    found = problems(ohrt)
    assert any(kind == "chain" for kind, _ in found)  # the chain's capture.add entry holds the first hash
    assert ("cosignature", store.OFFICER_SIGNATURE) in found
    assert not any(kind in ("changed", "signature", "record") for kind, _ in found)  # every copy was mended


def test_a_swapped_key_pair_is_named(template, tmp_path):
    ohrt = copy_home(template[0], tmp_path / "home")
    forge_original(ohrt.home, template[1], new_key=True)
    found = problems(ohrt)
    assert ("key", "public.pem") in found and any(kind == "chain" for kind, _ in found)


def test_a_hash_mended_only_in_the_database_is_named(template, tmp_path):
    ohrt = copy_home(template[0], tmp_path / "home")
    db = sqlite3.connect(ohrt.home / "ohrt.db")
    db.execute("UPDATE capture_files SET sha256 = ? WHERE capture_id = ? AND role = 'original'",
               [hashlib.sha256(b"other").hexdigest(), template[1]])
    db.commit()
    db.close()
    assert any(kind == "record" for kind, _ in problems(ohrt))
