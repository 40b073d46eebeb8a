"""`ohrt dip-sample …` (SOP 7.5) and `ohrt report` (SOP 7.2, 6.5): governance across the whole flow."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import fail, json_option, mode_option, new_app, print_json, print_record, print_table, run, wide_option

dip_app = new_app("Dip sampling: 5% of each quarter's deployments, drawn reproducibly and checked by a "
                  "supervisor (SOP 7.5).\n\nExample: ohrt dip-sample draw --quarter 2026Q3")

SAMPLE_FIELDS = [("quarter", "Quarter"), ("size", "Drawn"), ("population", "Deployments"), ("seed", "Seed"),
                 ("algorithm", "Algorithm"), ("population_sha256", "Population SHA-256"), ("drawn_at", "Drawn at"),
                 ("drawn_by", "Drawn by")]


@dip_app.command("draw")
def dip_draw(
    quarter: str = typer.Option(..., "--quarter", help="The quarter, YYYYQn, e.g. 2026Q3; it must be over."),
    seed: Optional[str] = typer.Option(None, "--seed", help="Seed for the draw (1–64 letters, digits, . _ -); "
                                       "default: a fresh random one, recorded."),
    check: bool = typer.Option(False, "--check", help="Draw again from today's records (with --seed, or the "
                               "recorded seed) and compare with the recorded draw: exit 0 if it matches, 1 "
                               "naming each difference. Changes nothing."),
    as_json: bool = json_option(),
) -> None:
    """Draw the quarter's dip sample: 5% of the tasks reviewed in it, rounded up, at least one (inspector or
    above; once per quarter). Each task id is ranked by SHA-256 of 'SEED:TASK_ID' and the first are taken,
    so anyone can reproduce the draw from the seed.

    Example: ohrt dip-sample draw --quarter 2026Q3 --seed 20261001-dice-4821
    """
    from ..stages.governance.dip_sample import check_sample, draw_sample

    if check:
        result = run(lambda ctx: check_sample(ctx, quarter, seed))
        if as_json:
            print_json(result)
        elif result["matches"]:
            typer.echo(f"dip sample {result['quarter']} matches the recorded draw: {len(result['task_ids'])} of "
                       f"{result['population']} deployments, seed {result['seed']}, {result['algorithm']}.")
        else:
            typer.echo(f"dip sample {result['quarter']} differs from the recorded draw:")
            for line in result["differences"]:
                typer.echo(f"  - {line}")
        if not result["matches"]:
            raise typer.Exit(1)
        return
    sample = run(lambda ctx: draw_sample(ctx, quarter, seed))
    if as_json:
        print_json(sample)
        return
    typer.echo(f"dip sample {sample['quarter']}: {sample['size']} of {sample['population']} deployments "
               f"(5%, rounded up), seed {sample['seed']}, {sample['algorithm']}")
    for task in sample["tasks"]:
        typer.echo(task["task_id"])


@dip_app.command("record")
def dip_record(
    task_id: str = typer.Argument(..., metavar="TASK", help="A task drawn in the dip sample, e.g. T-2026-000012."),
    accurate: str = typer.Option(..., "--accurate", help="Was the data recorded accurately? yes or no."),
    quality: str = typer.Option(..., "--quality", help="Quality of the review, 1 (poor) to 5 (excellent)."),
    compliant: str = typer.Option(..., "--compliant", help="Was the SOP complied with? yes or no."),
    note: Optional[str] = typer.Option(None, "--note", help="Feedback for the officer and line manager; needed "
                                       "when the answer to --accurate or --compliant is no."),
    quarter: Optional[str] = typer.Option(None, "--quarter", help="The sample's quarter, when the task was drawn "
                                          "in more than one."),
    as_json: bool = json_option(),
) -> None:
    """Record the dip-sample result for one task drawn (sergeant or above, not for your own review).
    Recording again corrects it; the earlier result stays in the record.

    Example: ohrt dip-sample record T-2026-000012 --accurate yes --quality 4 --compliant yes --note 'Clear notes'
    """
    from ..stages.governance.dip_sample import record_result

    task = run(lambda ctx: record_result(ctx, task_id, accurate=accurate, quality=quality, compliant=compliant,
                                         note=note, quarter_text=quarter))
    if as_json:
        print_json(task)
    else:
        result = task["result"]
        typer.echo(f"recorded {task['task_id']}: accurate {'yes' if result['accurate'] else 'no'}, quality "
                   f"{result['quality']}, compliant {'yes' if result['compliant'] else 'no'}")


@dip_app.command("show")
def dip_show(
    quarter: str = typer.Argument(..., metavar="QUARTER", help="The quarter, YYYYQn, e.g. 2026Q3."),
    wide: bool = wide_option(),
    as_json: bool = json_option(),
) -> None:
    """Show a quarter's dip sample: how it was drawn, each task with its result, the proportion accurate and
    compliant and the mean quality.

    Example: ohrt dip-sample show 2026Q3 --json
    """
    from ..stages.governance.dip_sample import get_sample

    sample = run(lambda ctx: get_sample(ctx, quarter))
    if as_json:
        print_json(sample)
        return
    print_record(sample, SAMPLE_FIELDS)
    rows = []
    for task in sample["tasks"]:
        result = task["result"] or {}
        rows.append({**task, "accurate": _yes_no(result.get("accurate")), "quality": result.get("quality"),
                     "compliant": _yes_no(result.get("compliant")), "note": result.get("note"),
                     "recorded_by": result.get("recorded_by")})
    print_table(rows, [("task_id", "Task"), ("platform", "Platform"), ("decision", "Decision"), ("format", "Format"),
                       ("reviewed_by", "Reviewer"), ("accurate", "Accurate"), ("quality", "Quality"),
                       ("compliant", "Compliant"), ("note", "Note"), ("recorded_by", "Recorded by")],
                drop=("recorded_by", "reviewed_by", "format", "platform"))
    summary = sample["summary"]
    typer.echo(f"{summary['recorded']} recorded, {summary['outstanding']} outstanding; accurate "
               f"{_percent(summary['accurate_percent'])}, compliant {_percent(summary['compliant_percent'])}, "
               f"mean quality {'—' if summary['mean_quality'] is None else summary['mean_quality']}")


def _yes_no(value: Optional[bool]) -> Optional[str]:
    return None if value is None else ("yes" if value else "no")


def _percent(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:.1f}%"


def report(
    quarter: Optional[str] = typer.Option(None, "--quarter", help="The quarter, YYYYQn, e.g. 2026Q3 (default: the "
                                          "last complete quarter)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="html, md, csv or json (default: from the --out "
                                      "suffix, else md)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file (atomically); default: print it."),
    mode: Optional[str] = mode_option(),
    as_json: bool = typer.Option(False, "--json", help="The same as --format json."),
) -> None:
    """The quarterly report (SOP 7.2): demand, work, results, timeliness, the library, the dip sample and
    platform action (time to removal, share removed, reinstatements), each figure beside the previous
    quarter's. Anonymised for sharing (6.5): no names, URLs, titles, channels or subjects, small counts
    shown as <5. Producing it is audited.

    Example: ohrt report --quarter 2026Q3 --format html --out ohrt-2026Q3.html
    """
    from ..stages.governance.dip_sample import produce_report

    if as_json:
        if fmt not in (None, "json"):
            fail(f"--json and --format {fmt} disagree: give one of them.")
        fmt = "json"
    result = run(lambda ctx: produce_report(ctx, quarter, fmt, out, mode))
    if result["file"]:
        typer.echo(f"wrote the {result['quarter']} report ({result['format']}, {result['bytes']:,} bytes) to "
                   f"{result['file']}")
    else:
        typer.echo(result["text"], nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(dip_app, name="dip-sample")
    app.command("report")(report)
