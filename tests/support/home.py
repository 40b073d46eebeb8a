"""Homes for the tests: the in-process `ohrt` runner, a new home with its roster, tasks, ohrt run as its
own process (as cron runs it), and reading rows and audit entries back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from ohrt_cli.cli import app

SERGEANT, CONSTABLE, INSPECTOR = "2345", "7781", "9001"
TEAM = "Online Harm Referral Team"
FIRST = ["--training", "--team", TEAM, "--mailbox", "ohrt@example.police.uk",
         "--officer", "PS Ann Lee", "--number", SERGEANT, "--role", "sergeant"]
ROSTER = (("PC Sam Okafor", CONSTABLE, "constable"), ("Insp Ray Diaz", INSPECTOR, "inspector"))
TASK_ARGS = ["--title", "Drill video", "--applicant", "DC Rae", "--ocu", "Central West", "--unit", "Gangs",
             "--uploaded", "2026-01-02", "--rationale", "Goads a rival group"]
OHRT_BIN = str(Path(sys.executable).parent / "ohrt")


@dataclass
class Ohrt:
    """Runs `ohrt` in-process against one home; `env` adds or overrides environment variables.

    OHRT_DEBUG=1 lets an unexpected exception through the CLI's last-resort handler, so that no test can
    pass on its "internal error: …" line: an expected refusal is an OhrtError with its own message."""

    home: Path

    def __call__(self, *args: str, env: dict | None = None, input: str | None = None):
        runner = CliRunner()
        full_env = {"OHRT_HOME": str(self.home), "OHRT_OFFICER": None, "OHRT_NOW": None, "COLUMNS": "200",
                    "OHRT_DEBUG": "1"}
        full_env.update(env or {})
        return runner.invoke(app, [str(a) for a in args], env=full_env, input=input, catch_exceptions=True)

    def ok(self, *args: str, env: dict | None = None):
        """Run and insist on exit 0, showing the output when it is not."""
        result = self(*args, env=env)
        assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
        return result

    def json(self, *args: str, env: dict | None = None):
        return json.loads(self.ok(*args, "--json", env=env).stdout)

    def db(self):
        import sqlite_utils

        return sqlite_utils.Database(self.home / "ohrt.db")


def new_home(path: Path, *, team: str = TEAM, roster: bool = True, env: dict | None = None) -> Ohrt:
    """A home at `path` made with `ohrt init`: PS Ann Lee (2345, sergeant) first, and with `roster` PC Sam
    Okafor (7781, constable) and Insp Ray Diaz (9001, inspector); `env` (e.g. OHRT_NOW) for every step."""
    ohrt = Ohrt(path)
    args = list(FIRST)
    args[args.index("--team") + 1] = team
    ohrt.ok("init", *args, env=env)
    for name, number, role in (ROSTER if roster else ()):
        ohrt.ok("officer", "add", name, "--number", number, "--role", role, env=env)
    return ohrt


def copy_home(source: Path, target: Path) -> Ohrt:
    """A copy of a home built once for a module, so that one test's changes do not reach another."""
    shutil.copytree(source, target)
    return Ohrt(target)


def as_officer(number: str) -> dict:
    return {"OHRT_OFFICER": number}


def add_task(ohrt: Ohrt, url: str, *extra: str) -> str:
    """Add a task for `url` through the CLI and return its id."""
    return ohrt.ok("task", "add", "--url", url, *TASK_ARGS, *extra).stdout.strip()


def run_ohrt(home: Path, *args: str, extra_env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """`ohrt` as its own process (as cron runs it): no OHRT_OFFICER unless given."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    full.update({"OHRT_HOME": str(home), **(extra_env or {})})
    return subprocess.run([OHRT_BIN, *map(str, args)], env=full, capture_output=True, text=True, **kwargs)


def start_ohrt(home: Path, *args: str, extra_env: dict | None = None) -> subprocess.Popen:
    """`ohrt` started as another officer's process, beside the in-process runs of a test."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    full.update({"OHRT_HOME": str(home), **(extra_env or {})})
    return subprocess.Popen([OHRT_BIN, *map(str, args)], env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def ffmpeg(*args) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)], check=True)


def rows(ohrt: Ohrt, sql: str, params=()) -> list[dict]:
    db = ohrt.db()
    try:
        return [dict(r) for r in db.query(sql, list(params))]
    finally:
        db.conn.close()


def audit_entries(ohrt: Ohrt, action: str) -> list[dict]:
    found = rows(ohrt, "SELECT * FROM audit WHERE action = ? ORDER BY seq", [action])
    for entry in found:
        entry["detail"] = json.loads(entry["detail"] or "{}")
    return found
