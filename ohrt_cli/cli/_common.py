"""What every command shares: the global options, opening the Context, and printing results (no SOP paragraph).

Kept free of heavy imports (sqlite-utils, yt-dlp, ffmpeg) so that `ohrt --help` starts fast; each
command imports its domain module when it runs.
"""

from __future__ import annotations

import io
import json
import os
import re
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
    wide: bool = False  # --wide/--full on the command that is running


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
        except _UsageError as exc:
            fail(usage_line(exc), 2)
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


    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        for arg in args:  # bytes that are not UTF-8 reach Python as lone surrogates, which no file or row can hold
            bad = next((c for c in arg if "\udc80" <= c <= "\udcff"), None)
            if bad is not None:
                shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                fail(f"{shown!r} is not UTF-8 text (it holds the byte 0x{ord(bad) - 0xdc00:02x}): type it again, or "
                     "give the file a name in UTF-8.", 2)
        try:
            return super().parse_args(ctx, args)
        except _UsageError as exc:
            fail(usage_line(exc), 2)


def _text_options_without_pydantic() -> None:
    """typer checks each option's value with a pydantic TypeAdapter built on first use, and importing pydantic
    costs every command about a tenth of a second. An option of plain text, or a flag, needs no checking
    (its value is the text given, or a bool), so it gets typer's own pass-through instead, which refuses
    anything else; an option of another type builds its adapter only when it is given a value (left out,
    its value is None and needs none)."""
    import dataclasses
    import typing

    from typer import core
    from typer._coercion import PassThroughRuntimeParam, RuntimeParam, build_runtime_param

    @dataclasses.dataclass(frozen=True)
    class WhenGiven(RuntimeParam):
        described: typing.Any = None

        def _coerce_value(self, value, param, ctx):
            return build_runtime_param(self.described)._coerce_value(value, param=param, ctx=ctx)

    built = core._TyperParameter.get_runtime_param
    if getattr(built, "_ohrt_text", False):
        return

    def get_runtime_param(self):
        described = self.type_descriptor
        annotation = described.annotation
        if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            inner = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = inner[0] if len(inner) == 1 else annotation
        if self._runtime_param is None and described.file_annotation is None:
            if annotation in (str, bool):
                self._runtime_param = PassThroughRuntimeParam(annotation=annotation,
                                                              parameter_info=described.parameter_info)
            else:
                self._runtime_param = WhenGiven(annotation=described.annotation,
                                                parameter_info=described.parameter_info, described=described)
        return built(self)

    get_runtime_param._ohrt_text = True
    core._TyperParameter.get_runtime_param = get_runtime_param


_text_options_without_pydantic()


try:  # the click that typer carries (typer ≥ 0.20 vendors it), else click itself
    from typer._click.exceptions import UsageError as _UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError as _UsageError


def usage_line(exc: Exception) -> str:
    """A usage error of the argument parser as one line: what is wrong, and which --help says how."""
    context = getattr(exc, "ctx", None)
    words = (context.command_path.split()[1:] if context is not None else [])
    message = " ".join(exc.format_message().split())
    return f"{message.rstrip('.')}: see `ohrt {' '.join(words + ['--help'])}`."


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
    from ..ground.home import open_context

    return open_context(STATE.home, STATE.officer)


def is_terminal() -> bool:
    return sys.stdout.isatty()


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# --------------------------------------------------------------------------------- tables and records
# Listings read at 80 columns: ids, dates, times and hashes never wrap (a hash is shortened, a time shown to
# the minute), long text is cut with an ellipsis, and when even that does not fit, columns are left out
# (the command's `drop` order, else from the right) and a line says which. `--wide` (or `--full`) shows
# every column and every value whole, however wide; `--json` is always whole.

_ID = re.compile(r"^[A-Z]{1,3}-\d{4}-\d{6}$")
_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?(\+00:00|Z)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HASH = re.compile(r"^[0-9a-f]{40,}$")
HASH_SHOWN = 12  # hex digits of a hash in a table or a record (the whole in --json and with --full)
_FIXED = ("id", "time", "date", "hash", "number", "word")
WORD = 22  # text this short in every row is kept whole, like an id
TEXT_MIN = 10  # a long text column is not squeezed narrower than this
TEXT_WANT = 24  # … nor, while the command's own `drop` columns can make room, narrower than this


def wide_option() -> Any:
    """`--wide` (also `--full`): every column and every value whole in a listing or a show."""
    def remember(value: bool) -> bool:
        STATE.wide = STATE.wide or bool(value)
        return value

    return typer.Option(False, "--wide", "--full", callback=remember, help="Every column and every value whole "
                        "(hashes, times), however wide the lines; the default fits the terminal (80 columns).")


def _kind(key: str, values: list) -> str:
    present = [v for v in values if v not in (None, "")]
    texts = [str(v) for v in present]
    if texts and all(_ID.match(t) for t in texts) or (key == "id" or key.endswith("_id")) and all(
            len(t) <= WORD for t in texts):
        return "id"
    if not texts:
        return "word"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "number"
    for kind, pattern in (("time", _TIME), ("date", _DATE), ("hash", _HASH)):
        if all(pattern.match(t) for t in texts):
            return kind
    return "word" if max(len(t) for t in texts) <= WORD and all("\n" not in t for t in texts) else "text"


def cell_text(value: Any, kind: str = "text", wide: bool = False) -> str:
    """A value as a table shows it: yes/no for a flag, a time to the minute, a hash shortened (not when wide)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if wide:
        return text
    if kind == "time":
        match = _TIME.match(text)
        return f"{match[1]} {match[2]}" if match else text
    if kind == "hash" and len(text) > HASH_SHOWN:
        return text[:HASH_SHOWN] + "…"
    return " ".join(text.split()) if kind == "text" else text


def fit_columns(headings: list[str], kinds: list[str], widths: list[int], width: int,
                drop: list[int]) -> tuple[list[int], list[int]]:
    """(indices of the columns shown, each one's width) for a table `width` wide: fixed columns whole,
    text columns sharing what is left. The command's `drop` columns are left out while the text columns
    would get less than TEXT_WANT each (or less than they need); then any column but the first and the ids,
    from the right, while they would get less than TEXT_MIN."""
    shown = list(range(len(headings)))

    def room() -> int:
        return width - 3 * (len(shown) - 1) - sum(widths[i] for i in shown if kinds[i] in _FIXED)

    def fits(floor: int) -> bool:
        return room() >= sum(min(widths[i], floor) for i in shown if kinds[i] not in _FIXED)

    wanted = [i for i in drop if i in shown]
    while not fits(TEXT_WANT) and wanted:
        shown.remove(wanted.pop(0))
    rest = [i for i in reversed(shown) if i != 0 and kinds[i] != "id"]
    while not fits(TEXT_MIN) and rest:
        shown.remove(rest.pop(0))
    texts = [i for i in shown if kinds[i] not in _FIXED]
    sizes = {i: widths[i] for i in shown}
    left = max(room(), sum(min(widths[i], TEXT_MIN) for i in texts))
    need = {i: widths[i] for i in texts}
    while need:  # share the room, never more than a column needs
        share = left // len(need)
        small = {i: w for i, w in need.items() if w <= share}
        if not small:
            for n, i in enumerate(sorted(need)):
                sizes[i] = share + (1 if n < left - share * len(need) else 0)
            break
        for i, w in small.items():
            sizes[i] = w
            left -= w
            del need[i]
    return shown, [sizes[i] for i in shown]


def table_width() -> int:
    """The width listings are fitted to: $COLUMNS, else the terminal's, else 160 (output piped to a file)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if is_terminal():
        import shutil

        return shutil.get_terminal_size((80, 24)).columns
    return 160


def print_table(rows: Iterable[dict], columns: list[tuple[str, str]], *, title: str | None = None,
                empty: str = "nothing to show", drop: Iterable[str] = (), wide: bool | None = None) -> None:
    """A table of `rows` with (key, heading) columns, fitted to the terminal (see above); a plain line
    when there are none. `drop` names the columns to leave out first when they do not all fit."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    rows = list(rows)
    if not rows:
        typer.echo(empty)
        return
    wide = STATE.wide if wide is None else wide
    keys = [key for key, _ in columns]
    headings = [heading for _, heading in columns]
    kinds = [_kind(key, [row.get(key) for row in rows]) for key in keys]
    cells = [[cell_text(row.get(key), kind, wide) for key, kind in zip(keys, kinds)] for row in rows]
    widths = [max([len(h)] + [max((len(x) for x in c[i].splitlines()), default=0) for c in cells])
              for i, h in enumerate(headings)]
    if wide:
        shown, sizes = list(range(len(keys))), widths
    else:
        shown, sizes = fit_columns(headings, kinds, widths, table_width(), [keys.index(k) for k in drop if k in keys])
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for i, size in zip(shown, sizes):
        fixed = kinds[i] in _FIXED or wide
        table.add_column(headings[i], width=size, no_wrap=True, overflow="fold" if wide else "ellipsis",
                         justify="right" if kinds[i] == "number" else "left")
    for row in cells:
        # Text, not markup: a title such as "Drill [Official Video]" must print as it is.
        table.add_row(*[Text(row[i]) for i in shown])
    total = sum(sizes) + 3 * (len(shown) - 1)
    console = Console(width=max(total, len(title or ""), 20), file=io.StringIO(), highlight=False,
                      color_system=None, force_terminal=False)
    console.print(table)
    # without the padding rich adds after the last column, so that a line copied ends where its text does
    typer.echo("\n".join(line.rstrip() for line in console.file.getvalue().splitlines()))
    left_out = [headings[i] for i in range(len(keys)) if i not in shown]
    if left_out:
        typer.echo(under(f"(left out to fit {table_width()} columns: {', '.join(left_out)}; --wide shows them)", 0))


def print_record(record: dict, fields: list[tuple[str, str]] | None = None) -> None:
    """One object as aligned `Heading: value` lines; a hash shortened unless --full, a flag as yes/no."""
    fields = fields or [(k, k.replace("_", " ")) for k in record]
    width = max(len(h) for _, h in fields)
    for key, heading in fields:
        value = record.get(key)
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value) if value else "—"
        elif isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, str) and _HASH.match(value):
            value = cell_text(value, "hash", STATE.wide)
        text = "—" if value in (None, "") else str(value)
        typer.echo(f"{heading.rjust(width)}: {under(text, width + 2)}")


def under(text: str, column: int) -> str:
    """Prose that starts at `column` of a line, as it is printed there: each of its lines wrapped to the
    terminal between words only (an id, date, URL or path stays whole; not with --wide), and every line
    after the first set under the first."""
    import textwrap

    indent = " " * column
    lines = []
    for line in text.split("\n"):
        if STATE.wide or len(line) + column <= table_width():
            lines.append(indent + line)
        else:
            lines += textwrap.wrap(line, max(table_width(), column + 32), break_long_words=False,
                                   break_on_hyphens=False, initial_indent=indent, subsequent_indent=indent) or [indent]
    return "\n".join(lines)[column:]


def echo_wrapped(text: str) -> None:
    """Print lines of prose, each wrapped between words to the terminal under its own start (see `under`)."""
    for line in text.split("\n"):
        body = line.lstrip(" ")
        typer.echo(line[:len(line) - len(body)] + under(body, len(line) - len(body)))


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


def mode_option() -> Any:
    """`--mode`: the permissions of what an export writes (ground/exports.py)."""
    return typer.Option(None, "--mode", metavar="MODE", show_default=False,
                        help="Permissions of the files written, as chmod takes them (default 0600: only you; "
                        "folders get the matching x bits, 0700), e.g. --mode 0640 to let your group read.")


def json_option(help: str = "Print machine-readable JSON (documented in the README).") -> Any:
    return typer.Option(False, "--json", help=help)


def run(fn: Callable[["Context"], Any]) -> Any:
    """Open the home, run `fn(ctx)`, close the database whatever happens."""
    ctx = open_ctx()
    try:
        return fn(ctx)
    finally:
        ctx.close()
