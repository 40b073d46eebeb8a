"""Changing the roster (SOP 3.6): who may act in the home, in which role, under which login and key.

Only a sergeant or above changes it; nothing is deleted (a leaver is disabled, their history kept). Every
change is made under the database's write lock with `config.toml` read inside it, so two changes at once
both land, and each is an audit entry signed by the officer who made it. The chain therefore holds the
roster as it stood at any moment (`as_of`), which is what signatures are checked against.

config.toml and the database cannot change in one commit. So a change writes a journal (HOME/.roster-change:
its process, its audit entry's seq and hash, config.toml as it was) before it saves config.toml, and removes
it once the transaction committed or config.toml was put back. A command killed in between leaves the
journal; the next command (`finish_interrupted_change`, under the write lock) keeps the new config.toml if
the entry was committed, else puts the old one back — so the roster and the chain never disagree.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator

from . import audit, config, officer_keys, signing
from .context import Context
from .db import transaction
from .errors import InputError, NotAllowed, NotFound
from .layout import CONFIG_NAME, DB_NAME, ROSTER_JOURNAL

CHANGED_BY = "sergeant"


@contextlib.contextmanager
def _changing(ctx: Context) -> Iterator[None]:
    """The write transaction of one roster change: config.toml is put back if it does not commit."""
    try:
        with transaction(ctx.db):
            yield
    except BaseException:
        _settle(ctx.home, ctx.db, committed=False, own=True)
        raise
    _settle(ctx.home, ctx.db, committed=True, own=True)


def _save(ctx: Context, seq: int) -> None:
    """Inside the transaction, after the change's audit entry `seq`: the journal, then config.toml."""
    path = ctx.settings.path
    entry_hash = ctx.db.execute("SELECT hash FROM audit WHERE seq = ?", [seq]).fetchone()[0]
    journal = {"pid": os.getpid(), "seq": seq, "hash": entry_hash, "before": path.read_text(encoding="utf-8")}
    partial = ctx.home / f"{ROSTER_JOURNAL}.{os.getpid()}"
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(journal))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, ctx.home / ROSTER_JOURNAL)
    ctx.settings.save()


def _settle(home: Path, db, *, committed: bool | None, own: bool = False) -> None:
    """Remove the journal, first putting config.toml back when its change was not committed (`committed`
    None: look whether its audit entry is in the chain). `own`: only this process's journal."""
    path = home / ROSTER_JOURNAL
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except ValueError:  # not a journal: written whole through a rename, so never half of one
        journal = {}
    if own and journal.get("pid") != os.getpid():
        return  # another command's, which settles it itself (or the next command does)
    if not journal:
        path.unlink(missing_ok=True)
        return
    if committed is None:
        found = db.execute("SELECT hash FROM audit WHERE seq = ?", [journal["seq"]]).fetchone()
        committed = found is not None and found[0] == journal["hash"]
    if not committed:
        config_path = home / CONFIG_NAME
        partial = config_path.with_suffix(f".toml.back-{os.getpid()}")
        partial.write_text(journal["before"], encoding="utf-8")
        info = config_path.stat()
        os.chmod(partial, info.st_mode & 0o7777)
        if os.geteuid() == 0:
            os.chown(partial, info.st_uid, info.st_gid)
        os.replace(partial, config_path)
    path.unlink(missing_ok=True)


def finish_interrupted_change(home: Path) -> None:
    """A roster change whose command was killed between saving config.toml and its commit: keep or undo it,
    as the chain says, under the write lock (see the module's docstring). A change still running is left."""
    from .db import connect
    from .store import process_alive

    path = home / ROSTER_JOURNAL
    try:
        pid = int(json.loads(path.read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        pid = None
    if pid is not None and pid != os.getpid() and process_alive(pid):
        return
    db = connect(home / DB_NAME)
    try:
        with transaction(db):
            _settle(home, db, committed=None)
    finally:
        db.close()


def _reload(ctx: Context) -> None:
    """Inside the write lock: the roster as it is now on disk (a change cut short kept or undone first), and
    the acting officer as it says."""
    if (ctx.home / ROSTER_JOURNAL).exists():
        _settle(ctx.home, ctx.db, committed=None)
    ctx.settings = config.load(ctx.settings.path)
    if ctx.officer is not None:
        ctx.officer = ctx.settings.find_officer(ctx.officer.number)


def add_officer(ctx: Context, name: str, number: str, role: str, login: str | None = None) -> config.Officer:
    """Add an officer (a sergeant or above, audited and signed). A home not in training needs the login
    the officer works under; their personal key is made at their first command (at once when it is the
    current login, or in a training home)."""
    officer = config.validate_officer(name, number, role, login)
    if not ctx.settings.training and officer.login is None:
        raise InputError(f"give the login {officer.name} works under, e.g. --login {officer.name.split()[-1].lower()}: "
                         "on this home the acting officer is the one of the current login.")
    ctx.actor(CHANGED_BY)
    with _changing(ctx):
        _reload(ctx)
        ctx.actor(CHANGED_BY)
        for other in ctx.settings.officers:
            if other.number.lower() == officer.number.lower():
                raise InputError(f"number {officer.number} is already on the roster: check `ohrt officer list`.")
            if officer.login and other.login == officer.login:
                raise InputError(f"login {officer.login} is already {other}'s: one login is one officer.")
        made = None
        if ctx.settings.training or officer.login == ctx.login:
            made = _make_key(ctx, officer)
            officer = replace(officer, fingerprint=signing.fingerprint(made), public_key=made.decode())
        seq = audit.record(ctx, "officer.add", "officer", officer.number, detail={
            **officer.as_dict(), "login": officer.login, "fingerprint": officer.fingerprint,
            "public_key": officer.public_key})
        ctx.settings.put_officer(officer)
        _save(ctx, seq)
    return officer


def change_role(ctx: Context, number: str, role: str) -> config.Officer:
    """Give an officer another role (a sergeant or above; not their own)."""
    role = config.validate_role(role)
    ctx.actor(CHANGED_BY)
    with _changing(ctx):
        _reload(ctx)
        actor = ctx.actor(CHANGED_BY)
        officer = _named(ctx, number)
        if officer.number == actor.number:
            raise NotAllowed("no officer changes their own role: ask another sergeant or above.")
        if officer.role == role:
            raise InputError(f"{officer} already has that role: nothing changed.")
        seq = audit.record(ctx, "officer.role", "officer", officer.number,
                           detail={"number": officer.number, "role_was": officer.role, "role": role})
        officer = replace(officer, role=role)
        ctx.settings.put_officer(officer)
        _save(ctx, seq)
    return officer


def disable(ctx: Context, number: str, reason: str | None = None) -> config.Officer:
    """A leaver: kept on the roster with the day they left, and may no longer act. The reason goes into
    the audit chain, so one naming a subject, an incident reference or indices research is refused."""
    from .sensitive import check_reason
    from .times import iso

    ctx.actor(CHANGED_BY)
    check_reason(ctx, reason)
    with _changing(ctx):
        _reload(ctx)
        actor = ctx.actor(CHANGED_BY)
        officer = _named(ctx, number)
        if officer.number == actor.number:
            raise NotAllowed("no officer disables themselves: ask another sergeant or above.")
        if not officer.active:
            raise InputError(f"{officer} already left on {officer.disabled[:10]}: nothing changed.")
        at = iso(ctx.now())
        seq = audit.record(ctx, "officer.disable", "officer", officer.number, reason=reason,
                           detail={"number": officer.number, "disabled": at})
        officer = replace(officer, disabled=at)
        ctx.settings.put_officer(officer)
        _save(ctx, seq)
    return officer


def enrol_key(ctx: Context) -> config.Officer:
    """The acting officer's personal key pair, made in their own data folder and its public key put on the
    roster and in the chain (signed with the new key itself). Runs once, at the officer's first command."""
    officer = ctx.officer
    with _changing(ctx):
        _reload(ctx)
        officer = ctx.officer
        if officer is None or officer.fingerprint is not None:
            return officer
        if officer.login != ctx.login and not ctx.settings.training:
            raise NotAllowed(f"{officer}'s key is made by their own login ({officer.login}), at their first command.")
        made = _make_key(ctx, officer)
        officer = replace(officer, fingerprint=signing.fingerprint(made), public_key=made.decode())
        ctx.officer = officer
        ctx.personal_keys[officer.number] = ctx.personal_keys.pop("new")
        seq = audit.record(ctx, "officer.key", "officer", officer.number, detail={
            "number": officer.number, "fingerprint": officer.fingerprint, "public_key": officer.public_key})
        ctx.settings.put_officer(officer)
        _save(ctx, seq)
    return officer


def _make_key(ctx: Context, officer: config.Officer) -> bytes:
    """A new key pair for `officer`; returns the public key's PEM (the private key is kept for this
    command as ctx.personal_keys["new"])."""
    path = officer_keys.key_path(ctx, officer)
    if path.exists():  # left by an earlier attempt whose transaction did not commit: it was never used
        path.unlink()
    key = officer_keys.create(path, officer_keys.passphrase_from_env())
    ctx.personal_keys["new"] = key
    return officer_keys.public_pem(key)


def _named(ctx: Context, number: str) -> config.Officer:
    officer = ctx.settings.find_officer(number)
    if officer is None:
        raise NotFound(f"no officer {number!r} on the roster: check `ohrt officer list`.")
    return officer


# ------------------------------------------------------------------------- the roster as it stood

@dataclass
class Standing:
    """One officer as the chain knew them at some point."""

    number: str
    name: str
    role: str
    login: str | None
    fingerprint: str | None
    public_key: str | None
    disabled: str | None = None


def replay(entries: Iterable[dict]):
    """Walk the chain's entries in order; yields (entry, roster before it) with the roster as a dict
    number -> Standing, and the home key's fingerprint recorded at init under the key "home"."""
    roster: dict[str, Standing] = {}
    for entry in entries:
        yield entry, roster
        detail, action = entry["detail"], entry["action"]
        if action == "home.init":
            first = detail.get("first_officer") or {}
            if first:
                roster[str(first["number"])] = Standing(
                    str(first["number"]), first["name"], first["role"], first.get("login"),
                    first.get("fingerprint"), first.get("public_key"))
        elif action == "officer.add":
            roster[str(detail["number"])] = Standing(
                str(detail["number"]), detail["name"], detail["role"], detail.get("login"),
                detail.get("fingerprint"), detail.get("public_key"))
        elif action in ("officer.role", "officer.key", "officer.disable") and str(detail.get("number")) in roster:
            standing = roster[str(detail["number"])]
            if action == "officer.role":
                standing.role = detail["role"]
            elif action == "officer.key":
                standing.fingerprint, standing.public_key = detail["fingerprint"], detail["public_key"]
            else:
                standing.disabled = detail["disabled"]


def final(entries: Iterable[dict]) -> dict[str, Standing]:
    """The roster after the last of `entries` (the generator applies each entry after yielding it, and
    keeps updating the same dict, so exhausting it leaves the last one applied)."""
    roster: dict[str, Standing] = {}
    for _, roster in replay(entries):
        pass
    return roster


__all__ = ["add_officer", "change_role", "disable", "enrol_key", "replay", "final", "Standing"]
