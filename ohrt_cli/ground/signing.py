"""The home's Ed25519 key: signs manifests, audit exports and shared hash files (SOP 9.1, 10.8; ACPO principle 3).

Signatures are raw 64-byte Ed25519 over the exact bytes of a file, so anyone can check them with
`openssl pkeyutl -verify -pubin -inkey public.pem -rawin -in FILE -sigfile FILE.sig`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import HomeError

PRIVATE_NAME = "signing.key"
PUBLIC_NAME = "public.pem"


def create_key(keys_dir: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    keys_dir.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(keys_dir / PRIVATE_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (keys_dir / PUBLIC_NAME).write_bytes(public_pem)


def load_private(keys_dir: Path):
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key((keys_dir / PRIVATE_NAME).read_bytes(), password=None)
    except FileNotFoundError:
        raise HomeError(f"the signing key {keys_dir / PRIVATE_NAME} is missing: restore it from backup.") from None


def sign(keys_dir: Path, data: bytes) -> bytes:
    return load_private(keys_dir).sign(data)


def verify(public_pem: bytes, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public_pem)
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def fingerprint(public_pem: bytes) -> str:
    """The key's fingerprint: sha256 of the public key's DER (SubjectPublicKeyInfo), 64 hex digits. Anyone
    recomputes it with `openssl pkey -pubin -in public.pem -outform DER | sha256sum`."""
    import hashlib

    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public_pem)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


FINGERPRINT_COMMAND = "openssl pkey -pubin -in {key} -outform DER | sha256sum"


def parse_fingerprint(text: str) -> str | None:
    """A fingerprint as an officer may type it (any case, with colons or spaces), or None if it is not one."""
    import re

    cleaned = re.sub(r"[\s:]", "", text or "").lower()
    return cleaned if re.fullmatch(r"[0-9a-f]{64}", cleaned) else None
