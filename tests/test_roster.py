"""The roster (SOP 3.6): changed only by a sergeant or above, under the write lock, nothing deleted, each
change audited and signed by who made it."""

from __future__ import annotations

import json
import subprocess
import tomllib

from support.home import CONSTABLE, INSPECTOR, SERGEANT, as_officer, audit_entries, start_ohrt


def roster(ohrt) -> dict:
    return {o["number"]: o for o in ohrt.json("officer", "list")}


def test_a_constable_cannot_change_the_roster_and_nothing_changes(ohrt):
    before = (ohrt.home / "config.toml").read_bytes()
    for args in (["officer", "add", "Ch Insp Fake", "--number", "6666", "--role", "chief-inspector"],
                 ["officer", "role", CONSTABLE, "chief-inspector"], ["officer", "disable", SERGEANT]):
        result = ohrt(*args, env=as_officer(CONSTABLE))
        assert result.exit_code == 2, result.stdout
        assert "needs a sergeant or above" in result.stderr
    assert (ohrt.home / "config.toml").read_bytes() == before
    assert not audit_entries(ohrt, "officer.role") and not audit_entries(ohrt, "officer.disable")


def test_a_sergeant_changes_roles_and_disables_a_leaver_who_may_no_longer_act(ohrt):
    ohrt.ok("officer", "role", CONSTABLE, "sergeant")
    assert roster(ohrt)[CONSTABLE]["role"] == "sergeant"
    result = ohrt("officer", "role", SERGEANT, "chief-inspector")
    assert result.exit_code == 2 and "own role" in result.stderr
    ohrt.ok("officer", "disable", INSPECTOR, "--reason", "moved to CID")
    left = roster(ohrt)[INSPECTOR]
    assert left["left"] and left["role"] == "inspector"  # kept, history and all
    result = ohrt("task", "list", env=as_officer(INSPECTOR))
    assert result.exit_code == 0  # reading needs no officer
    result = ohrt("officer", "add", "PC New", "--number", "1234", "--role", "constable", env=as_officer(INSPECTOR))
    assert result.exit_code == 2 and "left the team" in result.stderr
    [change] = audit_entries(ohrt, "officer.role")
    assert change["officer"] == SERGEANT and change["detail"]["role_was"] == "constable"
    [gone] = audit_entries(ohrt, "officer.disable")
    assert gone["reason"] == "moved to CID"
    signed = {r["seq"] for r in ohrt.db().query("SELECT seq FROM audit_signatures")}
    assert {change["seq"], gone["seq"]} <= signed


def test_two_officer_adds_at_once_both_land(ohrt):
    for pair in range(4):
        procs = [start_ohrt(ohrt.home, "officer", "add", f"PC Pair {pair}-{i}", "--number", f"5{pair}{i}",
                            "--role", "constable", extra_env={"OHRT_OFFICER": SERGEANT}) for i in range(2)]
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
    numbers = {o["number"] for o in tomllib.loads((ohrt.home / "config.toml").read_text())["officers"]}
    assert {f"5{p}{i}" for p in range(4) for i in range(2)} <= numbers
    assert len(audit_entries(ohrt, "officer.add")) == 2 + 8


def test_a_roster_change_cut_short_is_undone_or_kept_as_the_chain_says(ohrt):
    """A roster change killed between saving config.toml and its commit leaves config.toml naming an officer
    the chain never added, and its journal: the next command puts config.toml back. Killed after its commit,
    the journal goes and the change stays. Either way the roster and the chain agree."""
    path, journal = ohrt.home / "config.toml", ohrt.home / ".roster-change"
    before = path.read_text(encoding="utf-8")
    gone = subprocess.Popen(["true"])
    gone.wait()  # the pid of a command that died
    next_seq = len(ohrt.json("audit", "list")) + 1
    journal.write_text(json.dumps({"pid": gone.pid, "seq": next_seq, "hash": "0" * 64, "before": before}))
    path.write_text(before + '\n[[officers]]\nname = "PC Ghost"\nnumber = "4444"\nrole = "constable"\n')
    assert "4444" not in roster(ohrt)
    assert path.read_text(encoding="utf-8") == before and not journal.exists()
    ohrt.ok("audit", "verify")

    ohrt.ok("officer", "add", "PC Ghost", "--number", "4444", "--role", "constable")
    [entry] = [e for e in audit_entries(ohrt, "officer.add") if e["object_id"] == "4444"]
    after = path.read_text(encoding="utf-8")
    journal.write_text(json.dumps({"pid": gone.pid, "seq": entry["seq"], "hash": entry["hash"], "before": before}))
    assert roster(ohrt)["4444"]["name"] == "PC Ghost"
    assert path.read_text(encoding="utf-8") == after and not journal.exists()
    ohrt.ok("audit", "verify")


def test_a_training_home_marks_every_entry_and_lets_any_officer_be_chosen(ohrt):
    ohrt.ok("--officer", CONSTABLE, "task", "list")
    add = ohrt.ok("--officer", CONSTABLE, "task", "add", "--url", "https://www.tiktok.com/@a/video/7", "--title",
                  "t", "--applicant", "DC Rae", "--ocu", "X", "--unit", "Y", "--uploaded", "2026-01-02",
                  "--rationale", "r")
    assert add.stdout.strip()
    entries = ohrt.json("audit", "list")
    assert entries and all(e["detail"]["training"].startswith("officer chosen freely") for e in entries)


def test_a_passphrase_protected_key_signs_only_with_its_passphrase(ohrt):
    secret = {"OHRT_PASSPHRASE": "correct horse"}
    ohrt.ok("officer", "key", "--passphrase", env={**as_officer(CONSTABLE), **secret})
    key = (ohrt.home / "keys" / "officers" / f"{CONSTABLE}.key").read_bytes()
    assert b"ENCRYPTED" in key
    args = ["task", "add", "--url", "https://www.tiktok.com/@a/video/8", "--title", "t", "--applicant", "DC Rae",
            "--ocu", "X", "--unit", "Y", "--uploaded", "2026-01-02", "--rationale", "r"]
    refused = ohrt(*args, env=as_officer(CONSTABLE))
    assert refused.exit_code == 2 and "passphrase" in refused.stderr
    assert ohrt.json("task", "list") == []  # nothing half-made
    wrong = ohrt(*args, env={**as_officer(CONSTABLE), "OHRT_PASSPHRASE": "wrong"})
    assert wrong.exit_code == 2 and "wrong" in wrong.stderr
    ohrt.ok(*args, env={**as_officer(CONSTABLE), **secret})
    assert ohrt.json("audit", "verify")["intact"]
