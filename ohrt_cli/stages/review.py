"""Content review and decision, SOP 9.2–9.4 and 10.3, with the closing fields of 8.6.

The officer reviews the captured content (9.1) and records:
  * findings (9.2): which harm factors of 9.2.1–9.2.7 are present, with a note and where in the media
    (time ranges checked against the capture's duration);
  * indices research (9.3): what police systems (Aware, or another named one) showed. It is police-only:
    it lives in the sensitive `indices_research` table, is returned by `research_for` alone, and never by
    `current_review`, from which everything bound for a platform is rendered;
  * the clauses of the content's own platform's terms of service it breaks (9.4, see `tos.py`);
then decides (10.3): refer (10.3.1, task → reviewed) or no further action (10.3.2, task → closed), with the
date of review, outcome, basis and format of the content that 8.6 asks for. A later review of the same
task supersedes the earlier one; both are kept. Teams also review in bulk (`batch_review`): the whole
file is checked first and applied in one transaction, or not at all.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import math
import re
from pathlib import Path
from typing import NamedTuple

from ..ground import audit, sensitive
from . import intake as tasks
from ..ground.context import Context
from ..ground.db import insert_rows, next_ids, transaction
from ..ground.errors import InputError, NotFound, OhrtError, StateError
from ..ground.times import iso, parse_date
from ..ground.tos import Catalogue, Clause, load_catalogues, platform_name

# ------------------------------------------------------------------------------------------ catalogues


class Factor(NamedTuple):
    title: str
    sop: str


# The harm factors of SOP 9.2 (non-exhaustive in the SOP; these codes are stable and stored).
FACTORS: dict[str, Factor] = {
    "gang-affiliation": Factor("Affiliation of the people shown to an organised crime group or gang", "9.2.1"),
    "previous-incidents": Factor("Previous incidents or offences between the groups", "9.2.2"),
    "provocative-language": Factor("Inflammatory or provocative words likely to provoke violence", "9.2.3"),
    "humiliation": Factor("Acts of humiliation", "9.2.4"),
    "public-safety": Factor("Words or conduct harming public safety or leading to disorder", "9.2.5"),
    "illegal-sales": Factor("Sale of illegal commodities", "9.2.6"),
    "exploitation": Factor("Exploitation of a child or vulnerable person", "9.2.7"),
}
FACTOR_BY_SOP = {factor.sop: code for code, factor in FACTORS.items()}

# Format of the content (8.6.6); "music" is an audio-only music track. The format decides whether a
# removal goes into the Domain library (10.8): only musical content does.
FORMATS = ("video", "music-video", "music", "image", "audio", "text", "live-stream")
MUSICAL_FORMATS = frozenset({"music-video", "music"})
FORMAT_ALIASES = {"music video": "music-video", "musicvideo": "music-video", "music track": "music",
                  "live stream": "live-stream", "livestream": "live-stream", "live": "live-stream"}

DECISIONS = {"refer": "10.3.1: harmful and in breach of the terms of service, refer to the platform",
             "nfa": "10.3.2: no further action"}
STATUS_AFTER = {"refer": "reviewed", "nfa": "closed"}

# What a referral's state means for a new review (see `_check_referrals`).
SENT_REFERRALS = ("sent", "removed", "not-removed")
APPROVED_REFERRALS = ("approved",)
REDRAFT_REFERRALS = ("drafted", "returned")
AFTER_APPROVAL = ("qa-approved", "sent", "removed", "not-removed", "appeal-drafted")

# A committed capture holds its original (and its duration) even when a derivative failed ("incomplete"),
# so either may be reviewed; the latest, as `capture.latest_capture` has it.
CAPTURE_STATUSES = ("complete", "incomplete")
REVIEW_AUDIT_REASON = "content review, SOP 9.2-9.4"
KNOWN_SYSTEMS = {"aware": "Aware"}

# ----------------------------------------------------------------------------------- media time ranges

_TIME = re.compile(r"(?:(\d{1,2}):)?(\d{1,3}):(\d{2})")


def parse_time(text: str) -> int:
    """'01:23' or '1:02:03' → seconds. Minutes may run past 59 only without an hour part."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise ValueError(text)
    hours, minutes, seconds = int(match[1] or 0), int(match[2]), int(match[3])
    if seconds > 59 or (match[1] is not None and minutes > 59):
        raise ValueError(text)
    return hours * 3600 + minutes * 60 + seconds


def format_time(seconds: float) -> str:
    """Seconds → 'MM:SS', or 'H:MM:SS' from an hour on (whole seconds, rounded down)."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def parse_range(text: str) -> tuple[int, int]:
    """'01:23-01:40' → (83, 100); start must come before end (SOP 9.1: where in the media)."""
    start_text, sep, end_text = (text or "").strip().partition("-")
    try:
        if not sep:
            raise ValueError(text)
        start, end = parse_time(start_text), parse_time(end_text)
    except ValueError:
        raise InputError(f"time range {text.strip()!r} is not START-END as MM:SS-MM:SS or H:MM:SS-H:MM:SS: "
                         "write it e.g. 01:23-01:40.") from None
    if start >= end:
        raise InputError(f"time range {text.strip()} does not run forwards: give the start before the end, "
                         f"e.g. {format_time(min(start, end))}-{format_time(max(start, end) + (start == end))}.")
    return start, end


def split_cell(value) -> list[str]:
    """A list given as a JSON list, or as one text with ';' between the values."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(";") if part.strip()]


# ------------------------------------------------------------------------------------------- inputs

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
    """`--finding "FACTOR|NOTE|01:23-01:40;02:00-02:05"` (the ranges are optional). A note that itself
    holds '|' must be followed by a last '|' (with or without ranges)."""
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


# ---------------------------------------------------------------------------- checked for form (no DB)

@dataclasses.dataclass
class Finding:
    factor: str
    note: str
    ranges: list[tuple[int, int]]
    line: int | None = None

    @property
    def at(self) -> list[str]:
        return [f"{format_time(a)}-{format_time(b)}" for a, b in self.ranges]


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
    if not isinstance(value, (str, int, float)):
        raise InputError(f"{what} must be text.")
    text = " ".join(str(value).split())
    if len(text) > limit:
        raise InputError(f"{what} is {len(text)} characters long: keep it under {limit}.")
    return text or None


def factor_code(text: str) -> str:
    """A factor by its code (`provocative-language`) or its SOP paragraph (`9.2.3`)."""
    value = re.sub(r"[\s_]+", "-", (text or "").strip().lower())
    code = FACTOR_BY_SOP.get(value, value)
    if code not in FACTORS:
        known = ", ".join(f"{c} ({f.sop})" for c, f in FACTORS.items())
        raise InputError(f"harm factor {text.strip()!r} is not known: use one of {known} (`ohrt review factors`).")
    return code


def format_code(text: str) -> str:
    value = " ".join((text or "").strip().lower().split())
    value = FORMAT_ALIASES.get(value, value)
    if value not in FORMATS:
        raise InputError(f"format {text.strip()!r} is not known: use one of {', '.join(FORMATS)} (SOP 8.6.6).")
    return value


def _finding(raw: FindingInput) -> Finding:
    try:
        code = factor_code(raw.factor)
        note = _text(raw.note, f"the note of finding {raw.factor.strip()}")
        if not note:
            raise InputError(f"finding {code} has no note: say what in the content shows it, "
                             "e.g. 'names a rival group and mocks a recent stabbing'.")
        ranges = [parse_range(r) for r in split_cell(raw.at)]
    except InputError as exc:
        raise RowError(exc.message, raw.line) from None
    return Finding(factor=code, note=note, ranges=ranges, line=raw.line)


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
    return Research(system=system, reference=_text(raw.reference, "the indices reference", limit=80),
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
    if raw.no_capture and any(f.ranges for f in findings):
        raise InputError("time ranges need a capture to be checked against: with no capture, say where in the "
                         "note instead.")
    return Draft(task_id=task_id, decision=decision, format=fmt, findings=findings, clauses=clauses,
                 reason=reason, basis=basis, no_capture=bool(raw.no_capture), review_date=review_date,
                 research=research, line=raw.line)


# ------------------------------------------------------------------------------ checked against record

@dataclasses.dataclass
class TaskFacts:
    """What the record says about a task that a review depends on; loaded in bulk for batches."""

    task_id: str
    platform: str
    status: str
    capture: dict | None = None
    current: tuple[str, str | None] | None = None  # (review id, batch key)
    referrals: list[tuple[str, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Clean:
    """A review ready to write."""

    draft: Draft
    facts: TaskFacts
    clauses: list[Clause]
    basis: str
    key: str


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def load_facts(ctx: Context, task_ids: list[str]) -> dict[str, TaskFacts]:
    """The facts of each task, a few queries per 500 tasks."""
    facts: dict[str, TaskFacts] = {}
    db = ctx.db
    for chunk in _chunks(sorted(set(task_ids))):
        marks = ",".join("?" * len(chunk))
        for task_id, platform, status in db.execute(
                f"SELECT id, platform, status FROM tasks WHERE id IN ({marks})", chunk):
            facts[task_id] = TaskFacts(task_id, platform, status)
        # the latest capture: ordered so that the last row per task wins
        for task_id, capture_id, duration, kind in db.execute(
                f"SELECT task_id, id, duration, media_kind FROM captures WHERE task_id IN ({marks}) "
                f"AND status IN ({','.join('?' * len(CAPTURE_STATUSES))}) AND purged_at IS NULL "
                "ORDER BY started_at, id", [*chunk, *CAPTURE_STATUSES]):
            facts[task_id].capture = {"id": capture_id, "duration": duration, "media_kind": kind}
        for task_id, review_id, key in db.execute(
                f"SELECT task_id, id, batch_key FROM reviews WHERE task_id IN ({marks}) AND superseded_by IS NULL "
                "ORDER BY reviewed_at, id", chunk):
            facts[task_id].current = (review_id, key)
        for task_id, referral_id, status in db.execute(
                f"SELECT task_id, id, status FROM referrals WHERE task_id IN ({marks}) ORDER BY id", chunk):
            facts[task_id].referrals.append((referral_id, status))
    return facts


def _check_referrals(facts: TaskFacts) -> None:
    """A new review is refused once a referral has been approved at QA or sent: what was approved or sent
    rests on the review it was drafted from, and what follows is the platform's decision or an appeal
    (10.6-10.7), or a new task for content posted again. A referral still drafted or returned at QA may
    be overtaken by a new review (QA often asks for one): the refer stage refuses to approve a draft whose
    review is no longer current, so it must be drafted again from the new review."""
    for referral_id, status in facts.referrals:
        if status in SENT_REFERRALS:
            raise StateError(f"{facts.task_id} already has referral {referral_id} sent to the platform "
                             f"({status}): a new review cannot change what was sent; record the platform's "
                             "decision or appeal with `ohrt refer`, or open a new task for content posted again.")
        if status in APPROVED_REFERRALS:
            raise StateError(f"{facts.task_id} has referral {referral_id} approved at QA on the current review, "
                             "which a new review would leave resting on a superseded one: send it "
                             f"(`ohrt refer sent {referral_id}`) and follow the platform's decision instead.")
    if facts.status in AFTER_APPROVAL:
        raise StateError(f"{facts.task_id} is {facts.status}: its referral has been approved or sent, so it cannot "
                         "be reviewed again; use `ohrt refer` for the platform's decision or an appeal.")


def _check_capture(draft: Draft, facts: TaskFacts) -> None:
    capture = facts.capture
    if draft.no_capture and capture:
        raise StateError(f"{facts.task_id} has capture {capture['id']}: review that, and drop --no-capture.")
    if not draft.no_capture and not capture:
        raise StateError(f"{facts.task_id} has no capture to review: capture it first (`ohrt capture`), "
                         "or, if the content is gone, add --no-capture with --reason saying why.")
    for finding in draft.findings:
        if finding.ranges:
            _check_ranges(finding, capture)


def _check_ranges(finding: Finding, capture: dict) -> None:
    """Time ranges are whole seconds, so a range may end in the second in which the media ends."""
    duration = capture.get("duration")
    if capture.get("media_kind") == "page":  # a page is read, not played: say where on it in the note
        raise RowError(f"capture {capture['id']} is a page, which has no time ranges: drop the time ranges of "
                       f"finding {finding.factor} and say in its note where on the page it is.", finding.line)
    if not duration or capture.get("media_kind") == "image":  # a still's "duration" is one frame
        raise RowError(f"capture {capture['id']} has no duration (it is {capture.get('media_kind') or 'not timed'}"
                       f" media): drop the time ranges of finding {finding.factor}.", finding.line)
    limit = math.ceil(duration - 1e-6)
    for (start, end), text in zip(finding.ranges, finding.at):
        if end > limit:
            raise RowError(f"time range {text} of finding {finding.factor} runs past the end of the media: "
                           f"capture {capture['id']} lasts {format_time(duration)} ({duration:.1f} s); give a "
                           f"range within 00:00-{format_time(limit)}.", finding.line)


def _resolve_clauses(draft: Draft, facts: TaskFacts, catalogues: dict[str, Catalogue]) -> list[Clause]:
    """Clauses must be the content's own platform's (9.4) and in its catalogue."""
    platform = facts.platform
    name = platform_name(platform, catalogues)
    resolved = []
    for given, short in draft.clauses:
        if given and given != platform:
            raise InputError(f"clause {given}:{short} is {platform_name(given, catalogues)}'s, but {facts.task_id} "
                             f"is on {name}: cite {name}'s own rules (`ohrt tos list {platform}`).")
        catalogue = catalogues.get(platform)
        if catalogue is None:
            raise InputError(f"{facts.task_id} is on {platform}, which has no terms-of-service catalogue: add the "
                             f"platform's rules as HOME/tos/{platform}.toml (see the README) and cite them, or "
                             "decide nfa with a reason.")
        clause = catalogue.clauses.get(short)
        if clause is None:
            raise InputError(f"clause {platform}:{short} is not in {name}'s catalogue: see the valid ones with "
                             f"`ohrt tos list {platform}`.")
        if clause not in resolved:  # `youtube:firearms` and `firearms` are one clause
            resolved.append(clause)
    return resolved


def _check_police_refs(draft: Draft, guard: sensitive.Guard) -> None:
    """The review's texts are what a referral is rendered from (6.4): an incident or indices reference of
    any task there, or this review's own research, would carry police information to the platform. Names
    are caught later, when a draft is rendered, where the content's own title may show them."""
    own = sensitive.Guard()
    for entry in draft.research:
        if entry.reference:
            own.add_reference(sensitive.RESEARCH, draft.task_id, entry.reference)
    texts = [(f"the note of finding {f.factor}", f.note, f.line) for f in draft.findings]
    texts += [("the basis", draft.basis, None), ("the reason", draft.reason, None)]
    kinds = (sensitive.REFERENCE, sensitive.RESEARCH)
    for what, text, line in texts:
        hit = own.first(text or "", kinds=kinds) or guard.first(text or "", kinds=kinds)
        if hit:  # another task's reference is not repeated, only named by its task
            quoted = (f"the police reference {hit.value}" if hit.task_id in (None, draft.task_id)
                      else f"a police reference of another task ({hit.task_id})")
            raise RowError(f"{what} quotes {quoted}, which must not reach the platform (SOP 6.4): describe only "
                           "what the content shows; police research belongs in --research.", line)
    hit = guard.first(draft.reason or "", kinds=sensitive.AUDIT_KINDS)
    if hit:  # the reason of an nfa, or of a review without capture, is written to the audit chain
        raise RowError(f"the reason holds {hit.what(draft.task_id)}: it is written to the audit chain, which is "
                       "never purged and must not hold it; reword it, e.g. name the task by its id.", None)


def build_basis(draft: Draft, clauses: list[Clause], catalogues: dict[str, Catalogue]) -> str:
    """The basis of the decision (8.6.5) in plain words, from the findings and clauses."""
    parts = []
    if draft.decision == "nfa":
        parts.append(f"No further action: {draft.reason.rstrip('.')}.")
    if draft.findings:
        items = []
        for finding in draft.findings:
            where = f" at {', '.join(finding.at)}" if finding.ranges else ""
            items.append(f"{FACTORS[finding.factor].title}{where}: {finding.note.rstrip('.')}")
        parts.append("Harm factors: " + "; ".join(items) + ".")
    if clauses:
        heading = "Breaches the terms of service" if draft.decision == "refer" else "Terms of service considered"
        items = [f"{platform_name(c.platform, catalogues)} {c.title} ({c.id})" for c in clauses]
        parts.append(f"{heading}: " + "; ".join(items) + ".")
    return " ".join(parts)


def check(draft: Draft, facts: TaskFacts | None, catalogues: dict[str, Catalogue], guard: sensitive.Guard) -> Clean:
    """Check a well-formed review against the record: the task, its referrals, its capture and the
    duration of its media, and its platform's terms of service."""
    if facts is None:
        raise NotFound(f"no task {draft.task_id!r} in this home: check the id with `ohrt task list`.")
    _check_referrals(facts)
    _check_capture(draft, facts)
    clauses = _resolve_clauses(draft, facts, catalogues)
    _check_police_refs(draft, guard)
    basis = draft.basis or build_basis(draft, clauses, catalogues)
    return Clean(draft=draft, facts=facts, clauses=clauses, basis=basis, key=draft.key(facts.platform))


# ------------------------------------------------------------------------------------------- writing

def _write(ctx: Context, cleans: list[Clean], *, batch: str | None = None) -> list[str]:
    """Write reviews, their findings, clauses and research, supersede earlier reviews, move each task
    on (reviewed or closed) and audit it all; inside a transaction."""
    officer = ctx.actor()
    now = ctx.now()
    at, today = iso(now), ctx.today().isoformat()
    ids = next_ids(ctx.db, "V", now.year, len(cleans))
    reviews, findings, clauses, research, superseded, entries, changes = [], [], [], [], [], [], []
    for review_id, clean in zip(ids, cleans):
        draft, facts = clean.draft, clean.facts
        capture_id = facts.capture["id"] if facts.capture else None
        previous = facts.current[0] if facts.current else None
        reviews.append({
            "id": review_id, "task_id": draft.task_id, "capture_id": capture_id, "officer": officer.number,
            "reviewed_at": at, "review_date": draft.review_date or today, "decision": draft.decision,
            "format": draft.format, "basis": clean.basis, "reason": draft.reason,
            "no_capture_reason": draft.reason if draft.no_capture else None, "superseded_by": None,
            "batch_key": clean.key,
        })
        findings += [{"review_id": review_id, "factor": f.factor, "note": f.note, "at": ";".join(f.at) or None}
                     for f in draft.findings]
        clauses += [{"review_id": review_id, "clause_id": c.id, "platform": c.platform, "title": c.title,
                     "summary": c.summary, "url": c.url, "as_of": c.as_of} for c in clean.clauses]
        research += [{"task_id": draft.task_id, "review_id": review_id, "system": r.system,
                      "reference": r.reference, "searched_on": r.searched_on, "summary": r.summary,
                      "officer": officer.number, "recorded_at": at} for r in draft.research]
        if previous:
            superseded.append([review_id, previous])
        entries.append(("review.record", "review", review_id,
                        REVIEW_AUDIT_REASON if capture_id else f"{REVIEW_AUDIT_REASON}, no capture: {draft.reason}",
                        {"task": draft.task_id, "capture": capture_id, "decision": draft.decision,
                         "format": draft.format, "factors": [f.factor for f in draft.findings],
                         "clauses": [c.id for c in clean.clauses], "supersedes": previous,
                         "research_entries": len(draft.research), "batch": batch}))
        changes.append((draft.task_id, STATUS_AFTER[draft.decision],
                        draft.reason if draft.decision == "nfa" else None,
                        {"review": review_id, "decision": draft.decision}))
    insert_rows(ctx.db, "reviews", reviews)
    insert_rows(ctx.db, "findings", findings)
    insert_rows(ctx.db, "review_clauses", clauses)
    insert_rows(ctx.db, "indices_research", research)
    ctx.db.conn.executemany("UPDATE reviews SET superseded_by = ? WHERE id = ?", superseded)
    audit.record_many(ctx, entries)
    tasks.set_status_many(ctx, changes, "review.decide")
    return ids


def record_review(ctx: Context, raw: ReviewInput) -> dict:
    """Record one review and its decision (SOP 9.2–9.4, 10.3); returns what was recorded."""
    ctx.actor()
    draft = parse_input(raw, ctx.today())
    catalogues = load_catalogues(ctx.home)
    with transaction(ctx.db):
        facts = load_facts(ctx, [draft.task_id]).get(draft.task_id)
        clean = check(draft, facts, catalogues, sensitive.for_context(ctx))
        [review_id] = _write(ctx, [clean])
    redraft = [r for r, status in clean.facts.referrals if status in REDRAFT_REFERRALS]
    return {"review": current_review(ctx, draft.task_id), "supersedes": facts.current[0] if facts.current else None,
            "task_status": STATUS_AFTER[draft.decision], "research_entries": len(draft.research),
            "referrals_to_redraft": redraft}


# ------------------------------------------------------------------------------------ indices research

def record_research(ctx: Context, task_id: str, entries: list[ResearchInput]) -> list[dict]:
    """Record searches of police indices (SOP 9.3) against a task, outside a review. Police-only: kept in
    `indices_research`, shown by `review show`, never in `current_review` or anything for a platform."""
    officer = ctx.actor()
    task_id = (task_id or "").strip().upper()
    if not entries:
        raise InputError("nothing to record: give the system, date and summary of the search.")
    parsed = [parse_research(e, ctx.today()) for e in entries]
    with transaction(ctx.db):
        if ctx.db.execute("SELECT 1 FROM tasks WHERE id = ?", [task_id]).fetchone() is None:
            raise NotFound(f"no task {task_id!r} in this home: check the id with `ohrt task list`.")
        at = iso(ctx.now())
        insert_rows(ctx.db, "indices_research", [
            {"task_id": task_id, "review_id": None, "system": r.system, "reference": r.reference,
             "searched_on": r.searched_on, "summary": r.summary, "officer": officer.number, "recorded_at": at}
            for r in parsed])
        # the audit entry says that research was recorded, never what it found
        audit.record(ctx, "review.research", "task", task_id, detail={"entries": len(parsed)})
    return research_for(ctx, task_id)[-len(parsed):]


def research_for(ctx: Context, task_id: str) -> list[dict]:
    """The task's indices research (9.3), oldest first: police-only, never for a platform."""
    rows = ctx.db.execute(
        "SELECT id, review_id, system, reference, searched_on, summary, officer, recorded_at FROM indices_research "
        "WHERE task_id = ? ORDER BY id", [(task_id or "").strip().upper()]).fetchall()
    keys = ("id", "review_id", "system", "reference", "searched_on", "summary", "officer", "recorded_at")
    return [dict(zip(keys, row)) for row in rows]


# -------------------------------------------------------------------------------------------- reading

REVIEW_KEYS = ("id", "task_id", "capture_id", "officer", "reviewed_at", "review_date", "decision", "format",
               "basis", "reason", "no_capture_reason")


def _review_dicts(ctx: Context, rows: list[tuple]) -> list[tuple[dict, str | None]]:
    """Review rows (REVIEW_KEYS + superseded_by) → (the shape of `current_review`, superseded_by)."""
    reviews = []
    for row in rows:
        review = dict(zip(REVIEW_KEYS, row[:len(REVIEW_KEYS)]))
        review["findings"] = [
            {"factor": factor, "factor_title": FACTORS[factor].title if factor in FACTORS else factor,
             "note": note, "at": split_cell(at)}
            for factor, note, at in ctx.db.execute(
                "SELECT factor, note, at FROM findings WHERE review_id = ? ORDER BY id", [review["id"]])]
        review["clauses"] = [
            dict(zip(("id", "platform", "title", "summary", "url", "as_of"), clause))
            for clause in ctx.db.execute(
                "SELECT clause_id, platform, title, summary, url, as_of FROM review_clauses WHERE review_id = ? "
                "ORDER BY id", [review["id"]])]
        reviews.append((review, row[len(REVIEW_KEYS)]))
    return reviews


def current_review(ctx: Context, task_id: str) -> dict | None:
    """The review in force for a task, or None: keys `id, task_id, capture_id, officer, reviewed_at,
    review_date, decision, format, basis, reason, no_capture_reason, findings[{factor, factor_title, note,
    at[]}], clauses[{id, platform, title, summary, url, as_of}]`. It holds nothing from a sensitive table,
    so a referral to the platform may be rendered from it (SOP 6.4)."""
    rows = ctx.db.execute(
        f"SELECT {', '.join(REVIEW_KEYS)}, superseded_by FROM reviews WHERE task_id = ? AND superseded_by IS NULL "
        "ORDER BY reviewed_at DESC, id DESC LIMIT 1", [(task_id or "").strip().upper()]).fetchall()
    return _review_dicts(ctx, rows)[0][0] if rows else None


def review_history(ctx: Context, task_id: str) -> list[dict]:
    """Every review of a task, oldest first, each as `current_review` plus `superseded_by`."""
    rows = ctx.db.execute(
        f"SELECT {', '.join(REVIEW_KEYS)}, superseded_by FROM reviews WHERE task_id = ? ORDER BY reviewed_at, id",
        [(task_id or "").strip().upper()]).fetchall()
    return [{**review, "superseded_by": superseded_by} for review, superseded_by in _review_dicts(ctx, rows)]


def show_review(ctx: Context, task_id: str) -> dict:
    """For `ohrt review show`: the task, its review in force, the history, and the indices research
    (police-only: this is for officers, never for a platform)."""
    task_id = (task_id or "").strip().upper()
    row = ctx.db.execute("SELECT id, status, platform, title FROM tasks WHERE id = ?", [task_id]).fetchone()
    if row is None:
        raise NotFound(f"no task {task_id!r} in this home: check the id with `ohrt task list`.")
    return {"task": dict(zip(("id", "status", "platform", "title"), row)), "current": current_review(ctx, task_id),
            "history": review_history(ctx, task_id), "research": research_for(ctx, task_id)}


def factor_list() -> list[dict]:
    return [{"code": code, "title": factor.title, "sop": factor.sop} for code, factor in FACTORS.items()]


# ----------------------------------------------------------------------------------------- batch review

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


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path} does not exist: check the path of the batch file.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder: give the batch file itself.") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8 and retry.") from None


def read_batch(path: Path) -> tuple[list[ReviewInput], list[dict]]:
    """(reviews, bad rows) from a JSONL file (one object per task) or a CSV file (one row per finding)."""
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise InputError(f"{path} holds no reviews: give one JSON object per line, or a CSV with a header row.")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json") or (suffix != ".csv" and text.lstrip().startswith("{")):
        return _read_jsonl(text)
    return _read_csv(path, text)


def _read_jsonl(text: str) -> tuple[list[ReviewInput], list[dict]]:
    reviews, rejected, seen = [], [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
            review = _from_json(obj, number)
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
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in CSV_REQUIRED if c not in header]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    problem = (f"lacks {', '.join(missing)}" if missing else f"has unknown column(s) {', '.join(unknown)}")
    if missing or unknown:
        raise InputError(f"{path}'s header {problem}: the columns are {', '.join(CSV_COLUMNS)} "
                         "(task, decision and format are required).")
    start = reader.line_num
    for record in reader:
        if any(cell.strip() for cell in record):
            if len(record) != len(header):
                yield start + 1, {"__error__": f"has {len(record)} fields where the header has {len(header)}"}
            else:
                yield start + 1, {k: v.strip() for k, v in zip(header, record)}
        start = reader.line_num


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


def batch_review(ctx: Context, path: Path) -> BatchResult:
    """Record many reviews from a file (SOP 9–10.3 in bulk). Every entry is checked first; if any is bad
    nothing is written and every bad line is listed. Otherwise all are written in one transaction.
    An entry identical to the task's review in force is skipped, so re-running a file changes nothing."""
    ctx.actor()
    path = Path(path)
    raws, rejected = read_batch(path)
    catalogues = load_catalogues(ctx.home)
    today = ctx.today()
    drafts = []
    for raw in raws:
        try:
            drafts.append(parse_input(raw, today))
        except InputError as exc:
            rejected.append({"line": getattr(exc, "line", None) or raw.line, "task": raw.task_id.upper() or None,
                             "reason": exc.message})
    result = BatchResult(file=str(path), applied=[], skipped=[], rejected=rejected)
    with transaction(ctx.db):
        facts = load_facts(ctx, [d.task_id for d in drafts])
        cleans = []
        guard = sensitive.for_context(ctx)
        for draft in drafts:
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
        if rejected:
            rejected.sort(key=lambda r: r["line"] or 0)
            result.skipped = []
            return result
        if not cleans:
            return result  # a re-run: nothing new, nothing written, not even an audit entry
        ids = _write(ctx, cleans, batch=path.name)
        result.applied = [{"line": c.draft.line, "task": c.draft.task_id, "review": review_id,
                           "decision": c.draft.decision} for c, review_id in zip(cleans, ids)]
        audit.record(ctx, "review.batch", "file", path.name,
                     detail={"applied": len(ids), "skipped": len(result.skipped)})
    return result
