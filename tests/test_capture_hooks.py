"""Work after a committed capture runs as registered hooks in one loop (SOP 9.1, 10.8; issue 11): a hook
that fails is recorded on the capture under its own name and never fails it; `capture finish` runs it again."""

from __future__ import annotations

import json
import subprocess

import pytest

from ohrt_cli.stages.capture import hooks

URL = "https://www.tiktok.com/@drill/live"


class Probe:
    """A hook of our own: fails (with one kind of error or another) until told not to; counts its runs."""

    def __init__(self, error: Exception | None):
        self.error, self.runs = error, []

    def __call__(self, ctx, capture_id):
        self.runs.append(capture_id)
        if self.error is not None:
            raise self.error
        return [{"probe": capture_id}]


@pytest.fixture
def probe():
    made = []

    def register(error: Exception | None, result: str = "probed") -> Probe:
        hook = Probe(error)
        hooks.register("probe", hook, result=result)
        made.append(hook)
        return hook

    yield register
    hooks.unregister("probe")


def ingest(ohrt, make_clip, *extra: str) -> dict:
    clip = make_clip("recording", seconds=2)
    return ohrt.json("capture", "--file", str(clip), "--url", URL, "--reason", "Live stream, screen-recorded", *extra)


def manifest_of(ohrt, capture_id: str) -> dict:
    return json.loads((ohrt.home / "captures" / capture_id / "manifest.json").read_text())


@pytest.mark.parametrize("error, said", [(RuntimeError("relay down"), "RuntimeError: relay down"),
                                         (ValueError("bad frame"), "ValueError: bad frame")])
def test_a_failing_hook_is_recorded_on_the_capture_which_stands(ohrt, make_clip, probe, error, said):
    hook = probe(error)
    result = ingest(ohrt, make_clip)
    assert hook.runs == [result["id"]]
    [entry] = [f for f in result["files"] if f["role"] == "probe"]
    assert entry["status"] == "failed" and entry["error"] == said and result["status"] == "incomplete"
    assert result["probed"] == [] and result["derivatives_failed"] >= 1
    [recorded] = [f for f in manifest_of(ohrt, result["id"])["files"] if f["role"] == "probe"]
    assert recorded["status"] == "failed" and recorded["error"] == said
    assert ohrt.ok("verify", result["id"]).exit_code == 0  # re-signed: the store is intact
    actions = [e["action"] for e in ohrt.json("audit", "list", "--object", result["id"])]
    assert actions[0] == "capture.add" and actions.count("capture.probe") == 1
    sums = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=ohrt.home / "captures" / result["id"])
    assert sums.returncode == 0


def test_finish_runs_a_failed_hook_again_and_clears_it_once_it_works(ohrt, make_clip, probe):
    failing = probe(RuntimeError("relay down"))
    result = ingest(ohrt, make_clip)
    assert failing.runs == [result["id"]]
    working = probe(None)
    done = ohrt.json("capture", "finish", result["id"])
    assert working.runs == [result["id"]] and "probe" in done["made"] and done["still_failed"] == []
    assert not [f for f in done["capture"]["files"] if f["role"] == "probe"]
    assert not [f for f in manifest_of(ohrt, result["id"])["files"] if f["role"] == "probe"]
    assert "nothing to do" in ohrt.ok("capture", "finish", result["id"]).stdout


def test_without_derivatives_each_hook_is_not_made_until_finish(ohrt, make_clip, probe):
    hook = probe(None)
    result = ingest(ohrt, make_clip, "--no-derivatives")
    assert hook.runs == [] and result["probed"] == [] and result["matches"] == []
    assert {f["role"]: f["status"] for f in result["files"] if f["role"] in ("probe", "fingerprints")} == \
        {"probe": "not-made", "fingerprints": "not-made"}
    done = ohrt.json("capture", "finish", result["id"])
    assert hook.runs == [result["id"]] and {"probe", "fingerprints"} <= set(done["made"])


def test_a_working_hook_adds_what_it_returns_to_the_result(ohrt, make_clip, probe):
    probe(None)
    result = ingest(ohrt, make_clip)
    assert result["probed"] == [{"probe": result["id"]}]
    assert not [f for f in result["files"] if f["role"] == "probe"]
