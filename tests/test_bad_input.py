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


@pytest.mark.parametrize("url", ["http://[::1", "http://[zz::1]/", "https://" + "a" * 9000 + ".com/"])
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
