"""Fault injection: `ohrt capture --file` killed with SIGKILL at random moments, then the home checked.

Prints, for N kills: how many left a capture committed, how many of those had fingerprints pending (and
were mended by `capture finish`), rows without folders, folders without rows, ffmpeg children alive 0.5 s
after the kill, and whether `ohrt verify` passed after each next capture swept the leftovers.
Run: .venv/bin/python bench/faults_capture.py [N]   (not part of the test suite: it takes minutes)
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faultlib

BIN = str(Path(sys.executable).parent / "ohrt")


def run(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    env.update(OHRT_HOME=str(home), OHRT_OFFICER="2345")
    return subprocess.run([BIN, *args], env=env, capture_output=True, text=True)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid and (entry / "comm").read_text().strip() == "ffmpeg":
                    found.append(int(entry.name))
            except (OSError, ValueError):
                pass
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def main(n: int) -> None:
    work = Path(tempfile.mkdtemp())
    home = work / "home"
    run(home, "init", "--team", "T", "--mailbox", "t@example.police.uk", "--officer", "PS A", "--number", "2345",
        "--role", "sergeant")
    clip = work / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=8", "-f",
                    "lavfi", "-i", "sine=duration=8", "-pix_fmt", "yuv420p", "-shortest", str(clip)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    env.update(OHRT_HOME=str(home), OHRT_OFFICER="2345")
    # one capture timed, so that the kills fall anywhere in a run, its commit and hooks included
    started = time.monotonic()
    run(home, "capture", "--file", str(clip), "--url", "https://www.tiktok.com/@drill/video/6999999999", "--reason",
        "rec")
    took = time.monotonic() - started
    counts = dict(kills=0, committed=0, pending=0, finished=0, orphan_rows=0, orphan_folders=0, ffmpeg_alive=0,
                  verify_failed=0)
    for i in range(n):
        url = f"https://www.tiktok.com/@drill/video/{7000000000 + i}"
        proc = subprocess.Popen([BIN, "capture", "--file", str(clip), "--url", url, "--reason", "rec"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + random.uniform(0.3, took)
        seen: set[int] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            seen.update(children(proc.pid))
            time.sleep(0.01)
        if proc.poll() is not None:
            continue
        proc.kill()
        proc.wait()
        counts["kills"] += 1
        time.sleep(0.5)
        counts["ffmpeg_alive"] += sum(1 for pid in seen if alive(pid))
        db = sqlite3.connect(home / "ohrt.db")
        ids = [r[0] for r in db.execute("SELECT id FROM captures WHERE requested_url = ?", [url])]
        folders = {p.name for p in (home / "captures").iterdir() if not p.name.startswith(".")}
        known = {r[0] for r in db.execute("SELECT id FROM captures")}
        db.close()
        counts["orphan_rows"] += len(known - folders)
        for capture_id in ids:
            counts["committed"] += 1
            shown = json.loads(run(home, "capture", "show", capture_id, "--json").stdout)
            if shown["status"] == "incomplete":
                counts["pending"] += 1
                done = json.loads(run(home, "capture", "finish", capture_id, "--json").stdout)
                counts["finished"] += int(done["capture"]["status"] == "complete")
        run(home, "capture", "--file", str(clip), "--url", url + "0", "--reason", "rec", "--no-derivatives")
        folders = {p.name for p in (home / "captures").iterdir() if not p.name.startswith(".")}
        db = sqlite3.connect(home / "ohrt.db")
        known = {r[0] for r in db.execute("SELECT id FROM captures")}
        db.close()
        counts["orphan_folders"] += len(folders - known)
        counts["verify_failed"] += int(run(home, "verify").returncode != 0)
    faultlib.table(f"capture --file killed at random ({n} trials; one run takes {took:.1f} s)", counts)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
