"""Meta's `threatexchange` CLI (python-threatexchange, from the test extras), run as a partner runs it, with
its state in a folder of the test's own (it keeps it under $HOME/.threatexchange)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


class ThreatExchange:
    def __init__(self, home: Path):
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self("config", "extensions", "add", "threatexchange.extensions.vpdq.manifest")  # the vPDQ signal type

    def __call__(self, *args) -> str:
        cli = Path(sys.executable).with_name("threatexchange")
        done = subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "HOME": str(self.home)})
        assert done.returncode == 0, f"threatexchange {' '.join(map(str, args))}: {done.stderr[-2000:]}"
        return done.stdout

    def hashes(self, kind: str, path: Path) -> dict[str, str]:
        """{signal type: signal} as `threatexchange hash KIND FILE` prints them."""
        return dict(line.split(" ", 1) for line in self("hash", kind, path).splitlines() if " " in line)

    def load(self, signal_file: Path, name: str = "ohrt-export") -> None:
        """A local-file collaboration reading `signal_file`, fetched and indexed."""
        self("config", "collab", "edit", "local_file", "--create", "--filename", Path(signal_file).resolve(), name)
        self("fetch")

    def match(self, kind: str, path: Path) -> list[str]:
        """The lines of `threatexchange match KIND FILE`: one per signal type and collaboration matched."""
        return [line for line in self("match", kind, path).splitlines() if line.strip()]
