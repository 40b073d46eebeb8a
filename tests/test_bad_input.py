"""Bad input gets one clear line and exit 2, and changes nothing (DESIGN invariant 6): each input an
adversarial run found to crash ohrt or to be accepted though wrong."""

from __future__ import annotations

import json

import pytest

from support.home import TASK_ARGS, add_task, as_officer, rows

GOOD = {"url": "https://www.youtube.com/watch?v=Bad00000001", "title": "Drill video", "applicant_name": "DC Rae",
        "applicant_ocu": "Central West", "applicant_unit": "Gangs", "upload_date": "2026-01-02",
        "rationale": "Goads a rival group"}


def refused(result, *said: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for words in said:
        assert words in lines[0], lines[0]
    return lines[0]


def no_tasks(ohrt) -> None:
    assert rows(ohrt, "SELECT id FROM tasks") == []


@pytest.mark.parametrize("url", [
    "http://[::1", "http://[zz::1]/", "https://" + "a" * 9000 + ".com/",
    # found by bench/faults_inputs.py: junk after an IPv6 address, port 0, C1 controls, spaces and invisible
    # characters other than the ASCII space, and a host that is no host name
    "http://[::1]]/", "http://[::1]x/", "http://example.com:0/", "https://www.youtube.com/watch?v=ab\x85cd",
    "https://www.youtube.com/watch?v=ab\x9bcd", "https://exa\u00a0mple.com/x", "https://www.youtube.com/wa\u3000tch",
    "https://www.youtube.com/watch?v=ab\u200bcd", "https://www.youtube.com/watch?v=ab\u202ecd",
    "https://exa%20mple.com/",
])
def test_a_malformed_url_is_one_line(ohrt, url):
    refused(ohrt("task", "add", "--url", url, *TASK_ARGS), "URL")
    refused(ohrt("capture", url, "--reason", "Live stream"), "URL")
    no_tasks(ohrt)


def test_an_ipv6_host_keeps_its_brackets():
    from ohrt_cli.ground import urls

    assert urls.canonical("http://[::1]:8080/x")[0] == "http://[::1]:8080/x"


def _import(ohrt, tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return ohrt("task", "import", str(path))


def test_a_csv_cell_over_the_limit_is_one_line(ohrt, tmp_path):
    text = ",".join(GOOD) + "\n" + ",".join('"' + "x" * 140_000 + '"' if k == "title" else v for k, v in GOOD.items())
    refused(_import(ohrt, tmp_path, "big.csv", text + "\n"), "131,072")
    no_tasks(ohrt)


@pytest.mark.parametrize("line, said", [
    ("[" * 100_000 + "]" * 100_000, "100 levels"),
    ('{"title": ' + "9" * 5001 + "}", "digits"),
    (json.dumps({**GOOD, "subjects": [None, 5]}), "subjects must be a list of text"),
    (json.dumps({**GOOD, "title": {"a": 1}}), "title must be text"),
    (json.dumps({**GOOD, "title": "x" * 5_000}), "more than the 1,000 allowed"),
    (json.dumps({**GOOD, "title": "x" * 2_000_000}), "more than the 1,048,576 a line may have"),
    (json.dumps({**GOOD, "title": "Drill\u0000video"}), "control character"),
])
def test_a_bad_jsonl_row_is_rejected_in_one_line_and_nothing_is_imported(ohrt, tmp_path, line, said):
    done = _import(ohrt, tmp_path, "rows.jsonl", line + "\n")
    assert done.exit_code == 2 and said in done.stdout + done.stderr, (done.stdout, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr
    no_tasks(ohrt)


def test_a_folder_given_as_the_import_file_is_one_line(ohrt, tmp_path):
    refused(ohrt("task", "import", str(tmp_path)), "folder")


def test_a_bad_review_batch_row_is_one_line(ohrt, tmp_path):
    task = add_task(ohrt, GOOD["url"])
    path = tmp_path / "batch.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    done = ohrt("review", "--batch", str(path), env=as_officer("7781"))
    assert done.exit_code == 2 and "100 levels" in done.stdout + done.stderr
    csv_path = tmp_path / "batch.csv"
    csv_path.write_text(f'task,decision,reason\n{task},nfa,"{"x" * 140_000}"\n', encoding="utf-8")
    refused(ohrt("review", "--batch", str(csv_path), env=as_officer("7781")), "131,072")
    assert rows(ohrt, "SELECT id FROM reviews") == []


@pytest.mark.parametrize("quarter", ["0000Q1", "9999Q4", "２０２６Q1"])
def test_a_quarter_out_of_range_or_in_other_digits_is_one_line(ohrt, quarter):
    refused(ohrt("report", "--quarter", quarter), "quarter")
    refused(ohrt("dip-sample", "draw", "--quarter", quarter, env=as_officer("9001")), "quarter")
    refused(ohrt("dip-sample", "show", quarter), "quarter")


def test_digits_other_than_ascii_are_refused(ohrt):
    refused(ohrt("task", "add", "--url", GOOD["url"], *TASK_ARGS, "--ref", "CRIS:４２１２３４５/26"), "CRIS")
    refused(ohrt("library", "expiring", "--within", "３0d"), "--within")
    refused(ohrt("task", "add", "--url", GOOD["url"], *[("２０２６-01-02" if a == "2026-01-02" else a) for a in TASK_ARGS]),
            "upload date")
    no_tasks(ohrt)


def test_a_title_of_two_megabytes_is_refused(ohrt):
    args = list(TASK_ARGS)
    args[args.index("--title") + 1] = "x" * 2_000_000
    refused(ohrt("task", "add", "--url", GOOD["url"], *args), "1,000")
    no_tasks(ohrt)


def test_a_usage_error_is_one_line(ohrt):
    line = refused(ohrt("task", "add", "--no-such-flag"), "--no-such-flag")
    assert "ohrt task add --help" in line
    refused(ohrt("task", "no-such-command"), "no-such-command")


def test_the_markdown_report_escapes_html_in_names(ohrt):
    from support.governance import add_task as add_received

    add_received(ohrt, 1, "https://www.youtube.com/watch?v=Bad00000009", "2026-07-10T10:00:00+00:00",
                 ocu="<script>alert(1)</script>", unit="<b>Gangs</b>")
    text = ohrt.ok("report", "--quarter", "2026Q3", "--format", "md", env={"OHRT_NOW": "2026-10-05T09:00:00+00:00"}).stdout
    assert "<script>" not in text and "<b>" not in text


@pytest.mark.parametrize("text", ["Drill\x85video", "Drill\x9b2Jvideo"])
def test_a_c1_control_character_in_a_field_is_refused(ohrt, tmp_path, text):
    refused(ohrt("task", "add", "--url", GOOD["url"], *[text if a == "Drill video" else a for a in TASK_ARGS]),
            "control character")
    done = _import(ohrt, tmp_path, "rows.csv", ",".join(GOOD) + "\n" + ",".join(text if k == "title" else v
                                                                                for k, v in GOOD.items()) + "\n")
    assert done.exit_code == 2 and "control character" in done.stderr
    no_tasks(ohrt)


def test_a_lone_surrogate_in_a_jsonl_row_is_refused_not_an_internal_error(ohrt, tmp_path):
    line = json.dumps({**GOOD, "title": "@@"}).replace('"@@"', '"Drill\\ud800video"')
    done = _import(ohrt, tmp_path, "rows.jsonl", line + "\n")
    assert done.exit_code == 2 and "lone surrogate" in done.stderr, done.stderr
    no_tasks(ohrt)
    task = add_task(ohrt, GOOD["url"])
    path = tmp_path / "batch.jsonl"
    path.write_text('{"task": "%s", "decision": "nfa", "format": "video", "reason": "x\\udc00y", "no_capture": true}\n'
                    % task, encoding="utf-8")
    done = ohrt("review", "--batch", str(path), env=as_officer("7781"))
    assert done.exit_code == 2 and "lone surrogate" in done.stderr, done.stderr
    assert rows(ohrt, "SELECT id FROM reviews") == []


def test_an_argument_that_is_not_utf8_is_one_line(ohrt):
    # the bytes b"Drill\xffvideo" on the command line reach Python as "Drill\udcffvideo"
    refused(ohrt("task", "add", "--url", GOOD["url"], *[("Drill\udcffvideo" if a == "Drill video" else a)
                                                       for a in TASK_ARGS]), "not UTF-8", "0xff")
    refused(ohrt("task", "show", "T-\udcfe"), "0xfe")
    no_tasks(ohrt)


def test_a_path_through_a_file_or_a_folder_for_a_batch_is_one_line(ohrt, tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("x\n", encoding="utf-8")
    inside = str(plain / "x.csv")
    refused(ohrt("task", "import", inside), "does not exist")
    refused(ohrt("review", "--batch", inside, env=as_officer("7781")), "does not exist")
    refused(ohrt("capture", "--batch", inside, "--reason", "Seen on patrol"), "does not exist")
    refused(ohrt("library", "import-hashes", inside, "--source", "A list"), "does not exist")
    refused(ohrt("capture", "--batch", str(tmp_path), "--reason", "Seen on patrol"), "folder")
    no_tasks(ohrt)


def test_a_csv_header_naming_a_column_twice_is_refused(ohrt, tmp_path):
    header = ",".join(GOOD) + ",title"
    row = ",".join(GOOD.values()) + ",Another title"
    refused(_import(ohrt, tmp_path, "rows.csv", f"{header}\n{row}\n"), "title more than once")
    no_tasks(ohrt)


@pytest.mark.parametrize("reason, said", [
    ('5', "must be text"), ('true', "must be text"), ('NaN', "must be text"), ('"Generic\\u0000lyrics"', "control"),
    ('"Generic\\u0085lyrics"', "control"),
])
def test_a_review_text_that_is_a_number_or_holds_a_control_character_is_refused(ohrt, tmp_path, reason, said):
    task = add_task(ohrt, GOOD["url"])
    path = tmp_path / "batch.jsonl"
    path.write_text('{"task": "%s", "decision": "nfa", "format": "video", "no_capture": true, "reason": %s}\n'
                    % (task, reason), encoding="utf-8")
    done = ohrt("review", "--batch", str(path), env=as_officer("7781"))
    assert done.exit_code == 2 and said in done.stderr, done.stderr
    csv_path = tmp_path / "batch.csv"
    csv_path.write_text(f"task,decision,format,reason,no_capture\n{task},nfa,video,Generic\x00lyrics,yes\n",
                        encoding="utf-8")
    done = ohrt("review", "--batch", str(csv_path), env=as_officer("7781"))
    assert done.exit_code == 2 and "control character" in done.stderr, done.stderr
    assert rows(ohrt, "SELECT id FROM reviews") == []


def test_a_batch_row_names_a_task_holding_a_control_character_only_quoted(ohrt, tmp_path):
    path = tmp_path / "batch.csv"
    path.write_text("task,decision,format,reason,no_capture\nT-2026\x85000001,nfa,video,Generic,yes\n",
                    encoding="utf-8")
    done = ohrt("review", "--batch", str(path), env=as_officer("7781"))
    lines = done.stderr.strip().splitlines()
    assert done.exit_code == 2 and len(lines) == 2 and "\x85" not in done.stderr, done.stderr
    assert lines[0].startswith("line 2: ") and "\\x85" in lines[0] and lines[1].startswith("error: 1 bad row")


@pytest.mark.parametrize("flag, value, said", [
    ("--reference", "CRIMINT １２３４５６７", "digits other than 0-9"), ("--reference", "CRIMINT\x011", "control"),
    ("--system", "Aware\x85", "control"), ("--summary", "No\x9btrace", "control"),
])
def test_indices_research_with_other_digits_or_control_characters_is_refused(ohrt, flag, value, said):
    task = add_task(ohrt, GOOD["url"])
    args = {"--system": "Aware", "--reference": "CRIMINT 1234567", "--date": "2026-01-03", "--summary": "No trace"}
    args[flag] = value
    refused(ohrt("review", "research", task, *[x for pair in args.items() for x in pair], env=as_officer("7781")),
            said)
    assert rows(ohrt, "SELECT id FROM indices_research") == []
