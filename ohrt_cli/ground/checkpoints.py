"""Signed checkpoints of the audit chain's head, kept outside the database (DPA 2018 s.62; SOP 8.6).

The chain is checked against its head; a head kept only in the database an insider can edit proves
little. So every command that appends entries also appends one line to `audit-checkpoints.jsonl` beside
`ohrt.db`, and the same lines go into every evidence package, exported audit file and quarterly report,
where they are out of reach. A line is public JSON:

    {"kind": "ohrt-audit-checkpoint", "seq": 42, "hash": "<entry 42's hash>", "at": "<UTC time written>",
     "signer": "<officer number, or 'home'>", "key": "<signing key's fingerprint>", "signature": "<base64>"}

The signature is raw Ed25519 over the exact bytes of `{"at":"…","hash":"…","seq":42}` (keys sorted, no
spaces), by the acting officer's personal key, or by the home's key when no officer acted (a scheduled
purge). A trusted time stamp may anchor the same bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import html
import json
import os
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import Context

FILE_NAME = "audit-checkpoints.jsonl"
KIND = "ohrt-audit-checkpoint"
_FOUND = re.compile(r'\{[^{}]*"kind"\s*:\s*"' + KIND + r'"[^{}]*\}')


def message(seq: int, hash_: str, at: str) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    return json.dumps({"at": at, "hash": hash_, "seq": seq}, sort_keys=True, separators=(",", ":")).encode()


def path_of(home: Path) -> Path:
    return home / FILE_NAME


def make(ctx: "Context", upto: int | None = None, *, by_home: bool = False) -> dict | None:
    """A signed checkpoint of the chain's head as committed now (or of entry `upto`), or None for an
    empty chain. `by_home`: signed with the home's key, naming no officer (for the anonymised report)."""
    from . import officer_keys, signing
    from .times import iso

    if upto is None:
        head = ctx.db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    else:
        head = ctx.db.execute("SELECT seq, hash FROM audit WHERE seq = ?", [upto]).fetchone()
    if not head:
        return None
    seq, hash_ = head
    at = iso(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    data = message(seq, hash_, at)
    signer, key, signature = "home", None, None
    from .errors import OhrtError

    try:
        made = None if by_home else officer_keys.signer_for(ctx, prompt=False)
    except OhrtError:  # a key behind a passphrase not given: the home's key signs instead
        made = None
    if made is not None:
        signer, key, signature = ctx.officer.number, ctx.officer.fingerprint, made.sign(data)
    else:
        signature = signing.sign(ctx.keys_dir, data)
        key = signing.fingerprint((ctx.keys_dir / signing.PUBLIC_NAME).read_bytes())
    return {"kind": KIND, "seq": seq, "hash": hash_, "at": at, "signer": signer, "key": key,
            "signature": base64.b64encode(signature).decode("ascii")}


def line(checkpoint: dict) -> str:
    return json.dumps(checkpoint, separators=(",", ":")) + "\n"


def write(ctx: "Context") -> dict | None:
    """Append a checkpoint of the head to the home's file (under an exclusive lock: lines never mix)."""
    checkpoint = make(ctx)
    if checkpoint is None:
        return None
    target = path_of(ctx.home)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        last = latest_in(target)
        if last and (last["seq"], last["hash"]) == (checkpoint["seq"], checkpoint["hash"]):
            return last
        os.write(fd, line(checkpoint).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return checkpoint


def latest_in(path: Path) -> dict | None:
    """The last checkpoint of a file, read from its end."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 4096))
            tail = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return None
    found = parse(tail)
    return found[-1] if found else None


def parse(text: str) -> list[dict]:
    """Every well-formed checkpoint in a text (a checkpoints file, an exported audit file, a report)."""
    found = []
    for match in _FOUND.finditer(html.unescape(text)):
        try:
            item = json.loads(match.group(0))
        except ValueError:
            continue
        if isinstance(item.get("seq"), int) and all(isinstance(item.get(k), str) for k in
                                                      ("hash", "at", "signer", "key", "signature")):
            found.append(item)
    return found


def read(path: Path) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return parse(_uncsv(text) if path.suffix.lower() == ".csv" else text)


def _uncsv(text: str) -> str:
    """A CSV's cells, one a line (a checkpoint in a cell has its quotes doubled)."""
    import csv
    import io

    return "\n".join(cell for row in csv.reader(io.StringIO(text)) for cell in row)


def gather(source: Path) -> list[dict]:
    """Checkpoints carried by something that left the machine: a package folder or its zip, an exported
    audit file, a report, or a checkpoints file."""
    source = Path(source)
    if source.is_dir():
        found: list[dict] = []
        for child in sorted(source.rglob("*")):
            if child.is_file() and child.suffix in (".jsonl", ".json", ".html", ".txt", ".md", ".csv"):
                found += read(child)
        return found
    if zipfile.is_zipfile(source):
        found = []
        with zipfile.ZipFile(source) as archive:
            for name in archive.namelist():
                if name.endswith((".jsonl", ".json", ".html", ".txt", ".md", ".csv")):
                    text = archive.read(name).decode("utf-8", "replace")
                    found += parse(_uncsv(text) if name.endswith(".csv") else text)
        return found
    return read(source)


def signature_valid(checkpoint: dict, public_pem: bytes) -> bool:
    from . import signing

    try:
        signature = base64.b64decode(checkpoint["signature"], validate=True)
    except ValueError:
        return False
    return signing.verify(public_pem, signature, message(checkpoint["seq"], checkpoint["hash"], checkpoint["at"]))
