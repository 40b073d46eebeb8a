"""A review checked against the record: task, referrals, capture, media, platform's terms (SOP 9.1–9.4, 10.3)."""

from __future__ import annotations

import dataclasses
import json
import math

from ...ground import sensitive
from ...ground.context import Context
from ...ground.errors import InputError, StateError
from ...ground.times import clock, where_text
from .. import intake as tasks
from .form import Draft, Finding, RowError
from .tos import Catalogue, Clause, platform_name
from .vocabulary import AFTER_APPROVAL, APPROVED_REFERRALS, CAPTURE_STATUSES, FACTORS, SENT_REFERRALS


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
            facts[task_id].capture = {"id": capture_id, "duration": duration, "media_kind": kind, "items": []}
        by_capture = {f.capture["id"]: f.capture for f in facts.values() if f.capture}
        captures = sorted(by_capture)
        for capture_id, item, kind, duration in db.execute(
                f"SELECT capture_id, item, kind, duration FROM capture_files WHERE role = 'original' AND capture_id IN "
                f"({','.join('?' * len(captures))}) ORDER BY capture_id, item, id", captures):
            by_capture[capture_id]["items"].append({"item": item, "media_kind": kind, "duration": duration})
        in_chunk = set(chunk)
        _load_comments(ctx, [f.capture for f in facts.values() if f.task_id in in_chunk and f.capture])
        for task_id, review_id, key in db.execute(
                f"SELECT task_id, id, batch_key FROM reviews WHERE task_id IN ({marks}) AND superseded_by IS NULL "
                "ORDER BY reviewed_at, id", chunk):
            facts[task_id].current = (review_id, key)
        for task_id, referral_id, status in db.execute(
                f"SELECT task_id, id, status FROM referrals WHERE task_id IN ({marks}) ORDER BY id", chunk):
            facts[task_id].referrals.append((referral_id, status))
    return facts


def _load_comments(ctx: Context, captures: list[dict]) -> None:
    """Each capture's kept comments (`--comments`: source/comments.json), for findings that cite one by
    number; `comments` is None for a capture that kept none."""
    by_id = {c["id"]: c for c in captures}
    for capture in captures:
        capture["comments"] = None
    if not by_id:
        return
    marks = ",".join("?" * len(by_id))
    for capture_id, folder, path in ctx.db.execute(
            f"SELECT c.id, c.folder, cf.path FROM capture_files cf JOIN captures c ON c.id = cf.capture_id "
            f"WHERE cf.role = 'comments' AND cf.status = 'ok' AND c.id IN ({marks})", list(by_id)):
        try:
            doc = json.loads((ctx.home / folder / path).read_text(encoding="utf-8"))
            by_id[capture_id]["comments"] = {c["n"]: c for c in doc.get("comments") or [] if isinstance(c, dict)}
        except (OSError, ValueError, KeyError, AttributeError):
            by_id[capture_id]["comments"] = {}


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
        if finding.places:
            _check_places(finding, capture)
        if finding.comments:
            _check_comments(finding, capture)


def _check_comments(finding: Finding, capture: dict) -> None:
    """A cited comment must be one the capture kept (`ohrt capture URL --comments`)."""
    kept = capture.get("comments")
    if kept is None:
        raise RowError(f"capture {capture['id']} kept no comments, so finding {finding.factor} cannot cite "
                       f"comment {finding.comments[0]}: capture the URL again with --comments, or quote the "
                       "comment and its author in the note.", finding.line)
    for number in finding.comments:
        if number not in kept:
            raise RowError(f"finding {finding.factor} cites comment {number}, but capture {capture['id']} kept "
                           f"{len(kept)} comment(s): give a number from source/comments.json (1-{len(kept)}).",
                           finding.line)


def _check_places(finding: Finding, capture: dict) -> None:
    """Each place of a finding against the capture: in a post of several items every place names its
    item, which must be one of the capture's; a time range must lie within its item's (or the capture's)
    length. Time ranges are whole seconds, so a range may end in the second in which the media ends."""
    if capture.get("media_kind") == "page":  # a page is read, not played: say where on it in the note
        raise RowError(f"capture {capture['id']} is a page, which has no time ranges: drop the time ranges of "
                       f"finding {finding.factor} and say in its note where on the page it is.", finding.line)
    items = capture.get("items") or []
    for place, text in zip(finding.places, finding.at):
        item, start, end = place
        if item is None and len(items) > 1:
            raise RowError(f"capture {capture['id']} holds {len(items)} items: say which one the time range {text} "
                           f"of finding {finding.factor} is in, e.g. 'item 2 at {text}' (`ohrt capture show "
                           f"{capture['id']}` lists them).", finding.line)
        if item is not None and item > max(len(items), 1):
            raise RowError(f"finding {finding.factor} names item {item}, but capture {capture['id']} holds "
                           f"{max(len(items), 1)}: give an item from 1 to {max(len(items), 1)}.", finding.line)
        if start is None:
            continue
        if item is not None and len(items) > 1:
            target = {**items[item - 1], "id": capture["id"], "label": f"item {item} of capture {capture['id']}"}
        else:
            target = {**capture, "label": f"capture {capture['id']}"}
        _check_range(finding, target, start, end, text)


def _check_range(finding: Finding, target: dict, start: int, end: int, text: str) -> None:
    duration = target.get("duration")
    if not duration or target.get("media_kind") == "image":  # a still's "duration" is one frame
        kind = target.get("media_kind") or "not timed"
        if target["label"].startswith("item "):
            raise RowError(f"{target['label']} has no duration (it is {'a photo' if kind == 'image' else kind}): "
                           f"name the item alone in finding {finding.factor} ('{text.split(' at ')[0]}').",
                           finding.line)
        raise RowError(f"capture {target['id']} has no duration (it is {kind}"
                       f" media): drop the time ranges of finding {finding.factor}.", finding.line)
    limit = math.ceil(duration - 1e-6)
    if end > limit:
        raise RowError(f"time range {text} of finding {finding.factor} runs past the end of the media: "
                       f"{target['label']} lasts {clock(duration)} ({duration:.1f} s); give a "
                       f"range within 00:00-{clock(limit)}.", finding.line)


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


def build_basis(draft: Draft, clauses: list[Clause], catalogues: dict[str, Catalogue],
                comments: dict | None = None) -> str:
    """The basis of the decision (8.6.5) in plain words, from the findings and clauses; a cited comment is
    named with its author's public handle and its time as the platform shows them (`comments`: the
    capture's, by number), so the platform can find it."""
    parts = []
    if draft.decision == "nfa":
        parts.append(f"No further action: {draft.reason.rstrip('.')}.")
    if draft.findings:
        items = []
        for finding in draft.findings:
            at = finding.at[:len(finding.places)] + [_comment_text(n, (comments or {}).get(n))
                                                     for n in finding.comments]
            where = f" {where_text(at)}" if at else ""
            items.append(f"{FACTORS[finding.factor].title}{where}: {finding.note.rstrip('.')}")
        parts.append("Harm factors: " + "; ".join(items) + ".")
    if clauses:
        heading = "Breaches the terms of service" if draft.decision == "refer" else "Terms of service considered"
        items = [f"{platform_name(c.platform, catalogues)} {c.title} ({c.id})" for c in clauses]
        parts.append(f"{heading}: " + "; ".join(items) + ".")
    return " ".join(parts)


def _comment_text(number: int, comment: dict | None) -> str:
    said = [part for part in ((comment or {}).get("handle") or (comment or {}).get("author"),
                              str((comment or {}).get("time") or "") or None) if part]
    return f"comment {number}" + (f" ({', '.join(said)})" if said else "")


def check(draft: Draft, facts: TaskFacts | None, catalogues: dict[str, Catalogue], guard: sensitive.Guard) -> Clean:
    """Check a well-formed review against the record: the task, its referrals, its capture and the
    duration of its media, and its platform's terms of service."""
    if facts is None:
        raise tasks.no_task(draft.task_id)
    _check_referrals(facts)
    _check_capture(draft, facts)
    clauses = _resolve_clauses(draft, facts, catalogues)
    _check_police_refs(draft, guard)
    basis = draft.basis or build_basis(draft, clauses, catalogues, (facts.capture or {}).get("comments"))
    return Clean(draft=draft, facts=facts, clauses=clauses, basis=basis, key=draft.key(facts.platform))
