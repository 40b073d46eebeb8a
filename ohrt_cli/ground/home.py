"""Creating a home and keeping its roster (SOP 3.6: who may act in it).

A home is one folder: `ohrt.db`, `config.toml`, `keys/`, `captures/`, `exports/`. It is built in a
temporary folder beside its final place and renamed into place, so an interrupted `init` leaves nothing
that looks like a home.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from . import audit, config, signing
from .context import Context, open_context, resolve_home
from .layout import CONFIG_NAME, DB_NAME, KEYS_DIR, MADE_AT_INIT
from .db import connect, transaction
from .errors import HomeError, InputError


def init_home(home: str | Path | None, team: str, mailbox: str, officer_name: str, number: str,
              role: str) -> tuple[Path, bool]:
    """Create the home; returns (path, created). An existing home is left exactly as it is."""
    root = resolve_home(home)
    if (root / CONFIG_NAME).exists():
        return root, False
    if root.exists() and any(root.iterdir()):
        raise HomeError(f"{root} exists and is not an empty folder nor an ohrt home: choose another --home.")
    first = config.validate_officer(officer_name, number, role)
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".ohrt-home-", dir=root.parent))
    try:
        settings = config.new_settings(staging / CONFIG_NAME, team, mailbox, first)
        for sub in MADE_AT_INIT:
            (staging / sub).mkdir()
        signing.create_key(staging / KEYS_DIR)
        settings.save()
        db = connect(staging / DB_NAME)
        ctx = Context(home=staging, db=db, settings=settings, officer=first)
        from .context import clock_from_env

        ctx.clock, ctx.clock_fixed = clock_from_env()
        public = (staging / KEYS_DIR / signing.PUBLIC_NAME).read_bytes()
        with transaction(db):
            audit.record(ctx, "home.init", "home", settings.team_name,
                         detail={"team": settings.team_name, "mailbox": settings.mailbox,
                                 "first_officer": first.as_dict(),
                                 "public_key": signing.fingerprint(public)})
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        if root.exists():
            root.rmdir()
        staging.rename(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return root, True


def add_officer(ctx: Context, name: str, number: str, role: str) -> config.Officer:
    ctx.actor()
    officer = config.validate_officer(name, number, role)
    if any(o.number.lower() == officer.number.lower() for o in ctx.settings.officers):
        raise InputError(f"number {officer.number} is already on the roster: check `ohrt officer list`.")
    with transaction(ctx.db):
        audit.record(ctx, "officer.add", "officer", officer.number, detail=officer.as_dict())
        ctx.settings.raw.setdefault("officers", []).append(officer.as_dict())
        ctx.settings.save()
    return officer


__all__ = ["init_home", "add_officer", "open_context"]
