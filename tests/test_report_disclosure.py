"""The quarterly report's disclosure control (SOP 6.5) holds for figures a reader can combine: a total
beside its suppressed parts never pins a part (secondary suppression), and a platform outside the catalogue
is counted as "other", in all four formats."""

from __future__ import annotations

import csv
import io
import json

import pytest

from support.governance import CONSTABLE, SERGEANT, add_task, at, review
from support.home import new_home

AFTER_Q3 = {"OHRT_OFFICER": SERGEANT, **at("2026-10-05T09:00:00")}
YT = "https://www.youtube.com/watch?v=qvideo{:02d}"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """Q3 2026: eight YouTube tasks, four reviewed NFA and four referred; two tasks on sites outside the
    catalogue (one given as its host name), not reviewed."""
    ohrt = new_home(tmp_path_factory.mktemp("report-disclosure") / "home")
    tasks = [add_task(ohrt, n, YT.format(n), "2026-07-01T09:00:00") for n in range(1, 9)]
    for n, task_id in enumerate(tasks):
        review(ohrt, task_id, "nfa" if n % 2 else "refer", "2026-07-02T09:00:00")
    for n, (url, platform) in enumerate((("https://drillforum.example.org/t/77", "drillforum.example.org"),
                                         ("https://soundcloud.com/someone/track", "soundcloud")), start=20):
        ohrt.ok("task", "add", "--url", url, "--platform", platform, "--title", f"t{n}", "--applicant", "DC Rae",
                "--ocu", "Central West", "--unit", "Gangs", "--uploaded", "2026-07-01", "--rationale", "r",
                env={"OHRT_OFFICER": CONSTABLE, **at("2026-07-01T09:00:00")})
    return ohrt


def report(ohrt, fmt: str) -> str:
    return ohrt.ok("report", "--quarter", "2026Q3", "--format", fmt, env=AFTER_Q3).stdout


def test_a_total_that_would_pin_its_suppressed_parts_is_blurred(home):
    figures = {f["id"]: f for f in json.loads(report(home, "json"))["figures"]}
    reviewed = figures["reviewed"]
    # 4 referred + 4 NFA: "8" beside "<5" and "<5" would say both are 4
    assert reviewed["this_quarter"] == ">=5"
    assert {r["key"]: r["this_quarter"] for r in reviewed["breakdowns"]["decision"]} == {"refer": "<5", "nfa": "<5"}
    rows = list(csv.reader(io.StringIO(report(home, "csv"))))
    assert ["work", "reviewed", "", ">=5", "0", "count"] in rows
    assert ["work", "reviewed", "decision=refer", "<5", "0", "count"] in rows
    assert not any(r[1] == "reviewed" and r[3] == "8" for r in rows)
    md = report(home, "md")
    reviewed_md = next(line for line in md.splitlines() if "Tasks reviewed" in line)
    assert "≥5" in reviewed_md and "| 8 |" not in reviewed_md
    html = report(home, "html")
    assert "≥5" in html and "Tasks reviewed" in html


@pytest.mark.parametrize("fmt", ["json", "csv", "md", "html"])
def test_platforms_outside_the_catalogue_are_counted_as_other(home, fmt):
    text = report(home, fmt)
    assert "drillforum" not in text.lower() and "soundcloud" not in text.lower()
    if fmt == "json":
        received = next(f for f in json.loads(text)["figures"] if f["id"] == "received")
        keys = {r["key"]: r["this_quarter"] for r in received["breakdowns"]["platform"]}
        assert keys == {"youtube": ">=5", "other": "<5"}  # one small cell alone: its neighbour blurred too
        assert received["this_quarter"] == 10
    elif fmt == "csv":
        assert "platform=other,<5" in text
    else:
        assert "other platforms" in text


def test_secondary_suppression_rules():
    from ohrt_cli.stages.governance.figures import protect_cells

    assert protect_cells({"refer": 4, "nfa": 4}, 5) == ({"refer": "<5", "nfa": "<5"}, False)
    assert protect_cells({"a": 1, "b": 1, "c": 9}, 5) == ({"a": "<5", "b": "<5", "c": ">=5"}, True)
    assert protect_cells({"a": 5, "b": 1}, 5) == ({"a": ">=5", "b": "<5"}, False)  # b ≥ 1, a ≥ 5, 6 in all
    assert protect_cells({"a": 10, "b": 2, "c": 3}, 5) == ({"a": 10, "b": "<5", "c": "<5"}, True)  # 1..4 each
    assert protect_cells({"a": 4, "b": 4}, 5, total_shown=False) == ({"a": "<5", "b": "<5"}, True)


def test_a_chart_with_every_value_suppressed_says_so(home):
    html = report(home, "html")
    assert "Tasks reviewed, by decision — not drawn: every value in it is suppressed or withheld (SOP 6.5)" in html
