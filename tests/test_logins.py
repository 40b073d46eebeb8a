"""Who acts is proven by the operating-system login (SOP 3.6, 10.2): real users made in the test, ohrt run
as each of them (support/logins.py). Needs root; skips elsewhere, saying so."""

from __future__ import annotations

import grp
import json
import os
import pwd
import stat
import subprocess

TASK = ["task", "add", "--url", "https://www.tiktok.com/@a/video/1", "--title", "Drill", "--applicant", "DC Rae",
        "--ocu", "Central West", "--unit", "Gangs", "--uploaded", "2026-01-02", "--rationale", "Goads a rival"]


def test_each_login_acts_as_its_own_officer_and_only_a_sergeant_changes_the_roster(logins):
    team = logins.group("team")
    sergeant, constable = logins.user("sgt", team), logins.user("pc", team)
    outsider = logins.user("out")
    home = logins.folder() / "home"

    made = logins.run(sergeant, home, "init", "--team", "OHRT", "--mailbox", "ohrt@example.police.uk",
                      "--officer", "PS Ann Lee", "--number", "2345", "--role", "sergeant", "--group", team)
    assert made.returncode == 0, made.stderr
    info = home.stat()
    assert grp.getgrgid(info.st_gid).gr_name == team and stat.S_IMODE(info.st_mode) == 0o2770
    assert stat.S_IMODE((home / "ohrt.db").stat().st_mode) & 0o007 == 0  # no one else reads it

    added = logins.run(sergeant, home, "officer", "add", "PC Sam Okafor", "--number", "7781", "--role",
                       "constable", "--login", constable)
    assert added.returncode == 0, added.stderr
    task = logins.run(constable, home, *TASK)
    assert task.returncode == 0, task.stderr

    # the constable's first command made their key, in their own folder, readable by them alone
    key = pwd.getpwnam(constable).pw_dir + "/.local/share/ohrt-officer"
    [path] = [os.path.join(d, f) for d, _, files in os.walk(key) for f in files]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and os.stat(path).st_uid == pwd.getpwnam(constable).pw_uid
    assert subprocess.run(["runuser", "-u", sergeant, "--", "cat", path], capture_output=True).returncode != 0

    # one login cannot act as another, nor borrow a role through the roster
    borrowed = logins.run(constable, home, "--officer", "2345", "task", "list")
    assert borrowed.returncode == 2 and "is not you" in borrowed.stderr
    borrowed = logins.run(constable, home, *TASK, env={"OHRT_OFFICER": "2345"})
    assert borrowed.returncode == 2 and "is not you" in borrowed.stderr
    fake = logins.run(constable, home, "officer", "add", "Ch Insp Fake", "--number", "6666", "--role",
                      "chief-inspector", "--login", outsider)
    assert fake.returncode == 2 and "needs a sergeant or above" in fake.stderr
    stranger = logins.run(outsider, home, "task", "list")
    assert stranger.returncode != 0  # not in the group: cannot even read the home
    root = logins.run("root", home, *TASK)
    assert root.returncode == 2 and "not on this home's roster" in root.stderr

    listed = json.loads(logins.run(constable, home, "audit", "list", "--json").stdout)
    assert [(e["action"], e["officer"]) for e in listed] == [
        ("home.init", "2345"), ("officer.add", "2345"), ("officer.key", "7781"), ("task.add", "7781")]
    assert not any(isinstance(e["detail"].get("training"), str) for e in listed)  # no entry is marked
    checked = logins.run(sergeant, home, "audit", "verify", "--json")
    assert checked.returncode == 0, checked.stderr + checked.stdout
    report = json.loads(checked.stdout)
    assert report["intact"] and report["signatures"] == report["entries"] == 4 and report["checkpoints"]["checked"] >= 3

    # what is exported inside the team's home is the team's (a teammate's purge deletes it); elsewhere the writer's
    inside = logins.run(constable, home, "audit", "export", home / "exports" / "chain.jsonl")
    assert inside.returncode == 0, inside.stderr
    assert stat.S_IMODE((home / "exports" / "chain.jsonl").stat().st_mode) == 0o660
    outside = logins.folder() / "chain.jsonl"
    assert logins.run(constable, home, "audit", "export", outside).returncode == 0
    assert stat.S_IMODE(outside.stat().st_mode) == 0o600 and outside.stat().st_uid == pwd.getpwnam(constable).pw_uid
