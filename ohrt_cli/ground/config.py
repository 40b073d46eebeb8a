"""The home's `config.toml`: the team, its roster of officers, and the settings every stage reads.

The roster is the list of who may change anything (SOP 3.6): a command that changes the record refuses
to run for an officer who is not on it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import HomeError, InputError

# Ranks in order; "sergeant or above" compares against this (SOP 3.6.2–3.6.3).
ROLES = ("staff", "constable", "sergeant", "inspector", "chief-inspector")
RANK = {role: i for i, role in enumerate(ROLES)}

DEFAULTS: dict[str, Any] = {
    "retention": {"months": 12},
    "report": {"small_count_threshold": 5},
}


@dataclass(frozen=True)
class Officer:
    name: str
    number: str
    role: str
    login: str | None = None        # the OS login this officer works under (a home not in training)
    fingerprint: str | None = None  # of the officer's personal public key, once made
    public_key: str | None = None   # PEM
    disabled: str | None = None     # when the officer left (kept on the roster, may no longer act)

    def at_least(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]

    def as_dict(self) -> dict:
        return {"name": self.name, "number": self.number, "role": self.role}

    def roster_dict(self) -> dict:
        """The roster entry as config.toml keeps it (TOML has no null: absent keys are left out)."""
        entry = {**self.as_dict(), "login": self.login, "fingerprint": self.fingerprint,
                 "public_key": self.public_key, "disabled": self.disabled}
        return {k: v for k, v in entry.items() if v is not None}

    @property
    def active(self) -> bool:
        return self.disabled is None

    def __str__(self) -> str:
        return f"{self.name} ({self.number}, {self.role})"


@dataclass
class Settings:
    """What `config.toml` says, with the shipped defaults beneath it."""

    path: Path
    raw: dict = field(default_factory=dict)

    @property
    def team_name(self) -> str:
        return self.raw.get("team", {}).get("name", "")

    @property
    def mailbox(self) -> str:
        return self.raw.get("team", {}).get("mailbox", "")

    @property
    def default_officer(self) -> str | None:
        return self.raw.get("team", {}).get("officer")

    @property
    def officers(self) -> list[Officer]:
        return [Officer(o["name"], str(o["number"]), o["role"], o.get("login"), o.get("fingerprint"),
                        o.get("public_key"), o.get("disabled")) for o in self.raw.get("officers", [])]

    @property
    def training(self) -> bool:
        """A training home (demo, tests, classes): the acting officer is chosen freely and every audit
        entry says so. A home made before officers were bound to logins (no [home] table) is treated so
        too: its entries say the officer was chosen freely (`ohrt audit verify` names a [home] table removed
        from a home made since)."""
        return bool(self.raw.get("home", {}).get("training", True))

    @property
    def group(self) -> str | None:
        """The OS group a team's logins share the home through, when it has one."""
        return self.raw.get("home", {}).get("group")

    def find_login(self, login: str) -> Officer | None:
        """The roster entry of an OS login (leavers included: the caller says they may not act)."""
        for officer in self.officers:
            if officer.login and officer.login == login:
                return officer
        return None

    def put_officer(self, officer: Officer) -> None:
        """Add or replace (by number) one roster entry in memory; `save` writes it."""
        entries = self.raw.setdefault("officers", [])
        for i, entry in enumerate(entries):
            if str(entry["number"]).lower() == officer.number.lower():
                entries[i] = officer.roster_dict()
                return
        entries.append(officer.roster_dict())

    def get(self, dotted: str, default: Any = None) -> Any:
        """A setting by dotted path (`retention.months`), falling back to the shipped default."""
        for source in (self.raw, DEFAULTS):
            node: Any = source
            for part in dotted.split("."):
                if not isinstance(node, dict) or part not in node:
                    node = None
                    break
                node = node[part]
            if node is not None:
                return node
        return default

    def find_officer(self, who: str) -> Officer | None:
        """An officer by collar/staff number or by name (case-insensitive)."""
        who = (who or "").strip()
        for officer in self.officers:
            if officer.number.lower() == who.lower() or officer.name.lower() == who.lower():
                return officer
        return None

    def save(self) -> None:
        """Write the settings back. When only officers were added to a roster kept as [[officers]] blocks,
        their blocks are appended to the file as it is, so the team's comments and layout stay."""
        import tomli_w

        text = dumps(self.raw)
        try:
            before = self.path.read_text(encoding="utf-8")
            old = tomllib.loads(before)
        except (OSError, tomllib.TOMLDecodeError):
            before, old = None, None
        if before is not None and re.search(r"^\s*\[\[officers\]\]", before, re.M):
            kept, added = self.raw.get("officers") or [], len(self.raw.get("officers") or []) - len(
                old.get("officers") or [])
            if added > 0 and {**self.raw, "officers": kept[:len(kept) - added]} == old:
                text = before.rstrip("\n") + "\n" + "".join(
                    "\n[[officers]]\n" + tomli_w.dumps(o) for o in kept[len(kept) - added:])
        import os

        tmp = self.path.with_suffix(f".toml.tmp-{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        if self.path.exists():  # a group home's config stays the group's (owner, group and mode kept)
            info = self.path.stat()
            os.chmod(tmp, info.st_mode & 0o7777)
            if os.geteuid() == 0:
                os.chown(tmp, info.st_uid, info.st_gid)
        tmp.replace(self.path)


HEADER = """\
# ohrt's settings for this home: the team, its roster, and the settings of each stage (see the README,
# "The configuration file"). Edit a table where it stands: a table given twice is an error.
# `ohrt config check` says whether the file is right.
"""


def dumps(raw: dict) -> str:
    """The file in the README's form: [team], one [[officers]] block per officer, then every other table
    (tomli_w alone writes the roster inline, `officers = [...]`, which a [[officers]] block added by hand
    cannot extend)."""
    import tomli_w

    rest = {key: value for key, value in raw.items() if key not in ("team", "officers")}
    parts = [HEADER]
    if "team" in raw:
        parts.append(tomli_w.dumps({"team": raw["team"]}))
    for officer in raw.get("officers") or []:
        parts.append("[[officers]]\n" + tomli_w.dumps(officer))
    if rest:
        parts.append(tomli_w.dumps(rest))
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


# What TOML's errors mean in this file, and how to mend them.
_MENDS = (
    (re.compile(r"Cannot mutate immutable namespace \('officers',\)"),
     "the roster is written both inline (officers = [...]) and as [[officers]] blocks: write every officer "
     "as a [[officers]] block (name, number, role), as the README shows, or add officers with `ohrt officer add`"),
    (re.compile(r"Cannot declare \(([^)]*)\) twice"),
     "table [{0}] is given twice: add the keys to the [{0}] already in the file instead of a second one"),
    (re.compile(r"Cannot overwrite a value"),
     "a key is given twice: keep one of them"),
)


def explain(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    """One line for a broken config.toml: where (line and its text), what, and how to mend it."""
    message = str(exc)
    where = re.search(r"\(at line (\d+), column \d+\)", message)
    what = re.sub(r"\s*\(at line \d+, column \d+\)|\s*\(at end of document\)", "", message)
    line = ""
    if where:
        number = int(where[1])
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        text = lines[number - 1].strip() if 0 < number <= len(lines) else ""
        line = f" line {number}" + (f" ({text})" if text else "")
    for pattern, mend in _MENDS:
        found = pattern.search(what)
        if found:
            names = ".".join(part.strip(" '\"") for part in found.group(1).split(",") if part.strip()) \
                if found.groups() else ""
            return f"{path}{line}: {mend.format(names)}; then check it with `ohrt config check`."
    return (f"{path}{line}: {what}: correct that line (the README's \"The configuration file\" shows the form), "
            "then check it with `ohrt config check`.")


def load(path: Path) -> Settings:
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise HomeError(f"no config.toml in {path.parent}: run `ohrt init` to create the home.") from None
    except tomllib.TOMLDecodeError as exc:
        raise HomeError(explain(path, exc)) from None
    return Settings(path=path, raw=raw)


def validate_login(login: str | None) -> str | None:
    """An OS login name as `useradd` accepts it, or None when not given."""
    if login is None:
        return None
    login = login.strip()
    if not re.fullmatch(r"[a-z_][a-z0-9_.-]{0,31}\$?", login):
        raise InputError(f"login {login!r} is not an OS login name: give the officer's user name, e.g. --login slee.")
    return login


def validate_role(role: str) -> str:
    role = (role or "").strip().lower()
    if role not in RANK:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}: pick one with --role.")
    return role


def validate_officer(name: str, number: str, role: str, login: str | None = None) -> Officer:
    name, number, role = (name or "").strip(), (number or "").strip(), (role or "").strip().lower()
    if not name:
        raise InputError("the officer's name is empty: give it, e.g. --officer 'PC Jane Smith'.")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9/-]{0,19}", number):
        raise InputError(
            f"collar/staff number {number!r} is not valid: use letters, digits, '-' or '/', e.g. --number 123456."
        )
    return Officer(name, number, validate_role(role), validate_login(login))


def new_settings(path: Path, team: str, mailbox: str, first: Officer, *, training: bool = False,
                 group: str | None = None) -> Settings:
    team, mailbox = (team or "").strip(), (mailbox or "").strip()
    if not team:
        raise InputError("the team name is empty: give it with --team, e.g. --team 'Online Harm Referral Team'.")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", mailbox):
        raise InputError(f"team mailbox {mailbox!r} is not an email address: give one with --mailbox.")
    home: dict = {"training": training}
    if group:
        home["group"] = group
    raw = {
        "team": {"name": team, "mailbox": mailbox, "officer": first.number},
        "home": home,
        "officers": [first.roster_dict()],
        "retention": {"months": 12},
    }
    return Settings(path=path, raw=raw)
