"""Faults: a crash or Ctrl-C at the worst moment leaves a record that says what is missing and mends
itself; every child process dies with ohrt (DESIGN invariant 2)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from support.home import OHRT_BIN, rows

URL = "https://www.tiktok.com/@drill/live"
ROOT = Path(__file__).resolve().parent.parent


def ohrt_with(home: Path, prelude: str, *args: str, env_officer: str = "2345", **kwargs) -> subprocess.CompletedProcess:
    """ohrt as its own process, `prelude` run first (to stop it at one exact moment), as an officer would run it."""
    script = textwrap.dedent(prelude) + "\nfrom ohrt_cli.cli import main\nsys.argv = ['ohrt', *sys.argv[1:]]\nmain()\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    env.update({"OHRT_HOME": str(home), "OHRT_OFFICER": env_officer})
    return subprocess.run([sys.executable, "-c", "import os, signal, sys\n" + script, *args], env=env,
                          capture_output=True, text=True, cwd=ROOT, **kwargs)


def test_a_crash_while_fingerprinting_leaves_the_fingerprints_not_made_and_finish_makes_them(ohrt, make_clip):
    clip = make_clip("recording", seconds=2)
    crash = """
        from ohrt_cli.stages.library import matching
        matching.on_capture = lambda ctx, capture_id: os.kill(os.getpid(), signal.SIGKILL)
    """
    done = ohrt_with(ohrt.home, crash, "capture", "--file", str(clip), "--url", URL, "--reason", "Live, recorded")
    assert done.returncode == -signal.SIGKILL
    [capture] = rows(ohrt, "SELECT id, status, derivatives_failed FROM captures")
    assert capture["status"] == "incomplete" and capture["derivatives_failed"] == 1
    manifest = json.loads((ohrt.home / "captures" / capture["id"] / "manifest.json").read_text())
    assert [f["status"] for f in manifest["files"] if f["role"] == "fingerprints"] == ["not-made"]
    assert ohrt.ok("verify", capture["id"]).exit_code == 0
    assert not rows(ohrt, "SELECT 1 FROM fingerprints")
    finished = ohrt.json("capture", "finish", capture["id"])
    assert finished["made"] == ["fingerprints"] and finished["capture"]["status"] == "complete"
    assert rows(ohrt, "SELECT capture_id FROM fingerprints") == [{"capture_id": capture["id"]}]


def test_ctrl_c_after_the_commit_says_which_capture_was_kept_and_how_to_finish_it(ohrt, make_clip):
    clip = make_clip("recording", seconds=2)
    interrupt = """
        from ohrt_cli.stages.library import matching
        def stop(ctx, capture_id):
            raise KeyboardInterrupt
        matching.on_capture = stop
    """
    done = ohrt_with(ohrt.home, interrupt, "capture", "--file", str(clip), "--url", URL, "--reason", "Live, recorded")
    [capture] = rows(ohrt, "SELECT id, task_id FROM captures")
    assert done.returncode == 130
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "nothing half-made" not in lines[0]
    assert f"capture {capture['id']} of task {capture['task_id']} was kept" in lines[0]
    assert f"ohrt capture finish {capture['id']}" in lines[0] and "do not capture it again" in lines[0]


def test_a_hook_completes_a_capture_in_its_own_commit_when_it_works(ohrt, make_clip):
    result = ohrt.json("capture", "--file", str(make_clip("recording", seconds=2)), "--url", URL,
                       "--reason", "Live, recorded")
    assert result["status"] == "complete" and not [f for f in result["files"] if f["status"] != "ok"]
    manifest = json.loads((ohrt.home / "captures" / result["id"] / "manifest.json").read_text())
    assert not [f for f in manifest["files"] if f["role"] == "fingerprints"]


# ------------------------------------------------------------------------------------ child processes

def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_child_dies_with_ohrt_when_ohrt_is_killed():
    script = textwrap.dedent("""
        import sys, time
        from ohrt_cli.ground import processes
        with processes.popen(["sleep", "60"]) as proc:
            print(proc.pid, flush=True)
            time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    child = int(parent.stdout.readline())
    assert _alive(child) and os.getpgid(child) == child  # a group of its own
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 3
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(child)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_ffmpeg_dies_with_a_capture_killed_while_it_derives(tmp_path, ohrt, make_clip):
    clip = make_clip("long-recording", seconds=40, size="640x360")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    env.update({"OHRT_HOME": str(ohrt.home), "OHRT_OFFICER": "2345"})
    proc = subprocess.Popen([OHRT_BIN, "capture", "--file", str(clip), "--url", URL, "--reason", "Live, recorded"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, ffmpegs = time.monotonic() + 30, []
    while not ffmpegs and proc.poll() is None and time.monotonic() < deadline:
        ffmpegs = [pid for pid in _children(proc.pid)
                   if Path(f"/proc/{pid}/comm").exists() and Path(f"/proc/{pid}/comm").read_text().strip() == "ffmpeg"]
        time.sleep(0.01)
    assert ffmpegs, "no ffmpeg was seen running under the capture"
    assert all(os.getpgid(pid) == pid for pid in ffmpegs)  # each in a group of its own, ended as one
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 2
    while any(map(_alive, ffmpegs)) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert not any(map(_alive, ffmpegs))


def test_every_process_ohrt_starts_goes_through_the_one_module_that_binds_it():
    starts = re.compile(r"subprocess\.(run|Popen|call|check_call|check_output)\(|ffmpeg\.probe\(|\.run\(cmd=")
    found = []
    for path in (ROOT / "ohrt_cli").rglob("*.py"):
        if path.name == "processes.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            # a player meant to outlive ohrt; the officer's editor, which needs the terminal's foreground group
            if starts.search(line) and "start_new_session=True" not in line and "shlex.split(editor)" not in line:
                found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == []



# ------------------------------------------------------------------------------------ referral drafts

def test_a_draft_killed_between_its_rename_and_its_commit_leaves_an_orphan_the_next_draft_clears(ohrt):
    from support.refer import CONSTABLE, draft, reviewed_task

    first, second = reviewed_task(ohrt, "instagram"), reviewed_task(ohrt, "tiktok")
    crash = """
        from ohrt_cli.stages.refer import drafting
        write = drafting._write_version
        def write_then_die(*args, **kwargs):
            write(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)
        drafting._write_version = write_then_die
    """
    done = ohrt_with(ohrt.home, crash, "refer", "draft", first, env_officer=CONSTABLE)
    assert done.returncode == -signal.SIGKILL
    assert not rows(ohrt, "SELECT 1 FROM referrals")
    [orphan] = [p for p in (ohrt.home / "referrals").rglob("v1")]
    verified = ohrt("verify")
    assert verified.exit_code == 1 and f"unexpected {orphan.parent.relative_to(ohrt.home)}:" in verified.stderr
    made = draft(ohrt, second)  # another task's draft gets the same id: the orphan goes, the draft is made
    assert made["id"] == orphan.parent.name and made["task_id"] == second
    assert draft(ohrt, first)["task_id"] == first
    assert ohrt.ok("verify").exit_code == 0


# ------------------------------------------------------------------------------------------- verify

def _captured(ohrt, make_clip) -> tuple[str, Path]:
    result = ohrt.json("capture", "--file", str(make_clip("recording", seconds=2)), "--url", URL,
                       "--reason", "Live, recorded", "--no-derivatives")
    return result["id"], ohrt.home / "captures" / result["id"]


def _problems(ohrt) -> list[tuple]:
    done = ohrt("verify", "--json")
    report = json.loads(done.stdout)
    assert done.exit_code == (0 if report["intact"] else 1)
    return [(p["capture"], p["problem"], p["path"], p["detail"]) for p in report["problems"]]


def test_a_flipped_digit_in_sha256sums_is_the_line_wrong_not_the_file_changed(ohrt, make_clip):
    capture_id, folder = _captured(ohrt, make_clip)
    sums = folder / "SHA256SUMS"
    lines = sums.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.endswith(".mp4"))
    sha, path = lines[index].split("  ", 1)
    lines[index] = ("0" if sha[0] != "0" else "1") + sha[1:] + "  " + path
    sums.chmod(0o644)
    sums.write_text("\n".join(lines) + "\n")
    [(owner, problem, where, detail)] = _problems(ohrt)
    assert (owner, problem, where) == (capture_id, "sums", "SHA256SUMS")
    assert path in detail and "the line is wrong, the file is as signed" in detail


def test_verify_names_hidden_and_empty_folders_and_a_purged_capture_whose_files_remain(ohrt, make_clip):
    capture_id, folder = _captured(ohrt, make_clip)
    (ohrt.home / "captures" / ".hidden").mkdir()
    folder.chmod(0o755)
    (folder / "source" / "empty").mkdir(parents=True)
    found = _problems(ohrt)
    assert (".hidden", "unexpected", "captures/.hidden", "a hidden folder in the store that no capture record owns") in found
    assert (capture_id, "unexpected", "source/empty/", "an empty folder, not recorded") in found
    db = ohrt.db()
    with db.conn:
        db.conn.execute("UPDATE captures SET purged_at = '2027-01-01T00:00:00+00:00' WHERE id = ?", [capture_id])
    db.conn.close()
    [(owner, problem, where, detail)] = [p for p in _problems(ohrt) if p[0] == capture_id]
    assert (problem, where) == ("unexpected", f"captures/{capture_id}") and "ohrt purge" in detail


def test_verify_compares_the_file_rows_with_the_signed_manifest(ohrt, make_clip):
    capture_id, _ = _captured(ohrt, make_clip)
    db = ohrt.db()
    with db.conn:
        db.conn.execute("UPDATE capture_files SET sha256 = ? WHERE capture_id = ? AND role = 'original'",
                        ["0" * 64, capture_id])
    db.conn.close()
    [(owner, problem, where, detail)] = _problems(ohrt)
    assert (owner, problem) == (capture_id, "record") and where.startswith("original/") and "differs" in detail
