"""Every listing and show reads at 80 columns: ids, dates, times and references never wrap, hashes are
shortened (whole in --json and with --full), long text is cut, and `--wide` shows every column whole."""

from __future__ import annotations

import json
import re

import pytest
from typer.main import get_command

from ohrt_cli.cli import app
from support.home import Ohrt, copy_home
from support.library import CONSTABLE, INSPECTOR, SERGEANT, env, library_item
from support.home import new_home
from support.tsa import Authority

WHEN = "2026-03-05"
LONG = "Drill video — a very long title that goes on and on about the crews of the estate, with more words"
ID = re.compile(r"\b[A-Z]-2026-\d{6}\b")
TIME = re.compile(r"\b2026-\d{2}-\d{2}( \d{2}:\d{2})?\b")
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


@pytest.fixture(scope="module")
def built(tmp_path_factory, library_media) -> Ohrt:
    """A home with a removed music video (task, capture, review, referral, library item) under a long title,
    a second task, a returned and mended referral history, and a long audit; its capture given an exhibit
    reference and stamped by a time-stamping authority, a second capture's stamp requested and not yet
    answered, and a third (a re-upload of the first) matching the library item; a hash list imported under a
    long name; the quarter's dip sample drawn and recorded."""
    work = tmp_path_factory.mktemp("width")
    ohrt = new_home(work / "home", env=env(WHEN))
    made = library_item(ohrt, library_media.song(1), "https://www.youtube.com/watch?v=Lib00000001", when=WHEN)
    ohrt.ok("task", "add", "--url", "https://www.tiktok.com/@crew/video/7234567890123", "--title", LONG,
            "--applicant", "DC Rae", "--ocu", "Central West Basic Command Unit", "--unit", "Gangs and Violence",
            "--uploaded", "2026-01-02", "--rationale", "r", env=env(WHEN))
    ohrt.ok("exhibits", made["task"], "--to", work, env=env(WHEN, CONSTABLE))
    tsa = Authority.make(work / "tsa")
    with open(ohrt.home / "config.toml", "a", encoding="utf-8") as config:
        config.write(f'\n[timestamp]\nca_file = "{tsa.ca}"\n')
    ohrt.ok("anchor", "request", "--out", work / "ohrt.tsq", env=env(WHEN, SERGEANT))
    (work / "ohrt.tsr").write_bytes(tsa.answer((work / "ohrt.tsq").read_bytes()))
    ohrt.ok("anchor", "import", work / "ohrt.tsr", env=env(WHEN, SERGEANT))
    ohrt.ok("capture", "--file", library_media.song(2), "--url", "https://www.tiktok.com/@crew/video/7234567890123",
            "--task", "T-2026-000002", "--reason", "seen again", "--no-derivatives", env=env(WHEN, CONSTABLE))
    ohrt.ok("anchor", "request", env=env(WHEN, SERGEANT))
    made["reupload"] = ohrt.json("capture", "--file", library_media.reupload("rescaled"), "--url",
                                 "https://www.tiktok.com/@crew/video/7234567890123", "--task", "T-2026-000002",
                                 "--reason", "seen again", env=env(WHEN, CONSTABLE))["id"]
    listing = work / "gifct-hash-sharing-consortium-list-2026-03.csv"
    listing.write_text("id,md5,sha256,pdq,label,expires_on\n"
                       f"A1,{'7' * 32},,,violent extremist propaganda video with a long label,2026-12-31\n")
    ohrt.ok("library", "import-hashes", listing, "--source", "GIFCT hash-sharing consortium list for partners",
            "--provenance", "received 2026-03-01 from the consortium's law enforcement portal by secure email",
            "--expires", "2026-11-30", env=env(WHEN, CONSTABLE))
    ohrt.ok("dip-sample", "draw", "--quarter", "2026Q1", "--seed", "dice-4821", env=env("2026-04-02", INSPECTOR))
    ohrt.ok("dip-sample", "record", made["task"], "--accurate", "no", "--quality", "3", "--compliant", "no",
            "--note", "The findings do not give the time ranges of the clip: record them next time, and say which "
            "clause applies and why", env=env("2026-04-02", SERGEANT))
    ohrt.made = made
    return ohrt


@pytest.fixture
def ohrt(built, tmp_path):
    home = copy_home(built.home, tmp_path / "home")
    home.made = built.made
    return home


def at80(ohrt, *args):
    return ohrt.ok(*args, env={"COLUMNS": "80", **env(WHEN, SERGEANT)}).stdout


def commands(made):
    return [
        ("task", "list"), ("task", "show", made["task"]),
        ("capture", "list"), ("capture", "show", made["capture"]),
        ("refer", "list"), ("refer", "show", made["referral"]), ("refer", "routes"), ("refer", "check", "--dry-run"),
        ("library", "list"), ("library", "show", made["item"]), ("library", "expiring", "--within", "60w"),
        ("library", "search", "--title", "drill"), ("library", "sources"),
        ("audit", "list"), ("officer", "list"), ("review", "show", made["task"]), ("review", "factors"),
        ("tos", "list", "youtube"), ("exhibit", "list"), ("anchor", "list"), ("dip-sample", "show", "2026Q1"),
    ]


def whole_words_only(line: str) -> bool:
    """A line longer than 80 columns is allowed only where prose wrapped between words must leave it so: a
    single word (a URL, a path), after its heading if it has one."""
    return " " not in line.strip().split(": ", 1)[-1]


def test_every_listing_and_show_fits_80_columns_with_ids_and_dates_whole(ohrt):
    for args in commands(ohrt.made):
        out = at80(ohrt, *args)
        ohrt.ok(*args, "--wide", env={"COLUMNS": "80", **env(WHEN, SERGEANT)})
        long_lines = [line for line in out.splitlines() if len(line) > 80 and not whole_words_only(line)]
        assert not long_lines, f"{' '.join(args)}: {long_lines}"
        # every id, date and time shown at 80 columns is whole: no line holds the start of one cut short
        for line in out.splitlines():
            for start in re.finditer(r"\b[A-Z]-\d{4}-\d*|\b20\d\d-\d*-?\d*", line):
                assert ID.fullmatch(start.group(0)) or re.fullmatch(r"20\d\d-\d\d-\d\d", start.group(0)), (
                    f"{' '.join(args)}: {start.group(0)!r} is cut at 80 columns:\n{out}")
        assert not HEX64.search(out), f"{' '.join(args)}: a whole hash at 80 columns:\n{out}"


def test_every_command_with_wide_is_rendered_at_80_columns_here(ohrt):
    """A listing or show added later without a line in `commands` is caught: every command taking --wide is."""
    def walk(group, path=()):
        for name, command in getattr(group, "commands", {}).items():
            if hasattr(command, "commands"):
                yield from walk(command, path + (name,))
            elif any("--wide" in getattr(p, "opts", ()) for p in command.params):
                yield path + (name,)

    rendered = commands(ohrt.made)
    missing = [path for path in walk(get_command(app)) if not any(args[:len(path)] == path for args in rendered)]
    assert not missing, f"listings not rendered at 80 columns here: {missing}"


def test_what_verify_and_library_match_say_wraps_at_80_columns_between_words(ohrt):
    for args in (("verify",), ("library", "match", ohrt.made["reupload"])):
        out = at80(ohrt, *args)
        assert "existed no later than" in out or "same video" in out, out
        assert not [line for line in out.splitlines() if len(line) > 80], f"{' '.join(args)}:\n{out}"
    match = at80(ohrt, "library", "match", ohrt.made["reupload"])
    assert re.search(r"^  capture 00:00–00:1\d  ↔  item 00:00–00:1\d  \(pictures", match, re.M), match
    found = ohrt.ok("library", "match", ohrt.made["reupload"], "--json", env=env(WHEN, SERGEANT))
    assert json.loads(found.stdout)["matches"]


def test_exhibit_list_shows_the_time_seized_and_the_hash_shortened_and_whole_with_wide(ohrt):
    [exhibit] = ohrt.json("exhibit", "list")
    out = at80(ohrt, "exhibit", "list")
    assert exhibit["reference"] in out and exhibit["capture_id"] in out and "2026-03-05 10:00" in out
    assert exhibit["sha256"][:12] + "…" in out and exhibit["sha256"] not in out
    wide = ohrt.ok("exhibit", "list", "--wide", env={"COLUMNS": "80"}).stdout
    assert exhibit["sha256"] in wide and exhibit["seized_at"] in wide and "PC Sam Okafor (7781)" in wide


def test_anchor_list_takes_wide_and_says_the_authority_on_lines_of_its_own(ohrt):
    out = at80(ohrt, "anchor", "list")
    assert out.splitlines()[0].startswith("authority: none set") and \
        out.splitlines()[1].startswith("trusted certificate: ")
    assert re.search(r"capture\s+C-2026-000001\s+20\d\d-\d\d-\d\d \d\d:\d\d\s+A-2026-000001", out), out
    assert re.search(r"capture\s+C-2026-000002\s+2026-03-05 10:00\s+A-2026-000002", out), out
    wide = ohrt.ok("anchor", "list", "--wide", env={"COLUMNS": "80"}).stdout
    assert "2026-03-05T10:00:00+00:00" in wide


def test_task_list_keeps_ids_status_title_and_time_on_one_line_each(ohrt):
    out = at80(ohrt, "task", "list")
    lines = [line for line in out.splitlines() if ID.search(line)]
    assert len(lines) == 2  # one line per task: nothing wraps
    assert all(re.search(r"2026-03-05 \d{2}:\d{2}", line) for line in lines)
    assert "…" in out  # the long title is cut, not wrapped
    assert "Received (UTC)" in out and "left out to fit 80 columns" in out and "--wide" in out
    wide = ohrt.ok("task", "list", "--wide", env={"COLUMNS": "80"}).stdout
    assert LONG in wide and "Central West Basic Command Unit" in wide and "left out" not in wide


def test_hashes_are_shortened_in_show_and_whole_with_full_and_json(ohrt):
    capture = ohrt.json("capture", "show", ohrt.made["capture"])
    digest = next(f["sha256"] for f in capture["files"] if f["role"] == "original")
    out = at80(ohrt, "capture", "show", ohrt.made["capture"])
    assert digest not in out and digest[:12] + "…" in out
    assert digest in ohrt.ok("capture", "show", ohrt.made["capture"], "--full").stdout
    assert digest in json.dumps(capture)


def test_flags_read_yes_and_no(ohrt):
    out = at80(ohrt, "officer", "list")
    assert "True" not in out and "False" not in out and "yes" in out and "no" in out
    out = at80(ohrt, "library", "list")
    assert "True" not in out and "False" not in out
