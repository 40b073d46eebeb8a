"""Malformed input: several hundred bad URLs, files, options and values given to the real `ohrt`, each on a
fresh copy of a home, and the answer checked.

Each input must be refused with exit 2 and one line on stderr ("error: …"; a batch file whose rows are bad may
name each bad row on a line of its own, "line N: …", before that one line) and change nothing — every table's
row count, the audit chain's head and every file of the home as they were — or, where the input is legitimately
accepted (exit 0), be stored as given. A traceback, "internal error", another exit code, a second line, or a
change left by a refusal is a failure. The families: URLs (to `task add`, `capture` and `capture --file`);
`task import` and `review --batch` files, JSONL and CSV (cells over the CSV limit, nesting, huge integers, nulls
and numbers where text belongs, NUL and other control characters, 2 MB titles, bad dates, non-ASCII digits,
unknown columns and keys, BOM and CRLF); references, dates, time ranges and other values given as options;
quarters (`report`, `dip-sample draw` and `show`) and `--within`; a folder or a missing file where a file is
expected; usage errors; bytes that are not UTF-8 on the command line. A NUL cannot be given on a command line
(the kernel refuses it), so it is tried in files. Lines are counted as Python counts them (str.splitlines), so a
message that echoes a raw \x85 or U+2028 is two lines. The guard's own index (guard_dirty, guard_keys), which any
command may bring up to date, is not counted as a change.
Run: .venv/bin/python bench/faults_inputs.py [WORKERS [FAMILY]]   (default 2 workers, every family; not part of
the test suite: minutes)
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import faultlib as f

SERGEANT, CONSTABLE, INSPECTOR = "2345", "7781", "9001"
NOW = "2026-11-20T10:00:00+00:00"       # 2026Q3 is over; 2026Q4 is not
VIDEO = "https://www.youtube.com/watch?v=Trial000001"   # the template's task, captured
TASK_ARGS = ["--title", "Drill video", "--applicant", "DC Rae", "--ocu", "Central West", "--unit", "Gangs",
             "--uploaded", "2026-01-02", "--rationale", "Goads a rival group"]
IMPORT_KEYS = ("applicant_name", "applicant_ocu", "applicant_unit", "upload_date", "incident_refs", "title", "url",
               "platform", "rationale", "subjects")
GOOD_ROW = {"applicant_name": "DC Rae", "applicant_ocu": "Central West", "applicant_unit": "Gangs",
            "upload_date": "2026-01-02", "incident_refs": "CAD:1234/21NOV26", "title": "Drill video",
            "url": "https://www.youtube.com/watch?v=Import00001", "platform": "", "rationale": "Goads a rival group",
            "subjects": "Jon Smith"}
REVIEW_COLUMNS = ("task", "decision", "format", "factor", "note", "at", "clauses", "reason", "no_capture")
# Digits that are not ASCII: full-width, Arabic-Indic, Devanagari, mathematical bold, superscript.
OTHER_DIGITS = {"full-width": "０１２３４５６７８９", "arabic-indic": "٠١٢٣٤٥٦٧٨٩", "devanagari": "०१२३४५६७८९",
                "math-bold": "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗", "superscript": "⁰¹²³⁴⁵⁶⁷⁸⁹"}
OVER_CELL = 140_000                    # over the 131,072 characters Python's csv reader takes
TWO_MB = 2 * 1024 * 1024
TEMPLATE_TASK: list[str] = []          # the id of the template's task, once it is made


def digits(text: str, kind: str) -> str:
    """`text` with its ASCII digits written in another script's digits."""
    return text.translate(str.maketrans("0123456789", OTHER_DIGITS[kind]))


@dataclasses.dataclass
class Case:
    """One input: the command's arguments (`{dir}` is the case's own folder, where `files` are written), who runs
    it, and — for an input that may be accepted — `accept(home, before, after, done)`, which says what is wrong
    with what was stored (None: stored as given). Without `accept`, only a refusal passes."""

    family: str
    what: str
    args: list[str]
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)
    officer: str = SERGEANT
    accept: Callable | None = None
    rows_listed: bool = False          # a batch file: bad rows may be named one a line before the error line


# ---- what a home holds, before and after --------------------------------------------------------------------

def snapshot(home: Path) -> dict:
    """Every table's row count, the audit chain's head, and every file of the home but the database's own."""
    db = sqlite3.connect(f"file:{home / 'ohrt.db'}?mode=ro", uri=True)
    try:
        # guard_dirty and guard_keys are the guard's index of the record, which any command may bring up to date
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'guard\\_%' ESCAPE '\\'")]
        counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        head = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        db.close()
    files = {}
    for path in sorted(home.rglob("*")):
        if path.is_file() and not path.name.startswith("ohrt.db"):
            files[str(path.relative_to(home))] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            files[str(path.relative_to(home)) + "/"] = ""
    return {"counts": counts, "head": head, "files": files}


def changes(before: dict, after: dict) -> list[str]:
    said = [f"{t} {before['counts'].get(t, 0)}→{n}" for t, n in after["counts"].items()
            if before["counts"].get(t, 0) != n]
    if before["head"] != after["head"]:
        said.append(f"audit head {before['head'][0]}→{after['head'][0]}")
    added = sorted(set(after["files"]) - set(before["files"]))
    gone = sorted(set(before["files"]) - set(after["files"]))
    edited = sorted(p for p in set(before["files"]) & set(after["files"]) if before["files"][p] != after["files"][p])
    said += [f"new {p}" for p in added] + [f"gone {p}" for p in gone] + [f"changed {p}" for p in edited]
    return said


def query(home: Path, sql: str, params=()) -> list[tuple]:
    return f.rows(home, sql, params)


# ---- what an accepted input must have stored ----------------------------------------------------------------

def new_tasks(*expected: dict) -> Callable:
    """Accepted: exactly these tasks added (each dict: column → value, `refs`/`subjects` as lists)."""
    def check(home, before, after, done):
        known = before["counts"]["tasks"]
        added = query(home, "SELECT id, url, title, applicant_name, upload_date, rationale FROM tasks "
                      "ORDER BY rowid LIMIT -1 OFFSET ?", [known])
        if len(added) != len(expected):
            return f"{len(added)} task(s) added, {len(expected)} expected"
        for (task_id, url, title, applicant, uploaded, rationale), want in zip(added, expected):
            have = {"url": url, "title": title, "applicant_name": applicant, "upload_date": uploaded,
                    "rationale": rationale,
                    "refs": [f"{s}:{r}" for s, r in query(home, "SELECT system, reference FROM incident_refs "
                                                          "WHERE task_id = ? ORDER BY id", [task_id])],
                    "subjects": [n for (n,) in query(home, "SELECT name FROM subjects WHERE task_id = ? ORDER BY id",
                                                     [task_id])]}
            for key, value in want.items():
                if have[key] != value:
                    return f"{task_id} {key} stored as {str(have[key])[:60]!r}, given {str(value)[:60]!r}"
        return None
    return check


def one_review(decision: str, reason: str | None = None) -> Callable:
    """Accepted: one review of the template's task, with this decision (and reason)."""
    def check(home, before, after, done):
        task = TEMPLATE_TASK[0]
        added = after["counts"]["reviews"] - before["counts"]["reviews"]
        if added != 1:
            return f"{added} review(s) recorded, 1 expected"
        columns = {r[1] for r in query(home, "PRAGMA table_info(reviews)")}
        wanted = ["decision"] + (["reason"] if reason is not None and "reason" in columns else [])
        stored = query(home, f"SELECT {', '.join(wanted)} FROM reviews WHERE task_id = ? ORDER BY rowid DESC LIMIT 1",
                       [task])
        if not stored or stored[0][0] != decision or (len(wanted) > 1 and stored[0][1] != reason):
            return f"stored {stored[:1]!r}, given {decision!r} {reason!r}"
        return None
    return check


def research_stored(home, before, after, done):
    added = after["counts"]["indices_research"] - before["counts"]["indices_research"]
    return None if added == 1 else f"{added} research row(s) recorded, 1 expected"


def nothing_changed(home, before, after, done):
    said = changes(before, after)
    return "changed: " + ", ".join(said[:4]) if said else None


def audited_only(home, before, after, done):
    """Accepted by a command that only reads and says so in the audit chain (the report)."""
    said = [c for c in changes(before, after) if not c.startswith(("audit", "changed audit-checkpoints.jsonl"))]
    return "changed: " + ", ".join(said[:4]) if said else None


# ---- the inputs ---------------------------------------------------------------------------------------------

BAD_URLS = [
    # IPv6 brackets
    "http://[::1", "http://[zz::1]/", "http://[::1]]/", "http://[::1]x/", "http://[::1/x", "http://::1/",
    "http://[]/", "http://[1:2:3:4:5:6:7:8:9]/", "http://[::ffff:1.2.3.400]/", "http://[v1.x]/",
    "http://x[::1]/", "http://[::1]:8080x/", "https://[:::]/watch",
    # ports
    "http://example.com:99999/", "http://example.com:65536/", "http://example.com:-1/", "http://example.com:abc/",
    "http://example.com::80/", "http://example.com:80:80/", "http://example.com:８０/", "http://example.com:0/",
    "http://example.com:+80/", "http://example.com:8_0/", "http://example.com: 80/",
    # control characters, whitespace and invisible characters
    "https://www.youtube.com/watch?v=ab\x01cd", "https://www.youtube.com/watch?v=ab\x1fcd",
    "https://www.youtube.com/watch?v=ab\x7fcd", "https://www.youtube.com/watch?v=ab\tcd",
    "https://www.youtube.com/watch?v=ab\ncd", "https://www.youtube.com/watch?v=ab\rcd",
    "https://www.youtube.com/watch?v=ab\x85cd", "https://www.youtube.com/watch?v=ab\x9bcd",
    "https://www.you\x00tube.com/".replace("\x00", "\x08"),
    "https://www.youtube.com/watch?v=ab cd", "https://www.you tube.com/watch?v=abcd",
    "https://exa\u00a0mple.com/x", "https://www.youtube.com/watch?v=ab\u00a0cd", "https://www.youtube.com/wa\u3000tch",
    "https://www.youtube.com/watch?v=ab\u200bcd", "https://www.youtube.com/watch?v=ab\u2028cd",
    "https://www.youtube.com/watch?v=ab\u202ecd", "https://www.youtube.com/watch?v=ab\ufeffcd",
    # schemes and hosts
    "ftp://example.com/x", "javascript:alert(1)", "file:///etc/passwd", "data:text/html,hi", "mailto:a@b.c",
    "www.youtube.com/watch?v=abc", "//www.youtube.com/watch?v=abc", "http:/www.youtube.com/watch?v=abc",
    "http:///x", "https://", "http://", "https://@/", "https:// /", "http://.../", "http://./x", "youtube",
    "https://www.youtube.com:443:/", "http://a b.com/", "https://exa%20mple.com/",
    # overlong
    "https://www.youtube.com/watch?v=" + "a" * 10_000, "https://" + "a" * 9_000 + ".com/",
    "https://www.youtube.com/" + "x/" * 5_000, "https://www.youtube.com/watch?" + "&".join(["a=b"] * 3_000),
    "https://www.youtube.com/watch?v=" + "a" * 8_200, "https://www.youtube.com/watch?v=" + "a" * 100_000,
]
# Legitimately accepted: stored as given.
GOOD_URLS = [
    "https://www.youtube.com/watch?v=Good0000001", "HTTPS://WWW.YOUTUBE.COM/watch?v=Good0000002",
    "https://www.youtube.com/watch?v=Good0000003#t=30", "http://[::1]:8080/clip", "https://example.com:/clip",
    "https://www.youtube.com/watch?v=" + "b" * 8_000, "https://www.tiktok.com/@drill/video/7000000000000000001",
]


def url_cases() -> list[Case]:
    cases = []
    for url in BAD_URLS:
        platform = [] if "youtube" in url or "tiktok" in url else ["--platform", "other"]
        cases.append(Case("URL: task add", url, ["task", "add", "--url", url, *TASK_ARGS, *platform]))
    for url in BAD_URLS[::3]:
        cases.append(Case("URL: capture", url, ["capture", url, "--reason", "Seen on patrol", "--no-page"]))
    for url in BAD_URLS[1::6]:
        cases.append(Case("URL: capture --file", url, ["capture", "--file", "{clip}", "--url", url, "--reason",
                                                       "Screen recording", "--no-derivatives"]))
    for url in GOOD_URLS:
        platform = [] if "youtube" in url.lower() or "tiktok" in url else ["--platform", "other"]
        cases.append(Case("URL: task add", url, ["task", "add", "--url", url, *TASK_ARGS, *platform],
                          accept=new_tasks({"url": url, "title": "Drill video"})))
    return cases


def with_arg(args: list[str], flag: str, value: str) -> list[str]:
    args = list(args)
    args[args.index(flag) + 1] = value
    return args


BAD_REFS = ["CAD:", ":1234", "NOPE:1234", "CAD 1234/21NOV26", "CAD:1234", "CRIS:12/26", "CAD:" + "9" * 10_000,
            "CAD:1234/21NOV26\x01", "CAD:1234/21NOV26\x85", "CRIS:4212345/26\u200b"] + \
           [f"CRIS:{digits('4212345', k)}/26" for k in OTHER_DIGITS] + \
           [f"CAD:{digits('1234', k)}/21NOV26" for k in OTHER_DIGITS] + \
           [f"CAD:1234/{digits('21', k)}NOV26" for k in ("full-width", "arabic-indic")]
BAD_DATES = ["2026-02-30", "2026-13-01", "2026-00-10", "26-01-02", "2026-1-2", "2026/01/02", "02-01-2026",
             "2026-01-02T10:00", "", " ", "yesterday", "0000-01-01", "2026-01-02\x01", "2026-01-32",
             "99999-01-01", "2026-01-0" + "2" * 5000] + [digits("2026-01-02", k) for k in OTHER_DIGITS]
BAD_TEXTS = {"131,000 characters": "x" * 131_000, "empty": "", "blank": "   ", "control \\x01": "Drill\x01video",
             "escape \\x1b[2J": "Drill\x1b[2Jvideo", "C1 control \\x85": "Drill\x85video",
             "C1 control \\x9b": "Drill\x9bvideo", "DEL": "Drill\x7fvideo"}
TEXT_LIMITS = {"--title": 1_000, "--applicant": 200, "--rationale": 10_000}
BAD_WITHIN = ["", "d", "30x", "-5d", "3.5d", "30dd", "d30", "9" * 5000 + "d", "99999999999w", "1000000d"] + \
             [digits("30", k) + "d" for k in OTHER_DIGITS]
BAD_RANGES = ["00:05-00:01", "00:99-01:00", "01:60-01:70", "-00:01-00:02", "00:01-", "-00:02", "00:01-99:00:00",
              "aa:bb-cc:dd", "00:01-00:02-00:03", "0:1-0:2:3:4", "00:01 00:02", "00:01-00:02\x01",
              "9" * 5000 + ":00-" + "9" * 5000 + ":01", "00:01.5-00:02,5"] + \
             [digits("00:01-00:03", k) for k in OTHER_DIGITS]


def option_cases() -> list[Case]:
    add = ["task", "add", "--url", "https://www.youtube.com/watch?v=Option00001", *TASK_ARGS]
    cases = [Case("references (--ref)", ref, [*add, "--ref", ref]) for ref in BAD_REFS]
    for ref in ("CAD:1234/21NOV26", "cad: 1234/21nov26", "CAD:1234/21NOV26\n"):
        cases.append(Case("references (--ref)", f"{ref!r} (accepted)", [*add, "--ref", ref],
                          accept=new_tasks({"refs": ["CAD:1234/21NOV26"]})))
    cases += [Case("dates", f"--uploaded {d!r}", with_arg(add, "--uploaded", d)) for d in BAD_DATES]
    cases += [Case("dates", f"review --date {d!r}", ["review", "record", "{task}", "--decision", "nfa", "--format",
                                                     "video", "--reason", "Generic lyrics", "--date", d],
                   officer=CONSTABLE) for d in BAD_DATES[::2] if d]
    cases.append(Case("dates", "--uploaded 2026-01-02", add, accept=new_tasks({"upload_date": "2026-01-02"})))
    for flag, limit in TEXT_LIMITS.items():
        for name, text in {**BAD_TEXTS, f"{limit + 1:,} characters": "x" * (limit + 1)}.items():
            cases.append(Case("titles and other text", f"{flag} {name}", with_arg(add, flag, text)))
    cases.append(Case("titles and other text", "a rationale of two lines (accepted)",
                      with_arg(add, "--rationale", "Goads a rival\nNames him"),
                      accept=new_tasks({"rationale": "Goads a rival\nNames him"})))
    cases.append(Case("titles and other text", "--subject NUL-free control", [*add, "--subject", "Jon\x01Smith"]))
    cases.append(Case("titles and other text", "--subject of 131,000", [*add, "--subject", "x" * 131_000]))
    cases.append(Case("titles and other text", "--platform of 131,000",
                      ["task", "add", "--url", "https://example.com/x", *TASK_ARGS, "--platform", "x" * 131_000]))
    cases.append(Case("titles and other text", "a title of 1,000 (accepted)", with_arg(add, "--title", "y" * 1_000),
                      accept=new_tasks({"title": "y" * 1_000})))
    cases.append(Case("titles and other text", "a title in Welsh (accepted)",
                      with_arg(add, "--title", "Fideo drill – ŵ ŷ"), accept=new_tasks({"title": "Fideo drill – ŵ ŷ"})))
    cases += [Case("--within", repr(w)[:40], ["library", "expiring", "--within", w]) for w in BAD_WITHIN]
    for within in ("6w", "30", "0d", "30 d"):
        cases.append(Case("--within", f"{within!r} (accepted)", ["library", "expiring", "--within", within],
                          accept=nothing_changed))
    review = ["review", "record", "{task}", "--decision", "refer", "--format", "video", "--clause",
              "youtube:violent-criminal-orgs"]
    cases += [Case("time ranges", f"--finding at {r!r}"[:60],
                   [*review, "--finding", f"provocative-language|Mocks a rival|{r}"], officer=CONSTABLE)
              for r in BAD_RANGES[::2]]
    cases.append(Case("time ranges", "00:01-00:03 (accepted)",
                      [*review, "--finding", "provocative-language|Mocks a rival|00:01-00:03"], officer=CONSTABLE,
                      accept=one_review("refer")))
    research = ["review", "research", "{task}"]
    for ref in ["CRIMINT " + digits("1234567", "full-width"), "CRIMINT " + digits("1234567", "devanagari"),
                "x" * 131_000, "CRIMINT\x011", "CRIMINT\x851"]:
        cases.append(Case("references (research)", repr(ref)[:40],
                          [*research, "--system", "Aware", "--reference", ref, "--date", "2026-11-19", "--summary",
                           "No trace"], officer=CONSTABLE))
    for flag, value in (("--system", "Aware\x01"), ("--summary", "No\x9btrace"), ("--date", "2026-11-" +
                        digits("19", "full-width"))):
        args = [*research, "--system", "Aware", "--reference", "CRIMINT 1234567", "--date", "2026-11-19",
                "--summary", "No trace"]
        cases.append(Case("references (research)", f"{flag} {value!r}", with_arg(args, flag, value),
                          officer=CONSTABLE))
    cases.append(Case("references (research)", "CRIMINT 1234567 (accepted)",
                      [*research, "--system", "Aware", "--reference", "CRIMINT 1234567", "--date", "2026-11-19",
                       "--summary", "No trace"], officer=CONSTABLE, accept=research_stored))
    return cases


QUARTERS = ["0000Q1", "9999Q4", "1969Q4", "3000Q1", "2026Q0", "2026Q5", "Q3", "2026", "2026-Q3", "2026 Q3",
            "2026Q3x", " ", "2026Q33", "-2026Q3", "10000Q1", "26Q3", "garbage", "2026Q3\x01", "9" * 5000 + "Q1"] + \
           [digits("2026", k) + "Q3" for k in ("full-width", "arabic-indic", "math-bold")] + \
           [f"2026Q{digits('3', k)}" for k in ("full-width", "superscript")]


def quarter_cases() -> list[Case]:
    cases = []
    for i, q in enumerate(QUARTERS):
        cases.append(Case("quarters: report", repr(q)[:40], ["report", "--quarter", q]))
        if i % 2:
            continue
        cases.append(Case("quarters: dip-sample draw", repr(q)[:40], ["dip-sample", "draw", "--quarter", q],
                          officer=INSPECTOR))
        cases.append(Case("quarters: dip-sample show", repr(q)[:40], ["dip-sample", "show", q]))
    cases.append(Case("quarters: dip-sample draw", "2026Q4, not over", ["dip-sample", "draw", "--quarter", "2026Q4"],
                      officer=INSPECTOR))
    cases.append(Case("quarters: report", "2026Q3 (accepted)", ["report", "--quarter", "2026Q3"],
                      accept=audited_only))
    cases.append(Case("quarters: report", "'' (the default, accepted)", ["report", "--quarter", ""],
                      accept=audited_only))
    cases.append(Case("quarters: dip-sample show", "2026Q3 (accepted, none drawn)", ["dip-sample", "show", "2026Q3"],
                      accept=nothing_changed))
    return cases


# -- task import -----------------------------------------------------------------------------------------------

def csv_bytes(rows: list[dict], header=IMPORT_KEYS, *, bom=False, newline="\n") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(k, "") for k in header])
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def jsonl_line(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False)


# Values put where text belongs: (name, the JSON written for it). Every key gets the first four, most keys
# CORE, a few keys all.
JSON_VALUES = [("null", "null"), ("a number", "5"), ("an object", '{"a": 1}'),
               ("a lone surrogate", '"Drill\\ud800video"'), ("a list", '["a"]'),
               ("a 5,001-digit integer", "9" * 5001), ("NUL", '"Drill\\u0000video"'),
               ("C1 control \\x85", '"Drill\\u0085video"'),
               ("true", "true"), ("a float", "5.5"), ("a 4,300-digit integer", "9" * 4300), ("1e999", "1e999"),
               ("NaN", "NaN"), ("-Infinity", "-Infinity"), ("2 MB of text", json.dumps("x" * TWO_MB)),
               ("a nest 100,000 deep", "[" * 100_000 + "]" * 100_000), ("a nest 101 deep", "[" * 101 + "]" * 101),
               ("control \\x1b", '"Drill\\u001bvideo"')]
CORE = 8


def json_values(key: str, every: tuple, few: tuple = ()) -> list[tuple[str, str]]:
    """The values tried for `key`: all for the keys in `every`, four for those in `few`, else CORE."""
    return JSON_VALUES if key in every else JSON_VALUES[:4] if key in few else JSON_VALUES[:CORE]


OPTIONAL_IMPORT = {"incident_refs", "platform", "subjects"}


def import_cases() -> list[Case]:
    cases = []
    good = {**GOOD_ROW, "incident_refs": ["CAD:1234/21NOV26"], "subjects": ["Jon Smith"]}
    stored = {"url": GOOD_ROW["url"], "title": "Drill video", "refs": ["CAD:1234/21NOV26"], "subjects": ["Jon Smith"]}
    for key in IMPORT_KEYS:
        for name, value in json_values(key, ("title",), ("applicant_ocu", "applicant_unit", "platform")):
            line = jsonl_line({**good, key: "@@"}).replace('"@@"', value)
            accept = None
            if name == "null" and key in OPTIONAL_IMPORT:
                accept = new_tasks({"url": GOOD_ROW["url"], key if key != "incident_refs" else "refs": []}
                                   if key != "platform" else {"url": GOOD_ROW["url"]})
            if name == "a list" and key == "subjects":
                accept = new_tasks({"url": GOOD_ROW["url"], "subjects": ["a"]})
            cases.append(Case("task import JSONL", f"{key}: {name}", ["task", "import", "{dir}/rows.jsonl"],
                              {"rows.jsonl": (line + "\n").encode()}, accept=accept, rows_listed=True))
    for name, value in [("[null, 5]", "[null, 5]"), ("[[\"a\"]]", '[["a"]]'),
                        ("[\"a\\u0000b\"]", '["a\\u0000b"]'), ("[\"\"] (accepted: no name)", '[""]')]:
        for key in ("subjects", "incident_refs"):
            line = jsonl_line({**good, key: "@@"}).replace('"@@"', value)
            accept = new_tasks({"url": GOOD_ROW["url"], "subjects" if key == "subjects" else "refs": []}) \
                if "accepted" in name else None
            cases.append(Case("task import JSONL", f"{key}: {name}", ["task", "import", "{dir}/rows.jsonl"],
                              {"rows.jsonl": (line + "\n").encode()}, accept=accept, rows_listed=True))
    whole = {
        "not an object (a list)": b'["a", "b"]\n', "a string": b'"row"\n', "a number": b"5\n", "null": b"null\n",
        "truncated JSON": jsonl_line(good)[:-5].encode() + b"\n",
        "a key missing": (jsonl_line({k: v for k, v in good.items() if k != "title"}) + "\n").encode(),
        "a line of 2 MB": (jsonl_line({**good, "rationale": "y" * TWO_MB}) + "\n").encode(),
        "not UTF-8 (Latin-1)": (jsonl_line({**good, "title": "Caf\xe9"}) + "\n").encode("latin-1"),
        "UTF-16": (jsonl_line(good) + "\n").encode("utf-16"), "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00",
        "a NUL byte outside any string": (jsonl_line(good) + "\x00\n").encode(),
        "duplicate keys, the second bad": (jsonl_line(good)[:-1] + ', "title": null}\n').encode(),
        "a bad date": (jsonl_line({**good, "upload_date": "2026-02-30"}) + "\n").encode(),
        "a date in other digits":
            (jsonl_line({**good, "upload_date": digits("2026-01-02", "full-width")}) + "\n").encode(),
        "a reference in other digits":
            (jsonl_line({**good, "incident_refs": [f"CRIS:{digits('4212345', 'full-width')}/26"]}) + "\n").encode(),
        "a bad URL": (jsonl_line({**good, "url": "http://[::1"}) + "\n").encode(),
    }
    for name, data in whole.items():
        cases.append(Case("task import JSONL", name, ["task", "import", "{dir}/rows.jsonl"], {"rows.jsonl": data},
                          rows_listed=True))
    good_line = jsonl_line(good)
    cases.append(Case("task import JSONL", "10,000 subjects (accepted)", ["task", "import", "{dir}/rows.jsonl"],
                      {"rows.jsonl": (jsonl_line({**good, "subjects": [f"N{i}" for i in range(10_000)]})
                                      + "\n").encode()},
                      accept=new_tasks({"subjects": [f"N{i}" for i in range(10_000)]}), rows_listed=True))
    for name, data in {"an unknown key, ignored": (jsonl_line({**good, "colour": "red"}) + "\n").encode(),
                       "a BOM": ("\ufeff" + good_line + "\n").encode(), "CRLF": (good_line + "\r\n").encode(),
                       "BOM and CRLF": ("\ufeff" + good_line + "\r\n").encode(), "no final newline": good_line.encode(),
                       "blank lines": ("\n\n" + good_line + "\n\n").encode(),
                       "CR only": (good_line + "\r").encode()}.items():
        cases.append(Case("task import JSONL", f"{name} (accepted)", ["task", "import", "{dir}/rows.jsonl"],
                          {"rows.jsonl": data}, accept=new_tasks(stored), rows_listed=True))
    cases += csv_import_cases(stored)
    return cases


def csv_import_cases(stored: dict) -> list[Case]:
    cases = []
    cell_values = {"over the CSV limit": "x" * OVER_CELL, "NUL": "Drill\x00video", "C1 control \\x85": "Drill\x85video",
                   "empty": ""}
    title_values = {"2 MB": "x" * TWO_MB, "control \\x01": "Drill\x01video", "1,001 characters": "x" * 1001}
    for key in IMPORT_KEYS:
        for name, value in {**cell_values, **(title_values if key == "title" else {})}.items():
            if name == "empty" and key in OPTIONAL_IMPORT:
                continue
            cases.append(Case("task import CSV", f"{key}: {name}", ["task", "import", "{dir}/rows.csv"],
                              {"rows.csv": csv_bytes([{**GOOD_ROW, key: value}])}, rows_listed=True))
    for name, cell in [("a bad date", ("upload_date", "2026-02-30")), ("a date in other digits",
                       ("upload_date", digits("2026-01-02", "arabic-indic"))), ("a reference in other digits",
                       ("incident_refs", "CRIS:" + digits("4212345", "full-width") + "/26")),
                       ("a bad reference", ("incident_refs", "CAD:")), ("a bad URL", ("url", "http://[zz::1]/")),
                       ("a 10,000-character URL", ("url", "https://www.youtube.com/watch?v=" + "a" * 10_000)),
                       ("an unknown platform", ("platform", "no such platform!"))]:
        cases.append(Case("task import CSV", name, ["task", "import", "{dir}/rows.csv"],
                          {"rows.csv": csv_bytes([{**GOOD_ROW, cell[0]: cell[1]}])}, rows_listed=True))
    good = csv_bytes([GOOD_ROW])
    text = good.decode()
    files = {
        "a column missing": csv_bytes([GOOD_ROW], header=tuple(k for k in IMPORT_KEYS if k != "title")),
        "the same column twice": csv_bytes([GOOD_ROW], header=(*IMPORT_KEYS, "title")),
        "a row with a cell too many": (text.rstrip("\n") + ",extra\n").encode(),
        "a row with a cell too few": (text.rstrip("\n").rsplit(",", 1)[0] + "\n").encode(),
        "a quote left open": (text.rstrip("\n") + ',"\n').encode(),
        "empty": b"", "blank lines only": b"\n\n\n",
        "not UTF-8 (Latin-1)": text.replace("Drill video", "Caf\xe9").encode("latin-1"),
        "UTF-16": text.encode("utf-16"), "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "a header of 140,000 characters": ("," * OVER_CELL + "\n").encode(),
        "a header cell with NUL": text.replace("title", "ti\x00tle", 1).encode(),
        "10,000 columns": (",".join(f"c{i}" for i in range(10_000)) + "\n").encode(),
        "semicolons, not commas": text.replace(",", ";").encode(),
    }
    for name, data in files.items():
        cases.append(Case("task import CSV", name, ["task", "import", "{dir}/rows.csv"], {"rows.csv": data},
                          rows_listed=True))
    for name, data in {"a BOM": csv_bytes([GOOD_ROW], bom=True), "CRLF": csv_bytes([GOOD_ROW], newline="\r\n"),
                       "BOM and CRLF": csv_bytes([GOOD_ROW], bom=True, newline="\r\n"),
                       "header in capitals": text.replace("title", "TITLE", 1).encode(),
                       "an unknown column, ignored": csv_bytes([GOOD_ROW], header=(*IMPORT_KEYS, "colour")),
                       "no final newline": text.rstrip("\n").encode()}.items():
        cases.append(Case("task import CSV", f"{name} (accepted)", ["task", "import", "{dir}/rows.csv"],
                          {"rows.csv": data}, accept=new_tasks(stored), rows_listed=True))
    cases.append(Case("task import CSV", "a subject left empty (accepted)", ["task", "import", "{dir}/rows.csv"],
                      {"rows.csv": csv_bytes([{**GOOD_ROW, "subjects": "Jon Smith;;"}])},
                      accept=new_tasks({"subjects": ["Jon Smith"]}), rows_listed=True))
    cases.append(Case("task import CSV", "header only (accepted, nothing to import)", ["task", "import",
                      "{dir}/rows.csv"], {"rows.csv": text.split("\n")[0].encode() + b"\n"}, accept=new_tasks(),
                      rows_listed=True))
    return cases


# -- review --batch --------------------------------------------------------------------------------------------

REVIEW_KEYS = ("task", "decision", "format", "findings", "clauses", "reason", "basis", "no_capture", "review_date",
               "research")
OPTIONAL_REVIEW = {"findings", "clauses", "basis", "review_date", "research", "no_capture"}


def review_cases() -> list[Case]:
    cases = []
    nfa = {"task": "{task}", "decision": "nfa", "format": "video", "reason": "Generic lyrics"}
    refer = {"task": "{task}", "decision": "refer", "format": "video", "clauses": ["youtube:violent-criminal-orgs"],
             "findings": [{"factor": "provocative-language", "note": "Mocks a rival", "at": ["00:01-00:03"]}]}
    batch = ["review", "--batch", "{dir}/batch.jsonl"]
    for key in REVIEW_KEYS:
        for name, value in json_values(key, ("reason",), ("basis", "no_capture", "review_date", "research")):
            line = jsonl_line({**nfa, key: "@@"}).replace('"@@"', value)
            accept = one_review("nfa") if name == "null" and key in OPTIONAL_REVIEW else None
            cases.append(Case("review --batch JSONL", f"{key}: {name}", batch, {"batch.jsonl": (line + "\n").encode()},
                              officer=CONSTABLE, accept=accept, rows_listed=True))
    for key in ("factor", "note", "at"):
        for name, value in json_values(key, ("note",), ("factor", "at")):
            finding = jsonl_line({**refer["findings"][0], key: "@@"}).replace('"@@"', value)
            line = jsonl_line({**refer, "findings": "@@"}).replace('"@@"', f"[{finding}]")
            accept = one_review("refer") if (key, name) == ("at", "null") else None   # no time range
            cases.append(Case("review --batch JSONL", f"finding {key}: {name}", batch,
                              {"batch.jsonl": (line + "\n").encode()}, officer=CONSTABLE, accept=accept,
                              rows_listed=True))
    for r in BAD_RANGES[1::2]:
        line = jsonl_line({**refer, "findings": [{**refer["findings"][0], "at": [r]}]})
        cases.append(Case("review --batch JSONL", f"at {r!r}"[:60], batch, {"batch.jsonl": (line + "\n").encode()},
                          officer=CONSTABLE, rows_listed=True))
    for name, row in [("a task id in other digits", {**nfa, "task": "T-" + digits("2026-000001", "full-width")}),
                      ("an unknown task", {**nfa, "task": "T-2026-999999"}),
                      ("a review date in other digits", {**nfa, "review_date": digits("2026-11-19", "devanagari")}),
                      ("a review date of 2026-02-30", {**nfa, "review_date": "2026-02-30"}),
                      ("a review date in the future", {**nfa, "review_date": "2027-01-01"}),
                      ("research searched on a bad date", {**nfa, "research": [
                          {"system": "Aware", "reference": "CRIMINT 1", "searched_on": "2026-13-01", "summary": "x"}]}),
                      ("research reference in other digits", {**nfa, "research": [
                          {"system": "Aware", "reference": "CRIMINT " + digits("1234567", "full-width"),
                           "searched_on": "2026-11-19", "summary": "No trace"}]}),
                      ("an unknown key", {**nfa, "colour": "red"}),
                      ("an unknown clause", {**refer, "clauses": ["youtube:no-such-clause"]}),
                      ("a clause of another platform", {**refer, "clauses": ["tiktok:violent-criminal-orgs"]}),
                      ("an unknown factor", {**refer, "findings": [{**refer["findings"][0], "factor": "9.9.9"}]}),
                      ("a NUL in the reason", {**nfa, "reason": "Generic\x00lyrics"}),
                      ("a control character in the reason", {**nfa, "reason": "Generic\x1b[2Jlyrics"}),
                      ("a note of 2 MB", {**refer, "findings": [{**refer["findings"][0], "note": "x" * TWO_MB}]})]:
        cases.append(Case("review --batch JSONL", name, batch, {"batch.jsonl": (jsonl_line(row) + "\n").encode()},
                          officer=CONSTABLE, rows_listed=True))
    nfa_line = jsonl_line(nfa)
    for name, data in {"a BOM": ("\ufeff" + nfa_line + "\n").encode(), "CRLF": (nfa_line + "\r\n").encode(),
                       "BOM and CRLF": ("\ufeff" + nfa_line + "\r\n").encode()}.items():
        cases.append(Case("review --batch JSONL", f"{name} (accepted)", batch, {"batch.jsonl": data},
                          officer=CONSTABLE, accept=one_review("nfa", "Generic lyrics"), rows_listed=True))
    cases.append(Case("review --batch JSONL", "a refer with a time range (accepted)", batch,
                      {"batch.jsonl": (jsonl_line(refer) + "\n").encode()}, officer=CONSTABLE,
                      accept=one_review("refer"), rows_listed=True))
    cases += review_csv_cases()
    return cases


def review_csv_cases() -> list[Case]:
    good = {"task": "{task}", "decision": "nfa", "format": "video", "reason": "Generic lyrics"}
    refer = {"task": "{task}", "decision": "refer", "format": "video", "factor": "provocative-language",
             "note": "Mocks a rival", "at": "00:01-00:03", "clauses": "youtube:violent-criminal-orgs"}
    batch = ["review", "--batch", "{dir}/batch.csv"]
    cases = []

    def one(name, row, header=REVIEW_COLUMNS, **kwargs):
        cases.append(Case("review --batch CSV", name, batch, {"batch.csv": csv_bytes([row], header, **kwargs)},
                          officer=CONSTABLE, rows_listed=True))

    for key in REVIEW_COLUMNS:
        base = refer if key in ("factor", "note", "at", "clauses") else good
        values = {"over the CSV limit": "x" * OVER_CELL, "NUL": "ab\x00cd", "C1 control \\x85": "ab\x85cd"}
        if key in ("note", "reason"):
            values.update({"control \\x01": "ab\x01cd", "4,001 characters": "x" * 4001})
        for name, value in values.items():
            one(f"{key}: {name}", {**base, key: value})
    for r in BAD_RANGES[1::3]:
        one(f"at {r!r}"[:60], {**refer, "at": r})
    one("an unknown column", good, header=(*REVIEW_COLUMNS, "colour"))
    one("a column missing", good, header=tuple(c for c in REVIEW_COLUMNS if c != "format"))
    one("a task in other digits", {**good, "task": "T-" + digits("2026-000001", "arabic-indic")})
    one("no_capture 'maybe'", {**good, "no_capture": "maybe"})
    one("a decision of 'refer' with no finding", {**good, "decision": "refer"})
    for name, kwargs in {"a BOM": {"bom": True}, "CRLF": {"newline": "\r\n"},
                         "BOM and CRLF": {"bom": True, "newline": "\r\n"}}.items():
        cases.append(Case("review --batch CSV", f"{name} (accepted)", batch,
                          {"batch.csv": csv_bytes([good], REVIEW_COLUMNS, **kwargs)}, officer=CONSTABLE,
                          accept=one_review("nfa", "Generic lyrics"), rows_listed=True))
    return cases


# -- files and usage ---------------------------------------------------------------------------------------------

def file_cases() -> list[Case]:
    cases = []
    for where, path in [("a folder", "{dir}"), ("a missing file", "{dir}/nope.csv"),
                        ("a file inside a file", "{dir}/plain.csv/x.csv"), ("an empty path", "")]:
        files = {"plain.csv": b"x\n"}
        # `verify --package` takes a folder: one without bagit.txt is a package not intact (exit 1), so only
        # paths that are no folder are tried there
        for args in (["task", "import", path], ["review", "--batch", path],
                     ["capture", "--file", path, "--url", "https://www.youtube.com/watch?v=File0000001", "--reason",
                      "Screen recording"], ["capture", "--batch", path, "--reason", "Seen on patrol"],
                     ["library", "import-hashes", path, "--source", "Trial list"], ["anchor", "import", path],
                     ["report", "--quarter", "2026Q3", "--out", path.replace("nope.csv", "nope/r.csv")],
                     ["verify", "--package", path] if where in ("a missing file", "a file inside a file") else None):
            if args is None:
                continue
            officer = CONSTABLE if args[0] == "review" else SERGEANT
            cases.append(Case("a folder or missing file", f"{' '.join(args[:2])}: {where}", args, files,
                              officer=officer))
    return cases


USAGE = [["task", "add", "--no-such-flag"], ["task", "no-such-command"], ["no-such-command"], ["task", "add"],
         ["task", "add", "--url"], ["task", "show"], ["task", "show", "T-2026-000001", "extra"],
         ["task", "list", "--status"], ["task", "list", "--json=yes"], ["report", "--quarter"],
         ["report", "--format", "docx", "--quarter", "2026Q3"], ["dip-sample", "draw"], ["review", "record"],
         ["review", "--batch"], ["capture", "--file"], ["task", "add", "-x"], ["--no-such-option"],
         ["task", "list", "--status", "received", "--status"], ["library", "expiring", "--within"],
         ["task", "import"], ["task", "import", "a.csv", "b.csv"], ["audit", "list", "--limit", "many"],
         ["officer", "add"], ["report", "--mode", "0999", "--quarter", "2026Q3"], ["--home"],
         ["task", "list", "--status", "nonsense"], ["task", "show", "T-" + digits("2026-000001", "full-width")],
         ["task", "show", "T-2026-" + "9" * 5000], ["capture", "show", "C-2026-00000\x01"]]


def not_utf8_cases() -> list[Case]:
    """Bytes that are not UTF-8 on the command line (Python sees them as lone surrogates)."""
    add = ["task", "add", "--url", "https://www.youtube.com/watch?v=Bytes000001", *TASK_ARGS]
    return [Case("arguments not UTF-8", what, args) for what, args in [
        ("--title", with_arg(add, "--title", b"Drill\xffvideo")),
        ("--rationale", with_arg(add, "--rationale", b"\xc3(")),
        ("--url", with_arg(add, "--url", b"https://www.youtube.com/watch?v=ab\xffcd")),
        ("--ref", [*add, "--ref", b"CAD:1234/21NOV26\xff"]), ("task show", ["task", "show", b"T-\xff"]),
        ("report --quarter", ["report", "--quarter", b"2026Q\xff"]),
        ("task import FILE", ["task", "import", b"{dir}/\xff.csv"]),
        ("review --batch FILE", ["review", "--batch", b"{dir}/\xff.jsonl"]),
        ("capture URL", ["capture", b"https://www.youtube.com/watch?v=\xff", "--reason", "x", "--no-page"]),
        ("audit list --object", ["audit", "list", "--object", b"T-\xfe"])]]


def usage_cases() -> list[Case]:
    return [Case("usage errors", " ".join(a)[:50], a) for a in USAGE] + [
        Case("usage errors", "--help (accepted)", ["task", "add", "--help"], accept=nothing_changed)]


# ---- the run ----------------------------------------------------------------------------------------------------

def template(work: Path) -> tuple[Path, str, Path]:
    """A training home (keys kept in it) with a constable and an inspector, and one task captured from a clip."""
    home = work / "template"
    f.run(home, "init", "--training", "--team", "T", "--mailbox", "t@example.police.uk", "--officer", "PS A",
          "--number", SERGEANT, "--role", "sergeant", now=NOW, check=True)
    f.run(home, "officer", "add", "PC B", "--number", CONSTABLE, "--role", "constable", now=NOW, check=True)
    f.run(home, "officer", "add", "Insp C", "--number", INSPECTOR, "--role", "inspector", now=NOW, check=True)
    clip = work / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10:duration=6",
                    "-pix_fmt", "yuv420p", str(clip)], check=True)
    done = f.run(home, "capture", "--file", clip, "--url", VIDEO, "--reason", "Screen recording", "--title",
                 "Drill video", "--no-derivatives", "--json", now=NOW, check=True)
    task = json.loads(done.stdout)["task_id"]
    for officer in (CONSTABLE, INSPECTOR):    # each officer's first command makes their key, before any trial
        f.run(home, "task", "list", officer=officer, now=NOW, check=True)
    return home, task, clip


def stderr_ok(case: Case, text: str) -> str | None:
    lines = text.strip().splitlines()
    if len(lines) == 1 and lines[0].startswith("error: "):
        return None
    if case.rows_listed and len(lines) > 1 and lines[-1].startswith("error: ") and \
            all(line.startswith(("line ", "file")) for line in lines[:-1]):
        return None
    return f"stderr of {len(lines)} line(s): {' | '.join(lines[:3])[:160]!r}"


def fill(value: str | bytes, case_dir: Path, task: str, clip: Path) -> str | bytes:
    if isinstance(value, bytes):
        return value.replace(b"{dir}", bytes(case_dir))
    return value.replace("{dir}", str(case_dir)).replace("{task}", task).replace("{clip}", str(clip))


def trial(number: int, case: Case, work: Path, base: Path, base_state: dict, task: str, clip: Path) -> tuple:
    """(outcome, detail): outcome "refused", "rows named", "accepted" or "FAILED"."""
    case_dir = work / f"case-{number}"
    home = case_dir / "home"
    shutil.copytree(base, home)
    for name, data in case.files.items():
        (case_dir / name).write_bytes(data.replace(b"{task}", task.encode()))
    args = [fill(a, case_dir, task, clip) for a in case.args]
    try:
        done = subprocess.run([f.BIN, *args], env=f.environment(home, case.officer, NOW), capture_output=True,
                              timeout=180)
        stdout, stderr = (done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired:
        shutil.rmtree(case_dir, ignore_errors=True)
        return "FAILED", "no answer in 180 s"
    after = snapshot(home)
    try:
        if f.traceback_in(stdout + stderr):
            return "FAILED", f"exit {done.returncode}: {(stdout + stderr).strip().splitlines()[-1][:160]!r}"
        if done.returncode == 2:
            said = stderr_ok(case, stderr)
            if said:
                return "FAILED", f"exit 2, {said}"
            moved = changes(base_state, after)
            if moved:
                return "FAILED", "refused, but changed " + ", ".join(moved[:4])
            return ("refused" if len(stderr.strip().splitlines()) == 1 else "rows named"), ""
        if done.returncode == 0:
            if case.accept is None:
                return "FAILED", f"accepted (exit 0): {stdout.strip()[:100]!r}"
            wrong = case.accept(home, base_state, after, done)
            return ("FAILED", f"accepted but {wrong}") if wrong else ("accepted", "")
        lines = stderr.strip().splitlines()
        return "FAILED", f"exit {done.returncode}: {(lines[-1] if lines else '')[:160]!r}"
    finally:
        shutil.rmtree(case_dir, ignore_errors=True)


def main(workers: int, only: str = "") -> None:
    work = Path(tempfile.mkdtemp(prefix="ohrt-faults-inputs-"))
    base, task, clip = template(work)
    TEMPLATE_TASK.append(task)
    base_state = snapshot(base)
    cases = url_cases() + option_cases() + quarter_cases() + import_cases() + review_cases() + file_cases() + \
        usage_cases() + not_utf8_cases()
    cases = [c for c in cases if only in c.family]
    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda item: trial(item[0], item[1], work, base, base_state, task, clip),
                                enumerate(cases)))
    elapsed = time.monotonic() - started
    families: dict[str, dict] = {}
    failures: dict[str, list[str]] = {}
    for case, (outcome, detail) in zip(cases, results):
        row = families.setdefault(case.family, {"inputs": 0, "refused": 0, "rows named": 0, "accepted": 0,
                                                "FAILED": 0})
        row["inputs"] += 1
        row[outcome] += 1
        if outcome == "FAILED":
            failures.setdefault(case.family, []).append(f"{case.what[:60]!r}: {detail}")
    print(f"\nmalformed input: {len(cases)} inputs, each on a fresh copy of a home, {workers} at a time "
          f"({elapsed:.0f} s)")
    print("refused: exit 2, one line on stderr, nothing changed; rows named: exit 2, each bad row of the file on\n"
          "a line of its own, then one error line, nothing changed; accepted: exit 0, stored as given")
    width = max(map(len, families)) + 2
    print(f"{'family'.ljust(width)}{'inputs':>7}{'refused':>9}{'rows named':>12}{'accepted':>10}{'FAILED':>8}")
    total = {"inputs": 0, "refused": 0, "rows named": 0, "accepted": 0, "FAILED": 0}
    for family, row in families.items():
        print(f"{family.ljust(width)}{row['inputs']:>7}{row['refused']:>9}{row['rows named']:>12}"
              f"{row['accepted']:>10}{row['FAILED']:>8}")
        for key in total:
            total[key] += row[key]
    print(f"{'all'.ljust(width)}{total['inputs']:>7}{total['refused']:>9}{total['rows named']:>12}"
          f"{total['accepted']:>10}{total['FAILED']:>8}")
    for family, said in failures.items():
        print(f"\nFAILED in {family} ({len(said)}):")
        for line in said:
            print(f"  {line}")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if total["FAILED"] else 0)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2, sys.argv[2] if len(sys.argv) > 2 else "")
