"""The tree as issue 11 left it: each module's docstring says what it is for and which SOP paragraphs it
implements (or that it has none of its own), and no module holds more than about 500 lines (one that grows
past that is split by job, as ground/media/ and stages/anchor/ were)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ohrt_cli"
ABOUT_500 = 550  # lines; "about" 500 leaves room for a docstring or a branch, not for a second job
NAMES_ITS_PARAGRAPHS = re.compile(r"SOP\s*(paragraphs?\s*)?\d|no SOP paragraph", re.I)


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_says_which_sop_paragraphs_it_implements():
    silent = []
    for path in modules():
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if not NAMES_ITS_PARAGRAPHS.search(doc):
            silent.append(str(path.relative_to(PACKAGE.parent)))
    assert not silent, f"name the SOP paragraphs (or say 'no SOP paragraph of its own') in the docstring of {silent}"


def test_no_module_is_over_about_500_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > ABOUT_500}
    assert not long, f"split by job (keeping the names callers use): {long}"


def test_every_package_of_the_tree_is_shipped():
    """A package missing from [tool.setuptools] packages works in a checkout and is absent from an install."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")}
    assert not found - listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}"
