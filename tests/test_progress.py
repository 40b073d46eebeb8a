"""Progress on a terminal (ground/progress.py): bytes for copying and hashing (a package's check too), seconds
of media for the derivatives and for fingerprints made by `library match`, items for verify, import, export and
a batch of reviews; nothing with --json or without a terminal."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess

from support.home import CONSTABLE, OHRT_BIN, SERGEANT

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_terminal(home, *args, env=None) -> tuple[int, str]:
    """ohrt run with a pseudo-terminal as stdout and stderr, as an officer types it; (exit, what was shown)."""
    master, slave = pty.openpty()
    full = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    full.update({"OHRT_HOME": str(home), "OHRT_OFFICER": SERGEANT, "TERM": "xterm", "COLUMNS": "100",
                 **(env or {})})
    process = subprocess.Popen([OHRT_BIN, *map(str, args)], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                               env=full)
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    process.wait()
    os.close(master)
    return process.returncode, ANSI.sub("", shown.decode("utf-8", "replace"))


def test_capture_of_a_file_shows_seconds_of_media_and_json_shows_none(ohrt, make_clip):
    clip = make_clip("progress-clip", seconds=20, size="640x360", fmt="webm")  # its review copy is re-encoded
    code, shown = on_terminal(ohrt.home, "capture", "--file", clip, "--url", "https://youtu.be/abcdefghijk",
                              "--reason", "progress check")
    assert code == 0, shown
    assert re.search(r"making review .*\d+/20 s of media", shown), shown
    assert re.search(r"copying and hashing progress-clip.webm .* [0-9.]+/[0-9.]+ [kM]B", shown), shown
    assert "C-2026-000001 captured" in shown
    code, shown = on_terminal(ohrt.home, "capture", "--file", clip, "--url", "https://youtu.be/bcdefghijkl",
                              "--reason", "progress check", "--json")
    assert code == 0 and "s of media" not in shown and "making" not in shown
    assert shown.lstrip().startswith("{")


def test_verify_counts_captures_on_a_terminal_and_nothing_through_a_pipe(ohrt, make_clip):
    clip = make_clip("progress-clip-2", seconds=2)
    for n in range(3):
        ohrt.ok("capture", "--file", clip, "--url", f"https://youtu.be/abcdefghij{n}", "--reason", "progress",
                "--no-derivatives", env={"OHRT_OFFICER": SERGEANT})
    code, shown = on_terminal(ohrt.home, "verify")
    assert code == 0 and "store intact: 3 capture(s)" in shown
    assert "re-hashing captures" in shown, shown
    piped = subprocess.run([OHRT_BIN, "verify"], capture_output=True, text=True,
                           env={**{k: v for k, v in os.environ.items() if not k.startswith("OHRT_")},
                                "OHRT_HOME": str(ohrt.home)})
    assert piped.stdout.startswith("store intact: 3 capture(s)") and "re-hashing" not in piped.stdout + piped.stderr
    assert "\x1b" not in piped.stdout


def test_the_meter_reports_items_bytes_and_the_end():
    from ohrt_cli.ground.progress import Meter

    seen = []
    with Meter(seen.append, "re-hashing captures", 3) as shown:
        for _ in range(3):
            shown.advance()
    assert seen[0]["done"] == 0 and seen[-1] == {"event": "progress", "key": "re-hashing captures",
                                                  "label": "re-hashing captures", "done": 3, "total": 3,
                                                  "unit": "items", "finished": True}
    Meter(None, "nobody watches", 10).advance()  # no report: nothing happens, nothing fails


def test_verify_package_shows_the_bytes_unzipped_and_re_hashed_and_json_shows_none(ohrt, make_clip, tmp_path):
    clip = make_clip("progress-clip-3", seconds=4)
    capture = ohrt.json("capture", "--file", clip, "--url", "https://youtu.be/abcdefghijk", "--reason", "progress",
                        "--no-derivatives", env={"OHRT_OFFICER": SERGEANT})
    made = ohrt.json("export", capture["task_id"], "--to", tmp_path, "--recipient", "DC Jo Bloggs, Trident Central",
                     "--reason", "CPS charging file", "--zip")
    code, shown = on_terminal(ohrt.home, "verify", "--package", made["zip"])
    assert code == 0 and "package intact" in shown, shown
    for label in (r"unzipping T-2026-000001-evidence-[\d-]+\.zip", "checking the bag", "re-hashing captures"):
        assert re.search(label + r" .*[0-9.]+/[0-9.]+ [kM]B", shown), (label, shown)
    code, shown = on_terminal(ohrt.home, "verify", "--package", made["package"])
    assert code == 0 and "checking the bag" in shown and "unzipping" not in shown
    code, shown = on_terminal(ohrt.home, "verify", "--package", made["zip"], "--json")
    assert code == 0 and shown.lstrip().startswith("{")
    assert "unzipping" not in shown and "checking the bag" not in shown and "re-hashing" not in shown


def test_review_batch_counts_the_rows_checked_then_says_it_records_them(ohrt, tmp_path):
    from support.governance import import_tasks

    tasks = import_tasks(ohrt, tmp_path, 30, "2026-07-01T09:00:00")
    path = tmp_path / "reviews-july.jsonl"
    path.write_text("".join(json.dumps({"task": t, "decision": "nfa", "format": "video", "no_capture": True,
                                        "reason": "content gone; nothing harmful"}) + "\n" for t in tasks[:20]))
    code, shown = on_terminal(ohrt.home, "review", "--batch", path, env={"OHRT_OFFICER": CONSTABLE})
    assert code == 0 and "recorded 20 review(s)" in shown, shown
    assert re.search(r"checking reviews-july\.jsonl .*\d+/20", shown), shown
    assert "recording 20 review(s)" in shown
    rest = tmp_path / "reviews-rest.jsonl"
    rest.write_text("".join(json.dumps({"task": t, "decision": "nfa", "format": "video", "no_capture": True,
                                        "reason": "content gone"}) + "\n" for t in tasks[20:]))
    code, shown = on_terminal(ohrt.home, "review", "--batch", rest, "--json", env={"OHRT_OFFICER": CONSTABLE})
    assert code == 0 and shown.lstrip().startswith("{") and "checking" not in shown and "recording" not in shown
    assert len(json.loads(shown)["applied"]) == 10


def test_library_match_shows_the_seconds_of_media_fingerprinted_first(ohrt, library_media):
    song = library_media.song(1)  # 16 s
    first, second = (ohrt.json("capture", "--file", song, "--url", f"https://youtu.be/abcdefghij{n}", "--reason",
                               "progress", "--no-derivatives", env={"OHRT_OFFICER": SERGEANT})["id"] for n in (1, 2))
    code, shown = on_terminal(ohrt.home, "library", "match", first)
    assert code == 0 and f"{first}: no library item matches" in shown, shown
    assert re.search(rf"fingerprinting {first} .*s of media", shown), shown
    code, shown = on_terminal(ohrt.home, "library", "match", first)  # fingerprinted now: nothing to show
    assert code == 0 and "fingerprinting" not in shown
    code, shown = on_terminal(ohrt.home, "library", "match", second, "--json")
    assert code == 0 and json.loads(shown)["fingerprinted_now"] and "fingerprinting" not in shown
