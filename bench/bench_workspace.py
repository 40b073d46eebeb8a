"""Review workspace figures (`ohrt review open`): the time from starting the command to a page whose player
can play (target ≤ 1.5 s), and the time a page of a capture with 100 key frames takes to load on
127.0.0.1 (target ≤ 0.5 s), both in the Chromium the page capture uses, already running (as the
officer's browser is).

Set-up, not timed: a home, a 59.9 s 640×360 H.264/AAC clip with a key frame every 0.2 s (300, thinned
to `keyframes_max` 100 by the capture), captured with `ohrt capture --file`.
"""

from __future__ import annotations

import os
import re
import select
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
RUNS = 5


def _env(home: Path) -> dict:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}, "OHRT_HOME": str(home),
            "OHRT_OFFICER": "2345"}


def _ohrt(home: Path, *args: str) -> str:
    return subprocess.run([str(BIN / "ohrt"), *args], env=_env(home), check=True, capture_output=True,
                          text=True).stdout


def setup(work: Path) -> tuple[Path, str]:
    home = work / "home"
    _ohrt(home, "init", "--training", "--team", "Bench", "--mailbox", "ohrt@example.police.uk", "--officer",
          "PS Bench", "--number", "2345", "--role", "sergeant")
    clip = work / "clip.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=640x360:rate=25:duration=59.9", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=59.9",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "5", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-shortest", "-movflags", "+faststart", str(clip)], check=True)
    url = "https://www.youtube.com/watch?v=Bench000001"
    task = _ohrt(home, "task", "add", "--url", url, "--title", "Bench", "--applicant", "DC Bench", "--ocu", "C",
                 "--unit", "G", "--uploaded", "2026-01-02", "--rationale", "Bench").strip()
    _ohrt(home, "capture", "--file", str(clip), "--url", url, "--reason", "bench", "--task", task)
    return home, task


def open_workspace(home: Path, task: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([str(BIN / "ohrt"), "review", "open", task, "--reason", "bench", "--no-browser"],
                            env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline() if ready else ""
    found = re.search(r"http://127\.0\.0\.1:\d+/\S+/", line)
    if not found:
        proc.kill()
        raise RuntimeError(f"no address from ohrt review open: {line!r} {proc.stderr.read()}")
    return proc, found[0]


def run(work: Path) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from ohrt_cli.ground import browser

    home, task = setup(work)
    to_play, loads, html, steps = [], [], [], []
    keyframes = 0
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(browser.find_executable()), headless=True,
                                              chromium_sandbox=browser.sandboxed(), args=browser.FLAGS)
        for _ in range(RUNS):
            context = chromium.new_context()
            page = context.new_page()
            start = time.perf_counter()
            proc, url = open_workspace(home, task)
            try:
                printed = time.perf_counter() - start
                page.goto(url, wait_until="commit")
                answered = time.perf_counter() - start
                page.wait_for_function("() => document.querySelector('video.player').readyState >= 3",
                                       timeout=20_000)
                to_play.append(time.perf_counter() - start)
                steps.append((printed, answered, to_play[-1]))
                keyframes = page.locator("img.keyframe").count()
                for _ in range(3):
                    began = time.perf_counter()
                    page.goto(url, wait_until="load")
                    loads.append(time.perf_counter() - began)
                    began = time.perf_counter()
                    with urllib.request.urlopen(url, timeout=10) as answer:
                        answer.read()
                    html.append(time.perf_counter() - began)
            finally:
                context.close()
                proc.terminate()
                proc.wait(timeout=20)
        chromium.close()
    to_play_s, load_s = statistics.median(to_play), statistics.median(loads)
    print("workspace: address printed, page answered, can play (s): "
          + "; ".join(f"{a:.2f} {b:.2f} {c:.2f}" for a, b, c in steps), file=sys.stderr)
    return [
        {"figure": "workspace: review open to a page that can play (median)", "value": to_play_s, "unit": "s",
         "target": "≤ 1.5 s", "ok": to_play_s <= 1.5},
        {"figure": f"workspace: page of a capture with {keyframes} key frames loads (median)", "value": load_s,
         "unit": "s", "target": "≤ 0.5 s", "ok": load_s <= 0.5 and keyframes >= 100},
        {"figure": "workspace: its HTML alone (median)", "value": statistics.median(html), "unit": "s",
         "target": "", "ok": None},
    ]
