"""The README is the manual: its command reference must be the commands' own --help."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_reference_matches_help():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_reference.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_readme_opens_with_the_two_setup_commands():
    head = (ROOT / "README.md").read_text().split("## ", 1)[0]
    assert "make demo" in head and "make test" in head


def test_the_developers_picture_names_every_module_of_the_tree():
    """The README's picture of the layers is true to the tree: every module and package is in it, and nothing
    that is not there (a module added, split or renamed is drawn where it now stands)."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## For developers: the layers", 1)[1]
    picture = section.split("```\n", 2)[1]
    drawn = set(re.findall(r"[a-z_]\w*", picture))
    package = ROOT / "ohrt_cli"
    modules = {p.stem for p in package.rglob("*.py") if p.stem != "__init__"}
    packages = {p.parent.name for p in package.rglob("__init__.py") if p.parent != package}
    assert not (modules | packages) - drawn, "draw these in the README's picture of the layers"
    for name in re.findall(r"\b([a-z_]\w*)(?:\.py|/)", picture):
        assert name in modules | packages | {"ohrt_cli", "__init__"}, f"the README's picture draws {name}, which is not in the tree"
