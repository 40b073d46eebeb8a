"""What may be told to whom, SOP 6.4 and 10.4: the allow-listed template contexts and the leak guard.

A platform-bound template (referral, appeal, portal text) sees only what `platform_context` builds here,
field by field, from named sources: the content's own facts (URL, item id, title, channel, upload date —
from the reviewed capture where there is one, else the task), the review's findings and cited clauses,
the route, and the team's configured sender. No whole row is ever passed. Subjects (8.4), indices
research (9.3), incident references (8.3.3), the applicant and the officers are not read for it at all.

`check_disclosure` is the second guard: it looks through what was rendered for any sensitive value of any
task in the home (`ground.sensitive`: subjects, references, indices research, applicants', officers' names,
host names given as platforms) that the content itself does not show, so that free text (a finding's note,
appeal grounds, a team's template) cannot carry one out either.

The Connect intelligence record (`intel_context`, 10.4) stays inside the police: incident references are
given to it; subjects and indices research are not (they are linked in Connect itself, and 10.8 copies this
record's contents into the Domain library, which must not become a list of names).
"""

from __future__ import annotations

import re
from typing import Any

from ..ground import sensitive, urls
from ..ground.context import Context
from ..ground.errors import InputError
from ..ground.render import Fields, fields
from ..ground.times import duration_text, where_text

# Names a platform-bound template may ask for but will never be given, with why (for the error line).
_SUBJECTS = "subjects linked to a task are sensitive personal data (SOP 8.4, 6.4)"
_REFS = "police incident references never leave the police (SOP 6.4)"
_RESEARCH = "police indices research never leaves the police (SOP 9.3, 6.4)"
_OFFICERS = "officers' and applicants' personal details never go to a platform; the team is the sender (SOP 6.4)"
_POLICE = "the applicant's rationale and police assessments are not what the content shows (SOP 6.4)"
_ROWS = "whole records are never given to templates: use the fields of content, findings and clauses"
PLATFORM_FORBIDDEN = {
    "subjects": _SUBJECTS, "subject": _SUBJECTS, "names": _SUBJECTS,
    "incident_refs": _REFS, "incident_ref": _REFS, "refs": _REFS, "references": _REFS,
    "indices_research": _RESEARCH, "indices": _RESEARCH, "research": _RESEARCH,
    "officer": _OFFICERS, "officers": _OFFICERS, "applicant": _OFFICERS, "applicant_name": _OFFICERS,
    "drafted_by": _OFFICERS, "reviewer": _OFFICERS,
    "rationale": _POLICE, "basis": _POLICE, "reason": _POLICE,
    "task": _ROWS, "review": _ROWS, "capture": _ROWS, "row": _ROWS,
}
INTEL_FORBIDDEN = {
    "subjects": "subjects are linked to the record in Connect itself, not written into its text (SOP 10.4, 10.8)",
    "subject": "subjects are linked to the record in Connect itself, not written into its text (SOP 10.4, 10.8)",
    "indices_research": "indices research is recorded on its own systems, not in this text (SOP 9.3)",
}

FORMAT_NAMES = {
    "video": "video", "music-video": "music video", "music": "music track (audio)", "image": "image",
    "audio": "audio", "text": "text post", "live-stream": "live stream",
}


# ----------------------------------------------------------------------------------------- sources

def task_facts(ctx: Context, task_id: str) -> dict:
    """The task's public fields only: its URL, platform, title and upload date (never the whole row)."""
    row = ctx.db.execute(
        "SELECT canonical_url, platform, title, upload_date FROM tasks WHERE id = ?", [task_id]).fetchone()
    canonical_url, platform, title, upload_date = row
    return {"canonical_url": canonical_url, "platform": platform, "title": title, "upload_date": upload_date}


def capture_facts(ctx: Context, task_id: str, capture_id: str | None) -> dict | None:
    """Public facts of the reviewed capture (else the task's latest), read field by field."""
    capture = _find_capture(ctx, task_id, capture_id)
    if not capture:
        return None
    return {name: capture.get(name) for name in
            ("id", "final_url", "platform_item_id", "channel", "upload_date", "title", "duration", "media_kind")}


def _find_capture(ctx: Context, task_id: str, capture_id: str | None) -> dict | None:
    from . import capture as capture_stage

    if capture_id:
        return capture_stage.get_capture(ctx, capture_id)
    return capture_stage.latest_capture(ctx, task_id)


# ------------------------------------------------------------------------------------ shaping facts

def iso_date(value: Any) -> str | None:
    """'20260102' (yt-dlp) or '2026-01-02' → '2026-01-02'; anything else as given."""
    text = str(value or "").strip()
    if re.fullmatch(r"\d{8}", text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text or None


def item_id_from_url(url: str) -> str | None:
    """The platform's id for the item where the URL shows it plainly (YouTube v=, /video/N, /status/N…)."""
    match = (re.search(r"[?&]v=([A-Za-z0-9_-]+)", url) or re.search(r"/(?:video|status|reel|p)/([A-Za-z0-9_-]+)", url))
    return match[1] if match else None


def content_urls(canonical_url: str, capture: dict | None) -> list[str]:
    """The exact URL(s) of the content: the canonical one, and the captured page if it differs. The URL
    as the applicant pasted it is not used: share links carry ids (`si=`, `igsh=`) of whoever shared them."""
    found = [canonical_url]
    final = (capture or {}).get("final_url")
    if final:
        try:
            final = urls.canonical(final)[0]
        except InputError:
            final = None
        if final and final not in found:
            found.append(final)
    return found


# How each harm factor of SOP 9.2 is put to a platform: as what the content shows, never as what the
# police know. "The people shown are affiliated to a gang" (9.2.1) or "there is a feud between the groups"
# (9.2.2) is police intelligence (9.3); the display of gang signs or a reference to a stabbing is not.
PLATFORM_HARMS = {
    "gang-affiliation": "a display of gang affiliation by signs, symbols, names or colours",
    "previous-incidents": "a reference to previous violent incidents or offences",
    "provocative-language": "inflammatory or provocative language likely to provoke violence",
    "humiliation": "the humiliation of a person",
    "public-safety": "words or conduct harming public safety or inciting disorder",
    "illegal-sales": "an offer or sale of illegal goods, such as weapons or drugs",
    "exploitation": "the exploitation of a child or vulnerable person",
}


def shape_findings(review: dict, *, police: bool = False) -> list[dict]:
    """The review's findings, numbered as the referral shows them. For a platform (police=False) each
    carries `harm`, the content-based wording above; for police use also `factor_title`, the SOP's."""
    shaped = []
    for number, finding in enumerate(review.get("findings") or [], start=1):
        factor = finding.get("factor") or ""
        item = {"number": number, "factor": factor, "note": (finding.get("note") or "").strip(),
                "at": list(finding.get("at") or []),
                "harm": PLATFORM_HARMS.get(factor, factor.replace("-", " "))}
        if police:
            item["factor_title"] = finding.get("factor_title") or factor
        shaped.append(item)
    return shaped


def name_comments(ctx: Context, task_id: str, review: dict, findings: list[dict]) -> list[dict]:
    """A finding's `comment N` named as the platform shows it: the comment's author's public handle and its
    time (content-derived and public, like the title), read from the reviewed capture's comments."""
    if not any(place.startswith("comment ") for f in findings for place in f["at"]):
        return findings
    from . import capture as capture_stage

    capture = _find_capture(ctx, task_id, review.get("capture_id"))
    kept = capture_stage.comments_of(ctx, capture) if capture else {}
    for finding in findings:
        finding["at"] = [capture_stage.citation(int(place.split()[1]), kept.get(int(place.split()[1])))
                         if re.fullmatch(r"comment \d+", place) else place for place in finding["at"]]
    return findings


def segments(findings: list[dict]) -> list[str]:
    """Every offending time range, once each, in order of start."""
    def start(text: str) -> float:
        seconds = 0.0
        for part in text.split("-")[0].split(":"):
            try:
                seconds = seconds * 60 + float(part)
            except ValueError:
                return float("inf")
        return seconds

    found = {r for f in findings for r in f["at"] if not r.startswith("comment ")}  # comments have no time
    return sorted(found, key=lambda r: (start(r), r))


def explanation(findings: list[dict]) -> str:
    """Why a clause applies, tied to the findings by number: each finding is set out once, under "what the
    content shows", so a clause names them rather than repeating them."""
    numbers = [str(f["number"]) for f in findings]
    if not numbers:
        return "In our assessment the content breaches this policy."
    named = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]
    harms = list(dict.fromkeys(f["harm"] for f in findings))
    return (f"In our assessment the content breaches this policy: finding{'s' if len(numbers) > 1 else ''} {named} "
            f"above show{'' if len(numbers) > 1 else 's'} {'; '.join(harms)}.")


def shape_clauses(review: dict, platform: str, findings: list[dict]) -> list[dict]:
    """The review's cited clauses of this platform's terms, each with its explanation."""
    own = [c for c in review.get("clauses") or []
           if (c.get("platform") or str(c.get("id", "")).split(":")[0]) == platform]
    return [{"number": n, "id": c.get("id"), "title": c.get("title"), "summary": c.get("summary"),
             "url": c.get("url"), "as_of": c.get("as_of"), "findings": [f["number"] for f in findings],
             "explanation": explanation(findings)}
            for n, c in enumerate(own, start=1)]


def _one_line(text: str | None) -> str | None:
    """A title or channel name as one line: a newline in it must not break a template's layout."""
    return " ".join(str(text).split()) or None if text is not None else None


def content_context(ctx: Context, task_id: str, review: dict) -> dict:
    """The content's own public facts (6.4): from the reviewed capture, falling back to the task."""
    task = task_facts(ctx, task_id)
    capture = capture_facts(ctx, task_id, review.get("capture_id"))
    cap = capture or {}
    platform = task["platform"]
    found_urls = content_urls(task["canonical_url"], capture)
    return {
        "url": found_urls[0],
        "urls": found_urls,
        "platform": platform,
        "platform_name": urls.PLATFORM_NAMES.get(platform, platform.title()),
        "item_id": cap.get("platform_item_id") or item_id_from_url(task["canonical_url"]),
        "title": _one_line(cap.get("title") or task["title"]),
        "channel": _one_line(cap.get("channel")),
        "upload_date": iso_date(cap.get("upload_date")) or iso_date(task["upload_date"]),
        "duration": duration_text(cap.get("duration")),
        "media_kind": cap.get("media_kind"),
        "format": review.get("format"),
        "format_name": FORMAT_NAMES.get(review.get("format") or "", review.get("format") or "content"),
        "captured": bool(capture),
    }


# --------------------------------------------------------------------------------- the two contexts

def platform_context(ctx: Context, task_id: str, review: dict, *, referral: dict, route: dict,
                     original: dict | None = None, grounds: str | None = None, summary: str | None = None) -> Fields:
    """The whole of what a platform-bound template sees (SOP 6.4, 10.1), built from named fields only.

    `referral` gives id, version, kind; `route` the resolved route; `original` (for an appeal) the
    referral appealed against; `grounds` the officer's additional grounds for an appeal; `summary` the
    officer's own words on the content (`ohrt refer draft --summary/--edit`)."""
    content = content_context(ctx, task_id, review)
    findings = name_comments(ctx, task_id, review, shape_findings(review))
    tag = str(ctx.settings.get("referral.tag", "OHRT")).strip()
    reference = f"{tag} {referral['id']}".strip()
    values = {
        "team": {"name": ctx.settings.team_name, "mailbox": ctx.settings.mailbox, "reference": reference},
        "referral": {"id": referral["id"], "version": referral["version"], "kind": referral["kind"],
                     "date": ctx.today().isoformat(), "reference": reference},
        "route": {"kind": route["route"], "platform_name": content["platform_name"],
                  "contact": route.get("contact") or None, "contact_name": route.get("contact_name") or None,
                  "portal": route.get("portal") or None},
        "content": content,
        "findings": findings,
        "segments": segments(findings),
        "clauses": shape_clauses(review, content["platform"], findings),
        "original": None,
        "grounds": (grounds or "").strip() or None,
        "summary": (summary or "").strip() or None,
    }
    if original:
        values["original"] = {
            "id": original["id"], "reference": f"{tag} {original['id']}".strip(), "kind": original["kind"],
            "sent_on": original.get("sent_on"), "platform_ref": original.get("platform_ref"),
            "outcome_on": original.get("outcome_on"),
        }
    return fields("", values)


def intel_context(ctx: Context, task_id: str, review: dict, referrals: list[dict]) -> Fields:
    """What the Connect intelligence record (SOP 10.4) is rendered from: the platform facts plus the
    police's own references, rationale and the referrals' history. No subjects, no indices research."""
    content = content_context(ctx, task_id, review)
    findings = name_comments(ctx, task_id, review, shape_findings(review, police=True))
    task = ctx.db.execute("SELECT id, received_at, rationale FROM tasks WHERE id = ?", [task_id]).fetchone()
    refs = [f"{s}:{r}" for s, r in ctx.db.execute(
        "SELECT system, reference FROM incident_refs WHERE task_id = ? ORDER BY id", [task_id])]
    values = {
        "team": {"name": ctx.settings.team_name, "mailbox": ctx.settings.mailbox},
        "task": {"id": task[0], "received_at": task[1], "rationale": task[2]},
        "incident_refs": refs,
        "review": {"id": review.get("id"), "date": review.get("review_date") or (review.get("reviewed_at") or "")[:10],
                   "decision": review.get("decision"), "basis": review.get("basis"), "reason": review.get("reason")},
        "content": content,
        "findings": findings,
        "segments": segments(findings),
        "clauses": shape_clauses(review, content["platform"], findings),
        "referrals": [{name: r.get(name) for name in
                       ("id", "kind", "appeal_of", "route", "status", "sent_on", "platform_ref", "outcome",
                        "outcome_on")} for r in referrals],
        "date": ctx.today().isoformat(),
    }
    return fields("", values)


# ---------------------------------------------------------------------------------------- the guard

def _free_text_sources(context: dict) -> list[tuple[str, str]]:
    """Officer-written text in a platform context, with where it came from, to name it in an error."""
    sources = [(f"finding {f['number']}'s note", f["note"]) for f in context.get("findings") or []]
    if context.get("summary"):
        sources.append(("the draft's summary (--summary or --edit)", context["summary"]))
    if context.get("grounds"):
        sources.append(("the appeal's grounds (--grounds or --edit)", context["grounds"]))
    return sources


def public_text(ctx: Context, context: dict) -> str:
    """What a platform-bound text may show although the guard knows it as sensitive: the content's own
    public facts (a subject named in the title, say), the platform, the team as sender and the route."""
    content, route, team = context["content"], context.get("route") or {}, context.get("team") or {}
    return "\n".join(str(v) for v in (
        content["title"], content["channel"], content["item_id"], *content["urls"], content["platform"],
        content["platform_name"], team.get("name"), team.get("mailbox"), route.get("contact"),
        route.get("contact_name"), route.get("portal")) if v)


def check_disclosure(ctx: Context, task_id: str, context: dict, rendered: dict[str, str]) -> None:
    """Refuse (InputError, nothing written) when rendered platform-bound text holds any sensitive value of
    any task in the home (`ground.sensitive`) that the content's own public facts do not show (SOP 6.4).
    The error names the kind of value and where it came from, never the value itself."""
    guard = sensitive.for_context(ctx)
    public = public_text(ctx, context)
    for piece, body in rendered.items():
        hit = guard.first(body, public=public)
        if hit is None:
            continue
        what = hit.what(task_id)
        source = next((name for name, value in _free_text_sources(context)
                       if guard.first(value, public=public) is not None), None)
        if source:
            mend = ("re-review the task so that the note says only what the content shows"
                    if source.startswith("finding") else
                    "reword the summary" if "summary" in source else "reword the grounds")
            raise InputError(f"the {piece} would disclose {what}, from {source}: a platform may be told only "
                             f"what the content shows and what is public (SOP 6.4); {mend}.")
        raise InputError(f"the {piece} would disclose {what}, written into the template itself: a platform may "
                         "be told only what the content shows and what is public (SOP 6.4); mend the template.")
