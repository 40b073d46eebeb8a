"""The tests' own layout: fixtures in conftest.py, builders in tests/support/, one loopback server."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).parent
ROOT = TESTS.parent


def test_no_test_imports_from_conftest_or_a_loose_helper_module():
    offenders = []
    for path in sorted([*TESTS.glob("*.py"), *TESTS.glob("support/*.py")]):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.match(r"\s*(from|import)\s+(conftest|\w+_helpers)\b", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "import builders from tests/support/ (fixtures come by name):\n" + "\n".join(offenders)
    assert not list(TESTS.glob("*_helpers.py")), "helpers belong in tests/support/"


def test_one_loopback_server_for_tests_bench_and_demo():
    """Only devtools/loopback.py runs an HTTP server; the tests, bench/ and scripts/ use it."""
    servers = []
    for path in sorted([*TESTS.rglob("*.py"), *(ROOT / "bench").glob("*.py"), *(ROOT / "scripts").glob("*.py")]):
        text = path.read_text(encoding="utf-8")
        if path != Path(__file__) and re.search(r"\b(HTTPServer|ThreadingHTTPServer|TCPServer)\b", text):
            servers.append(str(path.relative_to(ROOT)))
    assert servers == [], f"serve pages with devtools.loopback.Loopback instead: {servers}"
