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

    def at_least(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]

    def as_dict(self) -> dict:
        return {"name": self.name, "number": self.number, "role": self.role}

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
        return [Officer(o["name"], str(o["number"]), o["role"]) for o in self.raw.get("officers", [])]

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
        tmp = self.path.with_suffix(".toml.tmp")
        tmp.write_text(text, encoding="utf-8")
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


def validate_officer(name: str, number: str, role: str) -> Officer:
    name, number, role = (name or "").strip(), (number or "").strip(), (role or "").strip().lower()
    if not name:
        raise InputError("the officer's name is empty: give it, e.g. --officer 'PC Jane Smith'.")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9/-]{0,19}", number):
        raise InputError(
            f"collar/staff number {number!r} is not valid: use letters, digits, '-' or '/', e.g. --number 123456."
        )
    if role not in RANK:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}: pick one with --role.")
    return Officer(name, number, role)


def new_settings(path: Path, team: str, mailbox: str, first: Officer) -> Settings:
    team, mailbox = (team or "").strip(), (mailbox or "").strip()
    if not team:
        raise InputError("the team name is empty: give it with --team, e.g. --team 'Online Harm Referral Team'.")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", mailbox):
        raise InputError(f"team mailbox {mailbox!r} is not an email address: give one with --mailbox.")
    raw = {
        "team": {"name": team, "mailbox": mailbox, "officer": first.number},
        "officers": [first.as_dict()],
        "retention": {"months": 12},
    }
    return Settings(path=path, raw=raw)
