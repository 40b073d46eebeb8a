"""The package's seal: the home's Ed25519 signature over the bag's tag manifest, and its check (SOP 6.3; ACPO 3).

`tagmanifest-sha256.txt` lists the sha256 of `manifest-sha256.txt` (which lists every payload file),
`bagit.txt` and `bag-info.txt`; one signature over it therefore covers every file of the package. A bag
re-made with the `bagit` library after an edit still validates, but its tag manifest is no longer the one
signed. So that the check can name what changed, the seal keeps the two manifests as they were sealed:

    seal/tagmanifest-sha256.txt.sig   raw 64-byte Ed25519 signature over tagmanifest-sha256.txt
    seal/tagmanifest-sha256.txt       the tag manifest as sealed (the signature verifies over it too)
    seal/manifest-sha256.txt          the payload manifest as sealed (its sha256 is in the sealed tag manifest)

`seal/` is a tag folder the tag manifest does not list (a signature cannot be part of what it signs);
`bagit.py --validate` ignores it. Anyone checks the seal with
`openssl pkeyutl -verify -pubin -inkey data/public.pem -rawin -in tagmanifest-sha256.txt -sigfile
seal/tagmanifest-sha256.txt.sig`, and the key with its fingerprint (see `signing.fingerprint`).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Callable

from ...ground import signing

SEAL_DIR = "seal"
TAGMANIFEST = "tagmanifest-sha256.txt"
MANIFEST = "manifest-sha256.txt"
SIGNATURE = f"{SEAL_DIR}/{TAGMANIFEST}.sig"


def seal(keys_dir: Path, folder: Path) -> bytes:
    """Sign the bag's tag manifest with the home's key and keep the sealed manifests; returns the signature."""
    tagmanifest = (folder / TAGMANIFEST).read_bytes()
    signature = signing.sign(keys_dir, tagmanifest)
    (folder / SEAL_DIR).mkdir()
    for name in (TAGMANIFEST, MANIFEST):
        shutil.copyfile(folder / name, folder / SEAL_DIR / name)
    (folder / SIGNATURE).write_bytes(signature)
    return signature


def check(folder: Path, public: bytes, problem: Callable[[str, str, str], None]) -> bool:
    """Whether the seal verifies with `public` over the tag manifest as it is; when it does not, name each
    file that differs from what was sealed (or say that the seal itself is missing or not by this key)."""
    try:
        signature = (folder / SIGNATURE).read_bytes()
    except FileNotFoundError:
        problem(SIGNATURE, "missing", "the package carries no seal: it was not made by this version of ohrt, or "
                                      "its seal was removed")
        return False
    current = _read(folder / TAGMANIFEST)
    if current is not None and signing.verify(public, signature, current):
        return True
    sealed = _read(folder / SEAL_DIR / TAGMANIFEST)
    if sealed is None or not signing.verify(public, signature, sealed):
        problem(SIGNATURE, "signature", "the seal does not verify with the package's key over the tag manifest, "
                                        "as it is or as sealed: the seal or the key was replaced")
        return False
    named = _differences(folder, sealed, current or b"", problem)
    if not named:
        problem(TAGMANIFEST, "changed", "is not the tag manifest the home sealed")
    return False


def _differences(folder: Path, sealed: bytes, current: bytes, problem: Callable) -> int:
    """Name the payload and tag files whose sha256 differs from the sealed manifests; returns how many."""
    sealed_tags, current_tags = _entries(sealed), _entries(current)
    named = 0
    sealed_manifest = _read(folder / SEAL_DIR / MANIFEST) or b""
    if hashlib.sha256(sealed_manifest).hexdigest() == sealed_tags.get(MANIFEST):
        payload_then, payload_now = _entries(sealed_manifest), _entries(_read(folder / MANIFEST) or b"")
        named += _compare(payload_then, payload_now, problem)
    else:
        problem(f"{SEAL_DIR}/{MANIFEST}", "changed", "is not the payload manifest the home sealed")
        named += 1
    tags_now = {k: v for k, v in current_tags.items() if not k.startswith(f"{SEAL_DIR}/")}
    if named:  # the payload manifest changes with any payload file, which is already named
        sealed_tags.pop(MANIFEST, None)
        tags_now.pop(MANIFEST, None)
    return named + _compare(sealed_tags, tags_now, problem)


def _compare(then: dict[str, str], now: dict[str, str], problem: Callable) -> int:
    named = 0
    for path in sorted(set(then) | set(now)):
        if path not in now:
            problem(path, "missing", "was in the package when it was sealed, and is no longer listed")
        elif path not in then:
            problem(path, "unexpected", "was added after the package was sealed")
        elif then[path] != now[path]:
            problem(path, "changed", f"sha256 is now {now[path][:16]}…, the home sealed {then[path][:16]}…")
        else:
            continue
        named += 1
    return named


def _entries(manifest: bytes) -> dict[str, str]:
    entries = {}
    for line in manifest.decode("utf-8", errors="replace").splitlines():
        digest, _, path = line.strip().partition(" ")
        if path:
            entries[path.strip().lstrip("*")] = digest.lower()
    return entries


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
