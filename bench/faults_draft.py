"""Fault injection: `ohrt refer draft` killed with SIGKILL between the rename of its version folder into place
and its commit, then the home checked.

There is no hook in ohrt to stop a draft there, so the kill is aimed: the script polls, without pause, for the
draft's `vN/` folder to appear (the rename) and kills the process a random 0–6 ms later, which falls either
before the commit (the folder is an orphan: no row records it) or after it. Even trials draft v1 of a new
referral, odd ones v2 of a drafted one. After each kill: a row's files are all there, `ohrt verify` passes or
names exactly the orphan, and the next `refer draft` of the task succeeds and leaves the home verified (the
orphan cleared), the audit chain intact.
Run: .venv/bin/python bench/faults_draft.py [N]   (not part of the test suite: it takes a few minutes)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import faultlib as f

BUILT = "2026-03-05T10:00:00+00:00"
URL = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
TASK = "T-2026-000001"
REFERRAL = "R-2026-000001"


def templates(work: Path) -> tuple[Path, Path]:
    """(a home whose task is reviewed for referral, the same with v1 of its referral drafted)."""
    home = work / "template-v1"
    f.init(home, now=BUILT)
    clip = work / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=4", "-f",
                    "lavfi", "-i", "sine=duration=4", "-pix_fmt", "yuv420p", "-shortest", str(clip)], check=True)
    f.run(home, "capture", "--file", clip, "--url", URL, "--reason", "screen-recorded", "--no-derivatives",
          now=BUILT, check=True)
    f.run(home, "review", TASK, "--decision", "refer", "--format", "music-video", "--finding",
          "provocative-language|Names a rival and mocks his injuries|00:01-00:03", "--clause",
          "youtube:violent-criminal-orgs", now=BUILT, check=True)
    second = work / "template-v2"
    shutil.copytree(home, second)
    f.run(second, "refer", "draft", TASK, now=BUILT, check=True)
    return home, second


def main(n: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="ohrt-faults-draft-"))
    bases = templates(work)
    counts = dict(trials=0, kills=0, finished_first=0, committed_at_kill=0, orphan_at_kill=0, nothing_at_kill=0,
                  row_without_files=0, verify_passed=0, verify_named_exactly_the_orphan=0, verify_other=0,
                  next_draft_failed=0, after_next_verify_failed=0, after_next_orphan_left=0, tracebacks=0)
    for i in range(n):
        version = 1 + i % 2
        home = work / f"trial-{i}"
        shutil.copytree(bases[version - 1], home)
        counts["trials"] += 1
        target = home / "referrals" / REFERRAL / f"v{version}"
        proc = f.start(home, "refer", "draft", TASK, "--summary", f"trial {i}", now=BUILT)
        if not f.kill_after(proc, 30, until=target.exists, then=f.uniform(0, 0.006)):
            counts["finished_first"] += 1
            shutil.rmtree(home, ignore_errors=True)
            continue
        counts["kills"] += 1
        recorded = f.rows(home, "SELECT version, draft_path FROM referrals WHERE id = ?", [REFERRAL])
        have = recorded[0][0] if recorded else 0
        if have == version:
            counts["committed_at_kill"] += 1
        elif target.exists():
            counts["orphan_at_kill"] += 1
        else:
            counts["nothing_at_kill"] += 1
        if recorded and not (home / recorded[0][1]).is_file():
            counts["row_without_files"] += 1
        ok, problems = f.verify(home)
        orphan = (f"referrals/{REFERRAL}" if version == 1 else f"referrals/{REFERRAL}/v{version}")
        if ok:
            counts["verify_passed"] += 1
        elif [p["path"] for p in problems] == [orphan] and have < version:
            counts["verify_named_exactly_the_orphan"] += 1
        else:
            counts["verify_other"] += 1
            print(f"trial {i}: verify said {problems}", file=sys.stderr)
        counts["tracebacks"] += int(any(f.traceback_in(p["detail"]) for p in problems))
        again = f.run(home, "refer", "draft", TASK, "--summary", f"trial {i} again", now=BUILT)
        counts["tracebacks"] += int(f.traceback_in(again.stderr))
        if again.returncode != 0:
            counts["next_draft_failed"] += 1
            print(f"trial {i}: the next draft said {again.stderr.strip()}", file=sys.stderr)
        ok, problems = f.verify(home)
        counts["after_next_verify_failed"] += int(not ok or not f.audit_verify(home))
        counts["after_next_orphan_left"] += int(any(p.name.startswith(".tmp-")
                                                    for p in (home / "referrals" / REFERRAL).iterdir()))
        shutil.rmtree(home, ignore_errors=True)
    f.table("refer draft killed between the rename of vN/ and the commit (aimed, 0-6 ms after the rename)", counts)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 32)
