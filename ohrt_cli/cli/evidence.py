"""`ohrt export`: the evidence package for the officer in the case; and the `--package` check that
`ohrt verify` offers for a package that comes back (SOP 6.3, 6.4)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ._common import json_option, mode_option, print_json, run


def export(
    task_id: str = typer.Argument(..., metavar="TASK", help="Task id, e.g. T-2026-000001."),
    to: Optional[Path] = typer.Option(None, "--to", help="Folder to write the package into, which must exist "
                                      "(default: HOME/exports); the package is a new folder in it named "
                                      "TASK-evidence-DATE.", show_default=False),
    recipient: Optional[str] = typer.Option(None, "--recipient", help="Who receives it, as 'NAME, UNIT' "
                                            "(the officer in the case); recorded in the disclosure log."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why it is disclosed (DPA 2018 s.62); "
                                         "recorded in the disclosure log."),
    make_zip: bool = typer.Option(False, "--zip", help="Also write TASK-evidence-DATE.zip and its .sha256 "
                                  "beside the package."),
    include_sensitive: bool = typer.Option(False, "--include-sensitive", help="Add subjects, incident "
                                           "references and indices research in data/sensitive/ with handling "
                                           "instructions (SOP 6.3); recorded in the disclosure log."),
    mode: Optional[str] = mode_option(),
    as_json: bool = json_option("Print what was made as JSON."),
) -> None:
    """Build the task's evidence package for the officer in the case: a BagIt bag (RFC 8493) of every
    capture (re-verified first), the review, the referrals and the platform's decisions, the audit trail,
    the public key and report.html, validated before it is renamed into place; the disclosure is audited.

    Example: ohrt export T-2026-000001 --to /media/usb --recipient 'DC Jo Bloggs, Trident Central' --reason 'CPS charging file'
    """
    from ..stages.evidence import export_package

    from ..ground.progress import Display

    with Display(sys.stdout.isatty() and not as_json) as display:
        result = run(lambda ctx: export_package(ctx, task_id, to=to, recipient=recipient, reason=reason,
                                                make_zip=make_zip, include_sensitive=include_sensitive,
                                                progress=display.event, mode=mode))
    if as_json:
        print_json(result)
        return
    typer.echo(f"{result['task_id']} exported for {result['recipient']}: {result['package']}")
    captures = ", ".join(result["captures"]) or "none"
    typer.echo(f"  bag valid: {result['files']} file(s), {result['bytes']:,} bytes; captures verified: {captures}")
    typer.echo(f"  sealed with the home's key {result['public_key_fingerprint']} (give the recipient this "
               "fingerprint: `ohrt verify --package … --key-fingerprint` pins it)")
    if result.get("timestamp"):
        typer.echo(f"  seal time-stamped: existed no later than {result['timestamp']['gen_time']} "
                   f"({result['timestamp']['id']})")
    typer.echo(f"  report: {result['report']}")
    typer.echo(f"  exhibits: {', '.join(result['exhibits']) or 'none'}")
    for path in result["statements"]:
        typer.echo(f"  witness statement (MG11): {path}")
    for path in result["exhibit_list"]:
        typer.echo(f"  exhibit list (MG12): {path}")
    typer.echo(f"  provenance (CASE/UCO): {result['provenance']}")
    if result["zip"]:
        typer.echo(f"  zip: {result['zip']} (sha256 {result['zip_sha256']})")
    typer.echo("  sensitive material: " + ("included in data/sensitive/ with handling instructions (SOP 6.3)"
                                           if result["include_sensitive"] else "not included (SOP 6.3)"))
    typer.echo(f"  disclosure logged: audit entry {result['audit_seq']}")
    typer.echo(f"check it with: ohrt verify --package {result['package']}")


def verify_package_command(package: Path, as_json: bool, key_fingerprint: str | None = None) -> None:
    """`ohrt verify --package DIR`: check a package that comes back; exit 1 naming each problem. Runs
    with or without a home: with one, it also says whether the key is the home's and which export it is.
    On a terminal, the bytes unzipped and re-hashed are shown as they go."""
    from ..ground.home import open_context
    from ..ground.errors import HomeError
    from ..ground.progress import Display
    from ..stages.evidence import verify_package
    from ._common import STATE

    try:
        ctx = open_context(STATE.home, STATE.officer)
    except HomeError:
        ctx = None
    try:
        with Display(sys.stdout.isatty() and not as_json) as display:
            report = verify_package(package, ctx=ctx, key_fingerprint=key_fingerprint, progress=display.event)
    finally:
        if ctx is not None:
            ctx.close()
    if as_json:
        print_json(report)
    else:
        _print_package_report(report)
    if not report["intact"]:
        raise typer.Exit(1)


def _print_package_report(report: dict) -> None:
    for problem in report["problems"]:
        typer.secho(f"{problem['check']} check: {problem['problem']} {problem['path']}: {problem['detail']}",
                    fg=typer.colors.RED, err=True)
    if not report["intact"]:
        typer.secho(f"package NOT intact: {len(report['problems'])} problem(s) in {report['package']}",
                    fg=typer.colors.RED, err=True)
        return
    captures = ", ".join(c["id"] for c in report["captures"]) or "none"
    typer.echo(f"package intact: {report['package']} (task {report['task_id']})")
    typer.echo(f"  BagIt {report['bagit_version']} bag valid; seal verified over the tag manifest; captures "
               f"verified: {captures}; {report['audit_entries']} audit entries match their hashes and the count")
    fingerprint = report["public_key_fingerprint"]
    if report["key_matches_home"]:
        typer.echo(f"  signed with this home's key {fingerprint}")
    elif report["key_pinned"]:
        typer.echo(f"  sealed by the pinned key {fingerprint}")
    else:
        typer.echo(f"  key NOT pinned: the package is only consistent with the key it carries itself, {fingerprint}; "
                   "whoever edits a package can replace that key too. Pin the issuing team's published fingerprint "
                   "with --key-fingerprint FP to know the team sealed it.")
    for stamp in report["timestamps"]:
        typer.echo(f"  {stamp['capture']}: existed no later than {stamp['gen_time']} (RFC 3161 time stamp by "
                   f"{stamp['tsa'] or 'the authority'})")
    if report["timestamps"]:
        ca = report["timestamp_ca"]
        if ca["checked_with"] == "home":
            typer.echo(f"  time stamps checked against this home's trusted authority certificate {ca['path']}")
        else:
            typer.echo(f"  time stamps checked against the certificate the package carries (sha256 {ca['sha256']}): "
                       "compare it with the one the authority publishes")
    for proof in report.get("ots") or []:
        from ..stages.ots import words

        typer.echo(f"  {proof['capture']}: OpenTimestamps: {words(proof)}"
                   + ("" if proof["verified"] else f" ({proof['detail']})"))
    stamp = report.get("seal_timestamp")
    if stamp:
        typer.echo(f"  the package as sealed existed no later than {stamp['gen_time']} (time stamp {stamp['anchor']}"
                   + (")" if stamp["verified"] else f"; NOT verified: {stamp['detail']})"))
    if report["export"]:
        export = report["export"]
        typer.echo(f"  exported {export['at']} to {export['recipient']} (audit entry {export['audit_seq']})")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
