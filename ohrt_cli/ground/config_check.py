"""`ohrt config check`: every table and key of the home's config.toml checked against what ohrt reads,
each problem with its line and how to mend it (the settings themselves: ground/config.py). No SOP
paragraph of its own: it checks the settings by which others are kept — the roster (SOP 3.6), the retention
period (2.2), the platforms' routes (10.5)."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import config
from .errors import InputError

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
ROUTES = ("portal", "mailbox", "individual")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be text in quotes"


def _whole(low: int, high: int | None = None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            return f"must be a whole number {low}–{high}" if high is not None else f"must be a whole number ≥ {low}"
        return None
    return check


def _positive(value: Any) -> str | None:
    return None if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else \
        "must be a positive number"


def _not_negative(value: Any) -> str | None:
    return None if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else \
        "must be a number, 0 or more"


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _url(value: Any) -> str | None:
    return _text(value) or (None if re.match(r"https?://", value) else "must be an http(s) URL")


def _urls(value: Any) -> str | None:
    if not isinstance(value, list) or not value or any(_url(v) for v in value):
        return 'must be a list of http(s) URLs, e.g. ["https://a.pool.opentimestamps.org"]'
    return None


def _email(value: Any) -> str | None:
    return _text(value) or (None if EMAIL.fullmatch(value.strip()) or not value.strip() else "is not an email address")


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}"


def _file(value: Any) -> str | None:
    return _text(value) or (None if not value or os.path.isfile(os.path.expanduser(value)) else
                            "names no file on this machine (ohrt would fall back to DejaVu)")


# Every table ohrt reads and the check of each of its keys.
SCHEMA: dict[str, dict[str, Callable[[Any], str | None]]] = {
    "team": {"name": _text, "mailbox": _email, "officer": _text, "ocu": _text, "unit": _text},
    "home": {"training": _flag, "group": _text, "id": _text},  # written by init
    "retention": {"months": _whole(1), "capture_months": _whole(1)},
    "report": {"small_count_threshold": _whole(1)},
    "capture": {"review_preset": _one_of(*X264_PRESETS), "review_crf": _whole(0, 51), "keyframes_max": _whole(1),
                "contact_sheet_tiles": _whole(1), "font": _file, "max_live_minutes": _positive},
    "page": {"chromium": _file, "timeout_seconds": _positive, "max_response_mb": _positive,
             "max_total_mb": _positive},
    "referral": {"html": _flag, "tag": _text},
    "smtp": {"host": _text, "port": _whole(1, 65535), "starttls": _flag, "username": _text, "password_env": _text,
             "timeout": _positive, "allow_plaintext_auth": _flag},
    "export": {"marking": _text},
    "check": {"per_host_interval_seconds": _not_negative, "time_budget_seconds": _positive,
              "timeout_seconds": _positive, "workers": _whole(1, 64), "host_failures": _whole(1), "metadata": _flag},
    "timestamp": {"url": _url, "ca_file": _text, "timeout_seconds": _positive, "max_clock_skew_minutes": _positive,
                  "ots": _flag, "ots_calendars": _urls},
}
ROUTE_KEYS = {"route": _one_of(*ROUTES), "contact": _email, "contact_name": _text, "portal": _text}


@dataclass
class Finding:
    line: int | None
    where: str
    problem: str
    serious: bool = True

    def as_dict(self) -> dict:
        return {"line": self.line, "where": self.where, "problem": self.problem,
                "level": "error" if self.serious else "warning"}


class _Lines:
    """Finds the line a table or key is on, for the messages."""

    def __init__(self, text: str):
        self.lines = text.splitlines()

    def of(self, table: str, key: str | None = None, index: int | None = None) -> int | None:
        current, seen = None, -1
        for number, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            header = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?", stripped)
            if header:
                current = header[1].replace('"', "").replace(" ", "")
                if current == table:
                    seen += 1
                if current == table and key is None and (index is None or index == seen):
                    return number
                continue
            if current == table and key and (index is None or index == seen) and re.match(
                    rf'"?{re.escape(key)}"?\s*=', stripped):
                return number
        return None


def check(path: Path) -> dict:
    """{path, ok, findings[]{line, where, problem, level}}: errors make ok False; warnings (a key ohrt does
    not read: a typo?) do not."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no config.toml in {path.parent}: run `ohrt init` to create the home.") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        finding = Finding(int(found[1]) if found else None, "file", config.explain(path, exc).split(": ", 1)[-1])
        return {"path": str(path), "ok": False, "findings": [finding.as_dict()]}
    lines = _Lines(text)
    findings: list[Finding] = []
    for table, value in raw.items():
        if table == "officers":
            findings += _officers(raw, lines)
        elif table == "routes":
            findings += _routes(value, lines)
        elif table in SCHEMA:
            findings += _table(table, value, SCHEMA[table], lines)
        else:
            known = ", ".join(sorted({"team", "officers", "routes", *SCHEMA}))
            findings.append(Finding(lines.of(table), f"[{table}]", f"ohrt reads no table [{table}]: a typo? "
                                    f"(tables: {known})", serious=False))
    for key in ("name", "mailbox"):
        if not str(raw.get("team", {}).get(key) or "").strip():
            findings.append(Finding(lines.of("team"), f"[team] {key}", f"is missing: add {key} = \"…\" under [team]"))
    findings += _smtp_auth(raw, lines)
    default = raw.get("team", {}).get("officer")
    numbers = [str(o.get("number")) for o in raw.get("officers") or [] if isinstance(o, dict)]
    if default is not None and str(default) not in numbers:
        findings.append(Finding(lines.of("team", "officer"), "[team] officer",
                                f"{default!r} is not the number of any [[officers]] block: give one of "
                                f"{', '.join(numbers) or '(none)'}"))
    findings.sort(key=lambda f: (f.line or 0))
    return {"path": str(path), "ok": not any(f.serious for f in findings),
            "findings": [f.as_dict() for f in findings]}


def _table(table: str, value: Any, keys: dict, lines: _Lines) -> list[Finding]:
    if not isinstance(value, dict):
        return [Finding(lines.of(table), table, f"{table} must be a table: [{table}] on a line of its own")]
    found = []
    for key, item in value.items():
        where = f"[{table}] {key}"
        if key not in keys:
            found.append(Finding(lines.of(table, key), where, f"ohrt reads no {key} in [{table}]: a typo? "
                                 f"(keys: {', '.join(keys)})", serious=False))
            continue
        problem = keys[key](item)
        if problem:
            found.append(Finding(lines.of(table, key), where, f"{key} = {item!r} {problem}"))
    return found


def _smtp_auth(raw: dict, lines: _Lines) -> list[Finding]:
    """A username without STARTTLS sends the password in clear: refused unless allow_plaintext_auth says so."""
    table = raw.get("smtp")
    if not isinstance(table, dict) or not str(table.get("username") or "").strip() or table.get("starttls", True):
        return []
    if table.get("allow_plaintext_auth") is True:
        return [Finding(lines.of("smtp", "allow_plaintext_auth"), "[smtp] allow_plaintext_auth",
                        "the relay's password is sent unencrypted (starttls = false): only on a trusted link",
                        serious=False)]
    return [Finding(lines.of("smtp", "starttls"), "[smtp] starttls", "starttls = false with a username would send "
                    "the password unencrypted: set starttls = true (or allow_plaintext_auth = true for a relay "
                    "reached only over a trusted link)")]


def _officers(raw: dict, lines: _Lines) -> list[Finding]:
    officers = raw.get("officers")
    if not isinstance(officers, list):
        return [Finding(lines.of("officers"), "officers", "the roster must be [[officers]] blocks")]
    found, seen = [], set()
    for index, officer in enumerate(officers):
        line = lines.of("officers", index=index)
        if not isinstance(officer, dict):
            found.append(Finding(line, "[[officers]]", "each officer is a [[officers]] block of name, number, role"))
            continue
        try:
            checked = config.validate_officer(str(officer.get("name") or ""), str(officer.get("number") or ""),
                                              str(officer.get("role") or ""))
        except InputError as exc:
            found.append(Finding(line, f"[[officers]] #{index + 1}", exc.message.replace("--", "")))
            continue
        if checked.number in seen:
            found.append(Finding(line, f"[[officers]] #{index + 1}", f"number {checked.number} is given twice"))
        seen.add(checked.number)
    return found


def _routes(value: Any, lines: _Lines) -> list[Finding]:
    if not isinstance(value, dict):
        return [Finding(lines.of("routes"), "routes", "routes are tables: [routes.PLATFORM]")]
    found = []
    for platform, table in value.items():
        found += _table(f"routes.{platform}", table, ROUTE_KEYS, lines)
    return found
