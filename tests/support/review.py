"""Helpers for the review tests (issue 4): the arguments of a typical review, and a capture of a local
clip through the real `ohrt capture --file` so that a review has a media duration to check against."""

from __future__ import annotations

from pathlib import Path


def review_args(task: str, decision: str = "refer", *, finding: str = "provocative-language|Mocks a rival's death",
                clause: str = "youtube:violent-criminal-orgs", fmt: str = "music-video") -> list[str]:
    args = ["review", task, "--decision", decision, "--format", fmt]
    if finding:
        args += ["--finding", finding]
    if clause:
        args += ["--clause", clause]
    return args


def capture_clip(ohrt, task: str, clip: Path, url: str) -> str:
    """Capture `clip` for `task` as the content at `url`; returns the capture id."""
    data = ohrt.json("capture", "--file", str(clip), "--url", url, "--reason", "review test", "--task", task)
    return data["id"]
