"""Referral figures (issue 5): `ohrt refer draft` end to end through the CLI, and the in-process cost of
building the allow-listed context and rendering an email referral (no target is set for either)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
COUNT = 5


def _ohrt(home: Path, *args: str, officer: str = "2345") -> str:
    env = {**os.environ, "OHRT_HOME": str(home), "OHRT_OFFICER": officer}
    return subprocess.run([str(BIN / "ohrt"), *args], env=env, check=True, capture_output=True, text=True).stdout


def _reviewed_tasks(home: Path, count: int) -> list[str]:
    ids = []
    for i in range(count):
        task_id = _ohrt(home, "task", "add", "--url", f"https://www.instagram.com/reel/Bench{i:04d}/",
                        "--title", f"Drill video {i}", "--applicant", "DC Bench", "--ocu", "OCU", "--unit", "Gangs",
                        "--uploaded", "2026-01-02", "--rationale", "Goads a rival group",
                        "--subject", f"Subject {i}").strip()
        _ohrt(home, "review", task_id, "--decision", "refer", "--format", "music-video",
              "--finding", "provocative-language|Names a rival and mocks his injuries",
              "--finding", "gang-affiliation|Hand signs of a named group throughout",
              "--clause", "instagram:dangerous-orgs", "--no-capture", "--reason", "Bench", officer="7781")
        ids.append(task_id)
    return ids


def run(work: Path) -> list[dict]:
    home = work / "home"
    _ohrt(home, "init", "--training", "--team", "Bench", "--mailbox", "bench@example.police.uk", "--officer", "PS Bench",
          "--number", "2345", "--role", "sergeant")
    _ohrt(home, "officer", "add", "PC Bench", "--number", "7781", "--role", "constable")
    tasks = _reviewed_tasks(home, COUNT)
    times = []
    for task_id in tasks:
        start = time.perf_counter()
        _ohrt(home, "refer", "draft", task_id, officer="7781")
        times.append(time.perf_counter() - start)

    from ohrt_cli.stages import disclosure, refer
    from ohrt_cli.stages import review as review_stage
    from ohrt_cli.ground.context import open_context

    ctx = open_context(home, "7781")
    try:
        current = review_stage.current_review(ctx, tasks[0])
        route = refer.route_for(ctx, "instagram")
        renderer = refer.platform_renderer(ctx)
        renders = []
        for _ in range(200):
            start = time.perf_counter()
            context = disclosure.platform_context(ctx, tasks[0], current, route=route,
                                                  referral={"id": "R-2026-000001", "version": 1, "kind": "referral"})
            texts = renderer.render_all([("body", "referral-body.txt"), ("html", "referral-body.html")], context,
                                        platform="instagram")
            disclosure.check_disclosure(ctx, tasks[0], context, texts)
            renders.append(time.perf_counter() - start)
    finally:
        ctx.close()
    return [
        {"figure": f"refer draft via the CLI (median of {COUNT})", "value": statistics.median(times), "unit": "s",
         "target": "", "ok": None},
        {"figure": "referral context + render + 6.4 guard (median of 200)", "value": statistics.median(renders) * 1000,
         "unit": "ms", "target": "", "ok": None},
    ]
