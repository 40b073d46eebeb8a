"""The quarterly report's platform-action figures (SOP 7.2, 10.6) against hand counts: time to removal
(decided, or first seen gone by `ohrt refer check`), the share removed and reinstatements, per platform,
under the small-count rule (6.5)."""

from __future__ import annotations

import pytest

from devtools.loopback import Loopback, Response
from support.check import fast, removed_page, sent_referral, video_page
from support.governance import at
from support.home import CONSTABLE
from support.refer import real_contacts, set_config


def moment(day: str) -> dict:
    return at(f"2026-{day}T10:00:00")


@pytest.fixture(scope="module")
def action_home(tmp_path_factory):
    """Q3 2026, by hand (days from sending on 07-01 to removal):

    youtube  y1 decided removed 07-03 (2) · y2 decided 07-06 (5) · y3 decided 07-11 (10) · y4 seen gone (404)
             07-04 (3), never decided · y5 seen gone 07-08, recorded --observed-on 07-08 (7) · y6 not removed
    tiktok   t1 seen gone 07-02 (1), back on 08-01 (a reinstatement) · t2 never gone
    """
    from support.home import new_home

    root = tmp_path_factory.mktemp("action")
    ohrt = new_home(root / "home")
    fast(ohrt, per_host_interval_seconds=0, metadata=False)
    real_contacts(ohrt)
    with Loopback(root / "site") as site:
        ids = {}
        for name, platform in [("y1", "youtube"), ("y2", "youtube"), ("y3", "youtube"), ("y4", "youtube"),
                               ("y5", "youtube"), ("y6", "youtube"), ("t1", "tiktok"), ("t2", "tiktok")]:
            url = site.route(f"/v/{name}", video_page(name))
            ids[name] = sent_referral(ohrt, url, platform=platform, env=moment("07-01"))[1]

        def decide(name: str, day: str, removed: bool = True) -> None:
            if removed:
                site.route(f"/v/{name}", removed_page())
            ohrt.ok("refer", "outcome", ids[name], "--removed" if removed else "--not-removed",
                    env={"OHRT_OFFICER": CONSTABLE, **moment(day)})

        def check(day: str) -> dict:
            return ohrt.json("refer", "check", env=moment(day))

        site.route("/v/t1", removed_page("Video currently unavailable"))
        assert check("07-02")["gone"] == 1
        decide("y1", "07-03")
        site.route("/v/y4", Response(status=404))
        assert check("07-04")["gone"] == 3                          # y1 (removed), y4, t1
        decide("y2", "07-06")
        site.route("/v/y5", removed_page())
        check("07-08")
        ohrt.ok("refer", "outcome", ids["y5"], "--removed", "--observed-on", "2026-07-08",
                env={"OHRT_OFFICER": CONSTABLE, **moment("07-08")})
        decide("y3", "07-11")
        decide("y6", "07-20", removed=False)
        site.route("/v/t1", video_page("t1"))
        assert check("08-01")["reinstated"] == 1
        assert check("08-02")["reinstated"] == 1                    # still back: the same reinstatement
    return ohrt


def report(ohrt, threshold: int) -> dict:
    set_config(ohrt, "report", {"small_count_threshold": threshold})
    figures = ohrt.json("report", "--quarter", "2026Q3", env={"OHRT_OFFICER": CONSTABLE})["figures"]
    return {f["id"]: f for f in figures if f["section"] == "action"}


def by(figure: dict) -> dict:
    return {row["key"]: row["this_quarter"] for row in figure["breakdowns"].get("platform", [])}


def test_time_to_removal_share_removed_and_reinstatements_match_hand_counts(action_home):
    found = report(action_home, 1)
    assert (found["time_to_removal_cases"]["this_quarter"], by(found["time_to_removal_cases"])) == (
        6, {"youtube": 5, "tiktok": 1})
    # all six: 1 2 3 5 7 10 → median 4.0; 90th percentile at rank 4.5: 7 + 0.5 × 3 = 8.5
    assert found["time_to_removal_median"]["this_quarter"] == 4.0
    assert found["time_to_removal_p90"]["this_quarter"] == 8.5
    # youtube 2 3 5 7 10 → median 5; 90th percentile at rank 3.6: 7 + 0.6 × 3 = 8.8
    assert by(found["time_to_removal_median"]) == {"youtube": 5.0, "tiktok": 1.0}
    assert by(found["time_to_removal_p90"]) == {"youtube": 8.8, "tiktok": 1.0}
    assert found["removed_share"]["this_quarter"] == 75.0                       # 6 of 8
    assert by(found["removed_share"]) == {"youtube": 83.3, "tiktok": 50.0}      # 5 of 6, 1 of 2
    assert (found["reinstatements"]["this_quarter"], by(found["reinstatements"])) == (1, {"tiktok": 1})
    assert found["time_to_removal_cases"]["previous_quarter"] == 0
    assert found["time_to_removal_median"]["previous_quarter"] is None


def test_the_small_count_rule_withholds_what_rests_on_too_few(action_home):
    found = report(action_home, 5)
    cases = by(found["time_to_removal_cases"])
    assert cases["tiktok"] == "<5" and cases["youtube"] == ">=5"   # the total would give tiktok's 1 away
    assert found["time_to_removal_median"]["this_quarter"] == 4.0   # six cases: shown
    assert by(found["time_to_removal_median"]) == {"youtube": 5.0, "tiktok": None}
    assert by(found["time_to_removal_p90"]) == {"youtube": 8.8, "tiktok": None}
    assert found["removed_share"]["this_quarter"] is None           # 2 not removed: a small count
    assert found["reinstatements"]["this_quarter"] == "<5"


def test_the_figures_are_in_every_format(action_home):
    set_config(action_home, "report", {"small_count_threshold": 1})
    markdown = action_home.ok("report", "--quarter", "2026Q3", "--format", "md",
                              env={"OHRT_OFFICER": CONSTABLE}).stdout
    assert "## Platform action" in markdown and "Referral sent to content removed: median" in markdown
    csv = action_home.ok("report", "--quarter", "2026Q3", "--format", "csv", env={"OHRT_OFFICER": CONSTABLE}).stdout
    assert "action,time_to_removal_p90,platform=youtube,8.8" in csv
