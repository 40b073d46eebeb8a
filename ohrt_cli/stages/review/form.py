"""A review as the officer gives it, checked for form before the record is read (SOP 9.2–9.4, 10.3, 8.6)."""

from __future__ import annotations

import dataclasses
import hashlib
import re

from ...ground import audit
from ...ground.errors import InputError, refuse_control_characters
from ...ground.times import parse_date
from .vocabulary import (DECISIONS, KNOWN_SYSTEMS, factor_code, format_code, parse_comment, parse_place, place_text,
                         split_cell)


@dataclasses.dataclass
class FindingInput:
    """One harm factor as the officer gave it (9.2): factor code, note, time ranges."""

    factor: str
    note: str
    at: list[str] | str | None = None
    line: int | None = None


@dataclasses.dataclass
class ResearchInput:
    """One search of police indices (9.3) as given: system, reference, date searched, result."""

    system: str
    reference: str | None
    searched_on: str
    summary: str


@dataclasses.dataclass
class ReviewInput:
    """A review as given on the command line or in one batch entry, before any check."""

    task_id: str
    decision: str
    format: str
    findings: list[FindingInput] = dataclasses.field(default_factory=list)
    clauses: list[str] = dataclasses.field(default_factory=list)
    reason: str | None = None
    basis: str | None = None
    no_capture: bool = False
    review_date: str | None = None
    research: list[ResearchInput] = dataclasses.field(default_factory=list)
    line: int | None = None


class RowError(InputError):
    """A mistake that belongs to one line of a batch file."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def finding_from_flag(text: str) -> FindingInput:
    """`--finding "FACTOR|NOTE|01:23-01:40;02:00-02:05"` (the ranges are optional; in a post of several
    items each names its item: `item 2 at 00:03-00:07;item 3`; `comment N` cites the capture's comment N).
    A note that itself holds '|' must be followed by a last '|' (with or without ranges)."""
    factor, sep, rest = (text or "").partition("|")
    if not sep:
        raise InputError(f"--finding {text!r} must be FACTOR|NOTE or FACTOR|NOTE|MM:SS-MM:SS;…, e.g. "
                         "'provocative-language|Names a rival and mocks his death|01:23-01:40'.")
    note, sep, at = rest.rpartition("|") if "|" in rest else (rest, "", "")
    return FindingInput(factor=factor, note=note, at=at)


def research_from_flag(text: str) -> ResearchInput:
    """`--research "SYSTEM|REFERENCE|YYYY-MM-DD|SUMMARY"` (REFERENCE may be empty)."""
    parts = (text or "").split("|", 3)
    if len(parts) != 4:
        raise InputError(f"--research {text!r} must be SYSTEM|REFERENCE|YYYY-MM-DD|SUMMARY (REFERENCE may be "
                         "empty), e.g. 'Aware|CRIMINT 1234567|2026-11-20|Both groups linked to 2025 stabbing'.")
    return ResearchInput(system=parts[0], reference=parts[1], searched_on=parts[2], summary=parts[3])


@dataclasses.dataclass
class Finding:
    factor: str
    note: str
    places: list[tuple[int | None, int | None, int | None]]  # (item or None, start, end) as parse_place gives
    line: int | None = None
    comments: list[int] = dataclasses.field(default_factory=list)  # numbers in the capture's comments.json

    @property
    def ranges(self) -> list[tuple[int, int]]:
        return [(start, end) for _, start, end in self.places if start is not None]

    @property
    def at(self) -> list[str]:
        return [place_text(p) for p in self.places] + [f"comment {n}" for n in self.comments]


@dataclasses.dataclass
class Research:
    system: str
    reference: str | None
    searched_on: str
    summary: str


@dataclasses.dataclass
class Draft:
    """A review whose every field is well formed; not yet checked against the record."""

    task_id: str
    decision: str
    format: str
    findings: list[Finding]
    clauses: list[tuple[str | None, str]]  # (platform named, clause), platform None when not given
    reason: str | None
    basis: str | None
    no_capture: bool
    review_date: str | None
    research: list[Research]
    line: int | None = None

    def key(self, platform: str) -> str:
        """What makes a review the same review again (for re-run batches): its normalised content."""
        payload = audit.canonical_json([
            self.task_id, self.decision, self.format,
            [[f.factor, f.note, f.at] for f in self.findings],
            sorted(f"{p or platform}:{c}" for p, c in self.clauses),
            self.reason, self.basis, self.no_capture, self.review_date,
            [dataclasses.astuple(r) for r in self.research],
        ])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _text(value, what: str, *, limit: int = 4000) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):  # a JSON number or true is not what an officer wrote
        raise InputError(f"{what} must be text.")
    refuse_control_characters(value, what)
    text = " ".join(value.split())
    if len(text) > limit:
        raise InputError(f"{what} is {len(text)} characters long: keep it under {limit}.")
    return text or None


def _finding(raw: FindingInput) -> Finding:
    try:
        code = factor_code(raw.factor)
        note = _text(raw.note, f"the note of finding {raw.factor.strip()}")
        if not note:
            raise InputError(f"finding {code} has no note: say what in the content shows it, "
                             "e.g. 'names a rival group and mocks a recent stabbing'.")
        entries = split_cell(raw.at)
        comments = [comment for comment in map(parse_comment, entries) if comment is not None]
        places = [parse_place(r) for r in entries if parse_comment(r) is None]
    except InputError as exc:
        raise RowError(exc.message, raw.line) from None
    return Finding(factor=code, note=note, places=places, line=raw.line, comments=list(dict.fromkeys(comments)))


def _clause_ref(text: str) -> tuple[str | None, str]:
    value = (text or "").strip().lower()
    platform, sep, clause = value.partition(":")
    if not sep:
        platform, clause = None, value
    if not clause or (platform is not None and not platform) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", clause):
        raise InputError(f"clause {text.strip()!r} is not an id of the form platform:clause, e.g. "
                         "youtube:violent-criminal-orgs (see `ohrt tos list`).")
    return platform, clause


def parse_research(raw: ResearchInput, today) -> Research:
    """Checks one indices search (9.3): a named system, the date searched, and what it showed."""
    system = _text(raw.system, "the indices system", limit=60)
    if not system:
        raise InputError("indices research needs the system searched, e.g. Aware.")
    system = KNOWN_SYSTEMS.get(system.lower(), system)
    searched = parse_date(str(raw.searched_on or ""), "indices research date", today=today).isoformat()
    summary = _text(raw.summary, "the indices research summary")
    if not summary:
        raise InputError("indices research needs a summary of what the search showed (say 'no trace' if nothing).")
    reference = _text(raw.reference, "the indices reference", limit=80)
    if reference and any(c.isdigit() and not c.isascii() for c in reference):
        raise InputError(f"the indices reference {reference!r} holds digits other than 0-9: type it in ASCII digits.")
    return Research(system=system, reference=reference,
                    searched_on=searched, summary=summary)


def parse_input(raw: ReviewInput, today) -> Draft:
    """Check a review's form (SOP 10.3, 8.6): everything that can be judged without the record."""
    task_id = (raw.task_id or "").strip().upper()
    if not task_id:
        raise InputError("no task given: name the task to review, e.g. T-2026-000123.")
    decision = (raw.decision or "").strip().lower()
    if decision not in DECISIONS:
        raise InputError(f"decision {raw.decision!r} is not refer or nfa: refer (10.3.1) or nfa, no further "
                         "action (10.3.2).")
    fmt = format_code(raw.format)
    findings = [_finding(f) for f in raw.findings]
    clauses = list(dict.fromkeys(_clause_ref(c) for c in raw.clauses))
    reason = _text(raw.reason, "the reason")
    basis = _text(raw.basis, "the basis")
    review_date = (parse_date(str(raw.review_date), "date of review", today=today).isoformat()
                   if raw.review_date else None)
    research = [parse_research(r, today) for r in raw.research]
    if decision == "refer" and not findings:
        raise InputError("a referral needs at least one finding, a harm factor of SOP 9.2 with a note "
                         "(`ohrt review factors` lists them), or decide nfa with a reason.")
    if decision == "refer" and not clauses:
        raise InputError("a referral needs at least one cited clause of the platform's terms of service "
                         "(SOP 9.4, `ohrt tos list PLATFORM`), or decide nfa with a reason.")
    if decision == "nfa" and not reason:
        raise InputError("no further action needs a reason (SOP 10.3.2), e.g. --reason 'no harmful factor; "
                         "lyrics are generic'.")
    if raw.no_capture and not reason:
        raise InputError("a review without a capture needs a reason saying why (e.g. --reason 'content deleted "
                         "before capture').")
    if raw.no_capture and any(f.comments for f in findings):
        raise InputError("a comment is cited by its number in a capture's comments: with no capture, quote the "
                         "comment and its author in the note instead.")
    if raw.no_capture and any(f.places for f in findings):
        raise InputError("time ranges need a capture to be checked against: with no capture, say where in the "
                         "note instead.")
    return Draft(task_id=task_id, decision=decision, format=fmt, findings=findings, clauses=clauses,
                 reason=reason, basis=basis, no_capture=bool(raw.no_capture), review_date=review_date,
                 research=research, line=raw.line)
