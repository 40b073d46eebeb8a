"""`make demo`: the main job end to end, on an embedded home (./demo-home unless OHRT_HOME is set).

Each step runs the real `ohrt` command and shows it, so the demo doubles as a worked example.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OHRT = str(ROOT / ".venv" / "bin" / "ohrt")


def ohrt(*args: str, check: bool = True) -> str:
    print(f"\n$ ohrt {shlex.join(args)}", flush=True)
    result = subprocess.run([OHRT, *args], text=True, capture_output=True)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if check and result.returncode != 0:
        sys.exit(f"demo step failed (exit {result.returncode})")
    return result.stdout.strip()


def main() -> None:
    home = Path(os.environ.setdefault("OHRT_HOME", str(ROOT / "demo-home")))
    print(f"demo home: {home}")
    ohrt("init", "--team", "Online Harm Referral Team", "--mailbox", "ohrt@example.police.uk",
         "--officer", "PS Ann Lee", "--number", "2345", "--role", "sergeant")
    os.environ["OHRT_OFFICER"] = "2345"
    ohrt("task", "add", "--url", "https://youtu.be/dQw4w9WgXcQ?si=demo", "--title", "Demo drill video",
         "--applicant", "DC Rae", "--ocu", "Central West", "--unit", "Gangs", "--uploaded", "2026-11-02",
         "--ref", "CAD:1234/02NOV26", "--rationale", "Goads a rival group after a stabbing",
         "--subject", "Demo Subject", "--allow-duplicate")
    ohrt("task", "list")
    ohrt("audit", "verify")


if __name__ == "__main__":
    main()
