"""Where shipped data lives (templates for SOP 10.1 and 10.4, catalogues for 9.4): `templates/`, as `ohrt_cli.templates`.

A team may override any shipped file by putting one at the same relative path under `HOME/templates/`
(for the terms-of-service catalogue: `HOME/tos/`)."""

from __future__ import annotations

import importlib.resources
from pathlib import Path


def templates_dir() -> Path:
    return Path(str(importlib.resources.files("ohrt_cli.templates")))


def template_search_path(home: Path | None) -> list[Path]:
    """The folders a template is looked up in, the team's own first."""
    paths = [templates_dir()]
    if home is not None and (home / "templates").is_dir():
        paths.insert(0, home / "templates")
    return paths
