"""OpenTimestamps: reading an `.ots` proof, and the `ots` command where it is installed (no SOP paragraph of its
own: stages/ots.py names them).

A second, free anchor beside RFC 3161: `ots stamp FILE` sends the SHA-256 of FILE to public calendars, which
aggregate it into a Bitcoin transaction; the `.ots` proof it writes holds, until that transaction is in a
block, only *pending* attestations ("calendar C promises to commit this"). `ots upgrade` later fetches the
path to a Bitcoin block header; only then does the proof say "existed no later than block N", and that is
confirmed by whoever checks the block header (`ots verify`, with a Bitcoin node or block explorer). ohrt
runs no Bitcoin node: it reads which attestations a proof holds and that it commits to the file it should,
and leaves the confirmation to `ots verify`.

The file ohrt has stamped is an anchor request's Merkle root as text (`ROOT` in hex and a newline,
`subject`), so `ots stamp` works on it as on any file and each item keeps its path to the root as for RFC
3161. Reading uses the `opentimestamps` library (python-opentimestamps, the `ots` extra); `ots` itself, the
`opentimestamps-client` command, is only needed to stamp online and to check by hand.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import processes
from .errors import InputError, OhrtError

SUFFIX = ".ots"
MAX_PROOF = 1 << 20  # a proof is a few KB, even upgraded


class OtsUnavailable(OhrtError):
    """The `ots` command or its calendars could not be used: the item stays without an OpenTimestamps proof."""

    exit_code = 1


@dataclass(frozen=True)
class Proof:
    """What an `.ots` proof says: the SHA-256 of the file it commits to, and its attestations."""

    file_sha256: str
    calendars: list[str] = field(default_factory=list)   # pending attestations: the calendars' URLs
    bitcoin_blocks: list[int] = field(default_factory=list)  # Bitcoin block header attestations: heights
    others: int = 0                                      # attestations of other kinds (not counted on)

    @property
    def state(self) -> str:
        """'bitcoin' once a Bitcoin block attestation is present, else 'pending' (until confirmed)."""
        return "bitcoin" if self.bitcoin_blocks else "pending"

    @property
    def bitcoin_block(self) -> int | None:
        return min(self.bitcoin_blocks) if self.bitcoin_blocks else None


MAGIC = b"\x00OpenTimestamps\x00\x00Proof\x00"


def is_proof(data: bytes) -> bool:
    """Whether `data` begins as an `.ots` proof does (told apart from an RFC 3161 reply without the library)."""
    return data.startswith(MAGIC)


def subject(root: str) -> bytes:
    """The bytes of the file `ots stamp` is given for an anchor request: its Merkle root in hex."""
    return f"{root}\n".encode("ascii")


def subject_sha256(root: str) -> str:
    return hashlib.sha256(subject(root)).hexdigest()


def available() -> bool:
    """Whether the opentimestamps library is installed (the `ots` extra)."""
    try:
        import opentimestamps.core.timestamp  # noqa: F401
    except ImportError:
        return False
    return True


NOT_CHECKED = "not checked: the opentimestamps library is not installed (pip install 'ohrt[ots]')"


def _library():
    try:
        from opentimestamps.core import notary, serialize, timestamp
    except ImportError:
        raise OhrtError("the opentimestamps library is not installed, so an .ots proof cannot be read: install "
                        "ohrt with its `ots` extra (pip install 'ohrt[ots]').") from None
    return notary, serialize, timestamp


def read(data: bytes, *, what: str = "the file") -> Proof:
    """What a detached `.ots` proof holds; InputError when it is not one."""
    notary, serialize, timestamp = _library()
    if len(data) > MAX_PROOF:
        raise InputError(f"{what} is larger than any OpenTimestamps proof: give the .ots that `ots stamp` wrote.")
    try:
        detached = timestamp.DetachedTimestampFile.deserialize(serialize.BytesDeserializationContext(data))
    except (serialize.DeserializationError, ValueError, TypeError, IndexError, KeyError, AssertionError) as exc:
        why = "" if isinstance(exc, serialize.BadMagicError) else f" ({exc or type(exc).__name__})"
        raise InputError(f"{what} is not an OpenTimestamps proof{why}: give the .ots that `ots stamp FILE` wrote "
                         "beside FILE.") from None
    if detached.file_hash_op.TAG_NAME != "sha256":
        raise InputError(f"{what} commits to a {detached.file_hash_op.TAG_NAME} digest, not a SHA-256: stamp the "
                         "file with `ots stamp`, which uses SHA-256.")
    calendars, blocks, others = [], [], 0
    for _msg, attestation in detached.timestamp.all_attestations():
        if isinstance(attestation, notary.PendingAttestation):
            calendars.append(attestation.uri)
        elif isinstance(attestation, notary.BitcoinBlockHeaderAttestation):
            blocks.append(attestation.height)
        else:
            others += 1
    if not calendars and not blocks:
        raise InputError(f"{what} holds no calendar or Bitcoin attestation: stamp the file again with `ots stamp`.")
    return Proof(file_sha256=detached.file_digest.hex(), calendars=sorted(set(calendars)),
                 bitcoin_blocks=sorted(set(blocks)), others=others)


def describe(proof: Proof) -> str:
    """The state in the officer's words."""
    if proof.state == "bitcoin":
        return f"attested in Bitcoin block {proof.bitcoin_block} — confirm with `ots verify`"
    return f"pending until confirmed ({len(proof.calendars)} calendar(s); `ots upgrade` later)"


# ------------------------------------------------------------------------------------------ the command

def command() -> str | None:
    """The `ots` command (opentimestamps-client), when installed: on the PATH, or beside this Python (the
    `ots` extra installed into ohrt's own environment)."""
    beside = Path(sys.executable).parent / "ots"
    return shutil.which("ots") or (str(beside) if beside.is_file() else None)


def stamp(path: Path, *, calendars: list[str] | None = None, timeout: float = 15) -> bytes:
    """`ots stamp FILE` (with `-c URL` for each calendar given, else the client's own): the proof it wrote
    beside FILE. OtsUnavailable when the command is missing or no calendar answered."""
    ots = command()
    if ots is None:
        raise OtsUnavailable("the `ots` command (opentimestamps-client) is not installed")
    out = path.with_name(path.name + SUFFIX)
    out.unlink(missing_ok=True)
    args = [ots, "--no-cache", "stamp", "--timeout", str(max(1, int(timeout)))]
    for url in calendars or []:
        args += ["-c", url]
    if calendars:
        args += ["-m", "1"]
    try:
        ran = processes.run([*args, str(path)], capture_output=True, timeout=timeout * 2 + 30)
    except subprocess.TimeoutExpired:
        raise OtsUnavailable("`ots stamp` did not finish in time") from None
    if ran.returncode != 0 or not out.is_file():
        said = [line for line in (ran.stderr or b"").decode("utf-8", "replace").splitlines() if line.strip()]
        raise OtsUnavailable(f"`ots stamp` failed ({said[-1].strip() if said else f'exit {ran.returncode}'})")
    data = out.read_bytes()
    out.unlink()
    return data


def verify_command(proof: str, target: str) -> str:
    """The command that confirms a proof's Bitcoin attestation (needs a Bitcoin node or the network)."""
    return f"ots verify -f {target} {proof}"
