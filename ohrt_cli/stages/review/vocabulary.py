"""The review's vocabulary: harm factors (SOP 9.2), formats (8.6.6), decisions (10.3), and media time ranges (9.1),
with the item they are in for a post of several items."""

from __future__ import annotations

import re
from typing import NamedTuple

from ...ground.errors import InputError
from ...ground.times import clock


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

# A committed capture holds its original (and its duration) even when a derivative failed ("incomplete"), or
# when a live recording was interrupted ("partial": what was recorded), so any may be reviewed; the latest,
# as `capture.latest_capture` has it.
CAPTURE_STATUSES = ("complete", "incomplete", "partial")
REVIEW_AUDIT_REASON = "content review, SOP 9.2–9.4"
KNOWN_SYSTEMS = {"aware": "Aware"}


_TIME = re.compile(r"(?:([0-9]{1,2}):)?([0-9]{1,3}):([0-9]{2})")


def parse_time(text: str) -> int:
    """'01:23' or '1:02:03' → seconds. Minutes may run past 59 only without an hour part."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise ValueError(text)
    hours, minutes, seconds = int(match[1] or 0), int(match[2]), int(match[3])
    if seconds > 59 or (match[1] is not None and minutes > 59):
        raise ValueError(text)
    return hours * 3600 + minutes * 60 + seconds


_COMMENT = re.compile(r"comment\s*#?\s*(\d{1,6})", re.I)


def parse_comment(text: str) -> int | None:
    """'comment 3' → 3: a finding's place may be a comment kept with the capture (`--comments`), cited by its
    number in `source/comments.json`; None when the text is not a comment's citation (a time range, say)."""
    match = _COMMENT.fullmatch((text or "").strip())
    if match is None:
        return None
    if int(match[1]) < 1:
        raise InputError(f"{text.strip()!r}: comments are numbered from 1, as `capture show` and "
                         "source/comments.json number them.")
    return int(match[1])


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
                         f"e.g. {clock(min(start, end))}-{clock(max(start, end) + (start == end))}.")
    return start, end


_ITEM = re.compile(r"item\s*([0-9]{1,4})(?:\s+(?:at\s+)?(\S.*))?", re.I)


def parse_place(text: str) -> tuple[int | None, int | None, int | None]:
    """Where a finding is: '01:23-01:40' → (None, 83, 100); in a post of several items 'item 2 at
    00:03-00:07' → (2, 3, 7), or 'item 3' for the whole of an item (a photo) → (3, None, None)."""
    found = _ITEM.fullmatch((text or "").strip())
    if not found:
        try:
            return (None, *parse_range(text))
        except InputError as exc:
            raise InputError(exc.message.replace("write it e.g. 01:23-01:40.", "write it e.g. 01:23-01:40, or name "
                                                 "the item of a post of several: item 2 at 00:03-00:07, or item 2.")
                             ) from None
    item = int(found[1])
    if item < 1:
        raise InputError(f"{text.strip()!r}: items are numbered from 1 in the post's order (`ohrt capture show`).")
    return (item, *parse_range(found[2])) if found[2] else (item, None, None)


def place_text(place: tuple[int | None, int | None, int | None]) -> str:
    """A place as written back: '01:23-01:40', 'item 2 at 00:03-00:07' or 'item 2'."""
    item, start, end = place
    span = f"{clock(start)}-{clock(end)}" if start is not None else ""
    if item is None:
        return span
    return f"item {item} at {span}" if span else f"item {item}"


def split_cell(value) -> list[str]:
    """A list given as a JSON list, or as one text with ';' between the values."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(";") if part.strip()]


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


def factor_list() -> list[dict]:
    return [{"code": code, "title": factor.title, "sop": factor.sop} for code, factor in FACTORS.items()]
