"""Fault injection: `ohrt purge` killed with SIGKILL at random moments, then the home checked.

A template home holds CAPTURES captured tasks whose retention has ended; each trial purges a fresh copy of it
and kills the purge: every other trial after a random delay within its measured run time, the others aimed —
a few milliseconds after its first folder has gone (tombstones committed, files going, rows not yet erased). After each kill: no kept capture
without its folder, no folder without its row, `ohrt verify` passes or names only the folders of captures the
purge had marked purged (what it was deleting), the next `ohrt purge` succeeds and leaves the home verified,
with every capture purged and no folder left.
Run: .venv/bin/python bench/faults_purge.py [N]   (not part of the test suite: it takes a few minutes)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import faultlib as f

CAPTURES = 12
BUILT = "2026-03-05T10:00:00+00:00"
PURGE_AT = "2027-06-01T02:00:00+00:00"


def template(work: Path) -> Path:
    home = work / "template"
    f.init(home, now=BUILT)
    clip = work / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=4", "-f",
                    "lavfi", "-i", "sine=duration=4", "-pix_fmt", "yuv420p", "-shortest", str(clip)], check=True)
    for i in range(CAPTURES):
        f.run(home, "capture", "--file", clip, "--url", f"https://www.tiktok.com/@drill/video/{7100000000 + i}",
              "--reason", "screen-recorded", "--no-derivatives", now=BUILT, check=True)
        # closed (no further action), so its retention ends 12 months after the capture
        f.run(home, "review", f"T-2026-{i + 1:06d}", "--decision", "nfa", "--format", "video", "--reason",
              "no harmful factor", now=BUILT, check=True)
    return home


def main(n: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="ohrt-faults-purge-"))
    base = template(work)
    took = f.timed(base, "purge", "--json", officer=None, now=PURGE_AT)
    looking = f.timed(base, "purge", "--dry-run", "--json", officer=None, now=PURGE_AT)  # start-up and looking
    counts = dict(trials=0, kills=0, finished_first=0, killed_before_marking=0, killed_mid_purge=0,
                  killed_after_erasing=0, kept_row_without_folder=0,
                  folder_without_row=0, verify_passed=0, verify_named_only_leftovers=0, verify_other=0,
                  next_purge_failed=0, after_next_not_all_purged=0, after_next_verify_failed=0, tracebacks=0)
    for i in range(n):
        home = work / f"trial-{i}"
        shutil.copytree(base, home)
        counts["trials"] += 1
        proc = f.start(home, "purge", officer=None, now=PURGE_AT)
        if i % 2:  # aimed: once the first folder has gone, i.e. while it deletes, before the rows are erased
            folders = [home / "captures" / f"C-2026-{k + 1:06d}" for k in range(CAPTURES)]
            killed = f.kill_after(proc, 30, until=lambda: not all(p.exists() for p in folders),
                                  then=f.uniform(0, 0.03))
        else:
            killed = f.kill_after(proc, f.uniform(looking * 0.8, took))
        if not killed:
            counts["finished_first"] += 1
        else:
            counts["kills"] += 1
            purged = {r[0] for r in f.rows(home, "SELECT id FROM captures WHERE purged_at IS NOT NULL")}
            purging = f.rows(home, "SELECT count(*) FROM tombstones WHERE state = 'purging'")[0][0]
            counts["killed_before_marking"] += int(not purged)
            counts["killed_mid_purge"] += int(bool(purging))
            counts["killed_after_erasing"] += int(bool(purged) and not purging)
            without_folder, without_row = f.capture_orphans(home)
            counts["kept_row_without_folder"] += len(without_folder)
            counts["folder_without_row"] += len(without_row)
            ok, problems = f.verify(home)
            if ok:
                counts["verify_passed"] += 1
            elif all(p["capture"] in purged and p["problem"] == "unexpected" for p in problems):
                counts["verify_named_only_leftovers"] += 1
            else:
                counts["verify_other"] += 1
                print(f"trial {i}: verify said {problems}", file=sys.stderr)
        again = f.run(home, "purge", "--json", officer=None, now=PURGE_AT)
        counts["tracebacks"] += int(f.traceback_in(again.stderr))
        counts["next_purge_failed"] += int(again.returncode != 0)
        left = f.rows(home, "SELECT count(*) FROM captures WHERE purged_at IS NULL")[0][0]
        folders = [p for p in (home / "captures").iterdir() if not p.name.startswith(".")]
        counts["after_next_not_all_purged"] += int(left != 0 or bool(folders))
        counts["after_next_verify_failed"] += int(not f.verify(home)[0] or not f.audit_verify(home))
        shutil.rmtree(home, ignore_errors=True)
    f.table(f"purge of {CAPTURES} captures killed at random (one run {took:.2f} s, a dry run {looking:.2f} s)", counts)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 24)
