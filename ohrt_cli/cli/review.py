"""`ohrt review …` and `ohrt tos …`: review the captured content and decide (SOP 9.2–9.4, 10.3)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._common import is_terminal, json_option, new_app, print_json, print_record, print_table, run, under, wide_option

review_app = new_app(
    "Review captured content: harm factors, indices research, terms-of-service breaches, and the decision "
    "to refer or take no further action (SOP 9.2-9.4, 10.3).\n\n"
    "Example: ohrt review T-2026-000001 --decision refer --format music-video --finding "
    "'provocative-language|Mocks a rival's death|01:23-01:40' --clause youtube:violent-criminal-orgs",
    default="record",
)
tos_app = new_app("The platforms' terms of service that a review cites (SOP 9.4).\n\nExample: ohrt tos list youtube")

REVIEW_FIELDS = [("id", "review"), ("task_id", "task"), ("decision", "decision"), ("format", "format"),
                 ("review_date", "date of review"), ("officer", "officer"), ("capture_id", "capture"),
                 ("no_capture_reason", "no capture because"), ("reason", "reason"), ("basis", "basis")]


@review_app.command("record")
def review_record(
    task: Optional[str] = typer.Argument(None, metavar="TASK", help="Task id, e.g. T-2026-000001 (not with --batch)."),
    decision: Optional[str] = typer.Option(None, "--decision", help="refer (10.3.1) or nfa, no further action "
                                           "(10.3.2)."),
    content_format: Optional[str] = typer.Option(None, "--format", help="Format of the content (8.6.6): video, "
                                                 "music-video, music, image, audio, text or live-stream."),
    finding: List[str] = typer.Option([], "--finding", help="A harm factor found, repeatable: 'FACTOR|NOTE' or "
                                      "'FACTOR|NOTE|01:23-01:40;02:00-02:05'; 'comment 3' among the places cites a "
                                      "comment kept with --comments (factors: `ohrt review factors`)."),
    clause: List[str] = typer.Option([], "--clause", help="A breached clause of the content's own platform, "
                                     "repeatable, e.g. youtube:violent-criminal-orgs (`ohrt tos list youtube`)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why: required for nfa and with --no-capture."),
    basis: Optional[str] = typer.Option(None, "--basis", help="The basis in your own words (8.6.5); by default it "
                                        "is written from the findings and clauses."),
    no_capture: bool = typer.Option(False, "--no-capture", help="Review without a capture (content gone); needs "
                                    "--reason."),
    date: Optional[str] = typer.Option(None, "--date", help="Date of the review, YYYY-MM-DD (default: today)."),
    research: List[str] = typer.Option([], "--research", help="Indices research (9.3), repeatable, police-only: "
                                       "'SYSTEM|REFERENCE|YYYY-MM-DD|SUMMARY', e.g. 'Aware|CRIMINT 1234567|"
                                       "2026-11-20|Both groups linked to a 2025 stabbing'."),
    batch: Optional[Path] = typer.Option(None, "--batch", help="Record many reviews from a JSONL or CSV file "
                                         "(see the README); give no other flag with it."),
    as_json: bool = json_option(),
) -> None:
    """Record the review of a task and its decision; a new review of the same task supersedes the
    earlier one (kept in the history). refer needs a finding and a clause of the content's own platform
    (task → reviewed); nfa needs --reason (task → closed). A review needs a capture unless --no-capture.

    With --batch FILE: JSONL, one object per task ({"task", "decision", "format", "findings": [{"factor",
    "note", "at": [...]}], "clauses": [...], "reason"}), or CSV, one row per finding (task, decision,
    format, factor, note, at, clauses, reason; several values in a cell separated by ';'). The whole
    file is checked first: one bad row and nothing is recorded (exit 2, every bad line listed). Running
    the same file again changes nothing.

    Example: ohrt review T-2026-000001 --decision nfa --format video --reason 'Generic lyrics, no factor'
    """
    if batch is not None:
        if task or decision or content_format or finding or clause or reason or basis or no_capture or date or research:
            from ..ground.errors import InputError

            raise InputError("--batch takes every review from the file: give no TASK or other flag with it.")
        _record_batch(batch, as_json)
        return
    from ..ground.errors import InputError
    from ..stages.review import ReviewInput, finding_from_flag, record_review, research_from_flag

    if not task:
        raise InputError("give the task to review (e.g. ohrt review T-2026-000001 --decision refer …), "
                         "or --batch FILE.")
    missing = [flag for flag, value in (("--decision", decision), ("--format", content_format)) if not value]
    if missing:
        raise InputError(f"{' and '.join(missing)} missing: e.g. --decision refer --format music-video.")
    raw = ReviewInput(task_id=task, decision=decision, format=content_format,
                      findings=[finding_from_flag(f) for f in finding], clauses=clause, reason=reason,
                      basis=basis, no_capture=no_capture, review_date=date,
                      research=[research_from_flag(r) for r in research])
    result = run(lambda ctx: record_review(ctx, raw))
    if as_json:
        print_json(result)
        return
    review = result["review"]
    typer.echo(f"{review['id']} recorded for {review['task_id']}: {review['decision']}, {review['format']}; "
               f"{len(review['findings'])} finding(s), {len(review['clauses'])} clause(s); "
               f"task now {result['task_status']}")
    if result["supersedes"]:
        typer.echo(f"supersedes {result['supersedes']} (kept in `ohrt review show {review['task_id']}`)")
    if result["research_entries"]:
        typer.echo(f"indices research recorded: {result['research_entries']} (police-only)")
    for referral in result["referrals_to_redraft"]:
        typer.echo(f"note: referral {referral} was drafted from the earlier review: draft it again from this one "
                   f"(`ohrt refer draft {review['task_id']}`) before QA.")


def _record_batch(path: Path, as_json: bool) -> None:
    from ..ground.progress import Display
    from ..stages.review import batch_review

    with Display(is_terminal() and not as_json) as display:
        result = run(lambda ctx: batch_review(ctx, path, progress=display.event))
    if as_json:
        print_json(result.as_dict())
    else:
        for row in result.rejected:
            where = f"line {row['line']}" if row["line"] else "file"
            # a task id that is not printable (a control character in it) is named, quoted, in the reason
            task = f" ({row['task']})" if row.get("task") and row["task"].isprintable() else ""
            typer.secho(f"{where}{task}: {row['reason']}", fg=typer.colors.RED, err=True)
        if result.rejected:
            typer.secho(f"error: {len(result.rejected)} bad row(s) in {path}: nothing recorded; mend them and run "
                        "the file again.", fg=typer.colors.RED, err=True)
        else:
            typer.echo(f"recorded {len(result.applied)} review(s); skipped {len(result.skipped)} already recorded")
    if result.rejected:
        raise typer.Exit(2)


@review_app.command("open")
def review_open(
    task: str = typer.Argument(..., metavar="TASK", help="Task id, e.g. T-2026-000001."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why you consult its material (required, DPA 2018 "
                                         "s.62); asked for when not given on a terminal."),
    # text, parsed here: a float option would have typer import pydantic, a tenth of a second of every start
    idle_text: str = typer.Option("30", "--idle", metavar="MINUTES", help="Stop after this long with nothing "
                                  "done in the page (fractions allowed).", show_default=True),
    no_browser: bool = typer.Option(False, "--no-browser", help="Print the address only; do not open a browser."),
) -> None:
    """Open the review workspace of a task in your browser: the capture in a player with frame-accurate
    seeking, its key frames and contact sheet, the page, comments and subtitles, the rationale and the
    police-only research; mark findings at the playhead (keys i and o), choose the clauses, decide and
    save (as `ohrt review` does), preview the draft referral, and compare a re-upload with the library
    item it matches. Opening it is a consultation, logged with its reason (DPA 2018 s.62).

    The workspace listens on 127.0.0.1 only, at an address holding a random token; it stops when its
    page is closed, after --idle minutes with nothing done, or with Ctrl-C.

    Example: ohrt review open T-2026-000001 --reason 'review for T-2026-000001'
    """
    import sys

    from ..ground.errors import InputError
    from ..stages.review import consult
    from . import workspace
    from ._common import STATE

    try:
        idle = float(idle_text)
    except ValueError:
        idle = float("nan")
    if not 0 < idle < 10_000_000:
        raise InputError(f"--idle {idle_text} is not a positive number of minutes: e.g. --idle 30.")
    if reason is None and sys.stdin.isatty():
        reason = typer.prompt("Why are you consulting this material (DPA 2018 s.62)")
    keys: dict = {}

    def open_task(ctx):
        found = consult(ctx, task, reason=reason)
        keys.update(ctx.personal_keys)  # asked for once, here at the terminal; the pages sign with it
        return found

    opened = run(open_task)
    if opened["note"]:
        typer.secho(f"note: {opened['note']}", fg=typer.colors.YELLOW, err=True)
    app = workspace.App(home=STATE.home, officer=STATE.officer, task_id=opened["task_id"], reason=reason,
                        idle_seconds=idle * 60, keys=keys)

    import tempfile

    private = tempfile.TemporaryDirectory(prefix="ohrt-workspace-")  # 0700: this login's alone

    def ready(url: str) -> None:
        typer.echo(f"workspace for {opened['task_id']}: {url}")
        typer.echo("it stops when the page is closed, after "
                   f"{idle:g} min with nothing done, or with Ctrl-C")
        sys.stdout.flush()
        if not no_browser:
            import webbrowser

            if not webbrowser.open(workspace.launcher(private.name, url).as_uri()):
                typer.secho("note: no browser could be opened here: open the address above yourself.",
                            fg=typer.colors.YELLOW, err=True)

    try:
        with private:
            why = workspace.serve(app, ready=ready)
    except KeyboardInterrupt as exc:
        _last_word(f"workspace closed ({getattr(exc, 'name', 'Ctrl-C')}); what was saved in it is kept.")
        raise typer.Exit(130)
    _last_word(f"workspace closed: {why}.")


def _last_word(line: str) -> None:
    """The workspace's closing line; nobody may be left to read it (its terminal closed: SIGHUP)."""
    try:
        typer.echo(line)
    except OSError:
        pass


@review_app.command("show")
def review_show(
    task: str = typer.Argument(..., metavar="TASK", help="Task id, e.g. T-2026-000001."),
    wide: bool = wide_option(),
    as_json: bool = json_option(),
) -> None:
    """Show a task's review in force, every earlier review it superseded, and the indices research
    (police-only: never copy it into anything for a platform).

    Example: ohrt review show T-2026-000001
    """
    from ..ground.times import where_text
    from ..stages.review import show_review

    data = run(lambda ctx: show_review(ctx, task))
    if as_json:
        print_json(data)
        return
    info = data["task"]
    typer.echo(f"{info['id']} ({info['platform']}, {info['status']}): {info['title'] or info['purged'] or '—'}")
    if info["purged"] and info["title"]:
        typer.echo(info["purged"])
    current = data["current"]
    if current is None:
        typer.echo("not reviewed yet")
    else:
        typer.echo("")
        print_record(current, REVIEW_FIELDS)
        for item in current["findings"]:
            where = f" {where_text(item['at'])}" if item["at"] else ""
            typer.echo("  finding: " + under(f"{item['factor']}{where}: {item['note']}", 11))
        for item in current["clauses"]:
            typer.echo("  clause:  " + under(f"{item['id']} {item['title']} (as of {item['as_of']}) {item['url']}", 11))
    earlier = [r for r in data["history"] if r["superseded_by"]]
    if earlier:
        typer.echo("")
        print_table(earlier, [("id", "Review"), ("review_date", "Date"), ("officer", "Officer"),
                              ("decision", "Decision"), ("format", "Format"), ("superseded_by", "Superseded by")],
                    drop=("format", "officer"),
                    title="Earlier reviews")
    if data["research"]:
        typer.echo("")
        print_table(data["research"], [("searched_on", "Searched"), ("system", "System"), ("reference", "Reference"),
                                       ("summary", "Result"), ("officer", "Officer")], drop=("officer",),
                    title="Indices research (SOP 9.3), POLICE ONLY: never share with a platform")


@review_app.command("research")
def review_research(
    task: str = typer.Argument(..., metavar="TASK", help="Task id, e.g. T-2026-000001."),
    system: str = typer.Option("Aware", "--system", help="System searched (9.3): Aware, or another by name."),
    reference: Optional[str] = typer.Option(None, "--reference", help="Reference of what was found, if any."),
    date: str = typer.Option(..., "--date", help="Date of the search, YYYY-MM-DD."),
    summary: str = typer.Option(..., "--summary", help="What the search showed (say 'no trace' if nothing)."),
    as_json: bool = json_option(),
) -> None:
    """Record a search of police indices for a task (SOP 9.3), before or after its review. Police-only:
    kept in its own sensitive table, shown by `ohrt review show`, never rendered for a platform.

    Example: ohrt review research T-2026-000001 --system Aware --reference 'CRIMINT 1234567' --date 2026-11-20
    --summary 'Both groups linked to a 2025 stabbing'
    """
    from ..stages.review import ResearchInput, record_research

    rows = run(lambda ctx: record_research(ctx, task, [ResearchInput(system, reference, date, summary)]))
    if as_json:
        print_json(rows)
    else:
        typer.echo(f"indices research recorded for {task.strip().upper()} (police-only)")


@review_app.command("factors")
def review_factors(wide: bool = wide_option(), as_json: bool = json_option()) -> None:
    """List the harm factors a finding names (SOP 9.2.1-9.2.7) and the content formats (8.6.6).

    Example: ohrt review factors
    """
    from ..stages.review import FORMATS, MUSICAL_FORMATS, factor_list

    if as_json:
        print_json({"factors": factor_list(), "formats": list(FORMATS), "musical_formats": sorted(MUSICAL_FORMATS)})
        return
    print_table(factor_list(), [("code", "Factor"), ("sop", "SOP"), ("title", "Meaning")])
    typer.echo("formats: " + under(f"{', '.join(FORMATS)} (musical: {', '.join(sorted(MUSICAL_FORMATS))})", 9))


@tos_app.command("list")
def tos_list(
    platform: Optional[str] = typer.Argument(None, metavar="PLATFORM", help="Only this platform's clauses, e.g. youtube."),
    wide: bool = wide_option(),
    as_json: bool = json_option(),
) -> None:
    """List the terms-of-service clauses in force: shipped, overridden or added by the team in
    HOME/tos/<platform>.toml. A review cites them by id (platform:clause).

    Example: ohrt tos list youtube
    """
    from ..stages.review import list_clauses

    rows = run(lambda ctx: list_clauses(ctx.home, platform))
    if as_json:
        print_json(rows)
    else:
        print_table(rows, [("id", "Clause"), ("title", "Title"), ("summary", "In short"), ("as_of", "As of"),
                           ("source", "Source")], empty="no clauses", drop=("summary", "source"))


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
    app.add_typer(tos_app, name="tos")
