"""Batch review: a CSV or JSONL file of reviews checked whole, applied in one transaction or not at all (SOP 9.2)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ...ground import audit, sensitive, tabular
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import InputError, OhrtError
from ...ground.progress import Report, meter
from .checks import check, load_facts
from .form import FindingInput, ResearchInput, ReviewInput, parse_input
from .record import write_reviews
from .tos import load_catalogues
from .vocabulary import split_cell


CSV_REQUIRED = ("task", "decision", "format")
CSV_COLUMNS = ("task", "decision", "format", "factor", "note", "at", "clauses", "reason", "basis", "no_capture",
               "review_date")
JSON_KEYS = {"task", "decision", "format", "findings", "clauses", "reason", "basis", "no_capture", "review_date",
             "research"}
# Cells of one task that every CSV row of it must agree on (or leave blank).
GROUP_CELLS = ("decision", "format", "clauses", "reason", "basis", "no_capture", "review_date")
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0", ""}


@dataclasses.dataclass
class BatchResult:
    file: str
    applied: list[dict]
    skipped: list[dict]
    rejected: list[dict]

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _flag(value, what: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in YES | NO:
        return text in YES
    raise InputError(f"{what} {value!r} is not yes or no.")


def read_batch(path: Path) -> tuple[list[ReviewInput], list[dict]]:
    """(reviews, bad rows) from a JSONL file (one object per task) or a CSV file (one row per finding)."""
    path = Path(path)
    text = tabular.read_text(path, "batch file")
    if not text.strip():
        raise InputError(f"{path} holds no reviews: give one JSON object per line, or a CSV with a header row.")
    if tabular.is_jsonl(path) or (path.suffix.lower() != ".csv" and text.lstrip().startswith("{")):
        return _read_jsonl(text)
    return _read_csv(path, text)


def _read_jsonl(text: str) -> tuple[list[ReviewInput], list[dict]]:
    reviews, rejected, seen = [], [], {}
    for row in tabular.jsonl_rows(text):
        number = row.line
        try:
            if row.error:
                raise InputError(row.error)
            review = _from_json(row.values, number)
        except InputError as exc:
            rejected.append({"line": number, "task": None, "reason": exc.message})
            continue
        key = review.task_id.strip().upper()
        if key in seen:
            rejected.append({"line": number, "task": key, "reason": f"{key} already has a review on line "
                             f"{seen[key]} of this file: give one object per task."})
            continue
        seen[key] = number
        reviews.append(review)
    return reviews, rejected


def _from_json(obj, line: int) -> ReviewInput:
    if not isinstance(obj, dict):
        raise InputError("not a JSON object: give one {\"task\": …} object per line.")
    unknown = sorted(set(obj) - JSON_KEYS)
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(unknown)}: the keys are {', '.join(sorted(JSON_KEYS))}.")
    findings = obj.get("findings") or []
    research = obj.get("research") or []
    if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
        raise InputError("findings must be a list of {\"factor\", \"note\", \"at\"} objects.")
    if not isinstance(research, list) or not all(isinstance(r, dict) for r in research):
        raise InputError("research must be a list of {\"system\", \"reference\", \"searched_on\", \"summary\"} "
                         "objects.")
    return ReviewInput(
        task_id=str(obj.get("task") or ""), decision=str(obj.get("decision") or ""),
        format=str(obj.get("format") or ""),
        findings=[FindingInput(factor=str(f.get("factor") or ""), note=f.get("note"), at=f.get("at"), line=line)
                  for f in findings],
        clauses=split_cell(obj.get("clauses")), reason=obj.get("reason"), basis=obj.get("basis"),
        no_capture=_flag(obj.get("no_capture"), "no_capture"), review_date=obj.get("review_date"),
        research=[ResearchInput(system=r.get("system"), reference=r.get("reference"),
                                searched_on=r.get("searched_on") or r.get("date"), summary=r.get("summary"))
                  for r in research],
        line=line,
    )


def _csv_rows(path: Path, text: str):
    """(line number, cells) for each non-blank CSV row, after checking the header."""
    header, _, rows = tabular.csv_rows(text)
    missing = [c for c in CSV_REQUIRED if c not in header]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    problem = (f"lacks {', '.join(missing)}" if missing else f"has unknown column(s) {', '.join(unknown)}")
    if missing or unknown:
        raise InputError(f"{path}'s header {problem}: the columns are {', '.join(CSV_COLUMNS)} "
                         "(task, decision and format are required).")
    for row in rows:
        yield row.line, {"__error__": row.error} if row.error else {k: v.strip() for k, v in row.values.items()}


def _read_csv(path: Path, text: str) -> tuple[list[ReviewInput], list[dict]]:
    """One row per finding; rows of the same task (wherever they are) make one review."""
    groups: dict[str, dict] = {}
    rejected = []
    for number, cells in _csv_rows(path, text):
        task = (cells.get("task") or "").upper()
        try:
            if "__error__" in cells:
                raise InputError(cells["__error__"])
            if not task:
                raise InputError("no task: every row names the task it reviews.")
            group = groups.setdefault(task, {"line": number, "cells": {}, "lines": {}, "findings": [],
                                             "broken": False})
            _merge_row(group, cells, number)
        except InputError as exc:
            rejected.append({"line": number, "task": task or None, "reason": exc.message})
            if task in groups:
                groups[task]["broken"] = True
    reviews = []
    for task, group in groups.items():
        if group["broken"]:
            continue
        cells = group["cells"]
        try:
            reviews.append(ReviewInput(
                task_id=task, decision=cells.get("decision", ""), format=cells.get("format", ""),
                findings=group["findings"], clauses=split_cell(cells.get("clauses")), reason=cells.get("reason"),
                basis=cells.get("basis"), no_capture=_flag(cells.get("no_capture"), "no_capture"),
                review_date=cells.get("review_date"), line=group["line"]))
        except InputError as exc:
            rejected.append({"line": group["lines"].get("no_capture", group["line"]), "task": task,
                             "reason": exc.message})
    return reviews, rejected


def _merge_row(group: dict, cells: dict, number: int) -> None:
    for name in GROUP_CELLS:
        value = cells.get(name) or ""
        if not value:
            continue
        known = group["cells"].get(name)
        same = (known is None or (sorted(split_cell(known)) == sorted(split_cell(value)) if name == "clauses"
                                  else known == value))
        if not same:
            raise InputError(f"{name} {value!r} differs from {known!r} on line {group['lines'][name]} for the same "
                             "task: rows of one task must agree (or leave the cell blank).")
        group["cells"].setdefault(name, value)
        group["lines"].setdefault(name, number)
    factor, note, at = cells.get("factor") or "", cells.get("note") or "", cells.get("at") or ""
    if factor:
        group["findings"].append(FindingInput(factor=factor, note=note, at=at, line=number))
    elif note or at:
        raise InputError("a note or time range without a factor: name the harm factor in the factor column.")


def batch_review(ctx: Context, path: Path, progress: Report | None = None) -> BatchResult:
    """Record many reviews from a file (SOP 9–10.3 in bulk). Every entry is checked first (each an item to
    `progress`); if any is bad nothing is written and every bad line is listed. Otherwise all are written
    in one transaction (a step to `progress`). An entry identical to the task's review in force is skipped,
    so re-running a file changes nothing."""
    ctx.actor()
    path = Path(path)
    raws, rejected = read_batch(path)
    catalogues = load_catalogues(ctx.home)
    today = ctx.today()
    drafts = []
    shown = meter(progress, f"checking {path.name[:30]}", len(raws))
    for raw in raws:
        try:
            drafts.append(parse_input(raw, today))
        except InputError as exc:
            shown.advance()
            rejected.append({"line": getattr(exc, "line", None) or raw.line, "task": raw.task_id.upper() or None,
                             "reason": exc.message})
    result = BatchResult(file=str(path), applied=[], skipped=[], rejected=rejected)
    with transaction(ctx.db):
        facts = load_facts(ctx, [d.task_id for d in drafts])
        cleans = []
        guard = sensitive.for_context(ctx)
        for draft in drafts:
            shown.advance()
            task_facts = facts.get(draft.task_id)
            if task_facts and task_facts.current and task_facts.current[1] == draft.key(task_facts.platform):
                result.skipped.append({"line": draft.line, "task": draft.task_id,
                                       "reason": f"already recorded as {task_facts.current[0]}"})
                continue
            try:
                cleans.append(check(draft, task_facts, catalogues, guard))
            except OhrtError as exc:
                rejected.append({"line": getattr(exc, "line", None) or draft.line, "task": draft.task_id,
                                 "reason": exc.message})
        shown.finish()
        if rejected:
            rejected.sort(key=lambda r: r["line"] or 0)
            result.skipped = []
            return result
        if not cleans:
            return result  # a re-run: nothing new, nothing written, not even an audit entry
        with meter(progress, f"recording {len(cleans)} review(s)", unit="step"):
            ids = write_reviews(ctx, cleans, batch=path.name)
            result.applied = [{"line": c.draft.line, "task": c.draft.task_id, "review": review_id,
                               "decision": c.draft.decision} for c, review_id in zip(cleans, ids)]
            audit.record(ctx, "review.batch", "file", path.name,
                         detail={"applied": len(ids), "skipped": len(result.skipped)})
    return result
