"""`ohrt audit …`: read, verify and export the audit chain (DPA 2018 s.62 logging; SOP 7.2 figures rest on it)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import json_option, new_app, print_json, print_table, run, wide_option

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
def audit_verify(as_json: bool = json_option()) -> None:
    """Recompute the hash chain; exit 0 with the count if intact, 1 naming the first bad entry.

    Example: ohrt audit verify
    """
    from ..ground import audit

    count = run(lambda ctx: audit.verify(ctx.db))
    if as_json:
        print_json({"intact": True, "entries": count})
    else:
        typer.echo(f"audit chain intact: {count} entries")


@audit_app.command("export")
def audit_export(
    file: Path = typer.Argument(..., metavar="FILE", help="Where to write the chain (JSON lines); FILE.sig is written beside it."),
    as_json: bool = json_option(),
) -> None:
    """Export the whole chain as JSON lines with a detached Ed25519 signature.

    Check it with: openssl pkeyutl -verify -pubin -inkey HOME/keys/public.pem -rawin -in FILE -sigfile FILE.sig

    Example: ohrt audit export audit-2026Q3.jsonl
    """
    from ..ground import audit

    result = run(lambda ctx: audit.export(ctx, file))
    if as_json:
        print_json(result)
    else:
        typer.echo(f"wrote {result['entries']} entries to {result['file']} (signature {result['signature']})")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
