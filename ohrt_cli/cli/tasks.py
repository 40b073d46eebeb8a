"""`ohrt task …`: the referrals colleagues send in (SOP 8.3, 8.4)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ._common import json_option, new_app, print_json, print_record, print_table, run, wide_option

task_app = new_app("Tasks: the referrals colleagues send in (SOP 8).\n\nExample: ohrt task list --status received")

TASK_COLUMNS = [("id", "Task"), ("status", "Status"), ("platform", "Platform"), ("title", "Title"),
                ("applicant_ocu", "OCU"), ("received_at", "Received (UTC)")]


@task_app.command("add")
def task_add(
    url: str = typer.Option(..., "--url", help="Content URL (8.3.5)."),
    title: str = typer.Option(..., "--title", help="Title of the content (8.3.4)."),
    applicant: str = typer.Option(..., "--applicant", help="Applicant's name (8.3.1)."),
    ocu: str = typer.Option(..., "--ocu", help="Applicant's OCU (8.3.1)."),
    unit: str = typer.Option(..., "--unit", help="Applicant's unit (8.3.1)."),
    uploaded: str = typer.Option(..., "--uploaded", help="Date the content was uploaded, YYYY-MM-DD (8.3.2)."),
    rationale: str = typer.Option(..., "--rationale", help="Why the applicant refers it (8.3.7)."),
    ref: List[str] = typer.Option([], "--ref", help="Incident reference SYSTEM:REFERENCE, repeatable (8.3.3), "
                                  "e.g. CAD:1234/21NOV26, CRIS:4212345/26."),
    platform: Optional[str] = typer.Option(None, "--platform", help="Platform/channel (8.3.6); derived from the URL "
                                           "for the platforms of SOP 4.1.4."),
    subject: List[str] = typer.Option([], "--subject", help="A subject linked to the referral, repeatable (8.4.1); "
                                      "kept in a sensitive table."),
    allow_duplicate: bool = typer.Option(False, "--allow-duplicate", help="Open a task even if one is open for "
                                         "the same content."),
    as_json: bool = json_option("Print the whole new task as JSON."),
) -> None:
    """Record a referral received from a colleague; prints the new task id.

    Example: ohrt task add --url 'https://youtu.be/dQw4w9WgXcQ' --title 'Drill video' --applicant 'DC Rae'
    --ocu 'Central West' --unit 'Gangs' --uploaded 2026-11-02 --ref CAD:1234/21NOV26 --rationale 'Goads rivals'
    """
    from ..stages.intake import TaskInput, add_task

    raw = TaskInput(url=url, title=title, applicant_name=applicant, applicant_ocu=ocu, applicant_unit=unit,
                    upload_date=uploaded, rationale=rationale, platform=platform, refs=ref, subjects=subject)
    task = run(lambda ctx: add_task(ctx, raw, allow_duplicate=allow_duplicate))
    if as_json:
        print_json(task)
    else:
        typer.echo(task["id"])


@task_app.command("import")
def task_import(
    file: Path = typer.Argument(..., metavar="FILE", help="CSV or JSONL export of the tasking form."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the good rows; write the bad ones, "
                                      "unchanged, to NAME.rejects.csv (or .jsonl) beside the input."),
    as_json: bool = json_option(),
) -> None:
    """Import tasks in bulk. Every row is checked first: if any is bad nothing is imported (exit 2) and
    every bad row is listed with its line number, unless --skip-invalid. Re-importing a file adds nothing.

    Columns/keys: applicant_name, applicant_ocu, applicant_unit, upload_date, incident_refs, title, url,
    platform, rationale, subjects (several references or subjects in one cell separated by ';').

    Example: ohrt task import powerapp-export.csv --skip-invalid
    """
    from ..stages.intake import import_tasks

    from ..ground.progress import Display

    with Display(sys.stdout.isatty() and not as_json) as display:
        result = run(lambda ctx: import_tasks(ctx, file, skip_invalid=skip_invalid, progress=display.event))
    data = result.as_dict()
    for row in data["rejected"]:
        row.pop("raw")
    if as_json:
        print_json(data)
    else:
        for row in data["rejected"]:
            typer.secho(f"line {row['line']}: {row['reason']}", fg=typer.colors.RED, err=True)
        for row in data["skipped"]:
            typer.echo(f"line {row['line']}: skipped, {row['reason']}")
        if result.rejected and not skip_invalid:
            typer.secho(f"error: {len(result.rejected)} bad row(s) in {file}: nothing imported; mend them or use "
                        "--skip-invalid.", fg=typer.colors.RED, err=True)
        else:
            for task_id in result.imported:
                typer.echo(task_id)
            typer.echo(f"imported {len(result.imported)}, skipped {len(result.skipped)}, "
                       f"rejected {len(result.rejected)}"
                       + (f" (written to {result.rejects_file})" if result.rejects_file else ""))
    if result.rejected and not skip_invalid:
        raise typer.Exit(2)


@task_app.command("list")
def task_list(
    status: Optional[str] = typer.Option(None, "--status", help="Only tasks in this status, e.g. received; "
                                         "purged for those whose material the purge deleted."),
    wide: bool = wide_option(),
    as_json: bool = json_option(),
) -> None:
    """List tasks; a purged task shows as purged, with when and under which rule.

    Example: ohrt task list --status received --json
    """
    from ..stages.intake import list_tasks

    rows = run(lambda ctx: list_tasks(ctx, status))
    if as_json:
        print_json(rows)
    else:
        shown = [{**r, "status": "purged" if (r["purged"] or "").startswith("purged") else r["status"],
                  "title": r["title"] or r["purged"]} for r in rows]
        print_table(shown, TASK_COLUMNS, empty="no tasks", drop=("applicant_ocu", "platform"))


@task_app.command("show")
def task_show(task_id: str = typer.Argument(..., metavar="TASK", help="Task id, e.g. T-2026-000001."),
              wide: bool = wide_option(), as_json: bool = json_option()) -> None:
    """Show one task with its incident references and linked subjects, and what `ohrt refer check` saw
    of its content.

    Example: ohrt task show T-2026-000001
    """
    from ..stages.intake import get_task
    from ..stages.refer import reinstatement, suggestion, task_observations
    from .refer import print_observations

    def work(ctx):
        task = get_task(ctx, task_id)
        task["observations"] = task_observations(ctx, task["id"])
        latest = (task["observations"] or [{}])[0]
        hint = suggestion(ctx, latest["referral_id"]) if latest.get("referral_id") else None
        task["suggestion"] = hint["command"] if hint else None
        task["reinstated"] = reinstatement(ctx, task["id"]) is not None
        return task

    task = run(work)
    if as_json:
        print_json(task)
        return
    observations = task.pop("observations")
    suggested = task.pop("suggestion")
    reinstated = task.pop("reinstated")
    print_record(task)
    print_observations(observations)
    if suggested:
        typer.echo(f"the check saw it gone: if the platform removed it, confirm with: {suggested}")
    elif reinstated:
        typer.echo("available again after its removal: refer it again or appeal (SOP 10.7)")


def register(app: typer.Typer) -> None:
    app.add_typer(task_app, name="task")
