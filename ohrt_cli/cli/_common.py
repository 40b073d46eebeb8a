"""What every command shares: the global options, opening the Context, and printing results (no SOP paragraph).

Kept free of heavy imports (sqlite-utils, yt-dlp, ffmpeg) so that `ohrt --help` starts fast; each
command imports its domain module when it runs.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from ..ground.context import Context


@dataclass
class State:
    home: str | None = None
    officer: str | None = None


STATE = State()


class OhrtGroup(TyperGroup):
    """Turns an OhrtError into one red line and its exit code; an unexpected error into one line too."""

    def invoke(self, ctx: typer.Context):
        from ..ground.errors import OhrtError

        try:
            return super().invoke(ctx)
        except OhrtError as exc:
            fail(exc.message, exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted: nothing half-made was kept; run the command again.", 130)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except OSError as exc:
            if os.environ.get("OHRT_DEBUG"):
                raise
            fail(f"{exc.strerror or exc} ({exc.filename or 'file'}): check the path, space and permissions.", 1)
        except Exception as exc:  # a bug: still one line for the officer, the traceback with OHRT_DEBUG=1
            from ..ground.errors import Busy, is_busy

            if is_busy(exc):  # another command holds the write lock past the busy timeout: not a bug
                fail(Busy().message, Busy.exit_code)
            if os.environ.get("OHRT_DEBUG"):
                raise
            fail(f"internal error: {type(exc).__name__}: {exc} (run again with OHRT_DEBUG=1 and report it).", 1)


class DefaultGroup(OhrtGroup):
    """A group that runs `default_command` when the first word is not one of its subcommands, so that
    `ohrt capture URL` and `ohrt capture list` both read naturally."""

    default_command: str = ""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if not args:  # a bare `ohrt capture` shows the group's help, as other groups do
            typer.echo(ctx.get_help())
            raise typer.Exit(0)
        if args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def default_group(command: str) -> type[DefaultGroup]:
    return type(f"DefaultGroup_{command}", (DefaultGroup,), {"default_command": command})


def new_app(help: str, *, default: str | None = None) -> typer.Typer:
    return typer.Typer(
        help=help, cls=default_group(default) if default else OhrtGroup, no_args_is_help=not default,
        pretty_exceptions_enable=False, rich_markup_mode=None, add_completion=False,
    )


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def open_ctx() -> "Context":
    from ..ground.context import open_context

    return open_context(STATE.home, STATE.officer)


def is_terminal() -> bool:
    return sys.stdout.isatty()


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_table(rows: Iterable[dict], columns: list[tuple[str, str]], *, title: str | None = None,
                empty: str = "nothing to show") -> None:
    """A rich table of `rows` with (key, heading) columns; a plain line when there are none."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    rows = list(rows)
    if not rows:
        typer.echo(empty)
        return
    table = Table(title=title, show_lines=False, header_style="bold")
    for _, heading in columns:
        table.add_column(heading, overflow="fold")
    for row in rows:
        # Text, not markup: a title such as "Drill [Official Video]" must print as it is.
        table.add_row(*[Text("" if row.get(key) is None else str(row.get(key))) for key, _ in columns])
    Console(width=None if is_terminal() else 160).print(table)


def print_record(record: dict, fields: list[tuple[str, str]] | None = None) -> None:
    """One object as aligned `Heading: value` lines."""
    fields = fields or [(k, k.replace("_", " ")) for k in record]
    width = max(len(h) for _, h in fields)
    for key, heading in fields:
        value = record.get(key)
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value) if value else "—"
        elif isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False)
        typer.echo(f"{heading.rjust(width)}: {'—' if value in (None, '') else value}")


def edit_text(text: str, *, suffix: str = ".txt") -> str:
    """`text` as the officer leaves it after $VISUAL or $EDITOR (else vi) on a temporary file; InputError
    when the editor cannot be run or fails (nothing is kept of the file)."""
    import shlex
    import subprocess
    import tempfile

    from ..ground.errors import InputError

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    handle, name = tempfile.mkstemp(prefix="ohrt-", suffix=suffix)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        try:
            code = subprocess.call([*shlex.split(editor), name])
        except OSError as exc:
            raise InputError(f"the editor {editor!r} could not be run ({exc.strerror}): set $EDITOR to one that "
                             "is installed, e.g. EDITOR=nano.") from None
        if code != 0:
            raise InputError(f"the editor {editor!r} exited with {code}: nothing was used of what it left; "
                             "run the command again.")
        with open(name, encoding="utf-8") as back:
            return back.read()
    finally:
        os.unlink(name)


def json_option(help: str = "Print machine-readable JSON (documented in the README).") -> Any:
    return typer.Option(False, "--json", help=help)


def run(fn: Callable[["Context"], Any]) -> Any:
    """Open the home, run `fn(ctx)`, close the database whatever happens."""
    ctx = open_ctx()
    try:
        return fn(ctx)
    finally:
        ctx.close()
