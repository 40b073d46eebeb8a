"""`ohrt refer …` and `ohrt intel`: referral to platforms, QA, sending, outcomes, appeals (SOP 10)."""

from __future__ import annotations

import os
from typing import Optional

import typer

from ._common import (STATE, edit_text, fail, json_option, new_app, print_json, print_record, print_table, run,
                      under, wide_option)

refer_app = new_app(
    "Referrals to platforms: draft, QA, send, record the decision, appeal (SOP 10). `ohrt refer TASK` drafts.\n\n"
    "Example: ohrt refer T-2026-000001",
    default="draft",
)

LIST_COLUMNS = [("id", "Referral"), ("task_id", "Task"), ("kind", "Kind"), ("platform", "Platform"),
                ("route", "Route"), ("status", "Status"), ("version", "v"), ("sent_on", "Sent"),
                ("outcome_on", "Decided"), ("seen", "Checked")]
SHOW_FIELDS = [("id", "referral"), ("kind", "kind"), ("appeal_of", "appeal of"), ("task_id", "task"),
               ("review_id", "review"), ("platform", "platform"), ("route", "route"), ("recipient", "to"),
               ("status", "status"), ("version", "version"), ("drafted_by", "drafted by"),
               ("drafted_at", "drafted at"), ("draft_file", "draft"), ("message_id", "message id"),
               ("qa_by", "QA by"), ("qa_at", "QA at"), ("sent_on", "sent on"), ("sent_via", "sent via"),
               ("platform_ref", "platform ref"), ("outcome", "outcome"), ("outcome_on", "decided on"),
               ("outcome_note", "note"), ("outcome_observation", "observation"), ("appeals", "appeals"),
               ("purged", "purged"), ("seen", "last check")]
NEXT = {
    "drafted": "next: a sergeant who did not draft it checks it: ohrt refer qa {id} --approve (or --return --note …)",
    "returned": "next: mend it and draft again: ohrt refer draft {task} --edit (or --summary TEXT), or review "
                "{task} again to change the findings",
    "approved": "next: send it, then: ohrt refer sent {id} [--platform-ref REF] (or --smtp to send it now)",
    "sent": "next: when the platform decides: ohrt refer outcome {id} --removed | --not-removed",
    "not-removed": "next: consider an appeal (SOP 10.7): ohrt refer appeal {id}, or ohrt refer close {task} --reason …",
    "removed": "done: the content was removed.",
}


def _summary(referral: dict) -> None:
    """Print what was done to a referral and what comes next."""
    typer.echo(f"{referral['id']} ({referral['kind']}, v{referral['version']}) is {referral['status']}"
               + (f": {referral['draft_file']}" if referral["status"] == "drafted" else ""))
    for path in referral["files"] if referral["status"] == "drafted" else []:
        if path != referral["draft_file"]:
            typer.echo(f"  also: {path}")
    for warning in referral.get("warnings") or []:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    typer.echo(NEXT[referral["status"]].format(id=referral["id"], task=referral["task_id"]))


@refer_app.command("draft")
def refer_draft(
    task_id: str = typer.Argument(..., metavar="TASK", help="Task id, e.g. T-2026-000001 (its review must decide to refer)."),
    summary: Optional[str] = typer.Option(None, "--summary", help="Your own words on the content, shown to the "
                                          "platform under 'In short' (kept for the next version; '' clears it)."),
    grounds: Optional[str] = typer.Option(None, "--grounds", help="On a returned appeal: its grounds, reworded."),
    edit: bool = typer.Option(False, "--edit", help="Write the summary (and an appeal's grounds) in $EDITOR, "
                              "starting from the last version's, with QA's note shown."),
    as_json: bool = json_option("Print the drafted referral as JSON."),
) -> None:
    """Draft the referral of a reviewed task from the templates (SOP 10.1): an .eml for mailbox and
    individual routes, portal text and a checklist for the Trusted Flagger portal. Run it again on a
    returned draft to make the next version, mended: your own words with --edit or --summary, the findings
    by reviewing the task again; a version the same as the one QA returned is refused. Also reachable as
    `ohrt refer TASK`.

    Example: ohrt refer draft T-2026-000001 --summary 'Names a rival and mocks his injuries, 0:10-0:25.'
    """
    from ..stages.refer import draft_referral, officer_text

    if edit:
        if summary is not None or grounds is not None:
            fail("--edit opens the editor on the summary and grounds: give it alone, or use --summary/--grounds.")
        summary, grounds = _edit(run(lambda ctx: officer_text(ctx, task_id)))
    referral = run(lambda ctx: draft_referral(ctx, task_id, summary=summary, grounds=grounds))
    print_json(referral) if as_json else _summary(referral)


EDIT_HELP = """\
# {what} of {task}: write your own words under each [heading]; lines starting with # are left out.
# The content, the findings and the terms come from the capture and the review: to change them,
# review the task again. Save and close the editor to draft; an empty file drafts without them.
"""


def _edit(parts: dict) -> tuple[str, str | None]:
    """The officer-written parts after $EDITOR: (summary, grounds or None for a referral)."""
    what = (f"{parts['referral']} v{parts['version']} ({parts['kind']})" if parts["referral"]
            else f"the first {parts['kind']}")
    text = EDIT_HELP.format(what=what, task=parts["task"])
    if parts["returned"]:
        text += f"# QA returned v{parts['version'] - 1}: {parts['returned']}\n"
    text += f"[summary]\n{parts['summary']}\n"
    if parts["kind"] == "appeal":
        text += f"\n[grounds]\n{parts['grounds']}\n"
    edited = edit_text(text)
    found: dict[str, list[str]] = {"summary": [], "grounds": []}
    section = "summary"
    for line in edited.splitlines():
        if line.startswith("#"):
            continue
        if line.strip() in ("[summary]", "[grounds]"):
            section = line.strip()[1:-1]
            continue
        found[section].append(line)
    summary = "\n".join(found["summary"]).strip()
    grounds = "\n".join(found["grounds"]).strip()
    return summary, (grounds if parts["kind"] == "appeal" else None)


@refer_app.command("qa")
def refer_qa(
    referral_id: str = typer.Argument(..., metavar="REF", help="Referral id, e.g. R-2026-000001."),
    approve: Optional[bool] = typer.Option(None, "--approve/--return", help="Approve the draft, or return it to be "
                                           "drafted again (with --note).", show_default=False),
    note: Optional[str] = typer.Option(None, "--note", help="What to mend (needed with --return)."),
    as_json: bool = json_option("Print the referral as JSON."),
) -> None:
    """Quality-check a draft (SOP 10.2): by a sergeant or above who did not draft it.

    Example: ohrt --officer 2345 refer qa R-2026-000001 --approve
    """
    from ..stages.refer import qa_referral

    if approve is None:
        fail("say --approve or --return --note TEXT.")
    referral = run(lambda ctx: qa_referral(ctx, referral_id, approve=approve, note=note))
    print_json(referral) if as_json else _summary(referral)


@refer_app.command("sent")
def refer_sent(
    referral_id: str = typer.Argument(..., metavar="REF", help="Referral id, e.g. R-2026-000001."),
    on: Optional[str] = typer.Option(None, "--on", help="Date it was sent, YYYY-MM-DD (default: today)."),
    platform_ref: Optional[str] = typer.Option(None, "--platform-ref", help="The platform's or portal's reference."),
    smtp: bool = typer.Option(False, "--smtp", help="Send the approved .eml now through the relay in config.toml "
                              "[smtp], and record its Message-ID."),
    as_json: bool = json_option("Print the referral as JSON."),
) -> None:
    """Record that an approved referral went to the platform (SOP 10.5), or send it now with --smtp.

    Example: ohrt refer sent R-2026-000001 --on 2026-11-03 --platform-ref TF-88231
    """
    from ..stages.refer import mark_sent

    def warn(message: str) -> None:
        typer.secho(f"warning: {message}", fg=typer.colors.YELLOW, err=True)

    referral = run(lambda ctx: mark_sent(ctx, referral_id, on=on, platform_ref=platform_ref, smtp=smtp, warn=warn))
    if as_json:
        print_json(referral)
        return
    if referral["sent_via"] == "smtp":
        typer.echo(f"sent {referral['id']} to {referral['recipient']} as {referral['message_id']}")
    _summary(referral)


@refer_app.command("outcome")
def refer_outcome(
    referral_id: str = typer.Argument(..., metavar="REF", help="Referral id, e.g. R-2026-000001."),
    removed: Optional[bool] = typer.Option(None, "--removed/--not-removed", help="The platform took the content "
                                           "down (10.6.1), or left it up (10.6.2).", show_default=False),
    on: Optional[str] = typer.Option(None, "--on", help="Date of the platform's decision, YYYY-MM-DD (default: "
                                     "today)."),
    note: Optional[str] = typer.Option(None, "--note", help="What the platform said."),
    observed_on: Optional[str] = typer.Option(None, "--observed-on", help="With --removed, when the platform never "
                                              "said: the day `ohrt refer check` saw the content gone, YYYY-MM-DD "
                                              "(as `refer show` suggests)."),
    as_json: bool = json_option("Print the referral as JSON."),
) -> None:
    """Record the platform's decision (SOP 10.6). A removal of musical content goes into the Domain library.
    A removal the platform never announced is recorded from the check's observation with --observed-on.

    Example: ohrt refer outcome R-2026-000001 --removed --on 2026-11-05
    """
    from ..stages.refer import record_outcome

    if removed is None:
        fail("say --removed or --not-removed.")
    referral = run(lambda ctx: record_outcome(ctx, referral_id, removed=removed, on=on, note=note,
                                              observed_on=observed_on))
    if as_json:
        print_json(referral)
        return
    _summary(referral)
    if referral.get("library_item"):
        typer.echo(f"Domain library: {referral['library_item'].get('id')}")


@refer_app.command("appeal")
def refer_appeal(
    referral_id: str = typer.Argument(..., metavar="REF", help="The referral the platform did not act on, e.g. R-2026-000001."),
    grounds: Optional[str] = typer.Option(None, "--grounds", help="Further grounds of appeal, in words the "
                                          "platform may read (only what the content shows)."),
    summary: Optional[str] = typer.Option(None, "--summary", help="Your own words on the content, shown under "
                                          "'In short'."),
    as_json: bool = json_option("Print the drafted appeal as JSON."),
) -> None:
    """Draft an appeal against a platform's decision not to remove (SOP 10.7), citing the original
    referral. It goes through QA, sending and outcome like a referral.

    Example: ohrt refer appeal R-2026-000001
    """
    from ..stages.refer import draft_appeal

    referral = run(lambda ctx: draft_appeal(ctx, referral_id, grounds=grounds, summary=summary))
    print_json(referral) if as_json else _summary(referral)


@refer_app.command("close")
def refer_close(
    task_id: str = typer.Argument(..., metavar="TASK", help="Task id, e.g. T-2026-000001."),
    reason: str = typer.Option(..., "--reason", help="Why the task is closed, e.g. why no appeal (SOP 10.7)."),
    as_json: bool = json_option(),
) -> None:
    """Close a task whose platform has decided: removed, or not removed and not to be appealed.

    Example: ohrt refer close T-2026-000001 --reason 'no grounds for appeal'
    """
    from ..stages.refer import close_task

    result = run(lambda ctx: close_task(ctx, task_id, reason=reason))
    print_json(result) if as_json else typer.echo(f"{result['task_id']} closed ({result['outcome']})")


@refer_app.command("list")
def refer_list(
    status: Optional[str] = typer.Option(None, "--status", help="Only referrals in this status: drafted, returned, "
                                         "approved, sent, removed, not-removed."),
    task_id: Optional[str] = typer.Option(None, "--task", help="Only this task's referrals."),
    wide: bool = wide_option(),
    as_json: bool = json_option(),
) -> None:
    """List referrals and appeals.

    Example: ohrt refer list --status sent
    """
    from ..stages.refer import list_referrals

    from ..stages.refer import seen_text

    rows = run(lambda ctx: list_referrals(ctx, status=status, task_id=task_id))
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["seen"] = seen_text(row["observed"])
    print_table(rows, LIST_COLUMNS, empty="no referrals", drop=("route", "kind", "version"))
    for row in rows:
        if row["suggestion"]:
            typer.echo(f"{row['id']}: the check saw it gone ({row['observed']['message']}): confirm with "
                       f"{row['suggestion']}")
        elif row["observed"] and row["observed"]["reinstated"]:
            typer.echo(f"{row['id']}: available again after its removal ({row['observed']['observed_at'][:10]}): "
                       "refer it again or appeal (SOP 10.7)")


@refer_app.command("show")
def refer_show(
    referral_id: str = typer.Argument(..., metavar="REF", help="Referral id, e.g. R-2026-000001."),
    wide: bool = wide_option(),
    as_json: bool = json_option(),
) -> None:
    """Show one referral: its route, status, QA history, sending and the platform's decision.

    Example: ohrt refer show R-2026-000001 --json
    """
    from ..stages.refer import get_referral

    from ..stages.refer import seen_text

    referral = run(lambda ctx: get_referral(ctx, referral_id))
    if as_json:
        print_json(referral)
        return
    if referral["purged"] and not referral["files"]:
        referral = {**referral, "draft_file": "deleted by the purge"}  # the drafts went with the material
    referral["seen"] = seen_text(referral["observations"][0] if referral["observations"] else None)
    print_record(referral, SHOW_FIELDS)
    for check in referral["qa"]:
        typer.echo(f"  QA v{check['version']}: {check['verdict']} by {check['officer']} at {check['at']}"
                   + (f" — {check['note']}" if check["note"] else ""))
    print_observations(referral["observations"])
    if referral["suggestion"]:
        typer.echo(f"the check saw it gone on {referral['suggestion']['observed_on']}: if the platform removed it, "
                   f"confirm with: {referral['suggestion']['command']}")
    elif referral["reinstated"]:
        typer.echo("available again after its removal: refer it again or appeal (SOP 10.7)")


SHOWN_OBSERVATIONS = 10


def print_observations(observations: list[dict]) -> None:
    """The latest observations, one a line: when, what was seen, the status and the platform's words."""
    if not observations:
        return
    typer.echo(f"observations ({len(observations)}, newest first; `--json` for all):")
    for seen in observations[:SHOWN_OBSERVATIONS]:
        what = seen["result"] + (" (reinstated)" if seen["reinstated"] else "")
        status = f"HTTP {seen['http_status']}" if seen["http_status"] else "no answer"
        words = f": {seen['message']}" if seen["message"] else ""
        typer.echo(f"  {seen['observed_at']}  {what}, {status}{words}")


@refer_app.command("check")
def refer_check(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be looked at; ask nothing."),
    wide: bool = wide_option(),
    as_json: bool = json_option("Print the run's summary as JSON."),
) -> None:
    """Look at referred content without downloading it, and record what is seen: every sent referral
    awaiting a decision, every removal still within retention (a reinstatement), every known re-upload of
    a library item. Each URL is `available`, `gone` (with the platform's words) or `unreachable`. Made
    for cron: a per-host rate limit and a time budget ([check] in config.toml), one run at a time.

    Example: ohrt refer check --dry-run
    """
    import sys
    import time

    from ..stages.refer import check

    shown = {"at": time.monotonic()}

    def progress(done: int, total: int, counts: dict) -> None:
        if sys.stderr.isatty() and (time.monotonic() - shown["at"] > 2 or done == total):
            shown["at"] = time.monotonic()
            typer.echo(f"\rlooked at {done:,} of {total:,}: {counts['gone']} gone, {counts['unreachable']} "
                       "unreachable", nl=done == total, err=True)

    def work(ctx):
        if not (STATE.officer or os.environ.get("OHRT_OFFICER")):
            ctx.officer = ctx.officer_claim = None  # a scheduled run: nobody at the keyboard
        else:
            ctx.actor()
        return check(ctx, dry_run=dry_run, progress=progress)

    summary = run(work)
    if as_json:
        print_json(summary)
    elif dry_run:
        _print_dry_run(summary)
    else:
        _print_check(summary)


def _print_dry_run(summary: dict) -> None:
    rows = summary["would_check"]
    for row in rows:
        row["what"] = row["referral_id"] or row["item_id"] or ""
        row["last"] = f"{row['last_result']} {row['last_observed'][:10]}" if row["last_observed"] else "never"
    print_table(rows, [("purpose", "Why"), ("what", "Referral/item"), ("task_id", "Task"), ("host", "Host"),
                       ("last", "Last seen")], empty="nothing to look at")
    limits = summary["limits"]
    typer.echo(under(f"would look at {len(rows)} URL(s) on {summary['hosts']} host(s), at most one request every "
                     f"{limits['per_host_interval_seconds']:g} s per host, for at most "
                     f"{limits['time_budget_seconds']:g} s", 0))


def _print_check(summary: dict) -> None:
    for run_id in summary["interrupted_runs"]:
        typer.echo(f"check {run_id} was cut short: its observations are kept and now audited")
    for hint in summary["suggestions"]:
        typer.echo(f"gone: {hint['referral_id']} ({hint['message']}): confirm with {hint['command']}")
    for task_id in summary["reinstatements"]:
        typer.echo(f"reinstated: {task_id} is available again after its removal: refer it again or appeal "
                   "(SOP 10.7)")
    left = summary["skipped"]
    if left:
        budget = sum(1 for s in left if s["reason"] == "budget")
        hosts = sorted({s["host"] for s in left if s["reason"] == "host"})
        parts = ([f"{budget} when the time budget was spent"] if budget else []) + (
            [f"{len(left) - budget} on {', '.join(hosts)} (unreachable {summary['limits']['host_failures']} times in "
             "a row)"] if hosts else [])
        typer.echo(f"left for the next run: {'; '.join(parts)}")
    typer.echo(f"check {summary['run']}: looked at {summary['checked']} of {summary['targets']} URL(s) on "
               f"{summary['hosts']} host(s) in {summary['seconds']:g} s: {summary['available']} available, "
               f"{summary['gone']} gone, {summary['unreachable']} unreachable, {summary['reinstated']} reinstated "
               f"(by {summary['by']}; audit entry {summary['audit_seq']})")


@refer_app.command("routes")
def refer_routes(wide: bool = wide_option(), as_json: bool = json_option()) -> None:
    """Show how referrals reach each platform (SOP 10.5): shipped defaults with config.toml's [routes.*].

    Example: ohrt refer routes
    """
    from ..stages.refer import list_routes

    rows = run(lambda ctx: list_routes(ctx))
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["to"] = row["problem"] or (row["portal"] if row["route"] == "portal" else
                                       f"{row['contact_name']} <{row['contact']}>".strip()
                                       + (" (placeholder)" if row["placeholder"] else ""))
    print_table(rows, [("platform", "Platform"), ("route", "Route"), ("to", "To")])


def intel(
    task_id: str = typer.Argument(..., metavar="TASK", help="Task id, e.g. T-2026-000001."),
    as_json: bool = json_option("Print {task_id, review_id, text} as JSON."),
) -> None:
    """Print the Connect intelligence record of a referred task (SOP 10.4) as text to paste.

    Example: ohrt intel T-2026-000001
    """
    from ..stages.refer import intel_record

    record = run(lambda ctx: intel_record(ctx, task_id))
    print_json(record) if as_json else typer.echo(record["text"], nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(refer_app, name="refer")
    app.command("intel")(intel)
