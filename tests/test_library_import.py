"""`ohrt library import-hashes` refuses what it cannot trust or read (SOP 10.8 sharing): each refusal is one
line — exit 2 for a file or key that is not what it should be, exit 1 for a signature that does not hold —
and nothing is imported or audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ohrt_cli.ground import signing
from ohrt_cli.stages.library.sharing import FORMAT, settings
from support.home import CONSTABLE, new_home

WHEN = {"OHRT_OFFICER": CONSTABLE, "OHRT_NOW": "2026-05-10T10:00:00+00:00"}


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    """(this home, the sending force's home, a folder for the files)."""
    root = tmp_path_factory.mktemp("hash-import")
    here = new_home(root / "here" / "home")
    sender = new_home(root / "wmp" / "home", team="West Midlands OHRT")
    files = root / "files"
    files.mkdir()
    return here, sender, files


def document(sender, **changes) -> dict:
    """A hash file as the sender exports it (with no items), changed by `changes`."""
    public = (sender.home / "keys" / signing.PUBLIC_NAME).read_bytes()
    found = {"format": FORMAT, "team": "West Midlands OHRT", "exported_at": "2026-05-01T09:00:00+00:00",
             "public_key_fingerprint": signing.fingerprint(public), "settings": settings(), "items": []}
    found.update(changes)
    return found


def signed(sender, folder: Path, name: str, data: bytes | dict) -> Path:
    """`data` written to `folder/name` and signed with the sender's own key, as export-hashes signs."""
    if isinstance(data, dict):
        data = json.dumps(data).encode("utf-8")
    path = folder / name
    path.write_bytes(data)
    path.with_name(name + ".sig").write_bytes(signing.sign(sender.home / "keys", data))
    return path


def imports(here) -> int:
    """How many imports the audit chain records (the control test below makes one)."""
    return len([e for e in here.json("audit", "list") if e["action"] == "library.import"])


def nothing_imported(here, before: int) -> None:
    assert here.json("library", "list") == [] and imports(here) == before


def test_a_well_formed_empty_file_is_accepted(homes):
    """The control: the same making, untouched, imports (nothing to add)."""
    here, sender, files = homes
    path = signed(sender, files, "good.json", document(sender))
    result = here.json("library", "import-hashes", path, "--key", sender.home / "keys" / "public.pem", env=WHEN)
    assert (result["source"], result["added"], result["updated"]) == ("West Midlands OHRT", [], [])


# name: (what the file holds — a document's changes, or raw bytes — exit code, what the one line says)
CONTENTS = {
    "not JSON": (b"\x89PNG not json", 2, "is not a hash file (not JSON)"),
    "another format": ({"format": "something-else/2"}, 2, f"is not an {FORMAT} file"),
    "not an object": (b"[1, 2, 3]", 2, f"is not an {FORMAT} file"),
    "other fingerprint settings": ({"settings": {"pdq": {"fps": 99}}}, 2, "was made with other fingerprint settings"),
    "no items": ({"items": None}, 2, "has no list of items"),
    "a malformed item": ({"items": [{"ref": "not-an-id", "removed_on": "2026-01-01", "expires_on": "2027-01-01",
                                     "fingerprint": {}}]}, 2, "item 1 is malformed"),
    "another key named": ({"public_key_fingerprint": "0123456789abcdef"}, 1,
                          "names key 0123456789abcdef but was signed with"),
}


@pytest.mark.parametrize("name", CONTENTS)
def test_a_signed_file_that_is_not_a_usable_hash_file_is_refused(homes, name):
    here, sender, files = homes
    before = imports(here)
    content, code, message = CONTENTS[name]
    data = content if isinstance(content, bytes) else document(sender, **content)
    path = signed(sender, files, f"{name.replace(' ', '-')}.json", data)
    result = here("library", "import-hashes", path, "--key", sender.home / "keys" / "public.pem", env=WHEN)
    assert result.exit_code == code and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    nothing_imported(here, before)


def test_a_missing_file_signature_or_key_and_a_key_that_is_not_one_are_refused(homes):
    here, sender, files = homes
    before = imports(here)
    key = sender.home / "keys" / "public.pem"
    path = signed(sender, files, "checked.json", document(sender))

    def refused(*args) -> str:
        result = here("library", "import-hashes", *args, env=WHEN)
        assert result.exit_code == 2, result.stderr
        return result.stderr

    assert "does not exist: check the path of the hash file" in refused(files / "absent.json", "--key", key)
    unsigned = files / "unsigned.json"
    unsigned.write_bytes(path.read_bytes())
    assert "unsigned.json.sig is missing: the signature must be beside the file" in refused(unsigned, "--key", key)
    assert "does not exist: give the sending force's public key" in refused(path, "--key", files / "absent.pem")
    not_a_key = files / "not-a-key.pem"
    not_a_key.write_text("-----BEGIN PUBLIC KEY-----\nnonsense\n-----END PUBLIC KEY-----\n")
    assert "is not an Ed25519 public key in PEM" in refused(path, "--key", not_a_key)
    nothing_imported(here, before)


def test_a_signature_that_does_not_hold_is_refused(homes):
    here, sender, files = homes
    before = imports(here)
    key = sender.home / "keys" / "public.pem"
    path = signed(sender, files, "broken-sig.json", document(sender))
    path.with_name("broken-sig.json.sig").write_bytes(bytes(64))
    result = here("library", "import-hashes", path, "--key", key, env=WHEN)
    assert result.exit_code == 1 and "does not match its signature under public.pem" in result.stderr
    assert "nothing imported" in result.stderr
    nothing_imported(here, before)
