"""The layers of DESIGN.md hold: cli above stages above ground, no import cycles, and a stage reaches
another only through its public module; import-linter checks the contracts in pyproject.toml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def lint(where: Path = ROOT) -> subprocess.CompletedProcess:
    """lint-imports on the package found in `where` (it looks there first), with the project's contracts."""
    env = {**os.environ, "PYTHONPATH": str(where)}
    return subprocess.run([str(LINT), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")], cwd=where,
                          env=env, capture_output=True, text=True, timeout=120)


def test_the_import_contracts_are_kept():
    result = lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 7 kept, 0 broken." in result.stdout


def copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "ohrt_cli", tmp_path / "ohrt_cli", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "ohrt_cli"


def test_an_upward_import_breaks_the_layers(tmp_path):
    package = copy_of_the_package(tmp_path)
    times = package / "ground" / "times.py"
    times.write_text(times.read_text(encoding="utf-8") + "\nfrom ..stages import intake  # upwards\n", encoding="utf-8")
    result = lint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cli above stages above ground BROKEN" in result.stdout
    assert "ohrt_cli.ground.times -> ohrt_cli.stages.intake" in result.stdout


def test_reaching_into_another_stage_breaks_its_boundary(tmp_path):
    package = copy_of_the_package(tmp_path)
    intake = package / "stages" / "intake.py"
    intake.write_text(intake.read_text(encoding="utf-8") + "\nfrom .capture import commit  # a private module\n",
                      encoding="utf-8")
    result = lint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the capture stage is used through ohrt_cli.stages.capture only BROKEN" in result.stdout
    assert "no import cycles between sibling modules or packages BROKEN" in result.stdout


def test_every_package_of_ohrt_cli_is_named_in_pyproject_so_an_installed_ohrt_has_it():
    import tomllib

    named = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "ohrt_cli").rglob("__init__.py")}
    assert sorted(found - named) == [], "add each to [tool.setuptools] packages in pyproject.toml"
