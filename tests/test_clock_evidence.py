"""Clock evidence (issue 14): each capture records what its machine says of its own clock (as read, never
guessed), and a page server's clock standing further from ours than `[timestamp] max_clock_skew_minutes` is
flagged in `capture show` and in the evidence report."""

from __future__ import annotations

import email.utils
import html
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from devtools.loopback import Loopback
from support.home import CONSTABLE

from ohrt_cli.ground import browser, times

URL = "https://www.tiktok.com/@drill/live"
PAGE = b"<!doctype html><html><head><title>Knives for sale</title></head><body><p>Machetes, DM for prices</p></body></html>"


def test_a_capture_records_the_machine_s_clock_as_read(ohrt, make_clip):
    clip = make_clip("clocked", seconds=1)
    made = ohrt.json("capture", "--file", str(clip), "--url", URL, "--reason", "Live stream, screen-recorded",
                     "--no-derivatives", env={"OHRT_OFFICER": CONSTABLE})
    manifest = json.loads((ohrt.home / "captures" / made["id"] / "manifest.json").read_text())
    recorded = manifest["machine_clock"]
    source = Path(times.CLOCKSOURCE)
    if source.is_file():
        assert recorded["clocksource"] == source.read_text().strip()
    else:
        assert "clocksource" not in recorded and any(times.CLOCKSOURCE in u for u in recorded["unread"])
    said = subprocess.run(["timedatectl", "show"], capture_output=True, text=True) if shutil.which("timedatectl") \
        else None
    if said is not None and said.returncode == 0 and "NTPSynchronized=" in said.stdout:
        assert recorded["ntp_synchronized"] == ("NTPSynchronized=yes" in said.stdout)
    else:  # nothing guessed: not read, and why
        assert "ntp_synchronized" not in recorded and any(u.startswith("timedatectl") for u in recorded["unread"])
    shown = ohrt.ok("capture", "show", made["id"]).stdout
    assert "clock: " in shown and (f"clock source {recorded['clocksource']}" in shown if "clocksource" in recorded
                                   else True)
    assert ohrt.json("capture", "show", made["id"])["clock"]["machine"] == recorded


def _skewed(minutes: float):
    def handler(request) -> None:
        request.send_response_only(200)
        request.send_header("Date", email.utils.formatdate(time.time() + minutes * 60, usegmt=True))
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(PAGE)))
        request.end_headers()
        request.wfile.write(PAGE)
    return handler


@pytest.mark.skipif(not Path(browser.DEFAULT_EXECUTABLE).exists() and not shutil.which("chromium"),
                    reason="Chromium is not installed (make setup installs it)")
def test_a_server_clock_far_from_ours_is_flagged_in_capture_show_and_the_report(ohrt, tmp_path):
    with open(ohrt.home / "config.toml", "a", encoding="utf-8") as handle:
        handle.write("\n[timestamp]\nmax_clock_skew_minutes = 5\n")
    with Loopback(tmp_path / "site") as site:
        far = site.route("/far.html", _skewed(-12))
        near = site.route("/near.html", _skewed(1))
        made = {name: ohrt.json("capture", url, "--reason", "Weapons offered for sale", "--no-derivatives",
                                env={"OHRT_OFFICER": CONSTABLE}) for name, url in (("far", far), ("near", near))}
    far_clock = ohrt.json("capture", "show", made["far"]["id"])["clock"]
    assert far_clock["flagged"] and -12 * 60 - 30 < far_clock["skew_seconds"] < -12 * 60 + 30
    assert far_clock["limit_minutes"] == 5 and far_clock["server_date"]
    near_clock = ohrt.json("capture", "show", made["near"]["id"])["clock"]
    assert not near_clock["flagged"] and 30 < near_clock["skew_seconds"] < 90
    shown = " ".join(ohrt.ok("capture", "show", made["far"]["id"]).stdout.split())
    assert "OVER the 5-minute limit" in shown
    assert "OVER" not in ohrt.ok("capture", "show", made["near"]["id"]).stdout

    out = tmp_path / "out"
    out.mkdir()
    package = ohrt.json("export", made["far"]["task_id"], "--to", str(out), "--recipient", "DC Jo Bloggs, Trident",
                        "--reason", "Evidence for charging")
    report = html.unescape((out / package["name"] / "data" / "report.html").read_text())
    assert "clock difference over the limit" in report and "OVER the 5-minute limit" in report
