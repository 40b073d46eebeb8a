"""`ohrt purge` (issue 6, points 2–4): with a fixed clock, expired library items go and held ones stay,
everything else captured goes 12 months after capture, files and personal rows are really gone, a
tombstone and an audit entry remain, a second run does nothing, a purge killed midway is finished by the
next run, and two purges at once are safe. Run as cron runs it: its own process, no officer."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import stat
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
import tomli_w

from ohrt_cli.ground import store
from support.home import TASK_ARGS, Ohrt, copy_home, new_home
from support.library import (CONSTABLE, OHRT_BIN, SERGEANT, audit_entries, captured_task, env,
                             library_item, review, rows, run_ohrt, secrets_of, youtube)

BUILT = "2026-03-05"          # the flows happen on this day ...
LATER = "2026-06-20"          # ... except one item removed later
PURGE_AT = "2027-06-01T02:00:00+00:00"   # 12 months on: the first items are due, the later one is not
BULK = 40_000             # files in a large capture folder: deleting them takes ~0.4 s


@pytest.fixture(scope="module")
def template(tmp_path_factory, make_clip) -> tuple[Path, dict]:
    """A home with, made through the CLI: `expired` (music video removed 2026-03-05), `held` (the same,
    held for an investigation), `fresh` (removed 2026-06-20), `nfa` (reviewed: no further action),
    `video` (removed, but not music: no library item), `open` (reviewed, referral never drafted) and
    `uncaptured` (received 2026-02-20, gone before capture: no further action)."""
    home = tmp_path_factory.mktemp("purge-template") / "home"
    ohrt = new_home(home, env=env(BUILT))
    clip = make_clip("purge-clip", seconds=4)
    made = {"expired": library_item(ohrt, clip, youtube(1), when=BUILT),
            "held": library_item(ohrt, make_clip("purge-clip-2", seconds=4, freq=660), youtube(2), when=BUILT,
                                 derivatives=False),
            "fresh": library_item(ohrt, clip, youtube(3), when=LATER, derivatives=False),
            "video": library_item(ohrt, clip, youtube(4), when=BUILT, fmt="video", derivatives=False)}
    task, capture = captured_task(ohrt, clip, youtube(5), when=BUILT, derivatives=False)
    review(ohrt, task, when=BUILT, decision="nfa", fmt="music-video")
    made["nfa"] = {"task": task, "capture": capture["id"], "item": None}
    task, capture = captured_task(ohrt, clip, youtube(6), when=BUILT, derivatives=False)
    review(ohrt, task, when=BUILT)
    made["open"] = {"task": task, "capture": capture["id"], "item": None}
    task = ohrt.ok("task", "add", "--url", youtube(7), *TASK_ARGS, "--subject", "Never Captured",
                   env=env("2026-02-20")).stdout.strip()
    ohrt.ok("review", task, "--decision", "nfa", "--format", "video", "--no-capture", "--reason",
            "Deleted before capture", env=env("2026-02-21", CONSTABLE))
    made["uncaptured"] = {"task": task, "capture": None, "item": None}
    ohrt.ok("library", "hold", made["held"]["item"], "--investigation", "Op Quenby", "--reason",
            "The suspect's own music: trial in 2027", env=env("2026-09-01", SERGEANT))
    return home, made


@pytest.fixture
def home(template, tmp_path) -> tuple[Ohrt, dict]:
    """A copy of the template home for one test."""
    source, made = template
    return copy_home(source, tmp_path / "home"), made


def purge(ohrt: Ohrt, *args: str, at: str = PURGE_AT) -> dict:
    done = run_ohrt(ohrt.home, "purge", "--json", *args, extra_env={"OHRT_NOW": at})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def set_retention(ohrt: Ohrt, **values) -> None:
    path = ohrt.home / "config.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    raw.setdefault("retention", {}).update(values)
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")


def folder(ohrt: Ohrt, capture_id: str) -> Path:
    return ohrt.home / "captures" / capture_id


def test_the_template_is_what_the_tests_assume(home):
    ohrt, made = home
    assert made["expired"]["item"] and made["held"]["item"] and made["fresh"]["item"]
    assert made["video"]["item"] is None  # removed, but not musical: not in the library (SOP 10.8)
    items = {i["id"]: i for i in ohrt.json("library", "list")}
    assert items[made["expired"]["item"]]["expires_on"] == "2027-03-05"
    assert items[made["fresh"]["item"]]["expires_on"] == "2027-06-20"
    assert items[made["held"]["item"]]["held"] is True


def test_purge_deletes_what_expired_and_keeps_what_is_held_or_still_within_retention(home):
    ohrt, made = home
    expired, held, fresh = made["expired"], made["held"], made["fresh"]
    sha = rows(ohrt, "SELECT sha256 FROM capture_files WHERE capture_id = ? AND role = 'original'",
               [expired["capture"]])[0]["sha256"]
    assert (folder(ohrt, expired["capture"]) / "derived").is_dir()
    summary = purge(ohrt)

    assert summary["by"] == "scheduled" and not summary["dry_run"] and not summary["failed"]
    purged = {u["object_id"]: u for u in summary["purged"]}
    assert set(purged) == {expired["item"], made["video"]["task"], made["nfa"]["task"], made["uncaptured"]["task"]}
    assert purged[expired["item"]]["rule"] == "library" and purged[made["nfa"]["task"]]["rule"] == "captured"
    uncaptured = purged[made["uncaptured"]["task"]]
    assert uncaptured["captures"] == [] and uncaptured["expired_on"] == "2027-02-20"  # 12 months from receipt
    assert [h["id"] for h in summary["held"]] == [held["item"]]
    assert [o["task_id"] for o in summary["overdue"]] == [made["open"]["task"]]

    # files gone, derivatives and all; the held, fresh and open ones untouched
    for gone in (expired, made["video"], made["nfa"]):
        assert not folder(ohrt, gone["capture"]).exists()
    for kept in (held, fresh, made["open"]):
        assert (folder(ohrt, kept["capture"]) / "manifest.json").is_file()
    assert purged[expired["item"]]["files"] >= 5 and purged[expired["item"]]["bytes"] > 10_000


def test_purge_removes_the_personal_rows_and_leaves_a_tombstone_and_audit_entry(home):
    ohrt, made = home
    expired = made["expired"]
    task = expired["task"]
    sha = rows(ohrt, "SELECT sha256 FROM capture_files WHERE capture_id = ? AND role = 'original'",
               [expired["capture"]])[0]["sha256"]
    for table in ("subjects", "incident_refs", "indices_research"):
        assert rows(ohrt, f"SELECT * FROM {table} WHERE task_id = ?", [task])
    purge(ohrt)

    for table in ("subjects", "incident_refs", "indices_research"):
        assert not rows(ohrt, f"SELECT * FROM {table} WHERE task_id = ?", [task]), table
    for table in ("fingerprints", "capture_files"):
        assert not rows(ohrt, f"SELECT * FROM {table} WHERE capture_id = ?", [expired["capture"]]), table
    capture = rows(ohrt, "SELECT * FROM captures WHERE id = ?", [expired["capture"]])[0]
    assert capture["purged_at"] == PURGE_AT and capture["requested_url"] is None
    item = ohrt.json("library", "show", expired["item"])
    assert item["status"] == "purged" and item["title"] is None and item["summary"] is None
    assert item["removed_on"] == BUILT and item["expires_on"] == "2027-03-05"  # the dates stay on record
    shown = ohrt.json("task", "show", task)
    assert shown["status"] == "closed" and shown["subjects"] == [] and shown["incident_refs"] == []
    assert shown["title"] is None and shown["url"] == ""
    # nothing of the task's personal data is left anywhere in the database, audit chain included
    dump = "\n".join(sqlite3.connect(ohrt.home / "ohrt.db").iterdump())
    for name, secret in secrets_of(1).items():
        assert secret.split(":")[-1] not in dump, name
    assert secrets_of(2)["subject"] in dump  # the held item's task keeps its own

    [tomb] = rows(ohrt, "SELECT * FROM tombstones WHERE object_id = ?", [expired["item"]])
    detail = json.loads(tomb["detail"])
    assert (tomb["state"], tomb["rule"], tomb["purged_by"], tomb["task_id"]) == ("done", "library", "scheduled", task)
    assert tomb["purged_at"] == PURGE_AT and tomb["expired_on"] == "2027-03-05"
    assert detail["captures"][0]["id"] == expired["capture"]
    assert detail["captures"][0]["originals"][0]["sha256"] == sha
    assert detail["removed_on"] == BUILT and "SOP 10.8" in detail["rule"] and detail["retention_months"] == 12
    [entry] = [e for e in audit_entries(ohrt, "library.purge") if e["object_id"] == expired["item"]]
    assert entry["officer"] == "scheduled" and entry["detail"]["captures"] == [expired["capture"]]
    assert entry["detail"]["clock"] == "fixed by OHRT_NOW"
    assert audit_entries(ohrt, "purge.run")[0]["detail"]["purged"] == 4
    assert not rows(ohrt, "SELECT * FROM subjects WHERE name = 'Never Captured'")
    assert ohrt.json("audit", "verify")["intact"] is True


def test_no_purged_text_is_left_in_the_database_files_or_their_free_pages(home, monkeypatch):
    """The bytes of ohrt.db and its write-ahead log, not only its rows: SQLite leaves deleted text in free
    space unless secure_delete is on (this build has it on by default, most do not: the purge runs on
    connections that start with it off), and the log keeps earlier versions of pages until it is cleared."""
    ohrt, made = home
    tasks = [made[name]["task"] for name in ("expired", "video", "nfa")]
    numbers = [int(u["url"][-8:]) for u in (ohrt.json("task", "show", t) for t in tasks)]
    secrets = [value for n in numbers for value in secrets_of(n).values()]
    connect = sqlite3.connect

    def as_most_builds(*args, **kwargs):
        conn = connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete=OFF")
        return conn

    monkeypatch.setattr(sqlite3, "connect", as_most_builds)
    summary = json.loads(ohrt.ok("purge", "--json", env={"OHRT_NOW": PURGE_AT}).stdout)
    monkeypatch.undo()
    assert summary["log_cleared"] is True
    for task in tasks:
        [row] = rows(ohrt, "SELECT applicant_name, title, rationale FROM tasks WHERE id = ?", [task])
        assert row == {"applicant_name": None, "title": None, "rationale": None}
        assert not [r for r in rows(ohrt, "SELECT f.note FROM findings f JOIN reviews r ON r.id = f.review_id "
                                          "WHERE r.task_id = ?", [task]) if r["note"]]
    raw = b"".join(path.read_bytes() for path in ohrt.home.glob("ohrt.db*"))
    for secret in secrets:
        for form in {secret, secret.lower(), secret.split(":")[-1]}:
            assert form.encode() not in raw, form
    assert secrets_of(2)["subject"].encode() in raw  # the held item's task keeps its own


def test_a_second_purge_does_nothing(home):
    ohrt, made = home
    purge(ohrt)
    before = rows(ohrt, "SELECT COUNT(*) AS n FROM audit")[0]["n"]
    again = purge(ohrt)
    assert again["purged"] == [] and again["resumed"] == []
    assert rows(ohrt, "SELECT COUNT(*) AS n FROM audit")[0]["n"] == before
    assert len(rows(ohrt, "SELECT * FROM tombstones")) == 4


def test_a_dry_run_names_what_would_go_and_changes_nothing(home):
    ohrt, made = home
    before = rows(ohrt, "SELECT COUNT(*) AS n FROM audit")[0]["n"]
    summary = purge(ohrt, "--dry-run")
    assert summary["dry_run"] and {u["object_id"] for u in summary["purged"]} == {
        made["expired"]["item"], made["video"]["task"], made["nfa"]["task"], made["uncaptured"]["task"]}
    assert folder(ohrt, made["expired"]["capture"]).is_dir()
    assert rows(ohrt, "SELECT COUNT(*) AS n FROM audit")[0]["n"] == before and not rows(ohrt, "SELECT * FROM tombstones")


def test_nothing_is_due_before_the_retention_ends(home):
    ohrt, made = home
    summary = purge(ohrt, at="2027-02-19T23:00:00+00:00")
    assert summary["purged"] == [] and summary["held"] == [] and summary["overdue"] == []


def test_a_released_hold_lets_the_next_purge_delete_the_item(home):
    ohrt, made = home
    held = made["held"]["item"]
    result = ohrt("library", "release", held, "--reason", "case concluded", env=env("2027-05-01", CONSTABLE))
    assert result.exit_code == 2 and "sergeant or above" in result.stderr
    result = ohrt.ok("library", "release", held, "--reason", "case concluded at court", env=env(PURGE_AT, SERGEANT))
    assert "next purge deletes it" in result.stdout
    assert held in {u["object_id"] for u in purge(ohrt)["purged"]}
    assert not folder(ohrt, made["held"]["capture"]).exists()


def test_the_retention_periods_come_from_the_configuration(home):
    ohrt, made = home
    set_retention(ohrt, capture_months=24)
    summary = purge(ohrt)
    assert {u["object_id"] for u in summary["purged"]} == {made["expired"]["item"]}  # 2.2 now 24 months
    set_retention(ohrt, capture_months="soon")
    done = run_ohrt(ohrt.home, "purge", extra_env={"OHRT_NOW": PURGE_AT})
    assert done.returncode == 2 and "retention.capture_months" in done.stderr and "Traceback" not in done.stderr


def test_a_named_officer_purging_by_hand_is_recorded_and_must_be_on_the_roster(home):
    ohrt, made = home
    done = run_ohrt(ohrt.home, "purge", extra_env={"OHRT_NOW": PURGE_AT, "OHRT_OFFICER": "9999"})
    assert done.returncode == 2 and "not on this home's roster" in done.stderr
    summary = json.loads(run_ohrt(ohrt.home, "--officer", SERGEANT, "purge", "--json",
                                  extra_env={"OHRT_NOW": PURGE_AT}).stdout)
    assert summary["by"] == SERGEANT
    assert {t["purged_by"] for t in rows(ohrt, "SELECT purged_by FROM tombstones")} == {SERGEANT}


def test_a_file_hard_linked_from_a_kept_capture_stays_read_only_and_intact(home):
    ohrt, made = home
    kept_original = next((folder(ohrt, made["fresh"]["capture"]) / "original").iterdir())
    purged_original = next((folder(ohrt, made["expired"]["capture"]) / "original").iterdir())
    # The same clip is stored once, by hard link, as capture did in the template (copying lost the link).
    assert kept_original.read_bytes() == purged_original.read_bytes()
    os.link(purged_original, kept_original.with_name("relinked"))
    os.replace(kept_original.with_name("relinked"), kept_original)
    assert kept_original.stat().st_nlink == 2
    purge(ohrt)
    assert kept_original.is_file() and stat.S_IMODE(kept_original.stat().st_mode) == 0o444
    assert ohrt.ok("verify", made["fresh"]["capture"]).exit_code == 0


def test_a_purge_killed_midway_is_finished_by_the_next_run(home):
    ohrt, made = home
    expired = made["expired"]
    _kill_purge_while_deleting(ohrt, folder(ohrt, expired["capture"]) / "derived" / "bulk")
    # Killed: the record says the purge started and did not finish; the files are half gone.
    [tomb] = rows(ohrt, "SELECT * FROM tombstones WHERE object_id = ?", [expired["item"]])
    assert tomb["state"] == "purging" and tomb["purged_at"] is None
    assert folder(ohrt, expired["capture"]).exists()
    assert rows(ohrt, "SELECT purged_at FROM captures WHERE id = ?", [expired["capture"]])[0]["purged_at"]
    assert rows(ohrt, "SELECT status FROM library_items WHERE id = ?", [expired["item"]])[0]["status"] == "purging"
    result = ohrt("library", "hold", expired["item"], "--investigation", "Op X", "--reason", "late",
                  env=env(PURGE_AT, SERGEANT))
    assert result.exit_code == 2 and "purging" in result.stderr

    summary = purge(ohrt)
    assert expired["item"] in {u["object_id"] for u in summary["resumed"]}
    assert not folder(ohrt, expired["capture"]).exists()
    [tomb] = rows(ohrt, "SELECT * FROM tombstones WHERE object_id = ?", [expired["item"]])
    assert tomb["state"] == "done" and tomb["purged_at"] == PURGE_AT
    assert not rows(ohrt, "SELECT * FROM subjects WHERE task_id = ?", [expired["task"]])
    [entry] = [e for e in audit_entries(ohrt, "library.purge") if e["object_id"] == expired["item"]]
    assert entry["detail"]["resumed"] is True
    assert purge(ohrt)["purged"] == [] and ohrt.json("audit", "verify")["intact"]


def _kill_purge_while_deleting(ohrt, bulk: Path) -> None:
    """Fill `bulk` with so many read-only files (in a read-only folder) that deleting them takes a while,
    start `ohrt purge` as cron would, and SIGKILL it once it is deleting them."""
    bulk.mkdir(parents=True)
    for n in range(BULK):
        os.close(os.open(bulk / f"frame-{n:05d}.bin", os.O_CREAT | os.O_WRONLY, 0o444))
    os.chmod(bulk, 0o555)
    process = subprocess.Popen([OHRT_BIN, "purge"], env=_cron_env(ohrt.home), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        _wait_until_deleting(bulk, process)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()


def _cron_env(home: Path) -> dict:
    full = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    return {**full, "OHRT_HOME": str(home), "OHRT_NOW": PURGE_AT}


def _wait_until_deleting(bulk: Path, process: subprocess.Popen) -> None:
    """Until the purge has begun deleting the large folder (and so has committed its tombstones)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        if len(os.listdir(bulk)) < BULK - 2000:
            return
    raise AssertionError("the purge never began deleting")


def test_two_purges_at_once_each_purge_exactly_once(home):
    ohrt, made = home
    processes = [subprocess.Popen([OHRT_BIN, "purge", "--json"], env=_cron_env(ohrt.home), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    summaries = [json.loads(out) for out, _ in outputs]
    done = sorted(u["object_id"] for s in summaries for u in s["purged"])
    assert done == sorted({made["expired"]["item"], made["video"]["task"], made["nfa"]["task"],
                           made["uncaptured"]["task"]})
    assert len(rows(ohrt, "SELECT * FROM tombstones WHERE state = 'done'")) == 4
    assert len(audit_entries(ohrt, "library.purge")) == 1 and len(audit_entries(ohrt, "task.purge")) == 3
    assert ohrt.json("audit", "verify")["intact"]


# ------------------------------------------- the other copies in the home: packages and referral drafts

RECIPIENT, REASON = "DC Jo Bloggs, Trident Central", "evidence for the CPS charging decision"
EXPORTED = "2026-09-10"


def export(ohrt: Ohrt, task: str, *extra: str) -> dict:
    """`ohrt export` as the sergeant, into HOME/exports unless --to is given."""
    return ohrt.json("export", task, "--recipient", RECIPIENT, "--reason", REASON, *extra,
                     env=env(EXPORTED, SERGEANT))


def drafts(ohrt: Ohrt, referral: str) -> Path:
    return ohrt.home / "referrals" / referral


def test_purge_deletes_the_tasks_packages_in_exports_and_its_referral_drafts_but_not_a_held_items(home, tmp_path):
    ohrt, made = home
    expired, held = made["expired"], made["held"]
    gone = export(ohrt, expired["task"], "--zip")
    kept = export(ohrt, held["task"])
    elsewhere = tmp_path / "usb"
    elsewhere.mkdir()
    handed_over = export(ohrt, expired["task"], "--to", str(elsewhere))
    stranger = ohrt.home / "exports" / "notes.txt"   # not ohrt's: left alone
    stranger.write_text("the team's own notes\n", encoding="utf-8")
    exports = ohrt.home / "exports"
    name = gone["name"]
    assert {p.name for p in exports.iterdir()} >= {name, f"{name}.zip", f"{name}.zip.sha256", kept["name"]}
    assert list(drafts(ohrt, expired["referral"]).glob("v1/*"))  # the drafted files (.eml or portal .txt)
    sha = rows(ohrt, "SELECT draft_sha256 FROM referrals WHERE id = ?", [expired["referral"]])[0]["draft_sha256"]

    summary = purge(ohrt)

    [unit] = [u for u in summary["purged"] if u["object_id"] == expired["item"]]
    assert unit["exports"] == [f"exports/{name}", f"exports/{name}.zip", f"exports/{name}.zip.sha256"]
    assert unit["referral_drafts"] == [f"referrals/{expired['referral']}"]
    for rel in unit["exports"] + unit["referral_drafts"]:
        assert not os.path.lexists(ohrt.home / rel), rel
    # the held item's task keeps everything: capture, package and drafts
    assert Path(kept["package"]).is_dir() and drafts(ohrt, held["referral"]).is_dir()
    assert ohrt.ok("verify", "--package", kept["package"]).exit_code == 0
    # a package handed over with --to is the officer in the case's (CPIA 1996); the team's own file stays
    assert Path(handed_over["package"]).is_dir() and stranger.is_file()
    # the referral's row and the sha256 of what was sent stay on record; the tombstone says what files went
    referral = rows(ohrt, "SELECT * FROM referrals WHERE id = ?", [expired["referral"]])[0]
    assert referral["draft_sha256"] == sha and referral["status"] == "removed"
    [tomb] = rows(ohrt, "SELECT * FROM tombstones WHERE object_id = ?", [expired["item"]])
    detail = json.loads(tomb["detail"])
    assert detail["exports"] == unit["exports"] and detail["referral_drafts"] == unit["referral_drafts"]
    [entry] = [e for e in audit_entries(ohrt, "library.purge") if e["object_id"] == expired["item"]]
    assert entry["detail"]["exports"] == unit["exports"]
    # a task purged under SOP 2.2 loses its drafts too
    video = rows(ohrt, "SELECT id FROM referrals WHERE task_id = ?", [made["video"]["task"]])[0]["id"]
    assert not drafts(ohrt, video).exists()
    assert ohrt.json("audit", "verify")["intact"] is True


def test_a_package_is_found_by_its_bag_info_even_when_renamed(home):
    ohrt, made = home
    package = Path(export(ohrt, made["nfa"]["task"])["package"])
    renamed = package.with_name("for-the-cps")
    package.rename(renamed)
    dry = purge(ohrt, "--dry-run")
    [unit] = [u for u in dry["purged"] if u["object_id"] == made["nfa"]["task"]]
    assert unit["exports"] == ["exports/for-the-cps"]
    purge(ohrt)
    assert not renamed.exists()


def test_a_dry_run_lists_the_packages_and_drafts_and_deletes_nothing(home):
    ohrt, made = home
    expired = made["expired"]
    package = export(ohrt, expired["task"])
    summary = purge(ohrt, "--dry-run")
    [unit] = [u for u in summary["purged"] if u["object_id"] == expired["item"]]
    assert unit["exports"] == [f"exports/{package['name']}"]
    assert unit["referral_drafts"] == [f"referrals/{expired['referral']}"]
    assert Path(package["package"]).is_dir() and drafts(ohrt, expired["referral"]).is_dir()
    assert not rows(ohrt, "SELECT * FROM tombstones")
    said = run_ohrt(ohrt.home, "purge", "--dry-run", extra_env={"OHRT_NOW": PURGE_AT})
    assert said.returncode == 0, said.stderr
    assert f"with the evidence package exports/{package['name']}" in said.stdout
    assert f"with the referral drafts referrals/{expired['referral']}/" in said.stdout


def test_a_purge_killed_while_deleting_a_package_is_finished_by_the_next_run(home):
    ohrt, made = home
    expired = made["expired"]
    package = Path(export(ohrt, expired["task"])["package"])
    _kill_purge_while_deleting(ohrt, package / "data" / "bulk")
    # The intent was committed first: the tombstone lists the package, which is half gone.
    [tomb] = rows(ohrt, "SELECT * FROM tombstones WHERE object_id = ?", [expired["item"]])
    assert tomb["state"] == "purging" and json.loads(tomb["detail"])["exports"] == [f"exports/{package.name}"]
    assert package.exists()
    # An export started now is refused: the task's captures are marked purged.
    late = ohrt("export", expired["task"], "--recipient", RECIPIENT, "--reason", REASON, env=env(PURGE_AT, SERGEANT))
    redraft = ohrt("refer", "draft", expired["task"], env=env(PURGE_AT, SERGEANT))
    assert redraft.exit_code == 2 and "no draft was made" in redraft.stderr
    assert late.exit_code == 2 and "nothing was exported" in late.stderr and not any(p.name.startswith(expired["task"]) and p != package
                                           for p in (ohrt.home / "exports").iterdir())

    summary = purge(ohrt)
    [unit] = [u for u in summary["resumed"] if u["object_id"] == expired["item"]]
    assert unit["exports"] == [f"exports/{package.name}"]
    assert not package.exists() and not drafts(ohrt, expired["referral"]).exists()
    assert rows(ohrt, "SELECT state FROM tombstones WHERE object_id = ?", [expired["item"]])[0]["state"] == "done"


# ------------------------------------------------------------------ what the purge refuses to do

def test_a_second_purge_gives_up_when_the_lock_is_held_past_its_wait(home, monkeypatch):
    """Another purge holds HOME/.purge.lock: this one waits LOCK_WAIT_S (shortened here), then stops with
    one line and has deleted nothing."""
    from ohrt_cli.stages.library import retention

    ohrt, made = home
    monkeypatch.setattr(retention, "LOCK_WAIT_S", 0.5)
    with open(ohrt.home / ".purge.lock", "a+") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        started = time.monotonic()
        result = ohrt("purge", env={"OHRT_NOW": PURGE_AT})
        waited = time.monotonic() - started
    assert result.exit_code == 2 and "another `ohrt purge` has held" in result.stderr
    assert "for over 0.5 s: let it finish, then run the purge again" in result.stderr
    assert 0.5 <= waited < 10
    assert rows(ohrt, "SELECT * FROM tombstones") == [] and audit_entries(ohrt, "library.purge") == []
    assert (folder(ohrt, made["expired"]["capture"]) / "manifest.json").is_file()


def test_a_capture_folder_swapped_for_a_link_is_unlinked_never_followed(home, tmp_path):
    ohrt, made = home
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the store's", encoding="utf-8")
    target = folder(ohrt, made["expired"]["capture"])
    store.remove_tree(target)
    target.symlink_to(outside, target_is_directory=True)
    summary = purge(ohrt)
    assert made["expired"]["item"] in {u["object_id"] for u in summary["purged"]} and not summary["failed"]
    assert not target.is_symlink() and not target.exists()
    assert (outside / "keep.txt").read_text(encoding="utf-8") == "not the store's"


def test_a_capture_folder_recorded_outside_the_store_is_refused_and_kept(home, tmp_path):
    """A capture row whose folder leads out of HOME/captures (edited by hand): the purge deletes nothing
    there, reports the unit as not finished (exit 1), and leaves its tombstone 'purging' for a later run."""
    ohrt, made = home
    expired = made["expired"]
    outside = ohrt.home / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the store's", encoding="utf-8")
    db = sqlite3.connect(ohrt.home / "ohrt.db")
    db.execute("UPDATE captures SET folder = 'captures/../elsewhere' WHERE id = ?", [expired["capture"]])
    db.commit()
    db.close()
    done = run_ohrt(ohrt.home, "purge", extra_env={"OHRT_NOW": PURGE_AT})
    assert done.returncode == 1
    assert f"could not finish {expired['item']}: " in done.stderr and "outside the store" in done.stderr
    assert (outside / "keep.txt").read_text(encoding="utf-8") == "not the store's"
    [tomb] = rows(ohrt, "SELECT state FROM tombstones WHERE object_id = ?", [expired["item"]])
    assert tomb["state"] == "purging"
    assert rows(ohrt, "SELECT * FROM subjects WHERE task_id = ?", [expired["task"]])  # its rows not erased yet
