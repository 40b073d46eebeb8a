"""Every listing and show reads at 80 columns: ids, dates, times and references never wrap, hashes are
shortened (whole in --json and with --full), long text is cut, and `--wide` shows every column whole."""

from __future__ import annotations

import json
import re

import pytest

from support.home import Ohrt, copy_home
from support.library import SERGEANT, env, library_item
from support.home import new_home

WHEN = "2026-03-05"
LONG = "Drill video — a very long title that goes on and on about the crews of the estate, with more words"
ID = re.compile(r"\b[A-Z]-2026-\d{6}\b")
TIME = re.compile(r"\b2026-\d{2}-\d{2}( \d{2}:\d{2})?\b")
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


@pytest.fixture(scope="module")
def built(tmp_path_factory, library_media) -> Ohrt:
    """A home with a removed music video (task, capture, review, referral, library item) under a long title,
    a second task, a returned and mended referral history, and a long audit."""
    ohrt = new_home(tmp_path_factory.mktemp("width") / "home", env=env(WHEN))
    made = library_item(ohrt, library_media.song(1), "https://www.youtube.com/watch?v=Lib00000001", when=WHEN)
    ohrt.ok("task", "add", "--url", "https://www.tiktok.com/@crew/video/7234567890123", "--title", LONG,
            "--applicant", "DC Rae", "--ocu", "Central West Basic Command Unit", "--unit", "Gangs and Violence",
            "--uploaded", "2026-01-02", "--rationale", "r", env=env(WHEN))
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
        ("refer", "list"), ("refer", "show", made["referral"]), ("refer", "routes"),
        ("library", "list"), ("library", "show", made["item"]), ("library", "expiring", "--within", "60w"),
        ("audit", "list"), ("officer", "list"), ("review", "show", made["task"]), ("review", "factors"),
        ("tos", "list", "youtube"),
    ]


def test_every_listing_and_show_fits_80_columns_with_ids_and_dates_whole(ohrt):
    for args in commands(ohrt.made):
        out = at80(ohrt, *args)
        wide = ohrt.ok(*args, "--wide", env={"COLUMNS": "80", **env(WHEN, SERGEANT)}).stdout
        long_lines = [line for line in out.splitlines() if len(line) > 80]
        if args[0] in ("task", "capture", "refer", "library", "audit", "officer", "tos") and args[1] in (
                "list", "routes", "expiring"):
            assert not long_lines, f"{' '.join(args)}: {long_lines}"
        # every id, date and time shown at 80 columns is whole: no line holds the start of one cut short
        for line in out.splitlines():
            for start in re.finditer(r"\b[A-Z]-\d{4}-\d*|\b20\d\d-\d*-?\d*", line):
                assert ID.fullmatch(start.group(0)) or re.fullmatch(r"20\d\d-\d\d-\d\d", start.group(0)), (
                    f"{' '.join(args)}: {start.group(0)!r} is cut at 80 columns:\n{out}")
        assert not HEX64.search(out), f"{' '.join(args)}: a whole hash at 80 columns:\n{out}"


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
