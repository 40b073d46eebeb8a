"""The Domain library's items, SOP 10.8: removed musical content kept for the retention period (12 months
by default), longer only while held for an investigation (CPIA 1996).

* An item is made when a platform's decision "removed" is recorded for content whose review format is
  musical (`on_removal`, called by the referral stage inside its transaction), or by hand (`add_item`).
  It holds the capture, the review summarised and the fields of the Connect intelligence record (10.4:
  title, URL, platforms, rationale, summary, breach). It expires on the date of removal + retention.
* `place_hold` / `release_hold` (sergeant or above): an item under an active hold is never purged.
* Re-upload detection is in `matching.py`: `on_capture` (the hook run after every committed capture)
  fingerprints the capture (`ground/fingerprint/`) and reports every library item it matches, local or
  imported; `match_capture` does the same later. Matches are audited as 'library.match'.
* The purge, for library items and for everything else captured (SOP 2.2), is in `retention.py`;
  signed hash files for other forces in `sharing.py`.
"""

from __future__ import annotations

import datetime as dt
import re

from ...ground import audit, purged, sensitive
from ...ground.context import Context
from ...ground.db import next_id, transaction
from ...ground.errors import InputError, NotFound, StateError
from ...ground.times import add_months, iso, parse_date, where_text
from .matching import audio_seconds_of, fingerprint_row, has_fingerprints, bump_generation


SOURCES = ("removal", "by-hand", "import")      # how an item came into the library
STATUSES = ("kept", "purging", "purged")
ITEM_RE = re.compile(r"L-[0-9]{4}-[0-9]{6}")


RECORD_FIELDS = ("title", "url", "platforms", "channel", "rationale", "summary", "breach")
LIST_KEYS = ("id", "status", "source", "task_id", "capture_id", "format", "title", "channel", "url", "removed_on",
             "expires_on", "held", "source_name")


def retention_months(ctx: Context, key: str = "retention.months") -> int:
    """The retention period in months from config.toml (SOP 2.2, 10.8: 12 by default)."""
    value = ctx.settings.get(key)
    if value is None and key != "retention.months":
        value = ctx.settings.get("retention.months", 12)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1200:
        raise InputError(f"{key} = {value!r} in config.toml is not a whole number of months (1–1200): "
                         "correct it, e.g. months = 12 under [retention].")
    return value


def expiry_for(ctx: Context, removed_on: dt.date) -> dt.date:
    return add_months(removed_on, retention_months(ctx))


def on_removal(ctx: Context, referral_id: str) -> dict | None:
    """SOP 10.8: the platform removed the content; if its review format is musical, put it in the
    library. Called by the referral stage inside its transaction; returns the new item or None."""
    from ..review import MUSICAL_FORMATS, current_review

    row = ctx.db.execute("SELECT task_id, outcome_on FROM referrals WHERE id = ?", [referral_id]).fetchone()
    if row is None:
        raise NotFound(f"no referral {referral_id!r} in this home: check the id with `ohrt refer list`.")
    task_id, outcome_on = row
    review = current_review(ctx, task_id)
    if review is None or review.get("format") not in MUSICAL_FORMATS:
        return None
    if _kept_item_of(ctx, task_id):
        return None  # already in the library (a second removal, e.g. after an appeal)
    removed_on = parse_date(outcome_on or ctx.today().isoformat(), "removal date")
    with transaction(ctx.db):
        item_id = _create_item(ctx, task_id, review=review, referral_id=referral_id, removed_on=removed_on,
                               source="removal", reason=None)
    return get_item(ctx, item_id)


def add_item(ctx: Context, task_id: str, *, removed_on: str | None = None, reason: str | None = None) -> dict:
    """Put a task's content in the library by hand (when the automatic step did not, or to keep other
    material so that it can be held). The date of removal is the platform's recorded decision, else
    `removed_on`."""
    from ..review import current_review

    ctx.actor()
    task_id = _task_id(ctx, task_id)
    purged = ctx.db.execute("SELECT state, started_at FROM tombstones WHERE object_type = 'task' AND object_id = ?",
                            [task_id]).fetchone()
    if purged:
        raise StateError(f"{task_id}'s material was purged ({purged[0]}, {purged[1]}): there is nothing left to keep.")
    existing = _kept_item_of(ctx, task_id)
    if existing:
        raise StateError(f"{task_id} is already in the library as {existing}: see `ohrt library show {existing}`.")
    decided = ctx.db.execute(
        "SELECT id, outcome_on FROM referrals WHERE task_id = ? AND outcome = 'removed' ORDER BY outcome_on DESC, "
        "id DESC LIMIT 1", [task_id]).fetchone()
    if removed_on:
        day = parse_date(removed_on, "removal date (--removed-on)", today=ctx.today())
    elif decided and decided[1]:
        day = parse_date(decided[1], "removal date")
    else:
        raise InputError(f"{task_id} has no recorded removal: give the date the platform removed it with "
                         "--removed-on YYYY-MM-DD.")
    sensitive.check_reason(ctx, reason)
    with transaction(ctx.db):
        item_id = _create_item(ctx, task_id, review=current_review(ctx, task_id),
                               referral_id=decided[0] if decided else None, removed_on=day, source="by-hand",
                               reason=(reason or "").strip() or None)
    return get_item(ctx, item_id)


def _create_item(ctx: Context, task_id: str, *, review: dict | None, referral_id: str | None, removed_on: dt.date,
                 source: str, reason: str | None) -> str:
    """Insert the item with its record fields and audit it; inside a transaction."""
    officer = ctx.actor()
    from .. import capture as capture_stage

    latest = capture_stage.latest_capture(ctx, task_id)
    capture_id = latest["id"] if latest else None
    item_id = next_id(ctx.db, "L", ctx.now())
    record = record_fields(ctx, task_id, review)
    ctx.db["library_items"].insert({
        "id": item_id, "task_id": task_id, "capture_id": capture_id, "referral_id": referral_id,
        "review_id": review.get("id") if review else None, "source": source, "status": "kept",
        "created_at": iso(ctx.now()), "created_by": officer.number, "removed_on": removed_on.isoformat(),
        "expires_on": expiry_for(ctx, removed_on).isoformat(), "format": review.get("format") if review else None,
        "duration": latest["duration"] if latest else None, **record})
    audit.record(ctx, "library.add", "library_item", item_id, reason=reason, detail={
        "task": task_id, "capture": capture_id, "referral": referral_id, "source": source,
        "removed_on": removed_on.isoformat(), "expires_on": expiry_for(ctx, removed_on).isoformat(),
        "retention_months": retention_months(ctx)})
    if capture_id and has_fingerprints(ctx, capture_id):
        bump_generation(ctx)
    return item_id


def record_fields(ctx: Context, task_id: str, review: dict | None) -> dict:
    """The fields of the Connect intelligence record (SOP 10.4.1–10.4.6), from the review's public
    content facts, findings and clauses; no subjects, no indices research, no incident references."""
    from .. import disclosure

    task = ctx.db.execute("SELECT title, canonical_url, platform, rationale FROM tasks WHERE id = ?",
                          [task_id]).fetchone()
    if review is None:
        return {"title": task[0], "url": task[1], "platforms": task[2], "channel": None, "rationale": task[3],
                "summary": None, "breach": None}
    content = disclosure.content_context(ctx, task_id, review)
    findings = disclosure.shape_findings(review, police=True)
    clauses = disclosure.shape_clauses(review, content["platform"], findings)
    summary = [f"{content['format_name'].capitalize()}"
               + (f" of {content['duration']}" if content["duration"] else "")
               + (f", uploaded {content['upload_date']}" if content["upload_date"] else "")
               + f". Reviewed {review.get('review_date') or (review.get('reviewed_at') or '')[:10]}."]
    summary += [f"- {f['factor_title']}: {f['note']}" + (f" ({where_text(f['at'])})" if f["at"] else "")
                for f in findings]
    breach = [f"- {c['title']} ({c['id']}" + (f", as of {c['as_of']}" if c.get("as_of") else "") + ")"
              + (f" {c['url']}" if c.get("url") else "") for c in clauses]
    return {"title": content["title"], "url": content["url"], "platforms": content["platform_name"],
            "channel": content["channel"], "rationale": review.get("basis") or review.get("reason") or task[3],
            "summary": "\n".join(summary), "breach": "\n".join(breach) or None}


def _task_id(ctx: Context, task_id: str) -> str:
    from .. import intake

    return intake.existing_task(ctx, task_id)


def _kept_item_of(ctx: Context, task_id: str) -> str | None:
    row = ctx.db.execute("SELECT id FROM library_items WHERE task_id = ? AND status != 'purged' ORDER BY id LIMIT 1",
                         [task_id]).fetchone()
    return row[0] if row else None


def place_hold(ctx: Context, item_id: str, *, investigation: str, reason: str) -> dict:
    """Hold an item for an investigation (CPIA 1996): it is not purged while any hold is active.
    Sergeant or above."""
    officer = ctx.actor("sergeant")
    investigation, reason = (investigation or "").strip(), (reason or "").strip()
    if not investigation:
        raise InputError("--investigation is empty: name the investigation or operation, e.g. --investigation "
                         "'Op Quenby'.")
    if not reason:
        raise InputError("--reason is empty: say why the material is relevant to the investigation (CPIA 1996).")
    sensitive.check_reason(ctx, reason)
    with transaction(ctx.db):
        item = _item_row(ctx, item_id)
        if item["source"] == "import":
            raise StateError(f"{item['id']} is {item['source_name']}'s hashes, not material held here: ask "
                             f"{item['source_name']} to hold their item {item['source_ref']}.")
        if item["status"] != "kept":
            raise StateError(f"{item['id']} is {item['status']}: there is nothing left to hold.")
        if any(h["investigation"].lower() == investigation.lower() for h in active_holds(ctx, item["id"])):
            raise StateError(f"{item['id']} is already held for {investigation}: nothing changed.")
        hold_id = ctx.db["holds"].insert({
            "item_id": item["id"], "investigation": investigation, "reason": reason, "placed_by": officer.number,
            "placed_at": iso(ctx.now())}).last_pk
        audit.record(ctx, "library.hold", "library_item", item["id"], reason=reason,
                     detail={"hold": hold_id, "task": item["task_id"], "expires_on": item["expires_on"]})
    return get_item(ctx, item["id"])


def release_hold(ctx: Context, item_id: str, *, reason: str, investigation: str | None = None) -> dict:
    """Release an item's hold (the one for `investigation` when it has several). Sergeant or above. If
    the item is past its expiry and no hold remains, the next purge deletes it."""
    officer = ctx.actor("sergeant")
    reason = (reason or "").strip()
    if not reason:
        raise InputError("--reason is empty: say why the material is no longer needed, e.g. --reason "
                         "'case concluded at court'.")
    sensitive.check_reason(ctx, reason)
    with transaction(ctx.db):
        item = _item_row(ctx, item_id)
        holds = active_holds(ctx, item["id"])
        if investigation:
            holds = [h for h in holds if h["investigation"].lower() == investigation.strip().lower()]
        if not holds:
            raise StateError(f"{item['id']} has no active hold" + (f" for {investigation}" if investigation else "")
                             + f": see `ohrt library show {item['id']}`.")
        if len(holds) > 1:
            names = ", ".join(h["investigation"] for h in holds)
            raise InputError(f"{item['id']} is held for {names}: say which with --investigation.")
        hold = holds[0]
        ctx.db["holds"].update(hold["id"], {"released_by": officer.number, "released_at": iso(ctx.now()),
                                            "release_reason": reason})
        audit.record(ctx, "library.release", "library_item", item["id"], reason=reason,
                     detail={"hold": hold["id"], "task": item["task_id"], "expires_on": item["expires_on"]})
    return get_item(ctx, item["id"])


def active_holds(ctx: Context, item_id: str) -> list[dict]:
    return [dict(r) for r in ctx.db.query(
        "SELECT id, investigation, reason, placed_by, placed_at FROM holds WHERE item_id = ? AND released_at IS NULL "
        "ORDER BY id", [item_id])]


def _item_row(ctx: Context, item_id: str) -> dict:
    item_id = (item_id or "").strip().upper()
    rows = list(ctx.db.query("SELECT * FROM library_items WHERE id = ?", [item_id]))
    if not rows:
        hint = "" if ITEM_RE.fullmatch(item_id) else " (library ids look like L-2026-000001)"
        raise NotFound(f"no library item {item_id!r} in this home{hint}: check it with `ohrt library list`.")
    return rows[0]


def get_item(ctx: Context, item_id: str) -> dict:
    """One item: its row, `held`, every hold (active or released), and what its fingerprints hold."""
    item = _item_row(ctx, item_id)
    item["holds"] = [dict(r) for r in ctx.db.query("SELECT * FROM holds WHERE item_id = ? ORDER BY id", [item["id"]])]
    item["held"] = any(h["released_at"] is None for h in item["holds"])
    row = fingerprint_row(ctx, item, columns="frames, audio_values")
    item["fingerprints"] = {"frames": row[0], "audio_seconds": audio_seconds_of(row[1])} if row else None
    item["purged"] = purged.describe(purged.of_object(ctx.db, item["id"])) if item["status"] == "purged" else None
    return item


def list_items(ctx: Context, *, title: str | None = None, channel: str | None = None, url: str | None = None,
               date_from: str | None = None, date_to: str | None = None, include_purged: bool = False) -> list[dict]:
    """Library items, newest removal first; `title`/`channel` match any part (case-insensitive), `url`
    the same content however its URL is written, `date_from`/`date_to` the date of removal."""
    where, params = [], []
    if not include_purged:
        where.append("li.status != 'purged'")
    for column, text in (("title", title), ("channel", channel)):
        if text and text.strip():
            where.append(f"li.{column} LIKE ? ESCAPE '\\'")
            params.append(f"%{_like(text.strip())}%")
    if url and url.strip():
        where.append("(li.url = ? OR li.url LIKE ? ESCAPE '\\')")
        params += [_canonical(url.strip()), f"%{_like(url.strip())}%"]
    for op, text, what in ((">=", date_from, "--from"), ("<=", date_to, "--to")):
        if text:
            where.append(f"li.removed_on {op} ?")
            params.append(parse_date(text, f"date {what}").isoformat())
    sql = (f"SELECT {', '.join('li.' + k for k in LIST_KEYS if k != 'held')}, EXISTS (SELECT 1 FROM holds h WHERE "
           "h.item_id = li.id AND h.released_at IS NULL) AS held FROM library_items li")
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = [dict(r) for r in ctx.db.query(sql + " ORDER BY li.removed_on DESC, li.id DESC", params)]
    for row in rows:
        row["held"] = bool(row["held"])
        row["purged"] = purged.describe(purged.of_object(ctx.db, row["id"])) if row["status"] == "purged" else None
    return rows


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _canonical(url: str) -> str:
    from ...ground import urls

    try:
        return urls.canonical(url)[0]
    except Exception:  # not a URL we can canonicalise: match it as written
        return url


def parse_within(text: str) -> int:
    """'30d', '6w' or '30' → days."""
    found = re.fullmatch(r"\s*([0-9]{1,4})\s*([dw]?)\s*", text or "")
    if not found:
        raise InputError(f"--within {text!r} is not a period: give days or weeks, e.g. 30d or 6w.")
    return int(found[1]) * (7 if found[2] == "w" else 1)


def expiring(ctx: Context, within: str = "30d") -> list[dict]:
    """Items that the purge will delete within the period (or already could), not being held: each
    with `days_left` (negative when already past its expiry)."""
    days = parse_within(within)
    today = ctx.today()
    limit = (today + dt.timedelta(days=days)).isoformat()
    rows = [r for r in list_items(ctx) if r["status"] == "kept" and not r["held"] and r["expires_on"] <= limit]
    for row in rows:
        row["days_left"] = (dt.date.fromisoformat(row["expires_on"]) - today).days
    return sorted(rows, key=lambda r: (r["expires_on"], r["id"]))
