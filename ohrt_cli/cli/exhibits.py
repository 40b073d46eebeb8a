"""`ohrt exhibit list|label`, `ohrt exhibits` and `ohrt statement`: the officer in the case's file — exhibit
references, the exhibit list (MG12) and the capturing officer's witness statement (MG11) (SOP 6.3, 9.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import json_option, mode_option, new_app, print_json, print_table, run, wide_option

exhibit_app = new_app(
    "Exhibit references (SO/1, SO/2 …): the capturing officer's initials and a running number, given to each "
    "capture when it is first exhibited, never reused.\n\nExample: ohrt exhibit list --task T-2026-000001")

COLUMNS = [("reference", "Exhibit"), ("task_id", "Task"), ("capture_id", "Capture"), ("item", "Item"),
           ("officer", "Officer"), ("seized_at", "Seized (UTC)"), ("sha256", "SHA-256"), ("state", "State")]
# the reference names the officer by initials, and the capture its task: those go first at 80 columns
DROP = ("task_id", "item", "officer")
TO = typer.Option(None, "--to", help="Folder to write into, which must exist (default: HOME/exports).",
                  show_default=False)
SENSITIVE = typer.Option(False, "--include-sensitive", help="Show subjects, incident references and anything "
                         "else the guard holds back (SOP 6.3); without it such a piece is a visible blank.")


@exhibit_app.command("list")
def exhibit_list(
    task: Optional[str] = typer.Option(None, "--task", help="Only this task's exhibits."),
    wide: bool = wide_option(),
    as_json: bool = json_option(),
) -> None:
    """List the exhibit references given, oldest first.

    Example: ohrt exhibit list --task T-2026-000001 --json
    """
    from ..stages.evidence import list_exhibits

    found = run(lambda ctx: list_exhibits(ctx, task))
    if as_json:
        print_json(found)
        return
    rows = [{**e, "officer": f"{e['officer_name'] or ''} ({e['officer']})".strip(),
             "state": "purged" if e["purged_at"] else ("record missing" if not e["sha256"] else "kept")}
            for e in found]
    print_table(rows, COLUMNS, empty="no exhibit references given yet: `ohrt exhibits TASK` gives them", drop=DROP)


@exhibit_app.command("label")
def exhibit_label(
    exhibit: str = typer.Argument(..., metavar="EXHIBIT", help="Exhibit reference, e.g. SO/1."),
    to: Optional[Path] = TO,
    mode: Optional[str] = mode_option(),
    as_json: bool = json_option(),
) -> None:
    """Write a printable label for an exhibit (PDF, 102 × 76 mm, a 4 × 3 inch label): its reference, description, the officer,
    the date and time seized, its SHA-256, and a QR code of the reference and hash.

    Example: ohrt exhibit label SO/1 --to /media/usb
    """
    from ..stages.evidence import write_label

    result = run(lambda ctx: write_label(ctx, exhibit, to, mode))
    if as_json:
        print_json(result)
        return
    typer.echo(f"label for {result['reference']} ({result['capture_id']}): {result['label']}")
    typer.echo(f"  QR code: {result['qr']}")


def exhibits(
    task_id: str = typer.Argument(..., metavar="TASK", help="Task id, e.g. T-2026-000001."),
    to: Optional[Path] = TO,
    include_sensitive: bool = SENSITIVE,
    mode: Optional[str] = mode_option(),
    as_json: bool = json_option("Print what was written as JSON."),
) -> None:
    """Write the task's exhibit list (MG12) as DOCX and PDF: each exhibit's reference, description, where it
    was found, the officer, when seized and its SHA-256. Captures not yet exhibited are given their
    references first.

    Example: ohrt exhibits T-2026-000001 --to /media/usb
    """
    from ..stages.evidence import write_exhibit_list

    result = run(lambda ctx: write_exhibit_list(ctx, task_id, to=to, include_sensitive=include_sensitive,
                                                   mode=mode))
    if as_json:
        print_json(result)
        return
    refs = ", ".join(e["reference"] for e in result["exhibits"]) or "none"
    typer.echo(f"exhibit list (MG12) of {result['task_id']}: exhibits {refs}")
    _print_files(result)


def statement(
    task_id: str = typer.Argument(..., metavar="TASK", help="Task id, e.g. T-2026-000001."),
    officer: Optional[str] = typer.Option(None, "--officer", help="Whose statement: the number or name of an "
                                          "officer who captured the task's material (default: the one who did)."),
    to: Optional[Path] = TO,
    include_sensitive: bool = SENSITIVE,
    mode: Optional[str] = mode_option(),
    as_json: bool = json_option("Print what was written as JSON."),
) -> None:
    """Draft the capturing officer's witness statement (MG11, s.9 Criminal Justice Act 1967) as DOCX and PDF,
    every sentence from the records: the request, each capture (URLs, tools, computer, hashes, exhibit
    references), the checks anyone can repeat, and continuity from the audit chain. A missing record is a
    visible blank. Read it against the records, complete it, and sign it.

    Example: ohrt statement T-2026-000001 --officer 7781
    """
    from ..stages.evidence import write_statement

    result = run(lambda ctx: write_statement(ctx, task_id, officer=officer, to=to,
                                             include_sensitive=include_sensitive, mode=mode))
    if as_json:
        print_json(result)
        return
    refs = ", ".join(result["exhibits"]) or "none"
    typer.echo(f"witness statement (MG11) of officer {result['officer']} for {result['task_id']}: exhibits {refs}")
    _print_files(result)
    typer.echo("  read it against the records, complete every blank, then sign and date each page")


def _print_files(result: dict) -> None:
    typer.echo(f"  DOCX (editable): {result['docx']}")
    typer.echo(f"  PDF: {result['pdf']}")
    typer.echo("  sensitive material: " + ("included (SOP 6.3)" if result["include_sensitive"]
                                           else "held back as visible blanks (SOP 6.3)"))


def register(app: typer.Typer) -> None:
    app.add_typer(exhibit_app, name="exhibit")
    app.command("exhibits")(exhibits)
    app.command("statement")(statement)
