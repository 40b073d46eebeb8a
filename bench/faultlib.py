"""What the fault-injection scripts (bench/faults_*.py) share: running `ohrt` in its own process against a
home, killing it with SIGKILL after a delay, and reading the home afterwards (rows against folders, verify).
Not a test module and not a bench of bench/run.py: each faults_*.py prints its own table."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

BIN = str(Path(sys.executable).parent / "ohrt")
SERGEANT = "2345"


def environment(home: Path, officer: str | None = SERGEANT, now: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    env["OHRT_HOME"] = str(home)
    if officer:
        env["OHRT_OFFICER"] = officer
    if now:
        env["OHRT_NOW"] = now
    return env


def run(home: Path, *args: str, officer: str | None = SERGEANT, now: str | None = None,
        check: bool = False) -> subprocess.CompletedProcess:
    done = subprocess.run([BIN, *map(str, args)], env=environment(home, officer, now), capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"ohrt {' '.join(map(str, args))} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def init(home: Path, now: str | None = None) -> None:
    run(home, "init", "--team", "T", "--mailbox", "t@example.police.uk", "--officer", "PS A", "--number", SERGEANT,
        "--role", "sergeant", now=now, check=True)


def timed(home: Path, *args: str, **kwargs) -> float:
    """Seconds one run of the command takes (on a copy of the home, which is thrown away)."""
    copy = home.parent / f"{home.name}-timing"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(home, copy)
    start = time.monotonic()
    done = run(copy, *args, **kwargs)
    took = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"ohrt {' '.join(args)} failed on the template ({done.returncode}): {done.stderr.strip()}")
    shutil.rmtree(copy, ignore_errors=True)
    return took


def start(home: Path, *args: str, officer: str | None = SERGEANT, now: str | None = None) -> subprocess.Popen:
    return subprocess.Popen([BIN, *map(str, args)], env=environment(home, officer, now), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def kill_after(proc: subprocess.Popen, delay: float, until=None, then: float = 0.0) -> bool:
    """SIGKILL `proc` after `delay` seconds — or, given `until`, `then` seconds after `until()` is first true
    (polled without pause) if that comes sooner; False when it had finished before."""
    deadline = time.monotonic() + delay
    while proc.poll() is None and time.monotonic() < deadline:
        if until is not None:
            if until():
                time.sleep(then)
                break
        else:
            time.sleep(0.002)
    if proc.poll() is not None:
        proc.communicate()
        return False
    proc.kill()
    proc.communicate()
    return True


def uniform(low: float, high: float) -> float:
    return random.uniform(low, high)


def rows(home: Path, sql: str, params=()) -> list[tuple]:
    db = sqlite3.connect(f"file:{home / 'ohrt.db'}?mode=ro", uri=True)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def capture_orphans(home: Path) -> tuple[list[str], list[str]]:
    """(rows of kept captures without their folder, folders in captures/ that no row records)."""
    kept = {r[0] for r in rows(home, "SELECT id FROM captures WHERE purged_at IS NULL")}
    known = {r[0] for r in rows(home, "SELECT id FROM captures")}
    folders = {p.name for p in (home / "captures").iterdir() if not p.name.startswith(".")}
    return sorted(kept - folders), sorted(folders - known)


def verify(home: Path) -> tuple[bool, list[dict]]:
    """(`ohrt verify` passed, its problems [{capture, path, problem, detail}]); a traceback is a problem."""
    done = run(home, "verify", "--json")
    try:
        problems = json.loads(done.stdout)["problems"]
    except (ValueError, KeyError):
        problems = [{"capture": "?", "path": "?", "problem": "no report", "detail": done.stderr.strip()}]
    return done.returncode == 0 and not problems, problems


def audit_verify(home: Path) -> bool:
    return run(home, "audit", "verify").returncode == 0


def traceback_in(text: str) -> bool:
    return "Traceback" in text or "internal error" in text


def table(title: str, counts: dict) -> None:
    """The counts as a two-column table."""
    width = max(len(k) for k in counts)
    print(f"\n{title}")
    print("-" * (width + 10))
    for key, value in counts.items():
        print(f"{key.ljust(width)}  {value:>7}")
