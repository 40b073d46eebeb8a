"""Evidence package figures: `ohrt export --zip` of a task with one large capture, `ohrt verify --package`
of the result, drafting the witness statement (MG11, DOCX and PDF) and `case_validate` on the package's
provenance (no targets in the issues: the figures show what an officer waits for)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
URL = "https://www.youtube.com/watch?v=bench000001"


def _ohrt(home: Path, *args: str) -> str:
    env = {**os.environ, "OHRT_HOME": str(home), "OHRT_OFFICER": "2345"}
    done = subprocess.run([str(BIN / "ohrt"), *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"ohrt {args[0]} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def _clip(path: Path, seconds: int = 20) -> None:
    """A large clip (about 2 MB a second): noise does not compress, so it stands for real footage."""
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"nullsrc=size=640x360:rate=25:duration={seconds},geq=random(1)*255:128:128",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:v", "libx264",
                    "-preset", "ultrafast", "-b:v", "16M", "-c:a", "aac", "-shortest", str(path)], check=True)


def run(work: Path) -> list[dict]:
    home, out = work / "home", work / "out"
    out.mkdir()
    _ohrt(home, "init", "--training", "--team", "Bench", "--mailbox", "bench@example.police.uk", "--officer", "PS Bench",
          "--number", "2345", "--role", "sergeant")
    task = _ohrt(home, "task", "add", "--url", URL, "--title", "Bench", "--applicant", "DC Bench", "--ocu", "X",
                 "--unit", "Y", "--uploaded", "2026-01-02", "--rationale", "bench").strip()
    clip = work / "clip.mp4"
    _clip(clip)
    _ohrt(home, "capture", "--file", str(clip), "--url", URL, "--reason", "bench")
    size_mb = clip.stat().st_size / (1 << 20)

    start = time.perf_counter()
    _ohrt(home, "export", task, "--to", str(out), "--recipient", "DC Bench, Unit", "--reason", "bench", "--zip")
    export_s = time.perf_counter() - start
    package = next(p for p in out.iterdir() if p.is_dir())
    start = time.perf_counter()
    _ohrt(home, "verify", "--package", str(package))
    verify_s = time.perf_counter() - start
    start = time.perf_counter()
    _ohrt(home, "statement", task, "--to", str(out))
    statement_s = time.perf_counter() - start
    provenance = package / "data" / "provenance.jsonld"
    start = time.perf_counter()
    checked = subprocess.run([str(BIN / "case_validate"), str(provenance)], capture_output=True, text=True)
    case_s = time.perf_counter() - start
    return [
        {"figure": "statement (MG11, DOCX + PDF), whole command", "value": statement_s, "unit": "s", "target": "—",
         "ok": None},
        {"figure": f"case_validate on provenance.jsonld ({provenance.stat().st_size / 1024:.0f} KB)",
         "value": case_s, "unit": "s", "target": "conforms", "ok": checked.returncode == 0},
        {"figure": f"export --zip of a {size_mb:.0f} MB capture", "value": export_s, "unit": "s", "target": "—",
         "ok": None},
        {"figure": "export throughput", "value": size_mb / export_s, "unit": "MB/s", "target": "—", "ok": None},
        {"figure": f"verify --package ({size_mb:.0f} MB)", "value": verify_s, "unit": "s", "target": "—", "ok": None},
    ]
