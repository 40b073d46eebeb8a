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
    except FileNotFoundError:
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
        try:
            rows.append(Row(number, line, json.loads(line)))
        except json.JSONDecodeError as exc:
            rows.append(Row(number, line, None, f"not valid JSON ({exc.msg} at column {exc.colno})"))
    return rows


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
    header_text = "".join(lines[: reader.line_num])
    rows, start = [], reader.line_num
    for record in reader:
        end = reader.line_num
        if any(cell.strip() for cell in record):
            error = (f"has {len(record)} fields where the header has {len(header)}"
                     if len(record) != len(header) else None)
            rows.append(Row(start + 1, "".join(lines[start:end]), dict(zip(header, record)), error))
        start = end
    return header, header_text, rows
