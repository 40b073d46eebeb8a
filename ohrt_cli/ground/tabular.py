"""One reader for the CSV and JSONL files officers bring in: tasking exports (SOP 8.2) and batch reviews (SOP 9.2).

Both come from spreadsheets and forms, so both get the same care: UTF-8 with or without a byte-order
mark, CRLF line ends, quoted cells holding newlines, blank lines skipped, and every row keeping the line
it starts on (and its text as written, for a file of rejected rows) so an officer can find it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

from .errors import InputError

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
MAX_CELL = csv.field_size_limit()   # 131,072 characters: Python's csv reader stops there
MAX_LINE = 1_048_576                # a JSONL line of more than 1 MiB is not a tasking or review row
MAX_DEPTH = 100                     # levels of nesting a JSONL row may have (a real row has two)


@dataclasses.dataclass
class Row:
    """One row of a file: the line it starts on, its text as written, and what it holds — a dict of
    header → cell for CSV, the parsed value for JSONL — or, when it cannot be read, why not (`error`)."""

    line: int
    raw_text: str
    values: Any
    error: str | None = None


def read_text(path: Path, what: str) -> str:
    """The file's text; one clear line when it is missing, a folder, or not UTF-8. `what` names the file
    as the officer knows it ("tasking export", "batch file")."""
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except (FileNotFoundError, NotADirectoryError):  # NotADirectory: a folder in the path is a file
        raise InputError(f"{path} does not exist: check the path of the {what}.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder: give the {what} itself.") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text (byte {exc.start}): save the {what} as UTF-8 and retry.") \
            from None


def is_jsonl(path: Path) -> bool:
    return Path(path).suffix.lower() in JSONL_SUFFIXES


def jsonl_rows(text: str) -> list[Row]:
    """One row per non-blank line; a line that is not JSON keeps its error."""
    rows = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            rows.append(Row(number, line, None, f"is {len(line):,} characters long, more than the {MAX_LINE:,} "
                            "a line may have"))
            continue
        try:
            value = json.loads(line)
            if _depth(value) > MAX_DEPTH:
                raise RecursionError
            lone = _surrogate(value) if "\\u" in line else None
            if lone:
                rows.append(Row(number, line, None, f"holds {lone}, half of a character (a lone surrogate), which "
                                "is not text: mend that line"))
                continue
            rows.append(Row(number, line, value))
        except json.JSONDecodeError as exc:
            rows.append(Row(number, line, None, f"not valid JSON ({exc.msg} at column {exc.colno})"))
        except RecursionError:
            rows.append(Row(number, line, None, f"nests lists or objects more than {MAX_DEPTH} levels deep"))
        except ValueError as exc:  # an integer of more than 4,300 digits, say
            rows.append(Row(number, line, None, f"not valid JSON ({str(exc).split(';')[0]})"))
    return rows


def _surrogate(value) -> str | None:
    """The first lone surrogate in `value` (as its \\u escape), if any: JSON may escape one, but it is not text
    and cannot be written as UTF-8 into the database or a file."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"\\u{ord(exc.object[exc.start]):04x}"
    return None


def _depth(value) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        todo.extend((child, level + 1) for child in children)
    return deepest


def csv_rows(text: str) -> tuple[list[str], str, list[Row]] | None:
    """(header, the header's text, rows) of a CSV file, or None when it has no header row. Header names
    are trimmed and lower-cased; cells are as written. A row with more or fewer cells than the header
    keeps its cells and the error."""
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return None
    except csv.Error as exc:
        raise InputError(f"the header line is not CSV ({exc}): check the first line of the file.") from None
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:
        raise InputError(f"the header names {', '.join(twice)} more than once: keep one column of each name.")
    header_text = "".join(lines[: reader.line_num])
    rows, start = [], reader.line_num
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise InputError(f"line {reader.line_num} has a cell longer than the {MAX_CELL:,} characters a cell may "
                                 "have (or a quote left open): check that line of the file.") from None
            raise InputError(f"line {reader.line_num} is not CSV ({exc}): check that line of the file.") from None
        end = reader.line_num
        if any(cell.strip() for cell in record):
            error = (f"has {len(record)} fields where the header has {len(header)}"
                     if len(record) != len(header) else None)
            rows.append(Row(start + 1, "".join(lines[start:end]), dict(zip(header, record)), error))
        start = end
    return header, header_text, rows
