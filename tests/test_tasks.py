"""Tasking intake, SOP 8.3–8.4: add, list, show, import, URLs (issue: foundation)."""

from __future__ import annotations

import json

import pytest

from support.home import TASK_ARGS, add_task


def test_task_add_prints_id_and_records_every_field(ohrt):
    task_id = ohrt.ok("task", "add", "--url", "https://youtu.be/dQw4w9WgXcQ?si=xyz", *TASK_ARGS,
                      "--ref", "CAD:1234/21nov26", "--ref", "CRIS:4212345/26", "--ref", "Connect:CON/123",
                      "--subject", "John Doe", "--subject", "Jane Roe").stdout.strip()
    assert task_id == "T-2026-000001"
    task = ohrt.json("task", "show", task_id)
    assert task["canonical_url"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert task["url"] == "https://youtu.be/dQw4w9WgXcQ?si=xyz"
    assert task["platform"] == "youtube" and task["status"] == "received"
    assert task["applicant_name"] == "DC Rae" and task["applicant_ocu"] == "Central West"
    assert task["upload_date"] == "2026-01-02"
    assert task["incident_refs"] == ["CAD:1234/21NOV26", "CRIS:4212345/26", "Connect:CON/123"]
    assert task["subjects"] == ["John Doe", "Jane Roe"]
    # subjects live in their own table, not in the task row
    row = ohrt.db()["tasks"].get(task_id)
    assert "John Doe" not in json.dumps(row)
    assert [r["name"] for r in ohrt.db()["subjects"].rows] == ["John Doe", "Jane Roe"]


def test_task_add_json_prints_the_whole_record(ohrt):
    task = ohrt.json("task", "add", "--url", "https://www.tiktok.com/@a/video/1", *TASK_ARGS)
    assert task["id"] == "T-2026-000001" and task["platform"] == "tiktok"


@pytest.mark.parametrize("url, platform, canonical", [
    ("https://www.youtube.com/watch?v=abcDEF12345&t=42s&si=zz", "youtube", "https://www.youtube.com/watch?v=abcDEF12345"),
    ("https://youtu.be/abcDEF12345?si=zz", "youtube", "https://www.youtube.com/watch?v=abcDEF12345"),
    ("https://m.youtube.com/shorts/abcDEF12345?feature=share", "youtube", "https://www.youtube.com/watch?v=abcDEF12345"),
    ("https://music.youtube.com/watch?v=abcDEF12345&list=RD", "youtube", "https://www.youtube.com/watch?v=abcDEF12345"),
    ("https://www.facebook.com/watch/?v=1234&fbclid=IwAR0", "facebook", "https://www.facebook.com/watch?v=1234"),
    ("https://m.facebook.com/story.php?id=1&story_fbid=2", "facebook", "https://www.facebook.com/story.php?id=1&story_fbid=2"),
    ("https://fb.watch/abcd/", "facebook", "https://fb.watch/abcd"),
    ("https://www.instagram.com/reel/Cxyz/?igsh=abc&utm_source=ig_web", "instagram", "https://www.instagram.com/reel/Cxyz"),
    ("https://instagr.am/p/Cxyz/", "instagram", "https://www.instagram.com/p/Cxyz"),
    ("https://www.snapchat.com/spotlight/W7_EDlXWTBiXAEEniNoMPwAAYbHh", "snapchat", "https://www.snapchat.com/spotlight/W7_EDlXWTBiXAEEniNoMPwAAYbHh"),
    ("https://twitter.com/user/status/123?s=20", "x", "https://x.com/user/status/123"),
    ("https://mobile.twitter.com/user/status/123", "x", "https://x.com/user/status/123"),
    ("https://x.com/user/status/123?t=abc", "x", "https://x.com/user/status/123"),
    ("https://chat.whatsapp.com/InviteCode", "whatsapp", "https://whatsapp.com/InviteCode"),
    ("https://wa.me/447700900000", "whatsapp", "https://wa.me/447700900000"),
    ("https://t.me/channelname/123", "telegram", "https://t.me/channelname/123"),
    ("https://telegram.me/channelname/123", "telegram", "https://t.me/channelname/123"),
    ("https://old.reddit.com/r/london/comments/abc/title/?utm_medium=x", "reddit", "https://www.reddit.com/r/london/comments/abc/title"),
    ("https://redd.it/abc", "reddit", "https://redd.it/abc"),
    ("https://www.tiktok.com/@user/video/7234567890?is_from_webapp=1&sender_device=pc", "tiktok", "https://www.tiktok.com/@user/video/7234567890"),
    ("https://vm.tiktok.com/ZMabc/", "tiktok", "https://www.tiktok.com/ZMabc"),
    # a photo post (a slideshow) is one post whether linked as /photo/ or /video/
    ("https://www.tiktok.com/@user/photo/7234567891?is_from_webapp=1", "tiktok", "https://www.tiktok.com/@user/video/7234567891"),
])
def test_each_platform_url_form_is_recognised_and_canonicalised(ohrt, url, platform, canonical):
    task = ohrt.json("task", "add", "--url", url, *TASK_ARGS)
    assert (task["platform"], task["canonical_url"]) == (platform, canonical)


def test_other_platforms_need_platform_flag(ohrt):
    result = ohrt("task", "add", "--url", "https://soundcloud.com/artist/track", *TASK_ARGS)
    assert result.exit_code == 2 and "--platform" in result.stderr
    task = ohrt.json("task", "add", "--url", "https://soundcloud.com/artist/track?utm_source=x", *TASK_ARGS,
                     "--platform", "SoundCloud")
    assert task["platform"] == "soundcloud" and task["canonical_url"] == "https://soundcloud.com/artist/track"


def test_platform_flag_contradicting_the_url_is_refused(ohrt):
    result = ohrt("task", "add", "--url", "https://www.tiktok.com/@a/video/1", *TASK_ARGS, "--platform", "youtube")
    assert result.exit_code == 2 and "contradicts" in result.stderr


@pytest.mark.parametrize("url", ["ftp://example.com/a", "javascript:alert(1)", "www.youtube.com/watch?v=x", "https://"])
def test_non_http_urls_are_refused(ohrt, url):
    result = ohrt("task", "add", "--url", url, *TASK_ARGS)
    assert result.exit_code == 2 and result.stderr.startswith("error:")
    assert ohrt.json("task", "list") == []


def test_duplicate_open_task_is_refused_unless_allowed(ohrt):
    first = add_task(ohrt, "https://youtu.be/abcDEF12345")
    result = ohrt("task", "add", "--url", "https://www.youtube.com/shorts/abcDEF12345", *TASK_ARGS)
    assert result.exit_code == 2 and first in result.stderr and "--allow-duplicate" in result.stderr
    second = add_task(ohrt, "https://www.youtube.com/shorts/abcDEF12345", "--allow-duplicate")
    assert second != first


@pytest.mark.parametrize("flag, value, fragment", [
    ("--uploaded", "2026-13-01", "not a real calendar date"),
    ("--uploaded", "02/01/2026", "YYYY-MM-DD"),
    ("--uploaded", "2099-01-01", "in the future"),
    ("--ref", "CAD:12345", "CAD reference"),
    ("--ref", "CRIS:12/34", "CRIS reference"),
    ("--ref", "PNC:123", "SYSTEM:REFERENCE"),
    ("--ref", "Merlin:ABC", "Merlin reference"),
])
def test_bad_fields_are_refused_with_how_to_mend(ohrt, flag, value, fragment):
    args = list(TASK_ARGS)
    if flag == "--uploaded":
        args[args.index("--uploaded") + 1] = value
    else:
        args += [flag, value]
    result = ohrt("task", "add", "--url", "https://www.tiktok.com/@a/video/1", *args)
    assert result.exit_code == 2 and fragment in result.stderr, result.stderr
    assert ohrt.json("task", "list") == []


def test_blank_mandatory_field_is_refused(ohrt):
    args = list(TASK_ARGS)
    args[args.index("--rationale") + 1] = "  "
    result = ohrt("task", "add", "--url", "https://www.tiktok.com/@a/video/1", *args)
    assert result.exit_code == 2 and "rationale" in result.stderr


def test_task_list_filters_by_status(ohrt):
    add_task(ohrt, "https://www.tiktok.com/@a/video/1")
    assert len(ohrt.json("task", "list", "--status", "received")) == 1
    assert ohrt.json("task", "list", "--status", "closed") == []
    bogus = ohrt("task", "list", "--status", "bogus")
    assert bogus.exit_code == 2 and "status 'bogus' is not one of received, captured" in bogus.stderr
    assert bogus.stdout == ""


HEADER = "applicant_name,applicant_ocu,applicant_unit,upload_date,incident_refs,title,url,platform,rationale,subjects"


def _csv(rows: list[str], crlf: bool = False, bom: bool = False) -> str:
    sep = "\r\n" if crlf else "\n"
    return ("\ufeff" if bom else "") + sep.join([HEADER, *rows]) + sep


GOOD = [
    'DC Rae,Central West,Gangs,2026-01-02,CAD:1234/02JAN26;CRIS:4212345/26,"Drill, part 2",https://youtu.be/aaaaaaaaaa1,,"Goads rivals, names the victim",John Doe;Jane Roe',
    'DC Rae,Central West,Gangs,2026-01-03,,"Title with\na newline",https://www.tiktok.com/@a/video/2,,Weapons for sale,',
    'DC Kay,South,Violence,2026-01-04,,Track,https://soundcloud.com/a/b,soundcloud,Mocks a death,',
]


def test_import_csv_with_bom_crlf_quoted_commas_and_newlines(ohrt, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(_csv(GOOD, crlf=True, bom=True).encode("utf-8"))
    result = ohrt.json("task", "import", path)
    assert len(result["imported"]) == 3 and result["rejected"] == []
    first = ohrt.json("task", "show", result["imported"][0])
    assert first["title"] == "Drill, part 2" and first["rationale"] == "Goads rivals, names the victim"
    assert first["subjects"] == ["John Doe", "Jane Roe"]
    assert first["incident_refs"] == ["CAD:1234/02JAN26", "CRIS:4212345/26"]
    second = ohrt.json("task", "show", result["imported"][1])
    assert second["title"] == "Title with\na newline"


def test_import_twice_creates_no_duplicates(ohrt, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(_csv(GOOD))
    ohrt.ok("task", "import", path)
    again = ohrt.json("task", "import", path)
    assert again["imported"] == [] and len(again["skipped"]) == 3
    assert len(ohrt.json("task", "list")) == 3


def test_import_with_a_bad_row_imports_nothing_and_lists_every_bad_row(ohrt, tmp_path):
    path = tmp_path / "export.csv"
    bad = [GOOD[0], 'DC Rae,CW,Gangs,2026-02-30,,T,https://www.tiktok.com/@a/video/9,,r,',
           GOOD[1], 'DC Rae,CW,Gangs,2026-01-01,,T,ftp://nope,,r,']
    path.write_text(_csv(bad))
    result = ohrt("task", "import", path)
    assert result.exit_code == 2
    assert "line 3:" in result.stderr and "line 6:" in result.stderr  # GOOD[1] spans lines 4-5
    assert "nothing imported" in result.stderr
    assert ohrt.json("task", "list") == []
    assert not (tmp_path / "export.rejects.csv").exists()


def test_import_skip_invalid_writes_bad_rows_unchanged_to_rejects(ohrt, tmp_path):
    path = tmp_path / "export.csv"
    bad_row = 'DC Rae,CW,Gangs,2026-02-30,,"quoted, comma",https://www.tiktok.com/@a/video/9,,r,'
    path.write_bytes(_csv([GOOD[0], bad_row, GOOD[2]], crlf=True).encode())
    result = ohrt.json("task", "import", path, "--skip-invalid")
    assert len(result["imported"]) == 2 and [r["line"] for r in result["rejected"]] == [3]
    rejects = (tmp_path / "export.rejects.csv").read_bytes().decode()
    assert rejects == HEADER + "\r\n" + bad_row + "\r\n"


def test_import_jsonl(ohrt, tmp_path):
    path = tmp_path / "export.jsonl"
    rows = [
        {"applicant_name": "DC Rae", "applicant_ocu": "CW", "applicant_unit": "Gangs", "upload_date": "2026-01-02",
         "incident_refs": "CAD:1234/02JAN26", "title": "Drill", "url": "https://youtu.be/aaaaaaaaaa1",
         "platform": None, "rationale": "Goads", "subjects": ["A Person", "B Person"]},
        {"applicant_name": "DC Rae", "applicant_ocu": "CW", "applicant_unit": "Gangs", "upload_date": "2026-01-02",
         "incident_refs": "", "title": "Drill 2", "url": "https://www.tiktok.com/@a/video/2", "rationale": "Goads",
         "subjects": "C Person;D Person"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json}\n")
    result = ohrt("task", "import", path)
    assert result.exit_code == 2 and "line 3" in result.stderr
    result = ohrt.json("task", "import", path, "--skip-invalid")
    assert len(result["imported"]) == 2
    assert ohrt.json("task", "show", result["imported"][1])["subjects"] == ["C Person", "D Person"]
    assert (tmp_path / "export.rejects.jsonl").read_text() == "{not json}\n"


def test_import_of_missing_file_or_column_is_one_line(ohrt, tmp_path):
    result = ohrt("task", "import", tmp_path / "nope.csv")
    assert result.exit_code == 2 and "does not exist" in result.stderr
    path = tmp_path / "x.csv"
    path.write_text("title,url\nT,https://youtu.be/x\n")
    result = ohrt("task", "import", path)
    assert result.exit_code == 2 and "applicant_name" in result.stderr


def test_every_task_added_is_audited(ohrt, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(_csv(GOOD))
    ohrt.ok("task", "import", path)
    actions = [e["action"] for e in ohrt.json("audit", "list")]
    assert actions.count("task.add") == 3 and actions.count("task.import") == 1
    ohrt.ok("audit", "verify")
