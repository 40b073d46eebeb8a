"""Everything `ohrt audit verify` checks (DPA 2018 s.62; SOP 3.6, 7.5, 10.2, 10.8): the chain's hashes, its
head against every signed checkpoint found (the home's file and those that left the machine), the acting
officer's signature on each role-gated act against the roster as it stood then, and the roster and keys
of the home against what the chain recorded.

Each disagreement is a problem naming the entry, checkpoint or officer; none stops the others being looked at.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

from . import audit, checkpoints, roster, signing
from .config import RANK
from .errors import InputError, IntegrityFailure

if TYPE_CHECKING:
    from .context import Context


def check(ctx: "Context", against: list[Path] | None = None) -> dict:
    """Returns {"intact", "entries", "checkpoints": {"checked", "latest", "sources"}, "signatures",
    "problems": [{"check", "seq", "problem", "detail"}]}."""
    problems: list[dict] = []

    def problem(check: str, kind: str, detail: str, seq: int | None = None) -> None:
        problems.append({"check": check, "seq": seq, "problem": kind, "detail": detail})

    count = 0
    try:
        count = audit.verify(ctx.db)
    except IntegrityFailure as exc:
        problem("chain", "broken", exc.message)
    entries = audit.entries(ctx.db)
    by_seq = {entry["seq"]: entry for entry in entries}
    first = by_seq.get(1) if by_seq.get(1, {}).get("action") == "home.init" else None
    bound = bool(first and "home_id" in first["detail"])  # made since officers sign their acts
    if not entries:
        tasks = ctx.db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
        problem("chain", "emptied", "the chain has no entries, yet every home begins with its home.init entry"
                + (f" and this one holds {tasks} task(s)" if tasks else "") + ": the audit table was emptied; "
                "restore the database from backup and report it.")
    elif first is None:
        problem("chain", "broken", "entry 1 is not the home's home.init entry: the chain was rebuilt.", 1)
    _check_home(ctx, first, bound, problem)
    final = roster.final(entries)
    checked = _check_checkpoints(ctx, against or [], by_seq, count, final, bound, problem)
    signed = _check_signatures(ctx, entries, bound, problem)
    _check_roster(ctx, final, bound, problem)
    return {"intact": not problems, "entries": count, "checkpoints": checked, "signatures": signed,
            "problems": problems}


def home_key_pinned(ctx: "Context", first: dict | None) -> tuple[bytes | None, str | None]:
    """The home's public key, and the fingerprint home.init recorded for it."""
    path = ctx.keys_dir / signing.PUBLIC_NAME
    pem = path.read_bytes() if path.is_file() else None
    return pem, (first or {}).get("detail", {}).get("public_key")


def _check_home(ctx, first, bound, problem) -> None:
    pem, recorded = home_key_pinned(ctx, first)
    if pem is None:
        problem("key", "missing", f"the home's public key {ctx.keys_dir / signing.PUBLIC_NAME} is missing.")
    elif bound and recorded and signing.fingerprint(pem) != recorded:  # (0.1.0 recorded another kind of digest)
        problem("key", "replaced", f"the home's key has fingerprint {signing.fingerprint(pem)}, but home.init "
                f"recorded {recorded}: the key pair was swapped; what it signed since proves nothing.", 1)
    if bound:
        was_training = bool(first["detail"].get("training"))
        if ctx.settings.training != was_training:
            problem("config", "training", f"config.toml makes this a {'training' if ctx.settings.training else 'real'}"
                    f" home, but it was made as a {'training' if was_training else 'real'} one (entry 1): "
                    "put [home] training back as it was.", 1)


def _check_checkpoints(ctx, against, by_seq, count, final, bound, problem) -> dict:
    home_file = checkpoints.path_of(ctx.home)
    sources: list[tuple[str, dict]] = [("home", c) for c in checkpoints.read(home_file)]
    if bound and not home_file.is_file():
        problem("checkpoint", "missing", f"{home_file.name} is missing beside the database: it was removed; the "
                "chain can only be checked against checkpoints that left the machine (--against).")
    for path in against:
        path = Path(path).expanduser()
        if not path.exists():
            raise InputError(f"{path} does not exist: give an evidence package (folder or zip), an exported audit "
                             "file or a quarterly report.")
        found = checkpoints.gather(path)
        if not found:
            raise InputError(f"{path} holds no audit checkpoints: give an evidence package, an exported audit file "
                             "or a quarterly report made by this version of ohrt.")
        sources += [(str(path), c) for c in found]
    home_pem, home_recorded = home_key_pinned(ctx, by_seq.get(1))
    if not bound:
        home_recorded = None  # a home made before 0.2 recorded another kind of digest
    latest = None
    reported: set = set()
    for where, cp in sources:
        label = f"checkpoint of entry {cp['seq']} written {cp['at']} ({'home file' if where == 'home' else where})"
        pem = _checkpoint_key(cp, final, home_pem, home_recorded)
        if pem is None:
            problem("checkpoint", "signature", f"{label}: signed by {cp['signer']} with key {cp['key'][:16]}…, which "
                    "is not that officer's key in the chain nor the home's recorded key.", cp["seq"])
            continue
        if not checkpoints.signature_valid(cp, pem):
            problem("checkpoint", "signature", f"{label}: its signature does not verify: the line was altered.",
                    cp["seq"])
            continue
        if cp["seq"] > count:
            key = ("cut", count)
            if key not in reported:
                reported.add(key)
                problem("checkpoint", "truncated", f"{label}: the chain reached entry {cp['seq']} then, and ends at "
                        f"entry {count} now: entries were cut from its end (or the head rewound); restore from backup "
                        "and report it.", cp["seq"])
        elif by_seq.get(cp["seq"], {}).get("hash") != cp["hash"]:
            problem("checkpoint", "rewritten", f"{label}: entry {cp['seq']} has another hash now: the chain up to it "
                    "was edited and recomputed; restore from backup and report it.", cp["seq"])
        if latest is None or cp["seq"] > latest["seq"]:
            latest = cp
    return {"checked": len(sources), "latest": latest, "sources": sorted({w for w, _ in sources})}


def _checkpoint_key(cp, final, home_pem, home_recorded) -> bytes | None:
    if cp["signer"] == "home":
        if home_pem and signing.fingerprint(home_pem) == cp["key"] and home_recorded in (None, cp["key"]):
            return home_pem
        return None
    standing = final.get(cp["signer"])
    if standing and standing.public_key and standing.fingerprint == cp["key"]:
        return standing.public_key.encode()
    return None


def _check_signatures(ctx, entries, bound, problem) -> int:
    """Every entry of a home made since officers sign: signed by who wrote it (the officer's key on the
    roster then; the home's key for a scheduled job), who was on the roster, not gone, and of the role the
    act needs."""
    if not bound:
        return 0
    signatures = audit.signatures(ctx.db)
    home_pem, home_recorded = home_key_pinned(ctx, entries[0] if entries else None)
    checked = 0
    for entry, standing in roster.replay(entries):
        action, seq, who = entry["action"], entry["seq"], entry["officer"]
        label = f"entry {seq} ({action} by {who})"
        signature = signatures.get(seq)
        detail = entry["detail"]
        officer = standing.get(who)
        if who == "scheduled":
            key = home_pem.decode() if home_pem and signing.fingerprint(home_pem) == home_recorded else None
            expected_signer = audit.HOME_SIGNER
        else:
            expected_signer = who
            if action == "home.init":
                first = detail.get("first_officer") or {}
                officer = roster.Standing(str(first.get("number")), first.get("name", ""), first.get("role", ""),
                                          first.get("login"), first.get("fingerprint"), first.get("public_key"))
            if officer is None:
                problem("signature", "officer", f"{label}: {who} was not on the roster then.", seq)
                continue
            key = detail.get("public_key") if action == "officer.key" else officer.public_key
            if officer.disabled and officer.disabled <= entry["at"]:
                problem("signature", "officer", f"{label}: {officer.name} had left on {officer.disabled[:10]}.", seq)
            need = audit.ROLE_GATED.get(action)
            if need and RANK.get(officer.role, -1) < RANK[need]:
                problem("signature", "role", f"{label}: {action} needs a {need} or above; {officer.name} was a "
                        f"{officer.role} then.", seq)
        if key is None:
            if signature is None and who != "scheduled" and not ctx.settings.training:
                continue  # written before the officer's key was made (their first command makes it)
            problem("signature", "key", f"{label}: no key of its writer is on record to check it with.", seq)
            continue
        if signature is None:
            problem("signature", "missing", f"{label}: the writer's signature over the entry is missing: it was "
                    "not written by ohrt, or its signature was removed.", seq)
            continue
        if signature["officer"] != expected_signer or signature["key"] != signing.fingerprint(key.encode()):
            problem("signature", "key", f"{label}: signed by {signature['officer']} with key "
                    f"{signature['key'][:16]}…, not by the writer's key on the roster then.", seq)
            continue
        try:
            raw = base64.b64decode(signature["signature"], validate=True)
        except ValueError:
            raw = b""
        if not signing.verify(key.encode(), raw, entry["hash"].encode("ascii")):
            problem("signature", "invalid", f"{label}: the signature does not verify over the entry's hash.", seq)
            continue
        checked += 1
    return checked


def _check_roster(ctx, final, bound, problem) -> None:
    if not bound:
        return
    for officer in ctx.settings.officers:
        standing = final.get(officer.number)
        if standing is None:
            problem("roster", "unrecorded", f"{officer} is on config.toml's roster but was never added through ohrt "
                    "(no officer.add entry): remove it from config.toml and have a sergeant add them.")
            continue
        for field, now, then in (("role", officer.role, standing.role), ("login", officer.login, standing.login),
                                 ("key", officer.fingerprint, standing.fingerprint),
                                 ("left", officer.disabled, standing.disabled)):
            if now != then:
                problem("roster", field, f"{officer.name} ({officer.number}): config.toml says {field} {now!r}, the "
                        f"chain says {then!r}: config.toml was edited by hand; put it back.")
