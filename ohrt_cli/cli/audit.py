"""`ohrt audit …`: read, verify and export the audit chain (DPA 2018 s.62 logging; SOP 7.2 figures rest on it)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import json_option, mode_option, new_app, print_json, print_table, run, wide_option

audit_app = new_app("The audit chain: every action, who, when, why.\n\nExample: ohrt audit verify")


@audit_app.command("list")
def audit_list(
    object_id: Optional[str] = typer.Option(None, "--object", help="Only entries about this id, e.g. T-2026-000001."),
    wide: bool = wide_option(),
    as_json: bool = json_option(),
) -> None:
    """List audit entries, oldest first.

    Example: ohrt audit list --object T-2026-000001
    """
    from ..ground import audit

    rows = run(lambda ctx: audit.entries(ctx.db, object_id.upper() if object_id else None))
    if as_json:
        print_json(rows)
    else:
        print_table(rows, [("seq", "#"), ("at", "When (UTC)"), ("officer", "Officer"), ("action", "Action"),
                           ("object_id", "Object"), ("reason", "Reason")], empty="no audit entries",
                    drop=("reason",))


@audit_app.command("verify")
def audit_verify(
    against: list[Path] = typer.Option([], "--against", metavar="PACKAGE|FILE", help="Also check the chain "
                                       "against the checkpoints in an evidence package (folder or zip), an "
                                       "exported audit file or a quarterly report; repeatable."),
    as_json: bool = json_option(),
) -> None:
    """Recompute the hash chain and check it against every signed checkpoint of its head (the home's
    audit-checkpoints.jsonl and those in --against), each role-gated act's signature against the roster as
    it stood then, and the roster and keys against what the chain recorded. Exit 0 with the count if
    intact, 1 naming each problem.

    Example: ohrt audit verify --against exports/T-2026-000001-evidence-2026-05-01.zip
    """
    from ..ground import audit_check

    report = run(lambda ctx: audit_check.check(ctx, list(against)))
    if as_json:
        print_json(report)
    else:
        for problem in report["problems"]:
            typer.secho(f"{problem['check']} check: {problem['problem']}: {problem['detail']}",
                        fg=typer.colors.RED, err=True)
        if report["intact"]:
            typer.echo(f"audit chain intact: {report['entries']} entries")
        else:
            typer.secho(f"audit chain NOT intact: {len(report['problems'])} problem(s)", fg=typer.colors.RED, err=True)
    if not report["intact"]:
        raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    file: Path = typer.Argument(..., metavar="FILE", help="Where to write the chain (JSON lines); FILE.sig is written beside it."),
    mode: Optional[str] = mode_option(),
    as_json: bool = json_option(),
) -> None:
    """Export the whole chain as JSON lines with a detached Ed25519 signature.

    Check it with: openssl pkeyutl -verify -pubin -inkey HOME/keys/public.pem -rawin -in FILE -sigfile FILE.sig

    Example: ohrt audit export audit-2026Q3.jsonl
    """
    from ..ground import audit

    result = run(lambda ctx: audit.export(ctx, file, mode))
    if as_json:
        print_json(result)
    else:
        typer.echo(f"wrote {result['entries']} entries to {result['file']} (signature {result['signature']})")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
