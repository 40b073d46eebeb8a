"""The Context every domain function takes (no SOP paragraph of its own): the home's database, store,
settings, clock and acting officer. Built once per command by the CLI, or by a test on `tmp_path`;
nothing reads global state."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .config import RANK, Officer, Settings
from .errors import HomeError, NotAllowed

if TYPE_CHECKING:
    import sqlite_utils

from .layout import CAPTURES_DIR, CONFIG_NAME, DB_NAME, EXPORTS_DIR, KEYS_DIR  # noqa: F401 (names used by home.py)


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def clock_from_env() -> tuple[Callable[[], dt.datetime], bool]:
    """`OHRT_NOW` (ISO-8601) fixes the clock, for training and for tests of retention; every audit
    entry written under a fixed clock says so, so it cannot pass unnoticed."""
    fixed = os.environ.get("OHRT_NOW")
    if not fixed:
        return system_clock, False
    from .times import parse_iso

    try:
        moment = parse_iso(fixed)
    except ValueError:
        raise HomeError(f"OHRT_NOW={fixed!r} is not an ISO-8601 time: unset it or give e.g. 2026-05-01T09:00:00+00:00.") from None
    return (lambda: moment), True


def current_login() -> str:
    """The OS login this process runs as (by its effective uid, not $USER, which anyone can set)."""
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def acting_officer(settings: Settings, claim: str | None, login: str) -> Officer | None:
    """The officer who acts: in a training home whoever `claim` names; otherwise the roster entry of the
    current login, which `claim` (--officer/OHRT_OFFICER) may only confirm, never change."""
    if settings.training:
        return settings.find_officer(claim) if claim else None
    own = settings.find_login(login)
    if claim:
        named = settings.find_officer(claim)
        if own is None or named is None or named.number != own.number:
            who = f"{own}" if own else "no officer on the roster"
            raise NotAllowed(
                f"--officer/OHRT_OFFICER {claim!r} is not you: login {login!r} is {who}. On this home the acting "
                "officer is the one of your login; log in as that officer instead (or unset OHRT_OFFICER)."
            )
    return own


@dataclass
class Context:
    home: Path
    db: "sqlite_utils.Database"
    settings: Settings
    officer: Officer | None = None
    officer_claim: str | None = None
    clock: Callable[[], dt.datetime] = system_clock
    clock_fixed: bool = False
    login: str = ""
    # run by `close`: the audit chain puts here the checkpoint of its head when this command appended to it
    on_close: list = field(default_factory=list)
    personal_keys: dict = field(default_factory=dict)  # number -> private key loaded for this command

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        return self.now().date()

    @property
    def keys_dir(self) -> Path:
        return self.home / KEYS_DIR

    @property
    def captures_dir(self) -> Path:
        return self.home / CAPTURES_DIR

    @property
    def exports_dir(self) -> Path:
        return self.home / EXPORTS_DIR

    def actor(self, at_least: str | None = None) -> Officer:
        """The acting officer, who must be on the roster (and of `at_least` rank when given)."""
        if self.officer is None:
            if not self.settings.training:
                raise NotAllowed(
                    f"login {self.login!r} is not on this home's roster: a sergeant adds you with `ohrt officer add "
                    f"NAME --number N --role ROLE --login {self.login}`."
                )
            if self.officer_claim:
                raise NotAllowed(
                    f"officer {self.officer_claim!r} is not on this home's roster: check --officer/OHRT_OFFICER "
                    "or have a rostered officer run `ohrt officer add`."
                )
            raise NotAllowed(
                "no acting officer: give --officer NUMBER, set OHRT_OFFICER, or set team.officer in config.toml."
            )
        if not self.officer.active:
            raise NotAllowed(f"{self.officer} left the team on {self.officer.disabled[:10]} and may no longer act: "
                             "a sergeant can add them again under a new number.")
        if at_least and RANK[self.officer.role] < RANK[at_least]:
            article = "an" if at_least[0] in "aeiou" else "a"
            able = [o for o in self.settings.officers if RANK[o.role] >= RANK[at_least] and o != self.officer]
            ask = (f"ask {', '.join(str(o) for o in able[:3])} to run it (ohrt --officer {able[0].number} …)" if able
                   else f"add one to the roster with `ohrt officer add NAME --number N --role {at_least}`")
            raise NotAllowed(f"{self.officer} may not do this: it needs {article} {at_least} or above; {ask}.")
        return self.officer

    def close(self) -> None:
        try:
            while self.on_close:
                self.on_close.pop(0)(self)
        finally:
            self.db.close()


def resolve_home(home: str | os.PathLike | None = None) -> Path:
    if home:
        return Path(home).expanduser().resolve()
    if os.environ.get("OHRT_HOME"):
        return Path(os.environ["OHRT_HOME"]).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir("ohrt", appauthor=False))


def open_context(home: str | os.PathLike | None = None, officer: str | None = None) -> Context:
    from . import config, db

    root = resolve_home(home)
    if not (root / CONFIG_NAME).is_file() or not (root / DB_NAME).is_file():
        raise HomeError(f"no ohrt home at {root}: run `ohrt init` (or point --home/OHRT_HOME at one).")
    settings = config.load(root / CONFIG_NAME)
    if settings.group:
        os.umask(0o007)  # what this command writes stays the team's: group may work, others may not read
    claim = officer or os.environ.get("OHRT_OFFICER")
    if settings.training:
        claim = claim or settings.default_officer
    login = current_login()
    chosen = acting_officer(settings, claim, login)
    clock, fixed = clock_from_env()
    return Context(
        home=root,
        db=db.connect(root / DB_NAME),
        settings=settings,
        officer=chosen,
        officer_claim=claim,
        clock=clock,
        clock_fixed=fixed,
        login=login,
    )
