"""The quarterly report's figures (SOP 7.2): what each one counts, aggregated in SQL over the tables of
the flow, and how it is published anonymised (6.5).

Every figure is measured for two quarters (the one reported and the one before) by a `Period`, then
published by the rules in publication.py (re-exported here): small counts suppressed, rates and durations
withheld when they would rest on too few cases. `governance.build_report` assembles the result; nothing
here renders or writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Callable

from ...ground.times import Quarter
from ...ground.urls import PLATFORMS
from .publication import (percentile, protect_cells, publish_cells, publish_count, publish_rate, publish_stat,
                          threshold_of)

# A review counts in the quarter of its date of content review (8.6.1), a referral in that of the day it
# was sent (8.6.3), a platform's decision in that of the day it was made: dates the officer gives.
# For durations, a step happened at the moment it was recorded or, when it was recorded on a later day
# than the date given, at the end of that day: the best moment the record holds.


def _moment(recorded: str, day: str) -> str:
    """SQL for the best moment of a step: `recorded` (a timestamp), capped at the end of `day`."""
    return f"MIN({recorded}, COALESCE({day} || 'T23:59:59+00:00', {recorded}))"


# The Domain library's figures count the team's own items (library_items `i`), not another force's
# imported hashes; an item is purged once its purge finished (its tombstone 'done', at purged_at).
_OWN_ITEM = "i.source IS NOT 'import'"
_PURGED_BEFORE = ("EXISTS (SELECT 1 FROM tombstones s WHERE s.object_type = 'library_item' AND s.object_id = i.id "
                  "AND s.state = 'done' AND s.purged_at < ?)")


# -------------------------------------------------------------------------------------- figures (7.2)


@dataclasses.dataclass
class Count:
    """A number of things, overall and per breakdown key."""

    n: int
    breakdowns: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Rate:
    """A percentage of `part` in `whole`, overall and per breakdown key."""

    part: int
    whole: int
    breakdowns: dict[str, dict[str, tuple[int, int]]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Stat:
    """A summary (median, 90th percentile, mean) of per-case values, overall and per breakdown key; each
    withheld below the threshold."""

    values: list[float]
    kind: str  # median | p90 | mean
    breakdowns: dict[str, dict[str, list[float]]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Spec:
    """One figure of the report: where it goes, what it is called, and which Period measure gives it
    (`stat` picks cases, median or 90th percentile out of a list of durations)."""

    section: str
    id: str
    title: str
    unit: str  # count | percent | days | score
    measure: str
    stat: str | None = None  # cases | median | p90, for durations


SECTIONS = [
    ("demand", "Demand", "referrals received from colleagues (SOP 8.1–8.5)"),
    ("work", "Work", "review, decision and referral (SOP 9, 10.1–10.5)"),
    ("results", "Results", "platforms' decisions, appeals and re-uploads (SOP 10.6–10.7)"),
    ("timeliness", "Timeliness", "days between the steps, median and 90th percentile"),
    ("library", "Domain library", "removed musical content kept 12 months (SOP 10.8)"),
    ("assurance", "Assurance", "the quarter's dip sample (SOP 7.5)"),
    ("action", "Platform action", "did the platforms act: removals decided or seen by `ohrt refer check`, and "
     "content that came back (SOP 10.6)"),
]

SELF_TASKED = "self-tasked (8.5)"

# The breakdowns a figure may have, in the order they are shown.
BREAKDOWNS = ("platform", "ocu_unit", "decision", "outcome")


class Period:
    """The raw numbers of one quarter, each from one SQL aggregate over the tables of the flow."""

    def __init__(self, db, q: "Quarter"):
        self.db, self.q = db, q
        self.window = [q.lo, q.hi]
        self._cache: dict[str, Any] = {}

    def measure(self, name: str) -> Any:
        """The measure `name` (a method below), computed once however many figures use it."""
        if name not in self._cache:
            self._cache[name] = getattr(self, name)()
        return self._cache[name]

    def _one(self, sql: str, params: list | None = None) -> Any:
        row = self.db.execute(sql, self.window if params is None else params).fetchone()
        return (row[0] if row else 0) or 0

    def _by(self, sql: str, params: list | None = None) -> dict[str, int]:
        return {("" if key is None else str(key)): n for key, n in
                self.db.execute(sql, self.window if params is None else params)}

    # demand (8.1–8.5)

    def _demand(self) -> list[tuple[str, str, int]]:
        """(platform, commissioning OCU / unit, tasks) for the tasks received in the quarter: one scan
        that every demand figure is made from. Self-tasked work (8.5) is its own 'unit'."""
        rows = self.db.execute(
            "SELECT platform, self_tasked, applicant_ocu, applicant_unit, COUNT(*) FROM tasks "
            "WHERE received_at >= ? AND received_at < ? GROUP BY 1, 2, 3, 4", self.window)
        return [(platform or "", SELF_TASKED if self_tasked else f"{ocu or '?'} / {unit or '?'}", n)
                for platform, self_tasked, ocu, unit, n in rows]

    def received(self) -> Count:
        by_platform: dict[str, int] = {}
        by_unit: dict[str, int] = {}
        for platform, unit, n in self.measure("_demand"):
            by_platform[platform] = by_platform.get(platform, 0) + n
            by_unit[unit] = by_unit.get(unit, 0) + n
        return Count(sum(by_platform.values()), {"platform": by_platform, "ocu_unit": by_unit})

    def self_tasked(self) -> Count:
        return Count(sum(n for _, unit, n in self.measure("_demand") if unit == SELF_TASKED))

    # work (9, 10.1–10.5)

    def reviewed(self) -> Count:
        """Tasks reviewed in the quarter, by the decision of each one's last review in it."""
        latest = ("SELECT task_id, decision, MAX(reviewed_at) FROM reviews "
                  "WHERE review_date >= ? AND review_date < ? GROUP BY task_id")
        decisions = self._by(f"SELECT decision, COUNT(*) FROM ({latest}) GROUP BY decision")
        return Count(sum(decisions.values()), {"decision": decisions})

    def qa_returns(self) -> Count:
        return Count(self._one("SELECT COUNT(*) FROM referral_qa WHERE verdict = 'returned' AND at >= ? AND at < ?"))

    def referrals_sent(self) -> Count:
        by = self._by("SELECT platform, COUNT(*) FROM referrals WHERE kind = 'referral' AND sent_on >= ? "
                      "AND sent_on < ? GROUP BY platform")
        return Count(sum(by.values()), {"platform": by})

    # results (10.6–10.7)

    def _decided(self) -> dict[str, tuple[int, int]]:
        """{platform: (removed, decided)} for referrals (not appeals) the platforms decided in the quarter."""
        rows = self.db.execute(
            "SELECT platform, SUM(outcome = 'removed'), COUNT(*) FROM referrals WHERE kind = 'referral' "
            "AND outcome IN ('removed', 'not-removed') AND outcome_on >= ? AND outcome_on < ? GROUP BY platform",
            self.window)
        return {str(platform): (removed, total) for platform, removed, total in rows}

    def removed(self) -> Count:
        by = {k: removed for k, (removed, _) in self.measure("_decided").items()}
        return Count(sum(by.values()), {"platform": by})

    def not_removed(self) -> Count:
        by = {k: total - removed for k, (removed, total) in self.measure("_decided").items()}
        return Count(sum(by.values()), {"platform": by})

    def removal_rate(self) -> Rate:
        by = self.measure("_decided")
        return Rate(sum(r for r, _ in by.values()), sum(t for _, t in by.values()), {"platform": by})

    def appeals_sent(self) -> Count:
        return Count(self._one(
            "SELECT COUNT(*) FROM referrals WHERE kind = 'appeal' AND sent_on >= ? AND sent_on < ?"))

    def appeals_decided(self) -> Count:
        by = self._by("SELECT outcome, COUNT(*) FROM referrals WHERE kind = 'appeal' AND outcome IN "
                      "('removed', 'not-removed') AND outcome_on >= ? AND outcome_on < ? GROUP BY outcome")
        return Count(sum(by.values()), {"outcome": by})

    def reuploads(self) -> Count:
        """Re-uploads detected: captures that matched an item of the Domain library, local or another
        force's. The library stage audits 'library.match' on the capture each time one is matched — at
        capture, and again whenever `ohrt library match` asks later — so a capture counts once, in the
        quarter of its first match: asking again is not a new detection."""
        return Count(self._one(
            "SELECT COUNT(*) FROM (SELECT MIN(at) AS first FROM audit WHERE action = 'library.match' AND "
            "object_type = 'capture' GROUP BY object_id) WHERE first >= ? AND first < ?"))

    # timeliness: durations in days, between the best moments of two steps (see _moment)

    def _days(self, sql: str, params: list | None = None) -> list[float]:
        return [days for (days,) in self.db.execute(sql, self.window if params is None else params)
                if days is not None]

    def receipt_to_review(self) -> list[float]:
        """From a task's receipt to its first review, for tasks first reviewed in the quarter."""
        return self._days(
            f"SELECT julianday(MIN({_moment('r.reviewed_at', 'r.review_date')})) - julianday(t.received_at) "
            "FROM reviews r JOIN tasks t ON t.id = r.task_id "
            "WHERE r.task_id IN (SELECT task_id FROM reviews WHERE review_date >= ? AND review_date < ?) "
            "GROUP BY r.task_id HAVING MIN(r.review_date) >= ?", [*self.window, self.q.lo])

    def review_to_referral(self) -> list[float]:
        """From the review a referral rests on to its sending, for referrals sent in the quarter."""
        sent, reviewed = _moment("rf.sent_at", "rf.sent_on"), _moment("rv.reviewed_at", "rv.review_date")
        return self._days(
            f"SELECT julianday({sent}) - julianday({reviewed}) "
            "FROM referrals rf JOIN reviews rv ON rv.id = rf.review_id "
            "WHERE rf.kind = 'referral' AND rf.sent_on >= ? AND rf.sent_on < ?")

    def referral_to_decision(self) -> list[float]:
        """From the day a referral was sent to the day of the platform's decision, for decisions in the
        quarter (both are dates, so whole days)."""
        return self._days(
            "SELECT julianday(outcome_on) - julianday(sent_on) FROM referrals WHERE kind = 'referral' "
            "AND outcome IN ('removed', 'not-removed') AND outcome_on >= ? AND outcome_on < ?")

    # library (10.8, 2.2): states at the quarter's end, of the team's own items (_OWN_ITEM). A tombstone
    # still 'purging' is a purge cut short: its item is not purged yet, and still counts as kept.

    def library_size(self) -> Count:
        return Count(self._one(
            f"SELECT COUNT(*) FROM library_items i WHERE {_OWN_ITEM} AND i.created_at < ? "
            f"AND NOT {_PURGED_BEFORE}", [self.q.hi, self.q.hi]))

    def library_added(self) -> Count:
        return Count(self._one(
            f"SELECT COUNT(*) FROM library_items i WHERE {_OWN_ITEM} AND i.created_at >= ? AND i.created_at < ?"))

    def library_purged(self) -> Count:
        return Count(self._one(
            "SELECT COUNT(DISTINCT s.object_id) FROM tombstones s JOIN library_items i ON i.id = s.object_id "
            f"WHERE s.object_type = 'library_item' AND s.state = 'done' AND {_OWN_ITEM} AND s.purged_at >= ? "
            "AND s.purged_at < ?"))

    def library_held(self) -> Count:
        return Count(self._one(
            "SELECT COUNT(DISTINCT item_id) FROM holds WHERE placed_at < ? AND (released_at IS NULL OR "
            "released_at >= ?)", [self.q.hi, self.q.hi]))

    def library_expiring(self) -> Count:
        """Items kept at the quarter's end, not under hold then, whose retention ends in the next quarter."""
        nxt = self.q.next()
        return Count(self._one(
            f"SELECT COUNT(*) FROM library_items i WHERE {_OWN_ITEM} AND i.created_at < ? AND i.expires_on >= ? "
            f"AND i.expires_on < ? AND NOT {_PURGED_BEFORE} "
            "AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.item_id = i.id AND h.placed_at < ? AND "
            "(h.released_at IS NULL OR h.released_at >= ?))",
            [self.q.hi, nxt.lo, nxt.hi, self.q.hi, self.q.hi, self.q.hi]))

    # assurance (7.5)

    def _dip_results(self) -> list[tuple[int, int, int]]:
        return self.db.execute(
            "SELECT r.accurate, r.quality, r.compliant FROM dip_sample_results r WHERE r.quarter = ? AND r.id = "
            "(SELECT MAX(id) FROM dip_sample_results x WHERE x.quarter = r.quarter AND x.task_id = r.task_id)",
            [self.q.name]).fetchall()

    def dip_sampled(self) -> Count:
        return Count(self._one("SELECT size FROM dip_samples WHERE quarter = ?", [self.q.name]))

    def dip_recorded(self) -> Count:
        return Count(len(self.measure("_dip_results")))

    def dip_accurate(self) -> Rate:
        results = self.measure("_dip_results")
        return Rate(sum(a for a, _, _ in results), len(results))

    def dip_compliant(self) -> Rate:
        results = self.measure("_dip_results")
        return Rate(sum(c for _, _, c in results), len(results))

    def dip_quality(self) -> Stat:
        return Stat([q for _, q, _ in self.measure("_dip_results")], "mean")

    # platform action (10.6, `ohrt refer check`): a referral's content is removed on the earlier of the
    # platform's decision to remove and the first day a check saw it gone after it was sent.

    def _removals(self) -> list[tuple[str, str, str | None]]:
        """(platform, sent_on, removed_on or None) of every referral (not appeal) sent before the quarter's end."""
        return self.db.execute(
            "SELECT r.platform, r.sent_on, NULLIF(MIN("
            "COALESCE(CASE WHEN r.outcome = 'removed' THEN r.outcome_on END, '9999-12-31'), "
            "COALESCE((SELECT MIN(substr(o.observed_at, 1, 10)) FROM observations o WHERE o.referral_id = r.id "
            "AND o.result = 'gone' AND substr(o.observed_at, 1, 10) >= r.sent_on), '9999-12-31')), '9999-12-31') "
            "FROM referrals r WHERE r.kind = 'referral' AND r.sent_on IS NOT NULL AND r.sent_on < ?",
            [self.q.hi]).fetchall()

    def time_to_removal(self) -> dict[str, list[float]]:
        """{platform: [days from sent to removed]} for the referrals whose content was removed in the quarter."""
        by: dict[str, list[float]] = {}
        for platform, sent_on, removed_on in self.measure("_removals"):
            if removed_on and self.q.lo <= removed_on < self.q.hi:
                days = (dt.date.fromisoformat(removed_on) - dt.date.fromisoformat(sent_on)).days
                by.setdefault(str(platform), []).append(float(days))
        return by

    def removed_share(self) -> Rate:
        """Of the referrals sent in the quarter, how many had their content removed by its end."""
        by: dict[str, tuple[int, int]] = {}
        for platform, sent_on, removed_on in self.measure("_removals"):
            if self.q.lo <= sent_on < self.q.hi:
                part, whole = by.get(str(platform), (0, 0))
                by[str(platform)] = (part + int(bool(removed_on) and removed_on < self.q.hi), whole + 1)
        return Rate(sum(p for p, _ in by.values()), sum(w for _, w in by.values()), {"platform": by})

    def reinstatements(self) -> Count:
        """Content seen available again after its removal: each time a task's observations turn to
        reinstated (an unreachable look is no turn), in the quarter that happened."""
        by = self._by(
            "SELECT platform, COUNT(*) FROM (SELECT platform, observed_at, reinstated, LAG(reinstated, 1, 0) OVER "
            "(PARTITION BY task_id ORDER BY id) AS before FROM observations WHERE result != 'unreachable' AND "
            "task_id IS NOT NULL) WHERE reinstated = 1 AND before = 0 AND observed_at >= ? AND observed_at < ? "
            "GROUP BY platform")
        return Count(sum(by.values()), {"platform": by})




def _timing(stem: str, title: str) -> list[Spec]:
    return [Spec("timeliness", f"{stem}_cases", f"{title}: cases", "count", stem, "cases"),
            Spec("timeliness", f"{stem}_median", f"{title}: median", "days", stem, "median"),
            Spec("timeliness", f"{stem}_p90", f"{title}: 90th percentile", "days", stem, "p90")]


FIGURES: list[Spec] = [
    Spec("demand", "received", "Referrals received", "count", "received"),
    Spec("demand", "self_tasked", "of which self-tasked (8.5)", "count", "self_tasked"),
    Spec("work", "reviewed", "Tasks reviewed (deployments)", "count", "reviewed"),
    Spec("work", "qa_returns", "Referrals returned at QA (10.2)", "count", "qa_returns"),
    Spec("work", "referrals_sent", "Referrals sent to platforms", "count", "referrals_sent"),
    Spec("results", "removed", "Referrals: content removed", "count", "removed"),
    Spec("results", "not_removed", "Referrals: content not removed", "count", "not_removed"),
    Spec("results", "removal_rate", "Removal rate", "percent", "removal_rate"),
    Spec("results", "appeals_sent", "Appeals sent (10.7)", "count", "appeals_sent"),
    Spec("results", "appeals_decided", "Appeals decided", "count", "appeals_decided"),
    Spec("results", "reuploads", "Re-uploads detected (library matches)", "count", "reuploads"),
    *_timing("receipt_to_review", "Receipt to review"),
    *_timing("review_to_referral", "Review to referral sent"),
    *_timing("referral_to_decision", "Referral to platform's decision"),
    Spec("library", "library_size", "Items in the library at quarter end", "count", "library_size"),
    Spec("library", "library_added", "Items added", "count", "library_added"),
    Spec("library", "library_purged", "Items purged after retention", "count", "library_purged"),
    Spec("library", "library_held", "Items under hold at quarter end", "count", "library_held"),
    Spec("library", "library_expiring", "Items due to expire next quarter", "count", "library_expiring"),
    Spec("assurance", "dip_sampled", "Deployments dip-sampled", "count", "dip_sampled"),
    Spec("assurance", "dip_recorded", "Dip-sample results recorded", "count", "dip_recorded"),
    Spec("assurance", "dip_accurate", "Data recorded accurately", "percent", "dip_accurate"),
    Spec("assurance", "dip_compliant", "Compliant with the SOP", "percent", "dip_compliant"),
    Spec("assurance", "dip_quality", "Mean quality of review (1–5)", "score", "dip_quality"),
    Spec("action", "time_to_removal_cases", "Referral sent to content removed: cases", "count", "time_to_removal",
         "cases"),
    Spec("action", "time_to_removal_median", "Referral sent to content removed: median", "days", "time_to_removal",
         "median"),
    Spec("action", "time_to_removal_p90", "Referral sent to content removed: 90th percentile", "days",
         "time_to_removal", "p90"),
    Spec("action", "removed_share", "Referrals sent whose content was removed by the quarter's end", "percent",
         "removed_share"),
    Spec("action", "reinstatements", "Removed content seen available again", "count", "reinstatements"),
]


def _raw(spec: Spec, period: "Period") -> Any:
    value = period.measure(spec.measure)
    if isinstance(value, dict):  # durations by platform
        return _by_platform(value, spec.stat)
    if spec.stat == "cases":
        return Count(len(value))
    if spec.stat:
        return Stat(value, spec.stat)
    return value


def _by_platform(values: dict[str, list[float]], stat: str | None) -> Any:
    """A duration figure measured per platform ({platform: [days]}): its cases, or its summary, overall and
    per platform."""
    every = [v for per in values.values() for v in per]
    if stat == "cases":
        return Count(len(every), {"platform": {key: len(per) for key, per in values.items()}})
    return Stat(every, stat or "median", {"platform": dict(values)})


# A breakdown key that names something sensitive (a platform given as a site's host name, a unit named
# after a person) is published under this one label, its counts added together (SOP 6.5).
WITHHELD = "not named (SOP 6.5)"


# A platform outside the catalogue (a self-tasked capture from a site of its own: its host name) is counted
# under this one key: the name of a small site can point at a person (SOP 6.5).
OTHER_PLATFORM = "other"


def _fold(raw: Any, withhold: Callable[[str], bool] | None) -> Any:
    """`raw` with platforms outside the catalogue merged into OTHER_PLATFORM and the breakdown keys
    `withhold` refuses merged into WITHHELD, before anything is published."""
    if not isinstance(raw, (Count, Rate, Stat)):
        return raw
    folded: dict[str, dict] = {}
    for by, cells in raw.breakdowns.items():
        out: dict = {}
        for key, value in cells.items():
            if by == "platform" and key and key not in PLATFORMS:
                key = OTHER_PLATFORM
            key = WITHHELD if key and withhold is not None and withhold(key) else key
            if key not in out:
                out[key] = value
            elif isinstance(value, tuple):
                out[key] = (out[key][0] + value[0], out[key][1] + value[1])
            elif isinstance(value, list):
                out[key] = out[key] + value
            else:
                out[key] += value
        folded[by] = out
    return dataclasses.replace(raw, breakdowns=folded)


def _publish(raw: Any, threshold: int) -> tuple[Any, dict[str, dict[str, Any]]]:
    """(published value, {breakdown: {key: published value}}) for one quarter's raw figure. A count's
    total is blurred to ">=T" when one of its breakdowns could otherwise be worked back from it."""
    if isinstance(raw, Count):
        total = publish_count(raw.n, threshold)
        published = {}
        for by, cells in raw.breakdowns.items():
            published[by], total_safe = protect_cells(
                cells, threshold, total_shown=not isinstance(total, str) and sum(cells.values()) == raw.n)
            if not total_safe:
                total = f">={threshold}"
        return total, published
    if isinstance(raw, Rate):
        return publish_rate(raw.part, raw.whole, threshold), {
            by: {key: publish_rate(p, w, threshold) for key, (p, w) in cells.items()}
            for by, cells in raw.breakdowns.items()}
    if isinstance(raw, Stat):
        return publish_stat(raw.values, raw.kind, threshold), {
            by: {key: publish_stat(values, raw.kind, threshold) for key, values in cells.items()}
            for by, cells in raw.breakdowns.items()}
    raise TypeError(raw)


def _order_value(value: Any, threshold: int) -> float:
    """Where a published value sorts: only what is published decides the order of a breakdown."""
    if value is None:
        return -1
    if isinstance(value, str):
        return threshold if value.startswith(">=") else 0.5
    return float(value)


def _figure(spec: Spec, this: tuple, previous: tuple, threshold: int) -> dict:
    (value, breakdowns), (prev_value, prev_breakdowns) = this, previous
    rows: dict[str, list[dict]] = {}
    for by in sorted(set(breakdowns) | set(prev_breakdowns), key=BREAKDOWNS.index):
        now, before = breakdowns.get(by, {}), prev_breakdowns.get(by, {})
        keys = sorted(set(now) | set(before), key=lambda k: (-_order_value(now.get(k, 0), threshold),
                                                              -_order_value(before.get(k, 0), threshold), k))
        zero = 0 if spec.unit == "count" else None
        rows[by] = [{"key": k, "this_quarter": now.get(k, zero), "previous_quarter": before.get(k, zero)}
                    for k in keys]
    return {"section": spec.section, "id": spec.id, "title": spec.title, "unit": spec.unit,
            "this_quarter": value, "previous_quarter": prev_value, "breakdowns": rows}


def figures(db, q: "Quarter", threshold: int, withhold: Callable[[str], bool] | None = None) -> list[dict]:
    """Every figure of FIGURES for quarter `q` beside the quarter before it, published; breakdown keys for
    which `withhold` says True are merged under WITHHELD."""
    now, before = Period(db, q), Period(db, q.previous())
    return [_figure(spec, _publish(_fold(_raw(spec, now), withhold), threshold),
                    _publish(_fold(_raw(spec, before), withhold), threshold), threshold)
            for spec in FIGURES]
