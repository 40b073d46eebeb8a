"""Fault injection: `ohrt officer add` run many at once on one home, then the roster and the chain checked.

Each round starts PARALLEL additions together on a fresh home: distinct officers, plus two that give the same
number (exactly one of those may be added). Every process must either add its officer (exit 0) or be
refused in one line (no traceback); config.toml must list each added officer exactly once and no other, the
chain must hold one officer.add entry per addition, and `ohrt verify`, `ohrt audit verify` and `ohrt config
check` must pass.
Then KILLS additions are killed between saving the roster and committing their audit entry (see `killed`).
Run: .venv/bin/python bench/faults_officers.py [ROUNDS [KILLS]]   (not part of the test suite)
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

import faultlib as f

PARALLEL = 10


def main(rounds: int, kills: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="ohrt-faults-officers-"))
    base = work / "template"
    f.init(base)
    counts = dict(rounds=0, started=0, added=0, refused_in_one_line=0, refused_badly=0, duplicate_number_added=0,
                  roster_wrong=0, chain_entries_wrong=0, verify_failed=0, audit_failed=0, config_check_failed=0)
    for r in range(rounds):
        home = work / f"round-{r}"
        shutil.copytree(base, home)
        counts["rounds"] += 1
        wanted = [(f"PC Officer {r}-{i}", f"{7000 + i}", f"login{r}x{i}") for i in range(PARALLEL - 2)]
        wanted += [(f"PC Twin {r}-{i}", "7999", f"twin{r}x{i}") for i in range(2)]
        procs = [f.start(home, "officer", "add", name, "--number", number, "--role", "constable", "--login", login)
                 for name, number, login in wanted]
        added = []
        for (name, number, login), proc in zip(wanted, procs):
            _, err = proc.communicate(timeout=120)
            counts["started"] += 1
            if proc.returncode == 0:
                added.append((name, number))
            elif len(err.strip().splitlines()) == 1 and not f.traceback_in(err):
                counts["refused_in_one_line"] += 1
            else:
                counts["refused_badly"] += 1
                print(f"round {r}: {name} exit {proc.returncode}: {err.strip()}", file=sys.stderr)
        counts["added"] += len(added)
        counts["duplicate_number_added"] += int(sum(1 for _, number in added if number == "7999") > 1)
        roster = tomllib.loads((home / "config.toml").read_text(encoding="utf-8")).get("officers", [])
        listed = sorted((o["name"], str(o["number"])) for o in roster if str(o["number"]) != f.SERGEANT)
        counts["roster_wrong"] += int(listed != sorted(added))
        entries = json.loads(f.run(home, "audit", "list", "--json").stdout)
        counts["chain_entries_wrong"] += int(sum(1 for e in entries if e["action"] == "officer.add") != len(added))
        counts["verify_failed"] += int(not f.verify(home)[0])
        counts["audit_failed"] += int(not f.audit_verify(home))
        counts["config_check_failed"] += int(f.run(home, "config", "check").returncode != 0)
        shutil.rmtree(home, ignore_errors=True)
    f.table(f"officer add, {PARALLEL} at once (two of them the same number), per round", counts)
    killed(work, base, kills)
    shutil.rmtree(work, ignore_errors=True)


def where(home: Path, number: str) -> str:
    """Whether officer `number` is in config.toml's roster, the chain's officer.add entries, both or neither."""
    text = (home / "config.toml").read_text(encoding="utf-8")
    roster = {str(o["number"]) for o in tomllib.loads(text).get("officers", [])}
    chain = {r[0] for r in f.rows(home, "SELECT object_id FROM audit WHERE action = 'officer.add'")}
    return {(True, True): "in_both", (False, False): "in_neither", (True, False): "in_roster_only",
            (False, True): "in_chain_only"}[(number in roster, number in chain)]


def killed(work: Path, base: Path, n: int) -> None:
    """`officer add` killed with SIGKILL 0-4 ms after config.toml names the new officer (there is no hook to stop
    it there: the file is polled without pause), i.e. between the roster's save and the commit of its audit
    entry. From the next command on, the roster and the chain must agree (ohrt keeps or undoes the change cut
    short), and the same command run again must add the officer or say they are already there."""
    counts = dict(trials=0, kills=0, finished_first=0, at_kill_in_both=0, at_kill_in_neither=0,
                  at_kill_in_roster_only=0, at_kill_in_chain_only=0, journal_left_at_kill=0, verify_failed=0,
                  audit_failed=0, after_next_command_in_both=0, after_next_command_in_neither=0,
                  after_next_command_in_roster_only=0, after_next_command_in_chain_only=0, next_run_failed=0,
                  tracebacks=0)
    for i in range(n):
        home = work / f"kill-{i}"
        shutil.copytree(base, home)
        counts["trials"] += 1
        number = f"{7500 + i}"
        args = ["officer", "add", f"PC Killed {i}", "--number", number, "--role", "constable", "--login", f"k{i}"]
        config = home / "config.toml"
        proc = f.start(home, *args)
        if not f.kill_after(proc, 30, until=lambda: f'"{number}"' in config.read_text(encoding="utf-8"),
                            then=f.uniform(0, 0.004)):
            counts["finished_first"] += 1
            shutil.rmtree(home, ignore_errors=True)
            continue
        counts["kills"] += 1
        state = where(home, number)
        counts[f"at_kill_{state}"] += 1
        counts["journal_left_at_kill"] += int((home / ".roster-change").exists())
        counts["verify_failed"] += int(not f.verify(home)[0])  # the first command after the kill
        counts["audit_failed"] += int(not f.audit_verify(home))
        after = where(home, number)
        counts[f"after_next_command_{after}"] += 1
        again = f.run(home, *args)
        counts["tracebacks"] += int(f.traceback_in(again.stderr))
        if again.returncode != 0 and not (after == "in_both" and "already on the roster" in again.stderr):
            counts["next_run_failed"] += 1
            print(f"kill {i} ({after}): the next run said {again.stderr.strip()}", file=sys.stderr)
        shutil.rmtree(home, ignore_errors=True)
    f.table("officer add killed between saving the roster and committing its audit entry (aimed)", counts)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3, int(sys.argv[2]) if len(sys.argv) > 2 else 12)
