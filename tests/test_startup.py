"""A read command imports only what it uses: no media, browser, fingerprint or document libraries, no
pandas or numpy through sqlite-utils, no pydantic through typer (what each costs is in bench/bench_decode.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from support.home import OHRT_BIN, TASK_ARGS

HEAVY = {"numpy", "pandas", "pydantic", "yt_dlp", "playwright", "gallery_dl", "docx", "fpdf", "warcio", "PIL",
         "pdqhash", "ohrt_cli.ground.fingerprint"}


def imported(home, *args: str) -> set[str]:
    """The modules `ohrt ARGS` imports, from `python -X importtime` (the command must succeed)."""
    env = {**os.environ, "OHRT_HOME": str(home), "OHRT_OFFICER": "2345"}
    done = subprocess.run([sys.executable, "-X", "importtime", OHRT_BIN, *args], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return {m[1] for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)$", done.stderr, re.M)}


def test_task_list_imports_no_media_browser_or_numpy(ohrt):
    ohrt.ok("task", "add", "--url", "https://youtu.be/abc", *TASK_ARGS, env={"OHRT_OFFICER": "2345"})
    modules = imported(ohrt.home, "task", "list", "--json")
    assert "ohrt_cli.stages.intake" in modules and "sqlite_utils" in modules  # the parse saw the command's own
    assert not {m.split(".")[0] for m in modules} & HEAVY
    assert not modules & HEAVY


def test_capture_list_imports_no_media_libraries(ohrt):
    modules = imported(ohrt.home, "capture", "list", "--json")
    assert not {m.split(".")[0] for m in modules} & HEAVY
    assert not modules & HEAVY
