"""`make demo`: the main job end to end, as a newcomer's worked example, on a home of its own.

It makes a clip with ffmpeg, publishes it on a small web site served on 127.0.0.1 (the "demo site", a
platform invented for the demo), and takes it through the whole flow with the real `ohrt` commands, each
printed before it runs: referral in, capture, review, referral to the platform with a sergeant's QA, the
platform's decision, the Domain library, a re-upload found by its fingerprints, the evidence package and
its check, the quarterly report, what the purge would delete, and the audit chain's check.

The home is ./demo-home, made afresh on every run (an earlier one is removed only when the demo made it),
or $OHRT_HOME when set, which must not hold tasks already: the demo never deletes or changes a real home's
work. Exit status: 0 when every step worked, else the failing step's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.loopback import Loopback  # noqa: E402

OHRT = str(ROOT / ".venv" / "bin" / "ohrt")
DEMO_HOME = ROOT / "demo-home"
MARKER = ".made-by-ohrt-demo"           # what lets a later run remove ./demo-home
SERGEANT, CONSTABLE = "2345", "7781"
PLATFORM = "demo-site"                  # the demo's invented platform (its URL is on 127.0.0.1)
RECIPIENT = "DC Jo Bloggs, Trident Central"


class StepFailed(Exception):
    pass


# ------------------------------------------------------------------------------------------ output

def section(title: str) -> None:
    print(f"\n{'=' * 100}\n{title}\n{'=' * 100}", flush=True)


def note(text: str) -> None:
    print(f"# {text}", flush=True)


def ohrt(*args: str, env: dict | None = None) -> str:
    """Run `ohrt ARGS` as an officer would type it, show it and its output; stop the demo if it fails."""
    prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in (env or {}).items())
    print(f"\n$ {prefix}ohrt {shlex.join(args)}", flush=True)
    result = subprocess.run([OHRT, *args], text=True, capture_output=True, env={**os.environ, **(env or {})})
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    sys.stdout.flush()
    if result.returncode != 0:
        raise StepFailed(f"`ohrt {shlex.join(args)}` failed (exit {result.returncode})")
    return result.stdout


def quiet(*args: str) -> str:
    """A look-up of the demo's own (not part of the worked example): run without showing it."""
    result = subprocess.run([OHRT, *args], text=True, capture_output=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise StepFailed(f"`ohrt {shlex.join(args)}` failed (exit {result.returncode})")
    return result.stdout


def first_id(prefix: str, text: str) -> str:
    match = re.search(rf"\b{prefix}-\d{{4}}-\d{{6}}\b", text)
    if not match:
        raise StepFailed(f"no {prefix}- id in the output above")
    return match[0]


# --------------------------------------------------------------------------------------------- home

def choose_home() -> tuple[Path, bool]:
    """./demo-home, made afresh (an earlier one removed only if the demo made it), or $OHRT_HOME, which
    must hold no tasks; (home, whether it is the demo's own)."""
    given = os.environ.get("OHRT_HOME")
    if given:
        home = Path(given).expanduser()
        tasks = _task_count(home)
        if tasks:
            raise StepFailed(f"OHRT_HOME={home} already holds {tasks} task(s): the demo runs only on a new home. "
                             "Unset OHRT_HOME (the demo then uses ./demo-home) or point it at an empty folder.")
        return home, False
    home = DEMO_HOME
    if home.exists():
        if not _made_by_demo(home):
            raise StepFailed(f"{home} exists but was not made by the demo: move it aside (or run `make clean` if "
                             "it is an old demo home), then run `make demo` again.")
        print(f"removing the previous demo home {home}")
        _remove(home)
    os.environ["OHRT_HOME"] = str(home)
    return home, True


def _task_count(home: Path) -> int:
    db = home / "ohrt.db"
    if not db.is_file():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def _made_by_demo(home: Path) -> bool:
    """The marker the demo leaves, or (a demo home from before the marker) the demo's team and roster."""
    if (home / MARKER).is_file():
        return True
    try:
        import tomllib

        config = tomllib.loads((home / "config.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return not any(home.iterdir())
    numbers = {o.get("number") for o in config.get("officers", [])}
    return config.get("team", {}).get("mailbox") == "ohrt@example.police.uk" and numbers <= {SERGEANT, CONSTABLE}


def _remove(folder: Path) -> None:
    """Remove a demo home, whose evidence store is read-only by design."""
    for path, dirs, _files in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(path, name), 0o700)
    shutil.rmtree(folder)


def set_up(home: Path, own: bool) -> None:
    section("0. The home: team, roster, and the demo site's rules and referral route")
    ohrt("init", "--training", "--team", "Online Harm Referral Team", "--mailbox", "ohrt@example.police.uk",
         "--officer", "PS Ann Lee", "--number", SERGEANT, "--role", "sergeant")
    if not (home / "ohrt.db").is_file():
        raise StepFailed(f"no home was made in {home}")
    if own:
        (home / MARKER).write_text("made by `make demo`; the next `make demo` removes this home\n", encoding="utf-8")
    os.environ["OHRT_OFFICER"] = SERGEANT
    note(f"the acting officer is {SERGEANT} (OHRT_OFFICER) unless a command says --officer")
    roster = {o["number"] for o in json.loads(quiet("officer", "list", "--json"))}
    if SERGEANT not in roster:
        raise StepFailed(f"officer {SERGEANT} is not on the roster of {home}: the demo acts as {SERGEANT} "
                         "and needs a new home.")
    if CONSTABLE not in roster:
        note("a second officer: the constable drafts, the sergeant checks the draft (SOP 10.2)")
        ohrt("officer", "add", "PC Sam Okafor", "--number", CONSTABLE, "--role", "constable")
    ohrt("officer", "list")
    today = dt.date.today().isoformat()
    tos = home / "tos" / f"{PLATFORM}.toml"
    tos.parent.mkdir(exist_ok=True)
    tos.write_text(f"""# Written by `make demo`: the rules of the demo's invented platform, so that a review can cite
# them (SOP 9.4). A team adds a real platform ohrt does not ship the same way (see the README).
name = "Demo site"
policy = "Demo site community rules (invented for the ohrt demo)"
url = "https://demo-site.example/rules"
as_of = "{today}"

[[clauses]]
id = "violent-threats"
title = "Threats and incitement to violence"
summary = "No content that threatens, or encourages, violence against a person or a group."
url = "https://demo-site.example/rules#threats"

[[clauses]]
id = "criminal-organisations"
title = "Criminal organisations"
summary = "No content that promotes or glorifies a violent criminal group or its acts."
url = "https://demo-site.example/rules#criminal-organisations"
""", encoding="utf-8")
    note(f"the demo site is a platform ohrt does not know: the demo wrote its rules to {tos}")
    ohrt("tos", "list", PLATFORM)
    with open(home / "config.toml", "a", encoding="utf-8") as config:
        config.write(f'\n# Added by `make demo`: how the demo site takes referrals (SOP 10.5).\n'
                     f'[routes.{PLATFORM}]\nroute = "portal"\nportal = "Demo site report form"\n')
    note(f"and its referral route to config.toml: [routes.{PLATFORM}] route = \"portal\"")
    ohrt("refer", "routes")


# ------------------------------------------------------------------------------------- demo site

def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_clips(folder: Path) -> None:
    """16 s of drifting blobs cut every 4 s, over a two-voice tune (WebM): pictures and sound that the
    library's fingerprints can tell apart from other media, as they would a real music video; and the same
    clip re-uploaded, re-encoded smaller as MP4."""
    shots = []
    for n, (x, y) in enumerate((("40+6*t", "60+3*t"), ("200-6*t", "100"), ("100", "20+5*t"), ("60+5*t", "180-4*t"))):
        shots.append(f"life=s=16x12:seed={70 + n}:ratio=0.5:rate=25,scale=640:480:flags=bicubic,gblur=sigma=10,"
                     f"trim=end_frame=1,loop=loop=-1:size=1,setpts=N/25/TB,crop=320:240:x='{x}':y='{y}',"
                     f"trim=duration=4,setpts=PTS-STARTPTS[s{n}]")
    graph = ";".join(shots) + ";[s0][s1][s2][s3]concat=n=4:v=1:a=0,format=yuv420p,scale=640:480[v]"
    tune = ("aevalsrc='0.4*sin(2*PI*110*pow(2,mod(floor(t*3.3)*55433+17,36)/12)*t)"
            "+0.3*sin(2*PI*220*pow(2,mod(floor(t*2.1)*733103+5,24)/12)*t)':s=44100:d=16")
    ffmpeg("-filter_complex", graph, "-f", "lavfi", "-i", tune, "-map", "[v]", "-map", "0:a", "-t", "16",
           "-c:v", "libvpx", "-b:v", "800k", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus",
           str(folder / "drill.webm"))
    ffmpeg("-i", str(folder / "drill.webm"), "-vf", "scale=480:360", "-c:v", "libx264", "-crf", "30", "-preset",
           "veryfast", "-c:a", "aac", "-b:a", "64k", str(folder / "reupload.mp4"))
    for page, media, title in (("watch.html", "drill.webm", "Demo drill video"),
                               ("reupload.html", "reupload.mp4", "Demo drill video (re-upload)")):
        (folder / page).write_text(
            f'<!doctype html><html><head><title>{title}</title><meta property="og:title" content="{title}">'
            f'</head><body><video controls src="{media}"></video></body></html>', encoding="utf-8")


# --------------------------------------------------------------------------------------------- flow

def flow(home: Path, site: str) -> None:
    page, reupload = f"{site}/watch.html", f"{site}/reupload.html"
    today = dt.date.today()
    constable = ("--officer", CONSTABLE)

    section("1. Referral in (SOP 8): a colleague's task for the clip on the demo site")
    note(f"ohrt derives the platform from the URL for the platforms of SOP 4.1.4; {page} is on none of them,")
    note(f"so the task names it: --platform {PLATFORM} (the invented site whose rules were added above)")
    task = first_id("T", ohrt(
        "task", "add", "--url", page, "--platform", PLATFORM, "--title", "Demo drill video",
        "--applicant", "DC Rae", "--ocu", "Central West", "--unit", "Gangs",
        "--uploaded", (today - dt.timedelta(days=3)).isoformat(), "--ref", "CAD:1234/02NOV26",
        "--rationale", "Goads a rival group after a stabbing", "--subject", "Demo Subject"))
    ohrt("task", "list")

    section("2. Capture (SOP 9.1): to the write-once evidence store, hashed and signed")
    capture = first_id("C", ohrt(*constable, "capture", page))
    ohrt("capture", "show", capture)
    ohrt("verify")

    section("3. Review and decision (SOP 9.2-9.4): findings with time ranges, the platform's rule breached")
    ohrt(*constable, "review", task, "--decision", "refer", "--format", "music-video",
         "--finding", "provocative-language|Taunts a rival group about the stabbing|00:02-00:06;00:10-00:12",
         "--finding", "gang-affiliation|Gang signs throughout",
         "--clause", f"{PLATFORM}:violent-threats", "--clause", f"{PLATFORM}:criminal-organisations")
    ohrt("review", "show", task)

    section("4. Referral to the platform (SOP 10.1-10.6): drafted, checked by a sergeant, sent, decided")
    referral = first_id("R", ohrt(*constable, "refer", "draft", task))
    note("QA is by a sergeant or above who did not draft it: PS Ann Lee approves PC Okafor's draft")
    ohrt("--officer", SERGEANT, "refer", "qa", referral, "--approve")
    ohrt(*constable, "refer", "sent", referral, "--platform-ref", "DEMO-0001")
    ohrt(*constable, "refer", "outcome", referral, "--removed", "--note", "Removed for breaching its rules")

    section("5. The Domain library (SOP 10.8): a removed music video is kept for 12 months")
    ohrt("library", "list")

    section("6. Re-upload detection: the same clip, re-encoded smaller, turns up on another page")
    note("no task names this page, so the capture is self-tasked with --reason (SOP 8.5); for a site ohrt does")
    note("not know, the new task's platform is the site's host name, here 127.0.0.1. The capture is fingerprinted")
    note("and compared with the Domain library at once")
    ohrt(*constable, "capture", reupload, "--reason", "Seen again on the demo site: a re-upload of a removed video?")

    section("7. Evidence package for the officer in the case, and its check when it comes back")
    exported = ohrt("export", task, "--recipient", RECIPIENT, "--reason", "Evidence for the CPS charging decision")
    package = exported.splitlines()[0].rpartition(": ")[2].strip()
    if not Path(package).is_dir():
        raise StepFailed(f"the export names no package folder ({package!r})")
    ohrt("verify", "--package", package)
    note("the package holds the capturing officer's draft witness statement (MG11), the exhibit list (MG12) and")
    note("the CASE/UCO provenance; the exhibit references it gave are kept and never reused")
    ohrt("exhibit", "list", "--task", task)

    section("8. The quarterly report (SOP 7.2), for the quarter so far")
    now = dt.datetime.now(dt.timezone.utc)
    ohrt("report", "--quarter", f"{now.year}Q{(now.month - 1) // 3 + 1}", "--format", "md")

    section("9. Retention (SOP 2.2, 10.8): what `ohrt purge` deletes, and when")
    ohrt("purge", "--dry-run")
    later = (now + dt.timedelta(days=400)).replace(microsecond=0).isoformat()
    note("nothing is due today; the same question asked 13 months on (OHRT_NOW fixes the clock): the library")
    note("item's captures, its evidence package in exports/ and its referral drafts would go; the re-upload's")
    note("task, still open, is listed for an officer to finish")
    ohrt("purge", "--dry-run", env={"OHRT_NOW": later})

    section("10. The audit chain: every step above, hash-linked")
    ohrt("audit", "verify")
    print(f"\nThe demo home is {home}: look around it (captures/, exports/, referrals/), or run more commands with\n"
          f"  OHRT_HOME={home} OHRT_OFFICER={SERGEANT} .venv/bin/ohrt task list")


def main() -> int:
    try:
        home, own = choose_home()
        print(f"demo home: {home}")
        set_up(home, own)
        with tempfile.TemporaryDirectory(prefix="ohrt-demo-site-") as folder:
            make_clips(Path(folder))
            with Loopback(Path(folder)) as site:  # the demo site, served by a thread of this process
                flow(home, site.base)
    except StepFailed as exc:
        print(f"\ndemo FAILED: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"\ndemo FAILED: {shlex.join(map(str, exc.cmd))} exited {exc.returncode}", file=sys.stderr)
        return 1
    print("\ndemo finished: every step worked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
