"""Fault injection: `ohrt officer add` run many at once on one home, then the roster and the chain checked.

Each round starts PARALLEL additions together on a fresh home: distinct officers, plus two that give the same
number (exactly one of those may be added). Every process must either add its officer (exit 0) or be
refused in one line (no traceback); config.toml must list each added officer exactly once and no other, the
chain must hold one officer.add entry per addition, and `ohrt verify`, `ohrt audit verify` and `ohrt config
check` must pass.
Run: .venv/bin/python bench/faults_officers.py [ROUNDS]   (not part of the test suite)
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


def main(rounds: int) -> None:
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
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
