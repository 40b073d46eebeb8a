"""Each officer's personal Ed25519 key (SOP 3.6, 10.2: who did it, provably).

The private key lives in the officer's own data folder (`~/.local/share/ohrt-officer/HOME-ID/NUMBER.key`,
folder 0700, file 0600), readable by that login alone and, when `OHRT_PASSPHRASE` was set as it was made (or
`ohrt officer key --passphrase`), encrypted with a passphrase. The public key and its fingerprint are on the
roster and in the audit chain. In a training home the keys live in the home (`keys/officers/`): training
proves nobody, and says so.

Signatures are raw Ed25519 over exact bytes, checked with
`openssl pkeyutl -verify -pubin -inkey OFFICER.pem -rawin -in FILE -sigfile FILE.sig`.
"""

from __future__ import annotations

import getpass
import os
import pwd
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import HomeError, InputError, NotAllowed

if TYPE_CHECKING:
    from .config import Officer
    from .context import Context

TRAINING_DIR = "officers"


def key_path(ctx: "Context", officer: "Officer") -> Path:
    """Where `officer`'s private key is kept for this home."""
    if ctx.settings.training:
        return ctx.keys_dir / TRAINING_DIR / f"{officer.number}.key"
    try:
        folder = Path(pwd.getpwnam(officer.login).pw_dir)
    except KeyError:
        raise NotAllowed(f"login {officer.login!r} of {officer} does not exist on this machine: create it "
                         "(useradd) or correct the roster.") from None
    home_id = ctx.settings.raw.get("home", {}).get("id", "home")
    return folder / ".local" / "share" / "ohrt-officer" / home_id / f"{officer.number}.key"


def create(path: Path, passphrase: str | None = None):
    """A new key pair: the private key written to `path` (0600, its folders 0700 up to the user's own);
    returns the private key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path.exists():
        raise HomeError(f"{path} already holds a key: it is kept; ask a sergeant if the roster disagrees with it.")
    for parent in reversed([p for p in path.parents if not p.exists()]):
        parent.mkdir(mode=0o700)
    key = Ed25519PrivateKey.generate()
    _write_private(path, key, passphrase)
    return key


def _write_private(path: Path, key, passphrase: str | None) -> None:
    from cryptography.hazmat.primitives import serialization

    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    partial = path.with_name(path.name + f".partial-{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)


def passphrase_from_env() -> str | None:
    return os.environ.get("OHRT_PASSPHRASE") or None


def load(path: Path, *, prompt: bool = True):
    """The private key at `path`, asking for its passphrase (OHRT_PASSPHRASE, else the terminal) if it has one."""
    from cryptography.hazmat.primitives import serialization

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotAllowed(f"your personal key {path} is missing: it cannot be remade under the same fingerprint; "
                         "a sergeant re-adds you under a new number, or restore it from your backup.") from None
    except PermissionError:
        raise NotAllowed(f"{path} is not readable by this login: each officer signs with their own key, "
                         "as their own login.") from None
    if b"ENCRYPTED" not in data:
        return serialization.load_pem_private_key(data, password=None)
    secret = passphrase_from_env()
    for attempt in range(3):
        try:
            return serialization.load_pem_private_key(data, password=secret.encode() if secret else None)
        except TypeError:  # encrypted, and no passphrase given
            pass
        except ValueError:
            if secret and not (prompt and sys.stdin.isatty()):
                raise InputError("the passphrase of your personal key is wrong: check OHRT_PASSPHRASE.") from None
        if not (prompt and sys.stdin.isatty()):
            raise InputError("your personal key has a passphrase: set OHRT_PASSPHRASE or run ohrt at a terminal.")
        secret = getpass.getpass("passphrase of your personal key: ")
    raise InputError("the passphrase of your personal key is wrong: three attempts failed, nothing changed.")


def protect(path: Path, passphrase: str) -> None:
    """Encrypt an existing private key with `passphrase` (the key pair stays the same)."""
    if not passphrase:
        raise InputError("the passphrase is empty: give one.")
    _write_private(path, load(path), passphrase)


def signer_for(ctx: "Context", *, prompt: bool = True):
    """The acting officer's private key (cached for this command), or None when they have none."""
    officer = ctx.officer
    if officer is None or officer.fingerprint is None:
        return None
    key = ctx.personal_keys.get(officer.number)
    if key is None:
        from .signing import fingerprint

        path = key_path(ctx, officer)
        key = load(path, prompt=prompt)
        if fingerprint(public_pem(key)) != officer.fingerprint:
            raise NotAllowed(f"the key at {path} is not the one the roster records for {officer}: nothing was "
                             "signed; restore your own key, or have a sergeant look at `ohrt audit verify`.")
        ctx.personal_keys[officer.number] = key
    return key


def sign(ctx: "Context", data: bytes) -> tuple[str, bytes] | None:
    """(fingerprint, signature) by the acting officer's personal key over `data`, or None without one."""
    key = signer_for(ctx)
    if key is None:
        return None
    return ctx.officer.fingerprint, key.sign(data)


def public_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
