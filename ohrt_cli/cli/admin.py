"""`ohrt init` and `ohrt officer …`: the home and its roster (SOP 3.6: who may act in it)."""

from __future__ import annotations

from typing import Optional

import typer

from ._common import STATE, json_option, new_app, print_json, print_table, run, wide_option

officer_app = new_app("The roster: who may act in this home, under which login and key.\n\nExample: ohrt officer add "
                      "'PS Ann Lee' --number 2345 --role sergeant --login alee")


def init(
    team: Optional[str] = typer.Option(None, "--team", help="Team name, e.g. 'Online Harm Referral Team'."),
    mailbox: Optional[str] = typer.Option(None, "--mailbox", help="Team mailbox, the From of every referral."),
    officer: Optional[str] = typer.Option(None, "--officer", help="The first officer's name."),
    number: Optional[str] = typer.Option(None, "--number", help="The first officer's collar/staff number."),
    role: str = typer.Option("sergeant", "--role", help="The first officer's role: staff, constable, sergeant, "
                             "inspector or chief-inspector."),
    home: Optional[str] = typer.Option(None, "--home", help="Where to create the home (default: $OHRT_HOME, "
                                       "else the user data folder)."),
    login: Optional[str] = typer.Option(None, "--login", help="The first officer's OS login (default: the "
                                        "current login)."),
    group: Optional[str] = typer.Option(None, "--group", help="An OS group whose logins share the home: the "
                                        "group may work in it, no one else may read it."),
    training: bool = typer.Option(False, "--training", help="A training home (demo, classes, tests): the "
                                  "acting officer is chosen freely with --officer, and every audit entry says so."),
    as_json: bool = json_option(),
) -> None:
    """Create an ohrt home: database, signing key, config with the team and its first officer.

    The acting officer is the roster entry of the current OS login; the first officer's personal key is
    made now. Running it on an existing home changes nothing and says so.

    Example: ohrt init --team 'OHRT' --mailbox ohrt@met.police.uk --officer 'PS Ann Lee' --number 2345 --role sergeant --group ohrt
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
    path, created = init_home(target, team or "", mailbox or "", officer or "", number or "", role, login=login,
                              training=training, group=group)
    if as_json:
        print_json({"home": str(path), "created": created, "public_key": str(path / "keys" / "public.pem"),
                    "training": training, "group": group})
    elif created:
        typer.echo(f"created ohrt home at {path}" + (f", shared with group {group}" if group else ""))
        if training:
            typer.echo("training home: --officer chooses any officer, and every audit entry says so")
        typer.echo(f"public key for checking signatures: {path / 'keys' / 'public.pem'}")
    else:
        typer.echo(f"{path} is already an ohrt home: nothing changed.")


@officer_app.command("add")
def officer_add(
    name: str = typer.Argument(..., metavar="NAME", help="Officer's name as it should appear in records."),
    number: str = typer.Option(..., "--number", help="Collar or staff number."),
    role: str = typer.Option(..., "--role", help="staff, constable, sergeant, inspector or chief-inspector."),
    login: Optional[str] = typer.Option(None, "--login", help="The OS login the officer works under (needed "
                                        "unless the home is a training one)."),
    as_json: bool = json_option(),
) -> None:
    """Add an officer to the roster (a sergeant or above; audited and signed).

    Their personal key is made at their first command, in their own data folder.

    Example: ohrt officer add 'PC Sam Okafor' --number 7781 --role constable --login sokafor
    """
    from ..ground.roster import add_officer

    officer = run(lambda ctx: add_officer(ctx, name, number, role, login))
    if as_json:
        print_json(_row(officer))
    else:
        typer.echo(f"added {officer}" + (f", login {officer.login}" if officer.login else ""))


@officer_app.command("role")
def officer_role(
    number: str = typer.Argument(..., metavar="NUMBER", help="The officer's collar/staff number."),
    role: str = typer.Argument(..., metavar="ROLE", help="staff, constable, sergeant, inspector or chief-inspector."),
    as_json: bool = json_option(),
) -> None:
    """Give an officer another role (a sergeant or above, not for themselves; audited and signed).

    Example: ohrt officer role 7781 sergeant
    """
    from ..ground.roster import change_role

    officer = run(lambda ctx: change_role(ctx, number, role))
    if as_json:
        print_json(_row(officer))
    else:
        typer.echo(f"{officer.name} ({officer.number}) is now {officer.role}")


@officer_app.command("disable")
def officer_disable(
    number: str = typer.Argument(..., metavar="NUMBER", help="The leaver's collar/staff number."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why, e.g. 'left the team'."),
    as_json: bool = json_option(),
) -> None:
    """Mark a leaver: kept on the roster with their history, they may no longer act (a sergeant or above).

    Example: ohrt officer disable 7781 --reason 'moved to CID'
    """
    from ..ground.roster import disable

    officer = run(lambda ctx: disable(ctx, number, reason))
    if as_json:
        print_json(_row(officer))
    else:
        typer.echo(f"{officer.name} ({officer.number}) left on {officer.disabled[:10]}: may no longer act")


@officer_app.command("key")
def officer_key(
    passphrase: bool = typer.Option(False, "--passphrase", help="Protect your private key with a passphrase "
                                    "(asked twice; or OHRT_PASSPHRASE)."),
    as_json: bool = json_option(),
) -> None:
    """Show your personal key (made at your first command), or protect it with a passphrase.

    Example: ohrt officer key --passphrase
    """
    from ..ground import officer_keys

    def key(ctx):
        officer = ctx.actor()
        path = officer_keys.key_path(ctx, officer)
        if passphrase:
            secret = officer_keys.passphrase_from_env()
            if not secret:
                secret = typer.prompt("new passphrase", hide_input=True, confirmation_prompt=True)
            officer_keys.protect(path, secret)
        return {"number": officer.number, "login": officer.login, "private_key": str(path),
                "fingerprint": officer.fingerprint, "protected": passphrase or _encrypted(path)}

    result = run(key)
    if as_json:
        print_json(result)
    else:
        typer.echo(f"personal key of {result['number']}: {result['private_key']}"
                   + (" (passphrase-protected)" if result["protected"] else ""))
        typer.echo(f"fingerprint: {result['fingerprint']}")


def _encrypted(path) -> bool:
    try:
        return b"ENCRYPTED" in path.read_bytes()
    except OSError:
        return False


def _row(officer) -> dict:
    return {**officer.as_dict(), "login": officer.login, "fingerprint": officer.fingerprint,
            "left": officer.disabled}


@officer_app.command("list")
def officer_list(wide: bool = wide_option(), as_json: bool = json_option()) -> None:
    """List the roster.

    Example: ohrt officer list --json
    """
    def roster(ctx):
        default = ctx.settings.default_officer
        return [{**_row(o), "default": o.number == default, "you": o.login == ctx.login and bool(o.login)}
                for o in ctx.settings.officers]

    rows = run(roster)
    if as_json:
        print_json(rows)
    else:
        for row in rows:
            row["key"] = (row["fingerprint"] or "not made yet")[:16]
        print_table(rows, [("number", "Number"), ("name", "Name"), ("role", "Role"), ("login", "Login"),
                           ("key", "Key"), ("left", "Left"), ("default", "Default")])


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
