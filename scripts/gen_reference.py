"""Write the README's command reference from the commands' own --help, so the two cannot drift.

`python scripts/gen_reference.py` rewrites the part of README.md between the reference markers;
`--check` exits 1 when it is out of date (the test suite runs that).
"""

from __future__ import annotations

import sys
from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

from ohrt_cli.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- reference:start -->", "<!-- reference:end -->"


def commands(group, prefix=()):
    yield prefix
    for name in sorted(getattr(group, "commands", {})):
        sub = group.commands[name]
        if getattr(sub, "hidden", False):
            continue
        yield from commands(sub, prefix + (name,))


def reference() -> str:
    runner = CliRunner()
    parts = []
    for path in commands(get_command(app)):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100", "TERM": "dumb"}, prog_name="ohrt")
        heading = " ".join(("ohrt",) + path)
        parts.append(f"#### `{heading}`\n\n```text\n{result.stdout.rstrip()}\n```\n")
    return "\n".join(parts)


def render(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n\n{reference()}\n{END}{tail}"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in sys.argv:
        if new != text:
            print("README.md's command reference is out of date: run `make readme`.", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
