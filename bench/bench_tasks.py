"""Foundation figures: importing 10,000 tasks from CSV (target ≤ 5 s) and `ohrt --help` cold start
(target ≤ 0.3 s)."""

from __future__ import annotations

import csv
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _ohrt(home: Path, *args: str) -> None:
    env = {**os.environ, "OHRT_HOME": str(home), "OHRT_OFFICER": "2345"}
    subprocess.run([str(BIN / "ohrt"), *args], env=env, check=True, capture_output=True)


def write_csv(path: Path, count: int) -> None:
    platforms = ["https://www.youtube.com/watch?v=v{:07d}", "https://www.tiktok.com/@drill/video/{:07d}",
                 "https://www.instagram.com/p/P{:07d}/"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["applicant_name", "applicant_ocu", "applicant_unit", "upload_date", "incident_refs",
                         "title", "url", "platform", "rationale", "subjects"])
        for i in range(count):
            writer.writerow([f"DC Applicant {i % 40}", f"OCU {i % 12}", "Gangs", "2026-03-01",
                             f"CAD:{i % 9999 + 1}/01MAR26;CRIS:{4200000 + i}/26", f"Drill video {i}",
                             platforms[i % 3].format(i), "", "Goads a rival group, see the second verse",
                             f"Subject {i};Subject {i + 1}"])


def run(work: Path) -> list[dict]:
    home = work / "home"
    _ohrt(home, "init", "--training", "--team", "Bench", "--mailbox", "bench@example.police.uk", "--officer", "PS Bench",
          "--number", "2345", "--role", "sergeant")
    source = work / "tasks.csv"
    write_csv(source, 10_000)
    start = time.perf_counter()
    _ohrt(home, "task", "import", str(source))
    import_s = time.perf_counter() - start

    starts = []
    for _ in range(7):
        start = time.perf_counter()
        subprocess.run([str(BIN / "ohrt"), "--help"], check=True, capture_output=True)
        starts.append(time.perf_counter() - start)
    return [
        {"figure": "task import, 10,000 CSV rows", "value": import_s, "unit": "s", "target": "≤ 5 s",
         "ok": import_s <= 5},
        {"figure": "ohrt --help cold start (median of 7)", "value": statistics.median(starts), "unit": "s",
         "target": "≤ 0.3 s", "ok": statistics.median(starts) <= 0.3},
    ]
