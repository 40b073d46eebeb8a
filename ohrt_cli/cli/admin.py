"""`ohrt init` and `ohrt officer …`: the home and its roster (SOP 3.6: who may act in it)."""

from __future__ import annotations

from typing import Optional

import typer

from ._common import STATE, json_option, new_app, print_json, print_table, run, wide_option

officer_app = new_app("The roster: who may act in this home.\n\nExample: ohrt officer add 'PS Ann Lee' --number 2345 --role sergeant")


def init(
    team: Optional[str] = typer.Option(None, "--team", help="Team name, e.g. 'Online Harm Referral Team'."),
    mailbox: Optional[str] = typer.Option(None, "--mailbox", help="Team mailbox, the From of every referral."),
    officer: Optional[str] = typer.Option(None, "--officer", help="The first officer's name."),
    number: Optional[str] = typer.Option(None, "--number", help="The first officer's collar/staff number."),
    role: str = typer.Option("sergeant", "--role", help="The first officer's role: staff, constable, sergeant, "
                             "inspector or chief-inspector."),
    home: Optional[str] = typer.Option(None, "--home", help="Where to create the home (default: $OHRT_HOME, "
                                       "else the user data folder)."),
    as_json: bool = json_option(),
) -> None:
    """Create an ohrt home: database, signing key, config with the team and its first officer.

    Running it on an existing home changes nothing and says so.

    Example: ohrt init --team 'OHRT' --mailbox ohrt@met.police.uk --officer 'PS Ann Lee' --number 2345 --role sergeant
    """
    from ..ground.context import resolve_home
    from ..ground.errors import InputError
    from ..ground.home import init_home

    target = resolve_home(home or STATE.home)
    if not (target / "config.toml").exists():
        missing = [flag for flag, value in (("--team", team), ("--mailbox", mailbox), ("--officer", officer),
                                            ("--number", number)) if not value]
        if missing:
            raise InputError(f"a new home needs {', '.join(missing)}: e.g. ohrt init --team OHRT --mailbox "
                             "ohrt@example.police.uk --officer 'PS Ann Lee' --number 2345 --role sergeant.")
    path, created = init_home(target, team or "", mailbox or "", officer or "", number or "", role)
    if as_json:
        print_json({"home": str(path), "created": created, "public_key": str(path / "keys" / "public.pem")})
    elif created:
        typer.echo(f"created ohrt home at {path}")
        typer.echo(f"public key for checking signatures: {path / 'keys' / 'public.pem'}")
    else:
        typer.echo(f"{path} is already an ohrt home: nothing changed.")


@officer_app.command("add")
def officer_add(
    name: str = typer.Argument(..., metavar="NAME", help="Officer's name as it should appear in records."),
    number: str = typer.Option(..., "--number", help="Collar or staff number."),
    role: str = typer.Option(..., "--role", help="staff, constable, sergeant, inspector or chief-inspector."),
    as_json: bool = json_option(),
) -> None:
    """Add an officer to the roster (audited).

    Example: ohrt officer add 'PC Sam Okafor' --number 7781 --role constable
    """
    from ..ground.home import add_officer

    officer = run(lambda ctx: add_officer(ctx, name, number, role))
    if as_json:
        print_json(officer.as_dict())
    else:
        typer.echo(f"added {officer}")


@officer_app.command("list")
def officer_list(wide: bool = wide_option(), as_json: bool = json_option()) -> None:
    """List the roster.

    Example: ohrt officer list --json
    """
    def roster(ctx):
        default = ctx.settings.default_officer
        return [{**o.as_dict(), "default": o.number == default} for o in ctx.settings.officers]

    rows = run(roster)
    if as_json:
        print_json(rows)
    else:
        print_table(rows, [("number", "Number"), ("name", "Name"), ("role", "Role"), ("default", "Default")])


config_app = new_app("The home's config.toml.\n\nExample: ohrt config check")


@config_app.command("check")
def config_check(as_json: bool = json_option("Print {path, ok, findings[]{line, where, problem, level}}.")) -> None:
    """Check config.toml: that it is valid TOML, and every table and key ohrt reads has a value it can use
    (roster, retention, [capture], [page], [smtp], [routes.*] …); each problem with its line and how to mend
    it. A key ohrt does not read is a warning (a typo?). Exit 0 when usable, 2 when not.

    Example: ohrt config check
    """
    from ..ground import config_check as checking
    from ..ground.context import resolve_home

    report = checking.check(resolve_home(STATE.home) / "config.toml")
    if as_json:
        print_json(report)
    else:
        for finding in report["findings"]:
            where = f"line {finding['line']}" if finding["line"] else "file"
            colour = typer.colors.RED if finding["level"] == "error" else typer.colors.YELLOW
            typer.secho(f"{report['path']} {where}: {finding['where']}: {finding['problem']}", fg=colour, err=True)
        if report["ok"]:
            typer.echo(f"{report['path']} is usable" + (" (see the warnings)" if report["findings"] else ""))
    if not report["ok"]:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(officer_app, name="officer")
    app.add_typer(config_app, name="config")
