"""Real operating-system logins for the tests of who may act (SOP 3.6): users and a group made with
useradd/groupadd and removed afterwards, and ohrt installed with the distribution's python into a venv
every login can read (as a team's install under /opt/ohrt would be: the default python of this machine
lives under /root, which other logins cannot reach)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"
# What the commands these tests run import (ohrt imports yt-dlp, ffmpeg and the browser only when used).
RUNTIME = ["typer>=0.29,<0.30", "rich>=13,<16", "sqlite-utils>=4.2,<5", "jinja2>=3.1,<4", "platformdirs>=4,<5",
           "cryptography>=42,<51", "tomli-w>=1.0,<2"]


def why_not() -> str | None:
    """Why these tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root: it creates operating-system users and a group (useradd, groupadd)"
    for tool in ("useradd", "userdel", "groupadd", "groupdel", "runuser"):
        if not shutil.which(tool):
            return f"needs {tool}"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"needs {SYSTEM_PYTHON} to install ohrt where every login can run it"
    return None


def shared_install(root: Path) -> Path:
    """ohrt installed from this checkout into `root`/venv (0755 all the way); returns its `ohrt`."""
    root.chmod(0o755)
    venv = root / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
           "--disable-pip-version-check"]
    for args in (RUNTIME, ["--no-deps", str(REPO)]):
        done = subprocess.run([*pip, *args], capture_output=True, text=True, cwd=tempfile.gettempdir())
        if done.returncode:
            raise RuntimeError(f"installing {args} for other logins failed:\n{done.stderr[-2000:]}")
    return venv / "bin" / "ohrt"


@dataclass
class Logins:
    """Users and one group made for a test, and a folder they can all reach; `remove` undoes it all."""

    ohrt: Path
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    place: Path | None = None

    def group(self, name: str) -> str:
        group = f"o{self.tag}{name}"
        subprocess.run(["groupadd", group], check=True)
        self.groups.append(group)
        return group

    def user(self, name: str, *groups: str) -> str:
        user = f"o{self.tag}{name}"
        extra = ["-G", ",".join(groups)] if groups else []
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", *extra, user], check=True)
        self.users.append(user)
        return user

    def folder(self) -> Path:
        """A folder every login may enter (the home itself decides who reads it)."""
        if self.place is None:
            self.place = Path(tempfile.mkdtemp(prefix="ohrt-logins-"))
            self.place.chmod(0o1777)
        return self.place

    def run(self, user: str, home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        """`ohrt ARGS` as `user` (runuser), with a clean environment but for OHRT_HOME and `env`."""
        full = {"PATH": "/usr/bin:/bin", "OHRT_HOME": str(home), "OHRT_DEBUG": "1", "LANG": "C.UTF-8",
                "COLUMNS": "200", **(env or {})}
        command = ["runuser", "-u", user, "--", "env", "-i", *[f"{k}={v}" for k, v in full.items()],
                   str(self.ohrt), *map(str, args)]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    def remove(self) -> None:
        for user in self.users:
            subprocess.run(["userdel", "-r", user], capture_output=True)
        for group in self.groups:
            subprocess.run(["groupdel", group], capture_output=True)
        if self.place is not None:
            shutil.rmtree(self.place, ignore_errors=True)
