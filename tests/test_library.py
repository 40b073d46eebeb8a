"""The Domain library through the CLI (issue 6, points 1, 2, 5–7): items made on removal of musical
content with the intelligence record's fields, by hand, holds by sergeants, browsing, re-upload
detection at capture and by `library match`, and signed hash files shared between forces."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
import tomli_w

from support.home import Ohrt, copy_home, new_home as _new_home
from support.library import (CONSTABLE, INSPECTOR, SERGEANT, Media, audit_entries, captured_task, env,
                             library_item, rows, youtube)

BUILT = "2026-03-05"
LATER = "2026-05-10"


@pytest.fixture(scope="module")
def media(library_media) -> Media:
    return library_media


def new_home(path: Path, team: str = "Online Harm Referral Team") -> Ohrt:
    return _new_home(path, team=team, env=env(BUILT))


@pytest.fixture(scope="module")
def template(tmp_path_factory, media) -> tuple[Path, dict]:
    """A home whose library holds song 1 (removed 2026-03-05) and song 3 (removed 2026-05-10); the third
    task is a capture of song 2 made with --no-derivatives, so not yet fingerprinted (capture leaves the
    fingerprints, like the review copies, to `ohrt capture finish`)."""
    ohrt = new_home(tmp_path_factory.mktemp("library-template") / "home")
    made = {"song": library_item(ohrt, media.song(1), youtube(1), when=BUILT),
            "other": library_item(ohrt, media.song(3), youtube(3), when=LATER)}
    task, capture = captured_task(ohrt, media.song(2), youtube(2), when=BUILT, derivatives=False)
    made["plain"] = {"task": task, "capture": capture["id"]}
    return ohrt.home, made


@pytest.fixture
def home(template, tmp_path) -> tuple[Ohrt, dict]:
    source, made = template
    return copy_home(source, tmp_path / "home"), made


def test_a_removed_music_video_goes_into_the_library_with_the_intelligence_record(home):
    ohrt, made = home
    item = ohrt.json("library", "show", made["song"]["item"])
    assert (item["status"], item["source"], item["task_id"], item["capture_id"], item["referral_id"]) == (
        "kept", "removal", made["song"]["task"], made["song"]["capture"], made["song"]["referral"])
    assert (item["removed_on"], item["expires_on"], item["format"]) == (BUILT, "2027-03-05", "music-video")
    assert item["title"] == "Drill video" and item["url"] == youtube(1) and item["platforms"] == "YouTube"
    assert "Names a rival and mocks him (at 00:01-00:03)" in item["summary"]
    assert "youtube:violent-criminal-orgs" in item["breach"] and item["rationale"]
    assert item["fingerprints"]["frames"] == 32 and 15.5 <= item["fingerprints"]["audio_seconds"] <= 16
    assert item["held"] is False
    for secret in ("Jon Subject001", "4001/01MAR26", "CRIMINT 7700001"):  # no personal data copied in
        assert secret not in json.dumps(item)
    [entry] = [e for e in audit_entries(ohrt, "library.add") if e["object_id"] == item["id"]]
    assert entry["detail"]["expires_on"] == "2027-03-05" and entry["officer"] == CONSTABLE
    shown = ohrt.ok("library", "show", item["id"]).stdout
    assert "summary (10.4.5)" in shown and f"32 frames, {item['fingerprints']['audio_seconds']} s of sound" in shown


def test_the_retention_period_is_read_from_the_configuration(home, media):
    ohrt, made = home
    config = ohrt.home / "config.toml"
    raw = tomllib.loads(config.read_text(encoding="utf-8"))
    raw["retention"]["months"] = 6
    config.write_text(tomli_w.dumps(raw), encoding="utf-8")
    item = ohrt.json("library", "add", made["plain"]["task"], "--removed-on", "2026-03-20", "--reason",
                     "removed, recorded elsewhere", env=env("2026-04-01", CONSTABLE))
    assert (item["source"], item["removed_on"], item["expires_on"]) == ("by-hand", "2026-03-20", "2026-09-20")


def test_adding_by_hand_needs_a_removal_date_and_happens_once(home):
    ohrt, made = home
    task = made["plain"]["task"]
    result = ohrt("library", "add", task, env=env("2026-04-01", CONSTABLE))
    assert result.exit_code == 2 and "--removed-on" in result.stderr
    result = ohrt("library", "add", task, "--removed-on", "2026-12-01", env=env("2026-04-01", CONSTABLE))
    assert result.exit_code == 2 and "in the future" in result.stderr
    item = ohrt.json("library", "add", task, "--removed-on", "2026-03-20", env=env("2026-04-01", CONSTABLE))
    assert item["capture_id"] == made["plain"]["capture"] and item["expires_on"] == "2027-03-20"
    result = ohrt("library", "add", task, "--removed-on", "2026-03-20", env=env("2026-04-01", CONSTABLE))
    assert result.exit_code == 2 and f"already in the library as {item['id']}" in result.stderr
    result = ohrt("library", "add", "T-2026-999999", "--removed-on", "2026-03-20", env=env("2026-04-01", CONSTABLE))
    assert result.exit_code == 2 and "no task" in result.stderr


def test_holds_are_placed_and_released_by_a_sergeant_or_above_with_reasons(home):
    ohrt, made = home
    item = made["song"]["item"]
    hold = ["library", "hold", item, "--investigation", "Op Quenby", "--reason", "Suspect's own track"]
    result = ohrt(*hold, env=env("2026-04-01", CONSTABLE))
    assert result.exit_code == 2 and "needs a sergeant or above" in result.stderr
    assert ohrt.json(*hold, env=env("2026-04-01", SERGEANT))["held"] is True
    again = ohrt(*hold, env=env("2026-04-01", INSPECTOR))
    assert again.exit_code == 2 and f"{item} is already held for Op Quenby: nothing changed" in again.stderr
    assert [h["investigation"] for h in rows(ohrt, "SELECT investigation FROM holds WHERE item_id = ?", [item])] \
        == ["Op Quenby"]
    ohrt.ok("library", "hold", item, "--investigation", "Op Rook", "--reason", "Linked stabbing",
            env=env("2026-04-02", INSPECTOR))
    result = ohrt("library", "release", item, "--reason", "done", env=env("2026-05-01", SERGEANT))
    assert result.exit_code == 2 and "Op Quenby, Op Rook" in result.stderr and "--investigation" in result.stderr
    shown = ohrt.json("library", "release", item, "--investigation", "op quenby", "--reason", "Trial over",
                      env=env("2026-05-01", SERGEANT))
    assert shown["held"] is True  # still held for Op Rook
    assert [(h["investigation"], h["released_by"]) for h in shown["holds"]] == [("Op Quenby", SERGEANT),
                                                                            ("Op Rook", None)]
    result = ohrt("library", "release", item, "--reason", " ", env=env("2026-05-01", SERGEANT))
    assert result.exit_code == 2 and "--reason is empty" in result.stderr
    assert ohrt.ok("library", "release", item, "--reason", "NFA", env=env("2026-05-02", SERGEANT)).stdout.strip() \
        .endswith("kept until 2027-03-05.")
    holds = audit_entries(ohrt, "library.hold")
    assert [h["reason"] for h in holds] == ["Suspect's own track", "Linked stabbing"]
    assert all("Quenby" not in json.dumps(h["detail"]) for h in holds)  # the investigation stays in the holds table


def test_list_search_and_expiring(home):
    ohrt, made = home
    song, other = made["song"]["item"], made["other"]["item"]
    assert [i["id"] for i in ohrt.json("library", "list")] == [other, song]  # latest removal first
    assert [i["id"] for i in ohrt.json("library", "search", "--title", "DRILL", "--to", "2026-04-01")] == [song]
    assert [i["id"] for i in ohrt.json("library", "search", "--url", youtube(3) + "&si=tracking")] == [other]
    assert [i["id"] for i in ohrt.json("library", "search", "--from", "2026-04-01")] == [other]
    assert ohrt.json("library", "search", "--channel", "nobody") == []
    result = ohrt("library", "search")
    assert result.exit_code == 2 and "at least one of" in result.stderr
    result = ohrt("library", "search", "--from", "March")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr
    soon = ohrt.json("library", "expiring", "--within", "30d", env=env("2027-02-10"))
    assert [(i["id"], i["days_left"]) for i in soon] == [(song, 23)]
    assert len(ohrt.json("library", "expiring", "--within", "16w", env=env("2027-02-10"))) == 2
    ohrt.ok("library", "hold", song, "--investigation", "Op Quenby", "--reason", "trial",
            env=env("2027-02-10", SERGEANT))
    assert ohrt.json("library", "expiring", "--within", "30d", env=env("2027-02-10")) == []
    result = ohrt("library", "expiring", "--within", "soon")
    assert result.exit_code == 2 and "30d" in result.stderr
    result = ohrt("library", "show", "L-2026-999999")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "ohrt library list" in result.stderr


def test_a_reupload_is_reported_the_moment_it_is_captured(home, media):
    ohrt, made = home
    url = "https://www.tiktok.com/@drillacc/video/7234567890"
    capture = ohrt.json("capture", "--file", media.clipped(1), "--url", url, "--reason", "Seen on patrol",
                        env=env(LATER, CONSTABLE))
    [match] = capture["matches"]
    assert (match["item_id"], match["kind"], match["source"]) == (made["song"]["item"], "same video", "local")
    pictures = next(s for s in match["segments"] if s["what"] == "pictures")
    assert pictures["capture"] == [0.0, 12.0] and pictures["item"][0] in (3.0, 3.5, 4.0)
    assert match["pdq_distance"] <= 31 and match["bit_error_rate"] <= 0.2
    [entry] = audit_entries(ohrt, "library.match")
    assert entry["object_id"] == capture["id"] and entry["detail"]["matches"][0]["kind"] == "same video"

    again = ohrt.json("library", "match", capture["id"], env=env(LATER, CONSTABLE))
    assert again["fingerprinted_now"] is False and again["matches"][0]["segments"] == match["segments"]
    text = ohrt.ok("library", "match", capture["id"], env=env(LATER, CONSTABLE)).stdout
    assert f"{made['song']['item']} “Drill video”: same video" in text and "capture 00:00–00:12  ↔  item 00:0" in text


def test_a_capture_of_unrelated_content_matches_nothing_and_is_not_audited_as_a_match(home, media):
    ohrt, made = home
    result = ohrt.ok("library", "match", made["plain"]["capture"], env=env(LATER, CONSTABLE))
    assert "no library item matches (32 frames, 15.8 s of sound compared)" in result.stdout
    assert audit_entries(ohrt, "library.match") == []


def test_match_fingerprints_a_capture_that_never_was(home):
    ohrt, made = home
    assert not rows(ohrt, "SELECT * FROM fingerprints WHERE capture_id = ?", [made["plain"]["capture"]])
    result = ohrt.json("library", "match", made["plain"]["capture"], env=env(LATER, CONSTABLE))
    assert result["fingerprinted_now"] is True and result["frames"] == 32
    assert rows(ohrt, "SELECT COUNT(*) AS n FROM fingerprints WHERE capture_id = ?", [made["plain"]["capture"]])[0]["n"]


def test_hashes_shared_with_another_force_match_there_and_name_their_source(home, media, tmp_path):
    ohrt, made = home
    shared = tmp_path / "hashes.json"
    exported = ohrt.json("library", "export-hashes", shared, env=env(LATER, CONSTABLE))
    assert exported["items"] == 2 and Path(exported["signature"]).is_file()
    text = shared.read_text()
    for secret in ("Drill video", "youtube.com", "Jon Subject", "CRIMINT", "Names a rival"):
        assert secret not in text  # fingerprints, dates and format only
    key = ohrt.home / "keys" / "public.pem"

    other = new_home(tmp_path / "west-midlands", team="West Midlands OHRT")
    result = other("library", "import-hashes", shared, "--key", other.home / "keys" / "public.pem",
                   env=env(LATER, CONSTABLE))
    assert result.exit_code == 1 and "does not match its signature" in result.stderr
    imported = other.json("library", "import-hashes", shared, "--key", key, env=env(LATER, CONSTABLE))
    assert imported["source"] == "Online Harm Referral Team" and len(imported["added"]) == 2
    again = other.json("library", "import-hashes", shared, "--key", key, env=env(LATER, CONSTABLE))
    # the same file again changes nothing, and says so
    assert again["added"] == again["updated"] == [] and sorted(again["unchanged"]) == sorted(imported["added"])
    said = other.ok("library", "import-hashes", shared, "--key", key, env=env(LATER, CONSTABLE)).stdout
    assert "0 added, 0 updated, 2 unchanged" in said
    assert len(other.json("library", "list")) == 2

    capture = other.json("capture", "--file", media.reupload("cropped"), "--url", youtube(9), "--reason",
                         "Re-upload seen", env=env(LATER, CONSTABLE))
    [match] = capture["matches"]
    assert match["source"] == "Online Harm Referral Team" and match["item_ref"] == made["song"]["item"]
    assert match["kind"] == "same video" and match["item_id"] in imported["added"]

    tampered = tmp_path / "tampered.json"
    tampered.write_text(text.replace('"music-video"', '"video"', 1))
    shutil.copy(str(shared) + ".sig", str(tampered) + ".sig")
    result = other("library", "import-hashes", tampered, "--key", key, env=env(LATER, CONSTABLE))
    assert result.exit_code == 1 and "nothing imported" in result.stderr
    result = ohrt("library", "import-hashes", shared, "--key", key, env=env(LATER, CONSTABLE))
    assert result.exit_code == 2 and "own export" in result.stderr
    result = other("library", "hold", match["item_id"], "--investigation", "Op X", "--reason", "r",
                   env=env(LATER, SERGEANT))
    assert result.exit_code == 2 and "not material held here" in result.stderr


def test_imported_hashes_expire_on_the_senders_date(home, tmp_path):
    ohrt, made = home
    shared = tmp_path / "hashes.json"
    ohrt.ok("library", "export-hashes", shared, env=env(LATER, CONSTABLE))
    other = new_home(tmp_path / "wmp", team="West Midlands OHRT")
    other.ok("library", "import-hashes", shared, "--key", ohrt.home / "keys" / "public.pem",
             env=env(LATER, CONSTABLE))
    summary = json.loads(other.ok("purge", "--json", env=env("2027-03-06")).stdout)
    [gone] = summary["purged"]
    assert gone["rule"] == "import" and gone["expired_on"] == "2027-03-05"
    assert len(other.json("library", "list")) == 1
    assert rows(other, "SELECT COUNT(*) AS n FROM fingerprints")[0]["n"] == 1
