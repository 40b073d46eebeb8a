"""Trusted time: RFC 3161 time-stamp requests and replies, and the Merkle tree one request can cover.

The SOP's capture machine is standalone (SOP 9.1): a time our own clock writes and our own key signs proves
integrity, not time. A time-stamp authority (TSA) signs "this digest existed at T" with a certificate a court
can check, and the digest may be the root of a Merkle tree over many items, so one request carried on a
stick to a networked machine stamps everything pending at once, and each item keeps its path to the root.

Implementation: OpenSSL's own `openssl ts` command (`-query`, `-reply -text`, `-verify`), not a Python
library. The reader of a package checks a stamp with exactly the command ohrt runs itself, so the check we
print is the check we made; OpenSSL is already a dependency (every signature is checked with it too), it
is the reference implementation auto-archiver's users and courts' experts reach for, and it needs nothing
from PyPI (rfc3161-client, the alternative, is a Rust extension whose verifier would be a second opinion
the reader could not run). Only the HTTP POST of a request is ours (urllib).

What leaves the machine when stamping online is a request: a SHA-256 digest and a random nonce, nothing of
the content, the case or any person.

The tree: a leaf is the SHA-256 of an item's bytes (a manifest.json, a tag manifest, the chain head); an
inner node is SHA-256(0x01 ‖ left ‖ right); a lone node at the end of a level goes up unchanged; a tree of
one leaf is that leaf, so a single item's stamp verifies with `openssl ts -verify -data FILE`. An item's
proof is the list of (side, sibling) from its leaf to the root.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import processes
from .errors import InputError, OhrtError

CONTENT_TYPE_QUERY = "application/timestamp-query"
CONTENT_TYPE_REPLY = "application/timestamp-reply"
MAX_REPLY = 1 << 20  # a reply is a few KB: anything larger is not one


class AuthorityUnreachable(OhrtError):
    """The authority could not be reached or did not grant the stamp: the item stays pending."""

    exit_code = 1


@dataclass(frozen=True)
class Reply:
    """What `openssl ts -reply -text` reads out of a reply."""

    status: str                  # "Granted", "Granted with modifications", "Rejection", …
    digest: str | None           # the message imprint, hex
    nonce: str | None            # hex, without 0x, lower case
    gen_time: str | None         # ISO-8601 UTC, as the authority put it
    serial: str | None
    tsa: str | None
    policy: str | None
    text: str

    @property
    def granted(self) -> bool:
        return self.status.startswith("Granted")


# ------------------------------------------------------------------------------------------------ tree

def node(left: str, right: str) -> str:
    return hashlib.sha256(b"\x01" + bytes.fromhex(left) + bytes.fromhex(right)).hexdigest()


def merkle(leaves: list[str]) -> tuple[str, list[list[list[str]]]]:
    """(root, proofs): each proof a list of [side, sibling hex], side "L" when the sibling is on the left."""
    if not leaves:
        raise ValueError("a tree needs at least one leaf")
    proofs: list[list[list[str]]] = [[] for _ in leaves]
    level = [(h, [i]) for i, h in enumerate(leaves)]
    while len(level) > 1:
        up = []
        for k in range(0, len(level), 2):
            if k + 1 == len(level):
                up.append(level[k])
                continue
            (left, lmembers), (right, rmembers) = level[k], level[k + 1]
            for i in lmembers:
                proofs[i].append(["R", right])
            for i in rmembers:
                proofs[i].append(["L", left])
            up.append((node(left, right), lmembers + rmembers))
        level = up
    return level[0][0], proofs


def root_from(leaf: str, proof: list) -> str:
    """The root an item's proof leads to from its leaf (compare it with the stamp's imprint)."""
    current = leaf
    for side, sibling in proof:
        current = node(sibling, current) if side == "L" else node(current, sibling)
    return current


# Prints the root an item leads to: the sha256 of the item's file, then up its proof (a JSON file whose
# "proof" is the list of [side, sibling]); what `openssl ts -verify -digest` must find stamped.
PROOF_COMMAND = ("python3 -c 'import hashlib,json,sys\n"
                 "h=hashlib.sha256(open(sys.argv[2],\"rb\").read()).hexdigest()\n"
                 "for s,x in json.load(open(sys.argv[1]))[\"proof\"]:"
                 "h=hashlib.sha256(b\"\\x01\"+bytes.fromhex(x+h if s==\"L\" else h+x)).hexdigest()\n"
                 "print(h)' {proof} {data}")


# --------------------------------------------------------------------------------------------- openssl

def _openssl(args: list[str], *, what: str) -> subprocess.CompletedProcess:
    try:
        return processes.run(["openssl", *args], capture_output=True, timeout=60)
    except FileNotFoundError:
        raise OhrtError(f"openssl is not installed, so {what} cannot be done: install OpenSSL 3 "
                        "(scripts/ensure-system.sh).") from None


def query(digest: str) -> bytes:
    """A request (what `openssl ts -query -digest HEX -sha256 -cert` makes): the digest, a fresh nonce, and a
    request that the authority put its certificate in the reply."""
    with tempfile.TemporaryDirectory(prefix="ohrt-ts-") as scratch:
        out = Path(scratch) / "request.tsq"
        ran = _openssl(["ts", "-query", "-digest", digest, "-sha256", "-cert", "-out", str(out)],
                       what="a time-stamp request")
        if ran.returncode != 0:
            raise OhrtError(f"openssl ts -query failed: {_last_line(ran.stderr)}")
        return out.read_bytes()


def read_query(tsq: bytes) -> dict:
    """{digest, nonce} of a request."""
    text = _text(["ts", "-query", "-in"], tsq, "request")
    return {"digest": _imprint(text), "nonce": _field(text, "Nonce")}


def read_reply(tsr: bytes) -> Reply:
    """What a reply says; InputError when it is not an RFC 3161 reply at all."""
    text = _text(["ts", "-reply", "-in"], tsr, "reply")
    status = (_field(text, "Status") or "").rstrip(".")
    when = _field(text, "Time stamp")
    return Reply(status=status or "unknown", digest=_imprint(text), nonce=_field(text, "Nonce"),
                 gen_time=_gen_time(when) if when else None, serial=_field(text, "Serial number"),
                 tsa=_field(text, "TSA"), policy=_field(text, "Policy OID"), text=text)


def verify(tsr: Path, *, ca_file: Path, digest: str | None = None, data: Path | None = None,
           query_file: Path | None = None, untrusted: Path | None = None) -> tuple[bool, str]:
    """`openssl ts -verify`: the reply's signature chains to `ca_file` (the authority configured as trusted),
    its certificate is for time-stamping, and its imprint is `digest` / the hash of `data` / that of the
    request in `query_file` (with its nonce). Returns (ok, openssl's last line)."""
    ran = _openssl(verify_args(tsr, ca_file=ca_file, digest=digest, data=data, query_file=query_file,
                               untrusted=untrusted), what="checking a time stamp")
    said = (ran.stdout + ran.stderr).decode("utf-8", errors="replace")
    ok = ran.returncode == 0 and "Verification: OK" in said
    return ok, "Verification: OK" if ok else _reason(said)


def verify_args(tsr: Path | str, *, ca_file: Path | str, digest: str | None = None, data: Path | str | None = None,
                query_file: Path | str | None = None, untrusted: Path | str | None = None) -> list[str]:
    args = ["ts", "-verify"]
    if query_file is not None:
        args += ["-queryfile", str(query_file)]
    elif data is not None:
        args += ["-data", str(data)]
    else:
        args += ["-digest", str(digest)]
    args += ["-in", str(tsr), "-CAfile", str(ca_file)]
    if untrusted is not None:
        args += ["-untrusted", str(untrusted)]
    return args


def post(url: str, tsq: bytes, *, timeout: float = 15) -> bytes:
    """Send a request to an authority over HTTP(S) (RFC 3161 §3.4); AuthorityUnreachable when it cannot be."""
    request = urllib.request.Request(url, data=tsq, method="POST", headers={
        "Content-Type": CONTENT_TYPE_QUERY, "Accept": CONTENT_TYPE_REPLY, "User-Agent": "ohrt"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (the configured authority)
            body = answer.read(MAX_REPLY + 1)
    except urllib.error.HTTPError as exc:
        raise AuthorityUnreachable(f"the time-stamp authority {url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AuthorityUnreachable(f"the time-stamp authority {url} could not be reached ({reason})") from None
    if len(body) > MAX_REPLY:
        raise AuthorityUnreachable(f"the time-stamp authority {url} answered with more than a reply")
    return body


def token(tsr: bytes) -> bytes:
    """The TimeStampToken (CMS SignedData) inside a reply: `openssl ts -reply -in R -token_out`."""
    with tempfile.TemporaryDirectory(prefix="ohrt-ts-") as scratch:
        source, out = Path(scratch) / "reply.tsr", Path(scratch) / "token.der"
        source.write_bytes(tsr)
        ran = _openssl(["ts", "-reply", "-in", str(source), "-token_out", "-out", str(out)],
                       what="reading a time-stamp reply")
        if ran.returncode != 0:
            raise InputError(f"the reply holds no time-stamp token ({_last_line(ran.stderr)})")
        return out.read_bytes()


def _text(args: list[str], data: bytes, what: str) -> str:
    with tempfile.TemporaryDirectory(prefix="ohrt-ts-") as scratch:
        source = Path(scratch) / f"{what}.der"
        source.write_bytes(data)
        ran = _openssl([*args, str(source), "-text"], what=f"reading a time-stamp {what}")
    if ran.returncode != 0:
        raise InputError(f"not an RFC 3161 time-stamp {what} ({_last_line(ran.stderr)}): give the file the "
                         f"authority returned (.tsr), made from ohrt's request (.tsq).")
    return ran.stdout.decode("utf-8", errors="replace")


def _field(text: str, name: str) -> str | None:
    found = re.search(rf"^{re.escape(name)}:\s*(.*?)\s*$", text, re.M)
    if not found or found[1] in ("", "unspecified"):
        return None
    value = found[1]
    if name == "Nonce":
        value = value.split()[0].lower().removeprefix("0x").lstrip("0") or "0"
    return value


def _imprint(text: str) -> str | None:
    """The hex of the 'Message data:' dump openssl prints."""
    found = re.search(r"^Message data:\s*\n((?:\s+[0-9a-f]{4} - .*\n?)+)", text, re.M)
    if not found:
        return None
    digits = []
    for line in found[1].splitlines():
        hexpart = line.split(" - ", 1)[1][:48]
        digits.append(re.sub(r"[^0-9a-f]", "", hexpart.replace("-", " ")))
    return "".join(digits)


def _gen_time(when: str) -> str:
    """'Dec  5 13:01:23 2026 GMT' (or with .fraction) → '2026-12-05T13:01:23+00:00' (fractions kept)."""
    cleaned = re.sub(r"\s+", " ", when.replace(" GMT", "").strip())
    fraction = ""
    found = re.search(r"(\d{2}:\d{2}:\d{2})(\.\d+)", cleaned)
    if found:
        fraction = found[2]
        cleaned = cleaned.replace(found[0], found[1])
    moment = dt.datetime.strptime(cleaned, "%b %d %H:%M:%S %Y")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "+00:00"


def _reason(said: str) -> str:
    lines = [line.strip() for line in said.splitlines() if line.strip() and not line.startswith("Using config")]
    for line in reversed(lines):
        if "Verify error:" in line:
            return line.split("Verify error:", 1)[1].strip()
        parts = line.split(":")
        if len(parts) >= 6 and parts[1] == "error":
            return parts[5].strip()
    return lines[-1] if lines else "openssl gave no reason"


def _last_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"
