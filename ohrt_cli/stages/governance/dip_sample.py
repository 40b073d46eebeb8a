"""The quarterly dip sample, SOP 7.5, and the quarterly report's making (SOP 7.2, 6.5: figures.py,
publication.py, report.py).

Dip sampling (7.5): every quarter an Inspector draws 5% of the quarter's deployments — the tasks reviewed
in it — and supervisors record, for each task drawn, whether the data was recorded accurately, the quality
of the review (1–5) and whether the SOP was complied with. The draw is reproducible by anyone: see
`ALGORITHM` and `rank`.

The quarterly report (7.2) gives the unit's performance figures beside the previous quarter's, in an
anonymised form that may be shared with the Home Office (6.5): no names, URLs, titles, channels or
subjects, and small counts suppressed (see `publish_count`). The figures are aggregated in SQL; rendering
is `report_render`'s job.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from pathlib import Path
from typing import Iterable

from ...ground import audit, checkpoints, exports, sensitive
from . import figures
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import InputError, NotAllowed, NotFound, StateError
from ...ground.times import Quarter, iso, quarter, quarter_of

# ------------------------------------------------------------------------------------------- quarters


def last_complete_quarter(ctx: Context) -> Quarter:
    return quarter_of(ctx.today()).previous()


# --------------------------------------------------------------------------------------- dip sampling

SAMPLE_PERCENT = 5
ALGORITHM = "sha256-rank/1"
ALGORITHM_TEXT = (
    "sort the quarter's task ids by the lowercase hex SHA-256 of the UTF-8 text SEED + ':' + TASK_ID "
    "(ties by task id) and take the first SIZE; SIZE = ceil(5% of the population), at least 1"
)
SEED_FORM = re.compile(r"[A-Za-z0-9._-]{1,64}")


def sample_size(population: int) -> int:
    """5% of the deployments rounded up, at least one (SOP 7.5); integer arithmetic, no float rounding."""
    return max(1, (population * SAMPLE_PERCENT + 99) // 100)


def rank_key(seed: str, task_id: str) -> str:
    return hashlib.sha256(f"{seed}:{task_id}".encode("utf-8")).hexdigest()


def rank(seed: str, task_ids: Iterable[str]) -> list[str]:
    """The task ids in draw order for `seed` (ALGORITHM). Any language with SHA-256 reproduces it, e.g.
    `printf '%s' "SEED:T-2026-000001" | sha256sum` for one task."""
    return sorted(task_ids, key=lambda task_id: (rank_key(seed, task_id), task_id))


def draw_from(seed: str, population: list[str]) -> list[str]:
    return rank(seed, population)[:sample_size(len(population))]


def population_digest(task_ids: Iterable[str]) -> str:
    """SHA-256 of the sorted task ids one per line, each ending in a newline: what
    `... | LC_ALL=C sort | sha256sum` prints for the same list."""
    return hashlib.sha256("".join(f"{t}\n" for t in sorted(task_ids)).encode("utf-8")).hexdigest()


def deployments(ctx: Context, q: Quarter) -> list[str]:
    """The quarter's deployments (7.5): every task with a review dated in the quarter, sorted.

    A review later superseded still counts: the deployment happened, and its quality is what the dip
    sample checks. A task reviewed twice in the quarter counts once."""
    return [task_id for (task_id,) in ctx.db.execute(
        "SELECT DISTINCT task_id FROM reviews WHERE review_date >= ? AND review_date < ? ORDER BY task_id",
        [q.lo, q.hi])]


def _check_seed(seed: str) -> str:
    seed = (seed or "").strip()
    if not SEED_FORM.fullmatch(seed):
        raise InputError(f"seed {seed!r} is not usable: give 1 to 64 letters, digits, '.', '_' or '-', "
                         "e.g. --seed 20261001-dice-4821.")
    return seed


def _sample_row(ctx: Context, name: str) -> dict | None:
    cursor = ctx.db.execute("SELECT * FROM dip_samples WHERE quarter = ?", [name])
    row = cursor.fetchone()
    if row is None:
        return None
    sample = dict(zip([d[0] for d in cursor.description], row))
    sample["task_ids"] = json.loads(sample["task_ids"] or "[]")
    sample["population_ids"] = json.loads(sample["population_ids"] or "[]")
    return sample


def draw_sample(ctx: Context, quarter_text: str, seed: str | None = None) -> dict:
    """Draw the quarter's dip sample (7.5) with `seed` (a fresh random one when None) and record it.

    Inspector or above. Only once per quarter, and only once the quarter is over, so that the sample is
    of the whole quarter's deployments."""
    officer = ctx.actor("inspector")
    q = quarter(quarter_text)
    if ctx.today() < q.end:
        raise StateError(f"quarter {q.name} runs until {q.last_day}: draw its dip sample from {q.end} on, when "
                         "all its deployments are known (SOP 7.5).")
    seed = _check_seed(seed) if seed is not None else secrets.token_hex(8)
    with transaction(ctx.db):
        existing = _sample_row(ctx, q.name)
        if existing:
            raise StateError(
                f"the dip sample for {q.name} was drawn on {existing['drawn_at'][:10]} by {existing['drawn_by']}: "
                f"a quarter has one draw. See it with `ohrt dip-sample show {q.name}`, or check it with "
                f"`ohrt dip-sample draw --quarter {q.name} --seed {existing['seed']} --check`.")
        population = deployments(ctx, q)
        if not population:
            raise StateError(f"no task was reviewed in {q.name} ({q.start} to {q.last_day}): there is nothing to "
                             "dip-sample; check the quarter.")
        chosen = draw_from(seed, population)
        digest = population_digest(population)
        ctx.db.execute(
            "INSERT INTO dip_samples (quarter, seed, algorithm, drawn_at, drawn_by, population, size, task_ids, "
            "population_ids, population_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [q.name, seed, ALGORITHM, iso(ctx.now()), officer.number, len(population), len(chosen),
             json.dumps(chosen), json.dumps(population), digest])
        audit.record(ctx, "dip_sample.draw", "dip_sample", q.name, detail={
            "seed": seed, "algorithm": ALGORITHM, "population": len(population), "population_sha256": digest,
            "size": len(chosen), "task_ids": chosen})
    return get_sample(ctx, q.name)


def check_sample(ctx: Context, quarter_text: str, seed: str | None = None) -> dict:
    """Draw the quarter again from today's records with `seed` (the recorded one when None) and compare
    with the recorded draw. A read: nothing is changed. Returns {matches, differences[], ...}."""
    q = quarter(quarter_text)
    recorded = _sample_row(ctx, q.name)
    if recorded is None:
        raise NotFound(f"no dip sample has been drawn for {q.name}: draw it with "
                       f"`ohrt dip-sample draw --quarter {q.name}`.")
    seed = _check_seed(seed) if seed is not None else recorded["seed"]
    population = deployments(ctx, q)
    drawn = draw_from(seed, population) if population else []
    differences = _differences(recorded, seed, population, drawn)
    return {"quarter": q.name, "matches": not differences, "differences": differences, "seed": seed,
            "algorithm": ALGORITHM, "population": len(population), "population_sha256": population_digest(population),
            "task_ids": drawn, "recorded": {key: recorded[key] for key in (
                "seed", "algorithm", "population", "population_sha256", "size", "task_ids")}}


def _differences(recorded: dict, seed: str, population: list[str], drawn: list[str]) -> list[str]:
    """What differs between the recorded draw and this one, each as one readable line."""
    found = []
    if seed != recorded["seed"]:
        found.append(f"seed {seed!r} is not the recorded seed {recorded['seed']!r}")
    if recorded["algorithm"] != ALGORITHM:
        found.append(f"the draw was recorded with algorithm {recorded['algorithm']}, this ohrt draws with "
                     f"{ALGORITHM}")
    before, now = set(recorded["population_ids"]), set(population)
    for task_id in sorted(now - before):
        found.append(f"{task_id} is among the quarter's deployments now but was not at the draw")
    for task_id in sorted(before - now):
        found.append(f"{task_id} was among the quarter's deployments at the draw but is not now")
    if recorded["population_sha256"] != population_digest(population) and before == now:
        found.append("the recorded population digest does not match the recorded population ids")
    missing = [t for t in recorded["task_ids"] if t not in drawn]
    extra = [t for t in drawn if t not in recorded["task_ids"]]
    found += [f"{t} is in the recorded draw but not in this one" for t in missing]
    found += [f"{t} is in this draw but not in the recorded one" for t in extra]
    return found


def _yes_no(value: str | bool, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = (value or "").strip().lower()
    if text in ("yes", "y", "true"):
        return True
    if text in ("no", "n", "false"):
        return False
    raise InputError(f"{what} {value!r} must be yes or no, e.g. --{what} yes.")


def _quality(value: int | str) -> int | None:
    """A quality score 1–5 as given (int, or text from the command line); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*[1-5]\s*", value):
        return int(value)
    return value if isinstance(value, int) and 1 <= value <= 5 else None


def record_result(ctx: Context, task_id: str, *, accurate: str | bool, quality: int | str, compliant: str | bool,
                  note: str | None = None, quarter_text: str | None = None) -> dict:
    """Record a dip-sample result for one task drawn (7.5): accuracy of data recording, quality of review
    (1–5), compliance with the SOP, and a note to feed back.

    Sergeant or above (the supervisors of 3.6.3), never for a task whose review they made. Recording again
    corrects the result: the latest counts, the earlier stays in the table and the audit chain."""
    officer = ctx.actor("sergeant")
    task_id = (task_id or "").strip().upper()
    accurate, compliant = _yes_no(accurate, "accurate"), _yes_no(compliant, "compliant")
    score = _quality(quality)
    if score is None:
        raise InputError(f"quality {quality!r} must be a whole number from 1 (poor) to 5 (excellent), "
                         "e.g. --quality 4.")
    note = (note or "").strip()
    if not note and not (accurate and compliant):
        raise InputError("a result that is not accurate or not compliant needs a --note saying what to put right: "
                         "it is fed back to the officer (SOP 7.5).")
    with transaction(ctx.db):
        name = _quarter_sampling(ctx, task_id, quarter_text)
        reviewers = {number for (number,) in ctx.db.execute(
            "SELECT DISTINCT officer FROM reviews WHERE task_id = ?", [task_id])}
        if officer.number in reviewers:
            raise NotAllowed(f"{officer} reviewed {task_id}: another supervisor must record its dip-sample result.")
        previous = ctx.db.execute("SELECT MAX(id) FROM dip_sample_results WHERE quarter = ? AND task_id = ?",
                                  [name, task_id]).fetchone()[0]
        ctx.db.execute(
            "INSERT INTO dip_sample_results (quarter, task_id, accurate, quality, compliant, note, officer, "
            "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [name, task_id, int(accurate), score, int(compliant), note, officer.number, iso(ctx.now())])
        audit.record(ctx, "dip_sample.record", "task", task_id, detail={
            "quarter": name, "accurate": accurate, "quality": score, "compliant": compliant,
            "note_given": bool(note), "corrects": previous})
    sample = get_sample(ctx, name)
    return next(task for task in sample["tasks"] if task["task_id"] == task_id)


def _quarter_sampling(ctx: Context, task_id: str, quarter_text: str | None) -> str:
    """The quarter whose dip sample holds `task_id` (the one named, or the only one)."""
    if quarter_text:
        q = quarter(quarter_text)
        sample = _sample_row(ctx, q.name)
        if sample is None:
            raise NotFound(f"no dip sample has been drawn for {q.name}: draw it with "
                           f"`ohrt dip-sample draw --quarter {q.name}`.")
        if task_id not in sample["task_ids"]:
            raise InputError(f"{task_id} is not in the dip sample for {q.name}: results are recorded only for the "
                             f"tasks drawn (see `ohrt dip-sample show {q.name}`).")
        return q.name
    holding = [name for name, ids in ctx.db.execute("SELECT quarter, task_ids FROM dip_samples ORDER BY quarter")
               if task_id in json.loads(ids or "[]")]
    if not holding:
        raise InputError(f"{task_id} is in no dip sample: results are recorded only for the tasks drawn "
                         "(see `ohrt dip-sample show QUARTER`).")
    if len(holding) > 1:
        raise InputError(f"{task_id} was drawn in the samples of {', '.join(holding)}: say which with --quarter.")
    return holding[0]


def get_sample(ctx: Context, quarter_text: str) -> dict:
    """The quarter's dip sample: how it was drawn, each task drawn with its latest result, and a summary
    (proportion accurate and compliant, mean quality)."""
    q = quarter(quarter_text)
    sample = _sample_row(ctx, q.name)
    if sample is None:
        raise NotFound(f"no dip sample has been drawn for {q.name}: draw it with "
                       f"`ohrt dip-sample draw --quarter {q.name}`.")
    tasks = [_sampled_task(ctx, q, task_id) for task_id in sample["task_ids"]]
    results = [t["result"] for t in tasks if t["result"]]
    return {
        "quarter": q.name, "seed": sample["seed"], "algorithm": sample["algorithm"],
        "algorithm_text": ALGORITHM_TEXT if sample["algorithm"] == ALGORITHM else None,
        "drawn_at": sample["drawn_at"], "drawn_by": sample["drawn_by"], "population": sample["population"],
        "population_sha256": sample["population_sha256"], "size": sample["size"], "tasks": tasks,
        "summary": _summary(results, len(tasks)),
    }


def _sampled_task(ctx: Context, q: Quarter, task_id: str) -> dict:
    task = ctx.db.execute("SELECT platform, status FROM tasks WHERE id = ?", [task_id]).fetchone()
    review = ctx.db.execute(
        "SELECT id, officer, decision, format FROM reviews WHERE task_id = ? AND review_date >= ? "
        "AND review_date < ? ORDER BY reviewed_at DESC, id DESC LIMIT 1", [task_id, q.lo, q.hi]).fetchone()
    result = ctx.db.execute(
        "SELECT accurate, quality, compliant, note, officer, recorded_at FROM dip_sample_results "
        "WHERE quarter = ? AND task_id = ? ORDER BY id DESC LIMIT 1", [q.name, task_id]).fetchone()
    return {
        "task_id": task_id,
        "platform": task[0] if task else None,
        "status": task[1] if task else None,
        "review_id": review[0] if review else None,
        "reviewed_by": review[1] if review else None,
        "decision": review[2] if review else None,
        "format": review[3] if review else None,
        "result": None if result is None else {
            "accurate": bool(result[0]), "quality": result[1], "compliant": bool(result[2]), "note": result[3],
            "recorded_by": result[4], "recorded_at": result[5]},
    }


def _summary(results: list[dict], size: int) -> dict:
    n = len(results)

    def share(key: str) -> float | None:
        return round(100 * sum(r[key] for r in results) / n, 1) if n else None

    return {"recorded": n, "outstanding": size - n, "accurate_percent": share("accurate"),
            "compliant_percent": share("compliant"),
            "mean_quality": round(sum(r["quality"] for r in results) / n, 2) if n else None}


# ------------------------------------------------------------------------------- the quarterly report

def build_report(ctx: Context, quarter_text: str | None = None) -> dict:
    """The quarterly report (7.2) for the quarter named (default: the last complete one) beside the
    previous quarter, anonymised (6.5). A read: `produce_report` writes and audits it."""
    q = quarter(quarter_text) if quarter_text else last_complete_quarter(ctx)
    if q.start > ctx.today():
        raise InputError(f"quarter {q.name} has not begun (today is {ctx.today()}): report on a past quarter, "
                         f"e.g. --quarter {last_complete_quarter(ctx).name}.")
    threshold = figures.threshold_of(ctx)
    prev = q.previous()
    guard = sensitive.for_context(ctx)
    return {
        "report": "ohrt quarterly report",
        "format_version": 1,
        "team": ctx.settings.team_name,
        "quarter": q.name,
        "period": {"start": q.lo, "end": q.last_day.isoformat()},
        "previous_quarter": prev.name,
        "previous_period": {"start": prev.lo, "end": prev.last_day.isoformat()},
        "complete": ctx.today() >= q.end,
        "generated_at": iso(ctx.now()),
        "small_count_threshold": threshold,
        "sections": [{"id": sid, "title": title, "about": about} for sid, title, about in figures.SECTIONS],
        # a platform given as a host name, or a unit named after a person, is not named (6.5)
        "figures": figures.figures(ctx.db, q, threshold, withhold=lambda key: bool(guard.find(key))),
    }


FORMATS = ("html", "md", "csv", "json")
SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".csv": "csv", ".json": "json"}


def format_for(fmt: str | None, out: Path | None) -> str:
    """The format asked for, else the one the output file's suffix names, else Markdown."""
    if fmt:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise InputError(f"format {fmt!r} is not one of {', '.join(FORMATS)}: e.g. --format html.")
        return fmt
    if out is not None and out.suffix.lower() in SUFFIXES:
        return SUFFIXES[out.suffix.lower()]
    return "md"


def produce_report(ctx: Context, quarter_text: str | None, fmt: str | None = None, out: Path | None = None,
                   mode: str | None = None) -> dict:
    """Build, render and deliver the report: to `out` (written atomically, with `mode`: ground/exports.py) or
    returned as text for stdout; either way audited ('report.produce', with the output's SHA-256) in one
    transaction."""
    from .report import render

    ctx.actor()
    out = Path(out).expanduser().absolute() if out is not None else None
    fmt = format_for(fmt, out)
    permissions = None
    if out is not None:
        _check_destination(out)
        permissions = exports.for_context(ctx, out.parent, mode)
    elif mode is not None:
        raise InputError("--mode is for a report written with --out: give --out FILE, or leave out --mode.")
    report = build_report(ctx, quarter_text)
    # the chain's head as the report is made, signed by the home (no officer is named in the report, 6.5)
    report["audit_checkpoint"] = checkpoints.make(ctx, by_home=True)
    text = render(ctx, report, fmt)
    data = text.encode("utf-8")
    detail = {"format": fmt, "to": str(out) if out else "stdout", "sha256": hashlib.sha256(data).hexdigest(),
              "bytes": len(data), "small_count_threshold": report["small_count_threshold"],
              "previous_quarter": report["previous_quarter"]}
    with transaction(ctx.db):
        audit.record(ctx, "report.produce", "report", report["quarter"], detail=detail)
        if out is not None:
            exports.write_bytes(out, data, permissions)
    return {"quarter": report["quarter"], "format": fmt, "file": str(out) if out else None,
            "sha256": detail["sha256"], "bytes": len(data), "text": None if out else text}


def _check_destination(out: Path) -> None:
    if out.is_dir():
        raise InputError(f"{out} is a folder: give a file name, e.g. --out {out / 'report.html'}.")
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist: create it or choose another --out.")


__all__ = ["Quarter", "quarter", "draw_sample", "check_sample", "record_result", "get_sample", "build_report",
           "produce_report"]
