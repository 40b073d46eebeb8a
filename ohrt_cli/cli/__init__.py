"""The face of ohrt: typer commands that parse, call one domain function, and render (rich or --json).

Each stage of the flow has its own module here, registered below; none of them does domain work.
No SOP paragraph of its own: each command module names those of the stage it faces.
"""

from __future__ import annotations

from typing import Optional

import typer

from .. import __version__
from ._common import STATE, new_app

app = new_app(
    "ohrt — the Online Harm Referral Team toolkit: task, capture, review, refer, record the outcome, keep "
    "and purge, with every step audited.\n\nExample: ohrt task add --url https://youtu.be/abc --title 'Drill' ..."
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ohrt {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    home: Optional[str] = typer.Option(None, "--home", help="The ohrt home folder (default: $OHRT_HOME, else the "
                                       "user data folder).", show_default=False),
    officer: Optional[str] = typer.Option(None, "--officer", help="Acting officer's collar/staff number or name "
                                          "(default: $OHRT_OFFICER, else team.officer in config.toml)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    STATE.home = home
    STATE.officer = officer
    STATE.wide = False


def _register() -> None:
    from . import admin, anchor, audit, capture, evidence, exhibits, governance, library, refer, review, tasks

    for module in (admin, tasks, audit, capture, review, refer, library, governance, evidence, exhibits, anchor):
        module.register(app)


_register()


def main() -> None:
    app()
