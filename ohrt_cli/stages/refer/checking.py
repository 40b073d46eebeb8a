"""Did the platform act? Scheduled status checks of referred content (SOP 10.5–10.7 follow-up).

`check` looks, without downloading anything, at:

* every sent referral (or appeal) still waiting for the platform's decision (`awaiting`);
* every removed item whose task is still within retention (`removed`), to catch a reinstatement;
* every known re-upload of a Domain library item still kept (`reupload`): the URLs of captures the
  library matched (SOP 10.8),

and records one **observation** per URL: `available`, `gone` (with the platform's words) or
`unreachable` (the network failed, or the site did not answer in time: never `gone`). Looks are paced
per host and bounded by a time budget (`[check]` in config.toml, see `limits`); the URLs least recently
looked at go first, so a run cut by its budget is carried on by the next.

Observations are not decisions. A `gone` on a referral still `sent` is shown with a suggested
`ohrt refer outcome R --removed --observed-on DATE`, which the officer confirms; an `available` after a
removal (a decision, or an earlier `gone`) is flagged as a reinstatement.

One check at a time per home (an fcntl lock on HOME/.check.lock; a second refuses at once). A run is one
row of `check_runs`; its observations are committed in batches as they come, and one audit entry
(`check.run`) records the run — counts, the ids of its observations and a SHA-256 over them — at its
end. A run cut short (killed, or the machine stopped) is audited by the next run as `interrupted`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ...ground import audit, polite, status_check
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import Failure, InputError
from ...ground.times import iso

LOCK_NAME = ".check.lock"
BATCH = 100                      # observations per transaction
PURPOSES = ("awaiting", "removed", "reupload")
DEFAULTS = {"per_host_interval_seconds": 1.0, "time_budget_seconds": 3600, "timeout_seconds": 20, "workers": 4,
            "host_failures": 3, "metadata": True}
OBSERVATION_COLUMNS = ("id", "run_id", "observed_at", "url", "platform", "purpose", "task_id", "referral_id",
                       "item_id", "result", "http_status", "message", "evidence", "reinstated")


@dataclass
class Target:
    """One URL to look at, and why."""

    url: str
    platform: str | None
    purpose: str
    task_id: str | None
    referral_id: str | None = None
    item_id: str | None = None
    last_observed: str | None = None
    last_result: str | None = None

    def summary(self) -> dict:
        return {"url": self.url, "host": status_check.host_of(self.url), "platform": self.platform,
                "purpose": self.purpose, "task_id": self.task_id, "referral_id": self.referral_id,
                "item_id": self.item_id, "last_observed": self.last_observed, "last_result": self.last_result}


# ----------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    limits: polite.Limits
    timeout: float
    metadata: bool


def limits(ctx: Context) -> Settings:
    """`[check]` of config.toml, checked: one line naming the key and how to mend it."""
    values = {key: ctx.settings.get(f"check.{key}", default) for key, default in DEFAULTS.items()}

    def number(key: str, low: float, high: float, whole: bool = False) -> float:
        value = values[key]
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and low <= value <= high
        if whole:
            ok = ok and float(value).is_integer()
        if not ok:
            kind = "a whole number" if whole else "a number"
            raise InputError(f"check.{key} in {ctx.settings.path} is {value!r}: make it {kind} from {low:g} to "
                             f"{high:g} (default {DEFAULTS[key]}).")
        return int(value) if whole else float(value)

    if not isinstance(values["metadata"], bool):
        raise InputError(f"check.metadata in {ctx.settings.path} is {values['metadata']!r}: make it true or false.")
    return Settings(
        polite.Limits(interval=number("per_host_interval_seconds", 0, 3600),
                      budget=number("time_budget_seconds", 1, 7 * 86400),
                      workers=int(number("workers", 1, 64, whole=True)),
                      host_failures=int(number("host_failures", 1, 1000, whole=True))),
        timeout=number("timeout_seconds", 1, 600), metadata=values["metadata"])


# ------------------------------------------------------------------------------------------ targets


def targets(ctx: Context) -> list[Target]:
    """What a run looks at, one target per URL (a sent referral's purpose first, then a removal's, then a
    re-upload's), those least recently looked at first."""
    found: dict[str, Target] = {}
    for referral_id, task_id, status, platform, url in ctx.db.execute(
            "SELECT r.id, r.task_id, r.status, r.platform, COALESCE(NULLIF(t.canonical_url, ''), t.url) "
            "FROM referrals r JOIN tasks t ON t.id = r.task_id WHERE r.status IN ('sent', 'removed') "
            "AND r.id = (SELECT MAX(x.id) FROM referrals x WHERE x.task_id = r.task_id AND x.sent_on IS NOT NULL) "
            "AND NOT EXISTS (SELECT 1 FROM tombstones s WHERE s.task_id = r.task_id) "
            "ORDER BY r.status DESC, r.id").fetchall():
        if url and url not in found:
            purpose = "awaiting" if status == "sent" else "removed"
            found[url] = Target(url, platform, purpose, task_id, referral_id=referral_id)
    for target in _reuploads(ctx):
        found.setdefault(target.url, target)
    listed = list(found.values())
    _last_seen(ctx, listed)
    listed.sort(key=lambda t: (t.last_observed or "", PURPOSES.index(t.purpose), t.url))
    return listed


def _reuploads(ctx: Context) -> list[Target]:
    """The URLs of captures the library matched (audited 'library.match'), while the item is kept."""
    kept = {item_id: task_id for item_id, task_id in ctx.db.execute(
        "SELECT id, task_id FROM library_items WHERE status = 'kept'")}
    found = []
    for capture_id, detail in ctx.db.execute(
            "SELECT object_id, detail FROM audit WHERE action = 'library.match' AND object_type = 'capture' "
            "ORDER BY seq"):
        items = [m.get("item") for m in json.loads(detail or "{}").get("matches", []) if m.get("item") in kept]
        if not items:
            continue
        row = ctx.db.execute(
            "SELECT c.task_id, t.platform, COALESCE(NULLIF(t.canonical_url, ''), t.url), c.purged_at "
            "FROM captures c JOIN tasks t ON t.id = c.task_id WHERE c.id = ?", [capture_id]).fetchone()
        if not row or not row[2] or row[3]:
            continue
        items = [i for i in items if kept[i] != row[0]] or []
        if items:
            found.append(Target(row[2], row[1], "reupload", row[0], item_id=items[0]))
    return found


def _last_seen(ctx: Context, listed: list[Target]) -> None:
    for start in range(0, len(listed), 500):
        chunk = {t.url: t for t in listed[start:start + 500]}
        marks = ", ".join("?" * len(chunk))
        for url, observed_at, result in ctx.db.execute(
                f"SELECT o.url, o.observed_at, o.result FROM observations o WHERE o.id IN (SELECT MAX(id) FROM "
                f"observations WHERE url IN ({marks}) GROUP BY url)", list(chunk)):
            chunk[url].last_observed, chunk[url].last_result = observed_at, result


# ---------------------------------------------------------------------------------------------- run


@contextlib.contextmanager
def check_lock(ctx: Context) -> Iterator[None]:
    """One check at a time per home: an fcntl lock on HOME/.check.lock (released by the system if the
    process dies). A second check refuses at once: a run may take its whole time budget."""
    path = ctx.home / LOCK_NAME
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise Failure(f"another `ohrt refer check` is running (process {holder}, lock {path}): let it "
                             "finish; the next scheduled run carries on where it stopped.") from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class _Run:
    """A run under way: its row, what it has seen, and the observations waiting to be committed."""

    id: int
    started_at: str
    pending: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {r: 0 for r in status_check.RESULTS})
    reinstated: int = 0
    gone_awaiting: list[str] = field(default_factory=list)     # referrals seen gone while still sent
    reinstatements: list[str] = field(default_factory=list)    # tasks seen back after removal


def check(ctx: Context, *, dry_run: bool = False,
          progress: Callable[[int, int, dict], None] | None = None) -> dict:
    """Look at every target once (see the module's docstring). Returns {dry_run, run, at, by, targets,
    checked, available, gone, unreachable, reinstated, skipped[], suggestions[], reinstatements[],
    interrupted_runs[], limits{}, seconds}; a dry run lists the targets instead of looking."""
    settings = limits(ctx)
    who = ctx.officer.number if ctx.officer else "scheduled"
    messages = status_check.Messages.load(ctx.home)
    listed = targets(ctx)
    summary = {"dry_run": dry_run, "run": None, "at": iso(ctx.now()), "by": who, "targets": len(listed),
               "limits": {"per_host_interval_seconds": settings.limits.interval,
                          "time_budget_seconds": settings.limits.budget, "timeout_seconds": settings.timeout,
                          "workers": settings.limits.workers, "host_failures": settings.limits.host_failures,
                          "metadata": settings.metadata}}
    if dry_run:
        summary["would_check"] = [t.summary() for t in listed]
        summary["hosts"] = len({status_check.host_of(t.url) for t in listed})
        return summary
    with check_lock(ctx):
        summary["interrupted_runs"] = _audit_interrupted(ctx)
        run = _start(ctx, who, len(listed))

        def work(target: Target, pacer: polite.Pacer) -> status_check.Look:
            return status_check.look(target.url, target.platform, messages, timeout=settings.timeout,
                                     metadata=settings.metadata, before_request=pacer.wait,
                                     after_request=pacer.done)

        def on_result(target: Target, seen: status_check.Look) -> None:
            run.pending.append(_observation(ctx, run, target, seen))
            run.counts[seen.result] += 1
            if len(run.pending) >= BATCH:
                _flush(ctx, run)
            if progress:
                progress(sum(run.counts.values()), len(listed), dict(run.counts))

        def on_error(target: Target, exc: Exception) -> status_check.Look:
            reason = f"could not look: {type(exc).__name__}: {exc}"[:200]
            return status_check.Look(status_check.UNREACHABLE, reason, None, {"error": reason})

        try:
            outcome = polite.run(listed, lambda t: t.url, work, on_result, settings.limits, on_error=on_error)
        finally:  # what was seen before an interruption is kept; the next run audits this one
            _flush(ctx, run)
        skipped = [{**t.summary(), "reason": reason} for t, reason in outcome.skipped]
        detail = _finish(ctx, run, outcome, skipped)
    summary.update(run=run.id, checked=outcome.done, **run.counts, reinstated=run.reinstated,
                   hosts=outcome.hosts, requests=outcome.requests, budget_spent=outcome.budget_spent,
                   seconds=round(outcome.seconds, 1), skipped=skipped,
                   suggestions=[hint for r in run.gone_awaiting if (hint := suggestion(ctx, r))],
                   reinstatements=sorted(set(run.reinstatements)), audit_seq=detail["audit_seq"])
    return summary


def _start(ctx: Context, who: str, count: int) -> _Run:
    started = iso(ctx.now())
    with transaction(ctx.db):
        run_id = ctx.db["check_runs"].insert({"started_at": started, "by": who, "state": "running",
                                              "targets": count}).last_pk
    return _Run(run_id, started)


def _observation(ctx: Context, run: _Run, target: Target, seen: status_check.Look) -> dict:
    """The row for one look; whether it is a reinstatement is decided when it is written (_flush)."""
    return {"run_id": run.id, "observed_at": iso(ctx.now()), "url": target.url,
            "host": status_check.host_of(target.url), "platform": target.platform, "purpose": target.purpose,
            "task_id": target.task_id, "referral_id": target.referral_id, "item_id": target.item_id,
            "result": seen.result, "http_status": seen.http_status, "message": seen.message,
            "evidence": status_check.evidence_json(seen), "reinstated": 0}


def _flush(ctx: Context, run: _Run) -> None:
    """Commit the observations waiting; each `available` is first checked for a reinstatement against
    what the home knew of that URL (a removal decided, or an earlier `gone`)."""
    if not run.pending:
        return
    rows, run.pending = run.pending, []
    with transaction(ctx.db):
        for row in rows:
            if row["result"] == status_check.AVAILABLE and _was_removed(ctx, row):
                row["reinstated"] = 1
                run.reinstated += 1
                run.reinstatements.append(row["task_id"])
            if row["result"] == status_check.GONE and row["purpose"] == "awaiting":
                run.gone_awaiting.append(row["referral_id"])
        ctx.db["observations"].insert_all(rows)


def _was_removed(ctx: Context, row: dict) -> bool:
    if row["purpose"] == "removed":
        return True
    last = ctx.db.execute("SELECT result, reinstated FROM observations WHERE url = ? AND result != 'unreachable' "
                          "ORDER BY id DESC LIMIT 1", [row["url"]]).fetchone()
    return bool(last and (last[0] == status_check.GONE or last[1]))  # seen gone, or already back since


def _finish(ctx: Context, run: _Run, outcome: polite.Outcome, skipped: list[dict]) -> dict:
    detail = {"run": run.id, "started_at": run.started_at, **_digest(ctx, run.id), **run.counts,
              "reinstated": run.reinstated, "skipped": len(skipped), "budget_spent": outcome.budget_spent,
              "hosts": outcome.hosts, "requests": outcome.requests}
    with transaction(ctx.db):
        seq = audit.record(ctx, "check.run", "check", str(run.id), detail=detail)
        ctx.db["check_runs"].update(run.id, {"finished_at": iso(ctx.now()), "state": "done", "audit_seq": seq,
                                             "detail": json.dumps(detail, sort_keys=True)})
    return {**detail, "audit_seq": seq}


def _digest(ctx: Context, run_id: int) -> dict:
    """The run's observations as the audit entry pins them: how many, the first and last id, and the
    SHA-256 of their rows (canonical JSON, one a line, in id order)."""
    sha, count, first, last = hashlib.sha256(), 0, None, None
    cursor = ctx.db.execute(f"SELECT {', '.join(OBSERVATION_COLUMNS)} FROM observations WHERE run_id = ? "
                            "ORDER BY id", [run_id])
    for values in cursor:
        row = dict(zip(OBSERVATION_COLUMNS, values))
        sha.update((audit.canonical_json(row) + "\n").encode("utf-8"))
        count += 1
        first = row["id"] if first is None else first
        last = row["id"]
    return {"observations": count, "first_observation": first, "last_observation": last,
            "observations_sha256": sha.hexdigest()}


def _audit_interrupted(ctx: Context) -> list[int]:
    """Runs cut short (still 'running' while this one holds the lock): audited now, as interrupted."""
    done = []
    for (run_id,) in ctx.db.execute("SELECT id FROM check_runs WHERE state = 'running' ORDER BY id").fetchall():
        counts = dict(ctx.db.execute("SELECT result, COUNT(*) FROM observations WHERE run_id = ? GROUP BY result",
                                     [run_id]).fetchall())
        started = ctx.db.execute("SELECT started_at FROM check_runs WHERE id = ?", [run_id]).fetchone()[0]
        detail = {"run": run_id, "started_at": started, "interrupted": True, **_digest(ctx, run_id),
                  **{r: counts.get(r, 0) for r in status_check.RESULTS}}
        with transaction(ctx.db):
            seq = audit.record(ctx, "check.run", "check", str(run_id), detail=detail)
            ctx.db["check_runs"].update(run_id, {"state": "interrupted", "audit_seq": seq,
                                                 "detail": json.dumps(detail, sort_keys=True)})
        done.append(run_id)
    return done


# --------------------------------------------------------------------------------- reading them back


def _rows(ctx: Context, sql: str, params: list) -> list[dict]:
    found = []
    for row in ctx.db.query(sql, params):
        row = dict(row)
        row["evidence"] = json.loads(row["evidence"]) if row.get("evidence") else {}
        row["reinstated"] = bool(row["reinstated"])
        found.append(row)
    return found


def task_observations(ctx: Context, task_id: str, *, limit: int | None = None) -> list[dict]:
    """A task's observations, newest first."""
    sql = (f"SELECT {', '.join(OBSERVATION_COLUMNS)} FROM observations WHERE task_id = ? ORDER BY id DESC"
           + (f" LIMIT {int(limit)}" if limit else ""))
    return _rows(ctx, sql, [(task_id or "").strip().upper()])


def referral_observations(ctx: Context, referral_id: str) -> list[dict]:
    """A referral's observations, newest first."""
    return _rows(ctx, f"SELECT {', '.join(OBSERVATION_COLUMNS)} FROM observations WHERE referral_id = ? "
                      "ORDER BY id DESC", [referral_id])


def latest_observations(ctx: Context, ids: list[str], *, by: str = "task_id") -> dict[str, dict]:
    """{id: its latest observation} for the tasks (or, with by="referral_id", the referrals) given."""
    if by not in ("task_id", "referral_id"):
        raise ValueError(by)
    found: dict[str, dict] = {}
    ids = sorted({i for i in ids if i})
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in _rows(ctx, f"SELECT {', '.join(OBSERVATION_COLUMNS)} FROM observations WHERE id IN "
                              f"(SELECT MAX(id) FROM observations WHERE {by} IN ({marks}) GROUP BY {by})", chunk):
            found[row[by]] = row
    return found


def brief(observation: dict | None) -> dict | None:
    """An observation as listings show it."""
    if not observation:
        return None
    return {"id": observation["id"], "observed_at": observation["observed_at"], "result": observation["result"],
            "message": observation["message"], "http_status": observation["http_status"],
            "reinstated": observation["reinstated"]}


def seen_text(observation: dict | None) -> str:
    """`gone 2026-12-05`, `back 2026-12-05` (reinstated), `up …`, `no answer …`, or '' when never looked at."""
    if not observation:
        return ""
    word = ("back" if observation["reinstated"] else
            {"available": "up", "gone": "gone", "unreachable": "no answer"}[observation["result"]])
    return f"{word} {observation['observed_at'][:10]}"


def with_observations(ctx: Context, referrals: list[dict]) -> list[dict]:
    """Referral rows with `observed` (their latest observation, brief) and `suggestion` (the command that
    records a removal the check saw, for one still sent), for listings."""
    latest = latest_observations(ctx, [r["id"] for r in referrals], by="referral_id")
    for row in referrals:
        seen = latest.get(row["id"])
        row["observed"] = brief(seen)
        hint = suggestion(ctx, row["id"]) if seen and seen["result"] == "gone" and row["status"] == "sent" else None
        row["suggestion"] = hint["command"] if hint else None
    return referrals


def first_gone_on(ctx: Context, referral_id: str) -> str | None:
    """The day the content was first seen gone in the latest run of `gone` for this referral's URL (no
    `available` since), or None when its latest observation is not `gone`."""
    rows = ctx.db.execute("SELECT result, observed_at FROM observations WHERE referral_id = ? AND result != "
                          "'unreachable' ORDER BY id DESC", [referral_id]).fetchall()
    day = None
    for result, observed_at in rows:
        if result != status_check.GONE:
            break
        day = observed_at[:10]
    return day


def suggestion(ctx: Context, referral_id: str) -> dict | None:
    """For a referral still `sent` whose content is seen gone: the command that records the removal."""
    row = ctx.db.execute("SELECT status FROM referrals WHERE id = ?", [referral_id]).fetchone()
    if not row or row[0] != "sent":
        return None
    day = first_gone_on(ctx, referral_id)
    if not day:
        return None
    words = ctx.db.execute("SELECT message FROM observations WHERE referral_id = ? AND result = 'gone' "
                           "ORDER BY id DESC LIMIT 1", [referral_id]).fetchone()[0]
    return {"referral_id": referral_id, "observed_on": day, "message": words,
            "command": f"ohrt refer outcome {referral_id} --removed --observed-on {day}"}


def reinstatement(ctx: Context, task_id: str) -> dict | None:
    """When the task's content is available again after its removal (its latest look says so)."""
    latest = latest_observations(ctx, [task_id]).get(task_id)
    if not latest or not latest["reinstated"]:
        return None
    return {"task_id": task_id, "observed_on": latest["observed_at"][:10], "url": latest["url"],
            "note": "available again after its removal: refer it again or appeal (SOP 10.7)"}


def observation_on(ctx: Context, referral_id: str, day: dt.date) -> dict | None:
    """The first `gone` observation of this referral on `day`, which `--observed-on` points at."""
    rows = _rows(ctx, f"SELECT {', '.join(OBSERVATION_COLUMNS)} FROM observations WHERE referral_id = ? "
                      "AND result = 'gone' AND substr(observed_at, 1, 10) = ? ORDER BY id LIMIT 1",
                 [referral_id, day.isoformat()])
    return rows[0] if rows else None
