"""The foundation: home, roster, database, audit chain (issue: foundation)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess

import pytest

from support.home import FIRST, TASK_ARGS, Ohrt, add_task


def test_init_creates_home_with_key_config_and_database(tmp_path):
    ohrt = Ohrt(tmp_path / "home")
    result = ohrt.ok("init", *FIRST)
    home = tmp_path / "home"
    assert "created ohrt home" in result.stdout
    for name in ("ohrt.db", "config.toml", "keys/public.pem", "keys/signing.key", "captures", "exports"):
        assert (home / name).exists(), name
    assert stat.S_IMODE(os.stat(home / "keys" / "signing.key").st_mode) == 0o600
    config = (home / "config.toml").read_text()
    assert "Online Harm Referral Team" in config and "ohrt@example.police.uk" in config and "2345" in config
    mode = sqlite3.connect(home / "ohrt.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_init_on_existing_home_changes_nothing(ohrt):
    before = {p: p.read_bytes() for p in ohrt.home.rglob("*") if p.is_file() and p.suffix != ".db-shm"}
    result = ohrt.ok("init", "--team", "Other", "--mailbox", "x@y.uk", "--officer", "X", "--number", "1")
    assert "nothing changed" in result.stdout
    assert (ohrt.home / "config.toml").read_bytes() == before[ohrt.home / "config.toml"]
    assert len(ohrt.json("audit", "list")) == 3


def test_init_refuses_incomplete_flags_and_leaves_nothing(tmp_path):
    ohrt = Ohrt(tmp_path / "home")
    result = ohrt("init", "--team", "OHRT")
    assert result.exit_code == 2
    assert "--mailbox" in result.stderr
    assert not (tmp_path / "home").exists()
    result = ohrt("init", *FIRST[:-2], "--role", "commissioner")
    assert result.exit_code == 2 and "role" in result.stderr
    assert not (tmp_path / "home").exists()


def test_public_key_verifies_an_audit_export_with_openssl(ohrt, tmp_path):
    add_task(ohrt, "https://www.tiktok.com/@drill/video/123")
    out = tmp_path / "audit.jsonl"
    ohrt.ok("audit", "export", out)
    lines = out.read_text().splitlines()
    assert len(lines) == 5 and '"kind":"ohrt-audit-checkpoint"' in lines[-1]  # 4 entries, then the checkpoint
    check = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", ohrt.home / "keys" / "public.pem",
                            "-rawin", "-in", out, "-sigfile", f"{out}.sig"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    out.write_text(out.read_text().replace("tiktok", "tikt0k"))
    check = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", ohrt.home / "keys" / "public.pem",
                            "-rawin", "-in", out, "-sigfile", f"{out}.sig"], capture_output=True, text=True)
    assert check.returncode != 0


def test_officer_not_on_roster_is_refused_and_nothing_changes(ohrt):
    result = ohrt("--officer", "9999", "task", "add", "--url", "https://www.tiktok.com/@a/video/1",
                  "--title", "t", "--applicant", "a", "--ocu", "o", "--unit", "u", "--uploaded", "2026-01-01",
                  "--rationale", "r")
    assert result.exit_code == 2
    assert "not on this home's roster" in result.stderr
    assert ohrt.json("task", "list") == []
    assert ohrt.json("task", "list", env={"OHRT_OFFICER": "nobody"}) == []  # reading needs no roster entry
    add_task(ohrt, "https://www.tiktok.com/@a/video/1")
    listed = ohrt.ok("task", "list", env={"OHRT_OFFICER": "nobody"}).stdout
    assert "T-2026-000001" in listed and "tiktok" in listed


def test_acting_officer_from_flag_env_and_config(ohrt):
    first = add_task(ohrt, "https://www.tiktok.com/@a/video/1")
    second = ohrt.ok("task", "add", "--url", "https://www.tiktok.com/@a/video/2", "--title", "t", "--applicant",
                     "a", "--ocu", "o", "--unit", "u", "--uploaded", "2026-01-01", "--rationale", "r",
                     env={"OHRT_OFFICER": "2345"}).stdout.strip()
    ohrt.ok("--officer", "7781", "task", "add", "--url", "https://www.tiktok.com/@a/video/3", "--title", "t",
            "--applicant", "a", "--ocu", "o", "--unit", "u", "--uploaded", "2026-01-01", "--rationale", "r")
    ohrt.ok("task", "add", "--url", "https://www.tiktok.com/@a/video/4", "--title", "t", "--applicant", "a",
            "--ocu", "o", "--unit", "u", "--uploaded", "2026-01-01", "--rationale", "r",
            env={"OHRT_OFFICER": "Insp Ray Diaz"})
    by = {e["object_id"]: e["officer"] for e in ohrt.json("audit", "list") if e["action"] == "task.add"}
    assert by[first] == "2345" and by[second] == "2345"
    assert by["T-2026-000003"] == "7781" and by["T-2026-000004"] == "9001"


def test_officer_add_and_list(ohrt):
    roster = ohrt.json("officer", "list")
    assert [o["number"] for o in roster] == ["2345", "7781", "9001"]
    assert roster[0]["default"] is True
    result = ohrt("officer", "add", "PC Dup", "--number", "7781", "--role", "constable")
    assert result.exit_code == 2 and "already on the roster" in result.stderr
    result = ohrt("officer", "add", "PC Bad", "--number", "1", "--role", "general")
    assert result.exit_code == 2 and "role" in result.stderr


def _tamper(ohrt, sql: str):
    con = sqlite3.connect(ohrt.home / "ohrt.db")
    con.executescript("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;" + sql)
    con.commit()
    con.close()


def test_audit_verify_counts_an_intact_chain(ohrt):
    add_task(ohrt, "https://www.tiktok.com/@a/video/1")
    result = ohrt.ok("audit", "verify")
    assert "intact: 4 entries" in result.stdout


def test_audit_rows_cannot_be_changed_through_sqlite_while_triggers_stand(ohrt):
    con = sqlite3.connect(ohrt.home / "ohrt.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE audit SET reason = 'x' WHERE seq = 1")


@pytest.mark.parametrize("sql, expected", [
    ("UPDATE audit SET reason = 'edited' WHERE seq = 2;", "entry 2: its contents were altered"),
    ("DELETE FROM audit WHERE seq = 2;", "entry 2: it is missing"),
    ("UPDATE audit SET seq = 99 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; "
     "UPDATE audit SET seq = 3 WHERE seq = 99;", "entry 2: it does not follow"),
    ("DELETE FROM audit WHERE seq = 4;", "entries were removed from its end"),
])
def test_audit_verify_names_the_first_entry_changed_outside_ohrt(ohrt, sql, expected):
    add_task(ohrt, "https://www.tiktok.com/@a/video/1")
    _tamper(ohrt, sql)
    result = ohrt("audit", "verify")
    assert result.exit_code == 1
    assert expected in result.stderr


def test_audit_list_filters_by_object(ohrt):
    task = add_task(ohrt, "https://www.tiktok.com/@a/video/1")
    rows = ohrt.json("audit", "list", "--object", task)
    assert [r["action"] for r in rows] == ["task.add"]
    assert rows[0]["detail"]["platform"] == "tiktok"


def test_database_newer_than_the_code_refuses_to_open(ohrt):
    con = sqlite3.connect(ohrt.home / "ohrt.db")
    con.execute("INSERT INTO _migrations VALUES ('m999_from_the_future', '2030-01-01T00:00:00+00:00')")
    con.commit()
    result = ohrt("task", "list")
    assert result.exit_code == 2
    assert "newer ohrt" in result.stderr and "m999_from_the_future" in result.stderr


def test_migrations_are_recorded_in_order(ohrt):
    from ohrt_cli.ground.db import MIGRATIONS

    names = [r[0] for r in sqlite3.connect(ohrt.home / "ohrt.db").execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [name for name, _ in MIGRATIONS]


def test_missing_home_says_how_to_create_it(tmp_path):
    result = Ohrt(tmp_path / "nowhere")("task", "list")
    assert result.exit_code == 2 and "ohrt init" in result.stderr


def test_errors_are_one_line_without_traceback(ohrt):
    result = ohrt("task", "show", "T-2026-999999")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_busy_home_is_one_line_and_nothing_changes(ohrt):
    """Another connection holds the write lock past the busy timeout: one line, exit 1, no half-made task;
    reading still works (WAL) and the command succeeds once the lock is gone."""
    holder = sqlite3.connect(ohrt.home / "ohrt.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = ohrt("task", "add", "--url", "https://www.tiktok.com/@a/video/1", *TASK_ARGS,
                      env={"OHRT_BUSY_TIMEOUT": "0.2", "OHRT_DEBUG": "1"})
        assert result.exit_code == 1
        assert result.stderr == "error: another ohrt command is using the home; try again\n"
        assert ohrt.json("task", "list", env={"OHRT_BUSY_TIMEOUT": "0.2"}) == []
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(ohrt.json("audit", "list")) == 3
    add_task(ohrt, "https://www.tiktok.com/@a/video/1")
    assert [t["url"] for t in ohrt.json("task", "list")] == ["https://www.tiktok.com/@a/video/1"]


def test_a_busy_timeout_that_is_not_a_number_is_refused(ohrt):
    result = ohrt("task", "list", env={"OHRT_BUSY_TIMEOUT": "soon"})
    assert result.exit_code == 2 and "OHRT_BUSY_TIMEOUT='soon'" in result.stderr


def test_a_bug_is_one_line_for_the_officer_and_a_traceback_with_ohrt_debug(ohrt, monkeypatch):
    """The last-resort handler: an unexpected exception is one line naming it (exit 1); with OHRT_DEBUG=1
    (which the test runner sets) it goes through for the bug report."""
    from ohrt_cli.stages import intake

    def broken(ctx, status=None):
        raise RuntimeError("a bug in listing")

    monkeypatch.setattr(intake, "list_tasks", broken)
    result = ohrt("task", "list", env={"OHRT_DEBUG": None})
    assert result.exit_code == 1
    assert result.stderr == ("error: internal error: RuntimeError: a bug in listing (run again with OHRT_DEBUG=1 "
                             "and report it).\n")
    debugged = ohrt("task", "list")
    assert debugged.exit_code == 1 and isinstance(debugged.exception, RuntimeError) and debugged.stderr == ""
