"""Creating a home and keeping its roster (SOP 3.6: who may act in it).

A home is one folder: `ohrt.db`, `config.toml`, `keys/`, `captures/`, `exports/`. It is built in a
temporary folder beside its final place and renamed into place, so an interrupted `init` leaves nothing
that looks like a home.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from . import audit, checkpoints, config, officer_keys, signing
from .context import Context, resolve_home
from .layout import CONFIG_NAME, DB_NAME, KEYS_DIR, MADE_AT_INIT, ROSTER_JOURNAL
from .db import connect, transaction
from .errors import HomeError, InputError


def init_home(home: str | Path | None, team: str, mailbox: str, officer_name: str, number: str,
              role: str, *, login: str | None = None, training: bool = False,
              group: str | None = None) -> tuple[Path, bool]:
    """Create the home; returns (path, created). An existing home is left exactly as it is.

    Not in training, the first officer works under `login` (default: the current login) and their
    personal key is made at once when that is the current login. With `group`, the home belongs to that
    OS group: the group's logins may work in it, no one else may read it."""
    from .context import clock_from_env, current_login

    root = resolve_home(home)
    if (root / CONFIG_NAME).exists():
        return root, False
    if root.exists() and any(root.iterdir()):
        raise HomeError(f"{root} exists and is not an empty folder nor an ohrt home: choose another --home.")
    if not training and login is None:
        login = current_login()
    first = config.validate_officer(officer_name, number, role, login)
    gid = _group_id(group) if group else None
    if group:
        os.umask(0o007)
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".ohrt-home-", dir=root.parent))
    try:
        settings = config.new_settings(staging / CONFIG_NAME, team, mailbox, first, training=training, group=group)
        settings.raw["home"]["id"] = secrets.token_hex(8)
        for sub in MADE_AT_INIT:
            (staging / sub).mkdir()
        signing.create_key(staging / KEYS_DIR)
        db = connect(staging / DB_NAME)
        ctx = Context(home=staging, db=db, settings=settings, officer=first, login=current_login())
        ctx.clock, ctx.clock_fixed = clock_from_env()
        if training or first.login == ctx.login:
            key = officer_keys.create(officer_keys.key_path(ctx, first), officer_keys.passphrase_from_env())
            pem = officer_keys.public_pem(key)
            first = replace(first, fingerprint=signing.fingerprint(pem), public_key=pem.decode())
            ctx.officer = first
            ctx.personal_keys[first.number] = key
            settings.put_officer(first)
        settings.save()
        public = (staging / KEYS_DIR / signing.PUBLIC_NAME).read_bytes()
        with transaction(db):
            audit.record(ctx, "home.init", "home", settings.team_name,
                         detail={"team": settings.team_name, "mailbox": settings.mailbox,
                                 "first_officer": {**first.as_dict(), "login": first.login,
                                                   "fingerprint": first.fingerprint,
                                                   "public_key": first.public_key},
                                 "public_key": signing.fingerprint(public), "training": training,
                                 "group": group, "home_id": settings.raw["home"]["id"]})
        checkpoints.write(ctx)
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        if gid is not None:
            _share_with_group(staging, gid)
        if root.exists():
            root.rmdir()
        staging.rename(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return root, True


def _group_id(group: str) -> int:
    import grp

    try:
        entry = grp.getgrnam(group)
    except KeyError:
        raise InputError(f"there is no OS group {group!r}: create it (groupadd {group}) and add the team's "
                         "logins to it (usermod -aG), then run init again.") from None
    if os.geteuid() != 0 and entry.gr_gid not in os.getgroups():
        raise InputError(f"this login is not in group {group!r}: add it (usermod -aG {group} LOGIN), log in "
                         "again, then run init.")
    return entry.gr_gid


def _share_with_group(root: Path, gid: int) -> None:
    """The home belongs to the group: folders 2770 (new files take the group), files 0660 (the home's
    private key 0640: the group signs with it, nobody changes it), nothing for others."""
    for path in [root, *root.rglob("*")]:
        os.chown(path, -1, gid)
        if path.is_dir():
            os.chmod(path, 0o2770)
        elif path.name == signing.PRIVATE_NAME:
            os.chmod(path, 0o440)
        else:
            os.chmod(path, 0o660)


def add_officer(ctx: Context, name: str, number: str, role: str, login: str | None = None) -> config.Officer:
    from . import roster

    return roster.add_officer(ctx, name, number, role, login)


def open_context(home: str | os.PathLike | None = None, officer: str | None = None) -> Context:
    """The Context of one command (see context.open_context); not in training, an officer's first command
    also makes their personal key in their own data folder."""
    from . import context, roster

    root = context.resolve_home(home)
    if (root / ROSTER_JOURNAL).exists():  # a roster change was cut short: keep or undo it first
        roster.finish_interrupted_change(root)
    ctx = context.open_context(root, officer)
    chosen = ctx.officer
    if chosen is not None and chosen.active and chosen.fingerprint is None and not ctx.settings.training:
        try:
            roster.enrol_key(ctx)
        except BaseException:
            ctx.close()
            raise
    return ctx


__all__ = ["init_home", "add_officer", "open_context"]
