"""`ohrt refer check` figures (issue 17): 10,000 sent referrals whose URLs are pages on 127.0.0.1, looked
at by `ohrt refer check` run as cron runs it (its own process).

* the whole check of 10,000 URLs, with every default but the wait between two requests to one host
  (0 instead of 1 s): the cost of looking (HTTP, the page's words, yt-dlp's metadata) and recording
  (observations, the one audit entry) — time and the process's peak memory;
* the default rate limits as they are (1 s between requests to a host, 4 hosts at once, 20 s timeout)
  for a 60 s budget over 20 hosts: the looks per second they allow, from which the time of 10,000
  URLs at the defaults follows (each look is two requests: the page, then yt-dlp's).

The 10,000 URLs are spread over HOSTS loopback servers (one host each: its port), as a team's referrals are
spread over a few platforms.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.loopback import Loopback, Response  # noqa: E402

BIN = Path(sys.executable).parent
URLS = 10_000
HOSTS = 10
PAGE = """<!doctype html><html><head><title>Drill video</title><meta property="og:title" content="Drill video">
</head><body><video controls src="/media/clip.mp4"></video></body></html>"""


def _ohrt(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    full.update({"OHRT_HOME": str(home), **(env or {})})
    return subprocess.run([str(BIN / "ohrt"), *args], env=full, check=True, capture_output=True, text=True)


def _seed(home: Path, urls: list[str]) -> None:
    """`urls` as tasks reviewed, referred and sent (rows written directly: building 10,000 through the CLI
    would measure the CLI, not the check)."""
    import sqlite_utils

    db = sqlite_utils.Database(home / "ohrt.db")
    now = "2026-11-02T09:00:00+00:00"
    db["tasks"].insert_all(({"id": f"T-2026-{n + 1:06d}", "status": "sent", "received_at": now, "updated_at": now,
                             "url": url, "canonical_url": url, "platform": "youtube", "title": f"Drill video {n}",
                             "self_tasked": 1, "intake": "bench", "created_by": "2345"}
                            for n, url in enumerate(urls)), batch_size=1000)
    db["referrals"].insert_all(({"id": f"R-2026-{n + 1:06d}", "task_id": f"T-2026-{n + 1:06d}", "kind": "referral",
                                 "platform": "youtube", "route": "portal", "status": "sent", "version": 1,
                                 "sent_on": "2026-11-02", "sent_at": now, "sent_by": "2345"}
                                for n in range(len(urls))), batch_size=1000)
    db.conn.close()


def _config(home: Path, text: str) -> None:
    config = home / "config.toml"
    config.write_text(config.read_text() + text)


def _timed_check(home: Path) -> tuple[dict, float, float]:
    """(summary, seconds, peak MiB of the check's own process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = _ohrt(home, "refer", "check", "--json")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(result.stdout), seconds, max(peak, before) / 1024


def run(work: Path) -> list[dict]:
    rows = []
    sites = [Loopback(work / f"site-{n}").start() for n in range(HOSTS)]
    try:
        for site in sites:
            site.route("/watch", Response(body=PAGE))
        urls = [f"{sites[n % HOSTS].base}/watch?v={n:08d}" for n in range(URLS)]

        home = work / "home"
        _ohrt(home, "init", "--team", "Bench", "--mailbox", "bench@example.police.uk", "--officer", "PS Bench",
              "--number", "2345", "--role", "sergeant")
        _seed(home, urls)
        _config(home, "\n[check]\nper_host_interval_seconds = 0\n")
        summary, seconds, peak = _timed_check(home)
        assert summary["checked"] == URLS and summary["available"] == URLS, summary
        rows += [
            {"figure": f"refer check: {URLS:,} URLs, no wait between requests", "value": seconds, "unit": "s",
             "target": "", "ok": None},
            {"figure": "refer check: per URL (page + yt-dlp + recording)", "value": 1000 * seconds / URLS,
             "unit": "ms", "target": "", "ok": None},
            {"figure": f"refer check: peak memory, {URLS:,} URLs", "value": peak, "unit": "MiB", "target": "",
             "ok": None},
        ]

        polite = work / "polite"
        _ohrt(polite, "init", "--team", "Bench", "--mailbox", "bench@example.police.uk", "--officer", "PS Bench",
              "--number", "2345", "--role", "sergeant")
        more = [Loopback(work / f"more-{n}").start() for n in range(20 - HOSTS)]
        sites += more
        for site in more:
            site.route("/watch", Response(body=PAGE))
        _seed(polite, [f"{sites[n % 20].base}/watch?v={n:08d}" for n in range(URLS)])
        _config(polite, "\n[check]\ntime_budget_seconds = 60\n")
        summary, seconds, _ = _timed_check(polite)
        rate = summary["checked"] / seconds
        rows += [
            {"figure": "refer check at the default limits: looks per second", "value": rate, "unit": "URL/s",
             "target": "", "ok": None},
            {"figure": f"refer check at the default limits: {URLS:,} URLs would take", "value": URLS / rate / 3600,
             "unit": "h", "target": "", "ok": None},
            {"figure": "refer check at the default limits: left for the next run (60 s budget)",
             "value": len(summary["skipped"]), "unit": "URLs", "target": "", "ok": None},
        ]
    finally:
        for site in sites:
            site.stop()
    return rows
