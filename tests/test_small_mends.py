"""What a new officer tripped on, mended: import prints the new ids, a role refusal says who can do it,
--play says when the player fails, a title's newline stays out of the email's layout, the [capture]
settings are applied as the README says."""

from __future__ import annotations

import json

from support.home import CONSTABLE, SERGEANT, as_officer
from support.refer import plain_body, read_eml, real_contacts, review


def test_task_import_prints_each_new_id_and_writes_rejects_where_it_says(ohrt, tmp_path):
    source = tmp_path / "powerapp-export.csv"
    source.write_text(
        "applicant_name,applicant_ocu,applicant_unit,upload_date,incident_refs,title,url,platform,rationale\n"
        "DC Rae,Central West,Gangs,2026-01-02,,One,https://youtu.be/aaaaaaaaaaa,,Goads\n"
        "DC Rae,Central West,Gangs,2026-01-02,,Two,https://youtu.be/bbbbbbbbbbb,,Goads\n"
        "DC Rae,Central West,Gangs,not a date,,Bad,https://youtu.be/ccccccccccc,,Goads\n")
    out = ohrt.ok("task", "import", source, "--skip-invalid", env=as_officer(SERGEANT)).stdout.splitlines()
    assert out[:2] == ["T-2026-000001", "T-2026-000002"]
    assert out[2].startswith("imported 2, skipped 0, rejected 1") and "powerapp-export.rejects.csv" in out[2]
    assert (tmp_path / "powerapp-export.rejects.csv").is_file()
    help_text = ohrt.ok("task", "import", "--help").stdout
    assert "NAME.rejects.csv" in " ".join(help_text.split())


def test_a_role_refusal_names_who_may_do_it(ohrt):
    task_id = ohrt.ok("task", "add", "--url", "https://www.instagram.com/reel/Cxyz123/", "--title", "t", "--applicant",
                      "DC Rae", "--ocu", "X", "--unit", "Y", "--uploaded", "2026-01-02", "--rationale", "r").stdout.strip()
    real_contacts(ohrt)
    review(ohrt, task_id, "instagram")
    referral = ohrt.json("refer", "draft", task_id, env=as_officer(CONSTABLE))
    result = ohrt("refer", "qa", referral["id"], "--approve", env=as_officer(CONSTABLE))
    assert result.exit_code == 2
    assert "needs a sergeant or above; ask PS Ann Lee (2345, sergeant)" in result.stderr
    assert "ohrt --officer 2345 …" in result.stderr


def test_play_says_when_the_player_cannot_open_the_file(ohrt, make_clip):
    capture = ohrt.json("capture", "--file", make_clip("play-clip", seconds=2), "--url", "https://youtu.be/abcdefghijk",
                        "--reason", "play check", "--no-derivatives", env=as_officer(SERGEANT))
    # no desktop here: xdg-open finds no player (or there is no opener at all); either way it is said
    result = ohrt("capture", "open", capture["id"], "--reason", "review", "--play",
                  env={**as_officer(SERGEANT), "DISPLAY": None, "WAYLAND_DISPLAY": None, "BROWSER": None})
    assert result.exit_code == 1, result.stdout
    assert capture["id"] in result.stdout  # the path is still printed, and the consultation recorded
    assert "open it in your player yourself" in result.stderr or "in your player yourself" in result.stderr


def test_a_title_with_a_newline_stays_on_its_line_in_the_email(ohrt):
    real_contacts(ohrt)
    task_id = ohrt.ok("task", "add", "--url", "https://www.instagram.com/reel/Cxyz124/", "--title",
                      "Drill video\nPart two", "--applicant", "DC Rae", "--ocu", "X", "--unit", "Y", "--uploaded",
                      "2026-01-02", "--rationale", "r").stdout.strip()
    review(ohrt, task_id, "instagram")
    referral = ohrt.json("refer", "draft", task_id, env=as_officer(CONSTABLE))
    body = plain_body(read_eml(referral["draft_file"])).replace("\r\n", "\n")
    assert "Title:           Drill video Part two\n" in body


def test_capture_settings_are_applied(ohrt, make_clip):
    from support.refer import set_config

    set_config(ohrt, "capture", {"keyframes_max": 2, "contact_sheet_tiles": 4})
    capture = ohrt.json("capture", "--file", make_clip("settings-clip", seconds=6), "--url",
                        "https://youtu.be/abcdefghijm", "--reason", "settings", env=as_officer(SERGEANT))
    keyframes = [f for f in capture["files"] if f["role"] == "keyframes"]
    assert 1 <= len(keyframes) <= 2
    manifest = json.loads((ohrt.home / capture["folder"] / "manifest.json").read_text())
    sheet = next(f for f in manifest["files"] if f["role"] == "contact-sheet")
    assert sheet["tiles"] == 4
