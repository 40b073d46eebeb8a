"""Live streams (issue 13): a recording within --max-duration, an interrupted one kept as partial, and no
ffmpeg outliving ohrt. The stream is real HLS made by ffmpeg as it plays, served on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import time

import pytest

from support.home import OHRT_BIN, start_ohrt
from support.live import alive, children_of, command_of, live_stream, wait_for_recording

REASON = ["--reason", "Live stream goading a rival group"]


def test_live_stream_is_recorded_until_max_duration_and_says_it_was_live(ohrt, site):
    with live_stream(site, "live-limit") as url:
        started = time.monotonic()
        result = ohrt.json("capture", url, *REASON, "--max-duration", "0.1")
        took = time.monotonic() - started
    live = result["live"]
    assert result["status"] == "complete" and result["media_kind"] == "video"
    assert live["was_live"] is True and live["stopped_because"] == "limit" and live["limit_seconds"] == 6
    assert live["recorded_seconds"] == pytest.approx(6, abs=1) and result["duration"] == pytest.approx(6, abs=1)
    assert live["recording_started_at"] <= live["recording_stopped_at"]
    assert "-live_start_index 0" in live["from_start"]
    assert took < 30
    manifest = json.loads((ohrt.home / result["folder"] / "manifest.json").read_text())
    assert manifest["live"] == live  # signed with the rest
    assert not list((ohrt.home / result["folder"]).rglob(".live-progress.txt"))
    shown = ohrt.ok("capture", "show", result["id"]).stdout
    assert "live stream recorded" in shown and "the limit was reached" in shown and "partial" not in shown
    assert ohrt.ok("verify", result["id"]).stdout.startswith("store intact")


def test_max_duration_must_be_a_positive_number(ohrt, site):
    bad = ohrt("capture", site.url("live-none/index.m3u8"), *REASON, "--max-duration", "0")
    assert bad.exit_code == 2 and "--max-duration = 0.0 is not a positive number" in bad.stderr
    (ohrt.home / "config.toml").write_text((ohrt.home / "config.toml").read_text()
                                           + "\n[capture]\nmax_live_minutes = 'an hour'\n")
    bad = ohrt("capture", site.url("live-none/index.m3u8"), *REASON)
    assert bad.exit_code == 2 and "[capture] max_live_minutes = 'an hour'" in bad.stderr
    checked = ohrt("config", "check")
    assert checked.exit_code == 2 and "max_live_minutes = 'an hour' must be a positive number" in checked.stderr
    assert ohrt.db()["captures"].count == 0 and ohrt.db()["tasks"].count == 0


def test_ctrl_c_keeps_a_live_recording_as_partial_never_complete(ohrt, site, tmp_path):
    with live_stream(site, "live-interrupted") as url:
        process = start_ohrt(ohrt.home, "capture", url, *REASON, "--max-duration", "5", "--json",
                             extra_env={"OHRT_OFFICER": "2345"})
        wait_for_recording(ohrt.home, 4, process)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    result = json.loads(out)
    live = result["live"]
    assert result["status"] == "partial" and live["stopped_because"] == "interrupted" and live["signal"] == "SIGINT"
    assert 3 <= live["recorded_seconds"] < 60 and result["duration"] == pytest.approx(live["recorded_seconds"], abs=1)
    assert result["derivatives_failed"] == 0 and result["review_copy"]  # what was recorded plays and is derived
    shown = ohrt.ok("capture", "show", result["id"]).stdout
    assert "partial" in shown and "interrupted" in shown and "cut short" in shown
    verified = ohrt.ok("verify", result["id"])
    assert "store intact" in verified.stdout and f"{result['id']} is partial" in verified.stdout
    assert ohrt.json("verify")["captures"][0]["status"] == "partial"
    # what was recorded is reviewed like any capture, within its own length, and the report says it is partial
    ohrt.ok("review", result["task_id"], "--decision", "nfa", "--format", "live-stream", "--reason", "Local test",
            "--finding", "provocative-language|Taunts a rival|00:01-00:03", env={"OHRT_OFFICER": "7781"})
    out = tmp_path / "out"
    out.mkdir()
    package = ohrt.json("export", result["task_id"], "--to", str(out), "--recipient", "DC Jo Bloggs, Trident",
                        "--reason", "Evidence for charging")
    report = (out / package["name"] / "data" / "report.html").read_text()
    assert ">partial</span>" in report and "partial: the recording was cut short" in report
    assert "stopped because interrupted (Ctrl-C or a stop signal)" in report


def test_no_ffmpeg_outlives_a_killed_capture(ohrt, site):
    with live_stream(site, "live-killed") as url:
        process = start_ohrt(ohrt.home, "capture", url, *REASON, "--max-duration", "5",
                             extra_env={"OHRT_OFFICER": "2345"})
        wait_for_recording(ohrt.home, 1, process)
        recorders = [pid for pid in children_of(process.pid) if "ffmpeg" in command_of(pid)[0]]
        assert recorders, "yt-dlp records a live HLS stream with ffmpeg"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in recorders) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in recorders)
    assert OHRT_BIN
