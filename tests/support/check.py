"""Helpers for the tests of `ohrt refer check`: referrals sent for content on the loopback site, a site
whose pages change between runs, and the check's limits set fast (the loopback site is one host)."""

from __future__ import annotations

from devtools.loopback import Loopback, Response

from .home import CONSTABLE, SERGEANT, as_officer
from .refer import clause_for, set_config

REMOVED_WORDS = "This video has been removed for violating our Community Guidelines"


def video_page(title: str = "Drill video") -> Response:
    """A platform's watch page with its video (yt-dlp reads it as an item)."""
    return Response(body=f"""<!doctype html><html><head><title>{title}</title>
<meta property="og:title" content="{title}"></head>
<body><video controls src="/media/{title.replace(' ', '-')}.mp4"></video></body></html>""")


def removed_page(words: str = REMOVED_WORDS) -> Response:
    """What a platform shows, with 200, in place of a video it took down (the words inside its data too)."""
    escaped = words.replace("'", "\\u0027")
    return Response(body=f"""<!doctype html><html><head><title>Video unavailable</title></head>
<body><div class="error"><h1>{words}</h1></div>
<script>var data = {{"playability": {{"reason": "{escaped}"}}}};</script></body></html>""")


def fast(ohrt, **values) -> None:
    """The check's limits for a test: short waits and timeouts (override any with `values`)."""
    set_config(ohrt, "check", {"per_host_interval_seconds": 0.05, "timeout_seconds": 2, "workers": 4,
                               "time_budget_seconds": 60, **values})


def sent_referral(ohrt, url: str, *, platform: str = "youtube", title: str = "Drill video",
                  env: dict | None = None) -> tuple[str, str]:
    """A task for `url` (on `platform`), reviewed, drafted, approved and sent through the CLI; (task, R-id)."""
    env = env or {}
    task = ohrt.ok("task", "add", "--url", url, "--platform", platform, "--title", title, "--applicant", "DC Rae",
                   "--ocu", "Central West", "--unit", "Gangs", "--uploaded", "2026-01-02", "--rationale",
                   "Goads a rival group", env={**as_officer(CONSTABLE), **env}).stdout.strip()
    ohrt.ok("review", task, "--decision", "refer", "--format", "music-video", "--clause", clause_for(ohrt, platform),
            "--finding", "provocative-language|Names a rival", "--no-capture", "--reason", "checked later",
            env={**as_officer(CONSTABLE), **env})
    referral = ohrt.json("refer", "draft", task, env={**as_officer(CONSTABLE), **env})["id"]
    ohrt.ok("refer", "qa", referral, "--approve", env={**as_officer(SERGEANT), **env})
    ohrt.ok("refer", "sent", referral, env={**as_officer(CONSTABLE), **env})
    return task, referral


def check(ohrt, *extra: str, env: dict | None = None) -> dict:
    """One `ohrt refer check --json`, as cron runs it (no officer)."""
    return ohrt.json("refer", "check", *extra, env=env)


def hits_of(site: Loopback, path: str) -> list:
    return [h for h in site.hits if h.path.split("?")[0] == path]
