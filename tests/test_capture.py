"""Capture to the write-once store, SOP 9.1 (issue 3): real yt-dlp and ffmpeg against a loopback server."""

from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.home import add_task, ffmpeg

BIN = Path(sys.executable).parent
REASON = ["--reason", "Goads a rival group after a stabbing"]


# ------------------------------------------------------------------------------------------ helpers

def capture(ohrt, *args: str) -> dict:
    return ohrt.json("capture", *args)


def folder_of(ohrt, result: dict) -> Path:
    return ohrt.home / "captures" / result["id"]


def roles(result: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in result["files"]:
        found.setdefault(entry["role"], []).append(entry)
    return found


def nothing_kept(ohrt) -> None:
    """No capture row, no task, no capture folder (not even a temporary one)."""
    db = ohrt.db()
    assert db["captures"].count == 0 and db["capture_files"].count == 0
    assert db["tasks"].count == 0
    assert list((ohrt.home / "captures").iterdir()) == []


def openssl_verifies(ohrt, folder: Path) -> bool:
    check = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", ohrt.home / "keys" / "public.pem",
                            "-rawin", "-in", folder / "manifest.json", "-sigfile", folder / "manifest.sig"],
                           capture_output=True, text=True)
    return check.returncode == 0


def sha256sum_passes(folder: Path) -> bool:
    return subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, capture_output=True).returncode == 0


def set_capture_setting(ohrt, text: str) -> None:
    config = ohrt.home / "config.toml"
    body = config.read_text().split("\n[capture]\n")[0]
    config.write_text(body + (f"\n[capture]\n{text}\n" if text else ""))


@pytest.fixture
def clip_url(site, make_clip):
    return site.put("clips/direct.mp4", make_clip("direct", seconds=3))


# ------------------------------------------------------------------------------------ the main path

def test_direct_mp4_url_is_captured_sealed_and_self_tasked(ohrt, site, clip_url):
    result = capture(ohrt, clip_url, *REASON)
    folder = folder_of(ohrt, result)
    assert result["id"] == "C-2026-000001" and result["task_created"] is True
    assert result["status"] == "complete" and result["media_kind"] == "video" and result["method"] == "download"
    assert result["duration"] == pytest.approx(3, abs=0.1)
    assert result["folder"] == "captures/C-2026-000001" and Path(result["path"]) == folder
    found = roles(result)
    assert [f["path"] for f in found["original"]] == ["original/direct.mp4"]
    assert [f["path"] for f in found["info"]] == ["source/info.json"]
    # an H.264/AAC MP4 already plays anywhere: no review copy, the original is what is opened
    assert "review" not in found and result["review_copy"] == "original/direct.mp4"
    assert {"audio", "keyframes", "contact-sheet"} <= set(found)
    assert all(f["status"] == "ok" for f in result["files"])
    original = folder / "original" / "direct.mp4"
    assert original.read_bytes() == (site.root / "clips" / "direct.mp4").read_bytes()
    assert stat.S_IMODE(original.stat().st_mode) == 0o444
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o444 for p in folder.rglob("*") if p.is_file())
    assert sha256sum_passes(folder) and openssl_verifies(ohrt, folder)
    assert not [p for p in (ohrt.home / "captures").iterdir() if p.name.startswith(".")]


def test_manifest_records_provenance_hashes_and_commands(ohrt, clip_url, site):
    result = capture(ohrt, clip_url, *REASON)
    manifest = json.loads((folder_of(ohrt, result) / "manifest.json").read_text())
    for key in ("requested_url", "final_url", "extractor", "platform_item_id", "channel", "upload_date", "title",
                "duration", "officer", "host", "started_at", "finished_at", "tools", "capture_id", "task_id"):
        assert key in manifest, key
    assert manifest["requested_url"] == clip_url and manifest["extractor"] == "generic"
    assert manifest["officer"] == {"name": "PS Ann Lee", "number": "2345", "role": "sergeant"}
    assert manifest["tools"]["yt_dlp"] == importlib.metadata.version("yt-dlp") and manifest["tools"]["ffmpeg"][0].isdigit()
    assert manifest["started_at"] <= manifest["finished_at"]
    original = next(f for f in manifest["files"] if f["role"] == "original")
    body = (folder_of(ohrt, result) / original["path"]).read_bytes()
    import hashlib

    assert original["sha256"] == hashlib.sha256(body).hexdigest() and original["md5"] == hashlib.md5(body).hexdigest()
    assert original["bytes"] == len(body) and original["probe"]["streams"][0]["codec_name"] == "h264"
    for derived in [f for f in manifest["files"] if f["role"] in ("audio", "keyframes", "contact-sheet")]:
        assert derived["parent_sha256"] == original["sha256"]
        assert derived["command"][0] == "ffmpeg" and "original/direct.mp4" in derived["command"]
    sheet = next(f for f in manifest["files"] if f["role"] == "contact-sheet")
    assert sheet["timestamps"] is True and "drawtext" in " ".join(sheet["command"])
    assert next(f for f in manifest["files"] if f["role"] == "keyframes")["at"] == 0.0
    # the rows mirror the manifest
    rows = {r["path"]: r for r in ohrt.db()["capture_files"].rows_where("capture_id = ?", [result["id"]])}
    assert {f["path"] for f in manifest["files"]} == set(rows)
    assert ohrt.db()["captures"].get(result["id"])["manifest_sha256"] == hashlib.sha256(
        (folder_of(ohrt, result) / "manifest.json").read_bytes()).hexdigest()


def test_self_tasked_capture_creates_a_valid_task_and_audits_it(ohrt, site, make_clip):
    url = site.page("pages/drill.html", "../clips/page.mp4", title="Drill at the park")
    site.put("clips/page.mp4", make_clip("page", seconds=3))
    result = capture(ohrt, url, *REASON)
    task = ohrt.json("task", "show", result["task_id"])
    assert result["extractor"] == "html5"
    assert task["title"] == "Drill at the park" and task["self_tasked"] is True and task["intake"] == "capture"
    assert task["status"] == "captured" and task["applicant_name"] == "PS Ann Lee"
    assert task["rationale"] == "Goads a rival group after a stabbing"
    assert task["platform"] == "127.0.0.1" and task["canonical_url"] == url
    assert len(task["upload_date"]) == 10
    actions = [(e["action"], e["object_id"]) for e in ohrt.json("audit", "list")]
    assert ("task.add", task["id"]) in actions and ("capture.add", result["id"]) in actions
    assert ("task.captured", task["id"]) in actions
    assert ohrt.ok("audit", "verify").stdout.strip() == f"audit chain intact: {len(actions)} entries"


def test_capture_links_to_the_open_task_and_moves_it_to_captured(ohrt, clip_url):
    task_id = add_task(ohrt, clip_url, "--platform", "local")
    result = capture(ohrt, clip_url)
    assert result["task_id"] == task_id and result["task_created"] is False
    assert ohrt.json("task", "show", task_id)["status"] == "captured"
    second = capture(ohrt, clip_url, "--task", task_id)
    assert second["task_id"] == task_id and ohrt.db()["tasks"].count == 1


def test_capture_without_a_task_needs_a_reason_and_downloads_nothing(ohrt, clip_url):
    result = ohrt("capture", clip_url)
    assert result.exit_code == 2 and "--reason" in result.stderr and "SOP 8.5" in result.stderr
    nothing_kept(ohrt)
    result = ohrt("capture", clip_url, "--task", "T-2026-000999")
    assert result.exit_code == 2 and "no task 'T-2026-000999' in this home" in result.stderr
    nothing_kept(ohrt)


def test_page_with_a_video_tag_and_an_hls_playlist_are_captured(ohrt, site, make_clip, make_hls):
    hls = site.put("hls", make_hls().parent) + "/index.m3u8"
    result = capture(ohrt, hls, *REASON)
    assert result["media_kind"] == "video" and result["duration"] == pytest.approx(6, abs=0.3)
    manifest = json.loads((folder_of(ohrt, result) / "manifest.json").read_text())
    assert "FixupM3u8" in manifest["yt_dlp"]["postprocessors"] and manifest["yt_dlp"]["postprocessor_args"] == ["-bitexact"]
    assert sha256sum_passes(folder_of(ohrt, result))


def test_a_clip_that_needs_a_review_copy_gets_an_h264_aac_mp4(ohrt, site, make_clip):
    url = site.put("clips/clip.webm", make_clip("webm", seconds=2, fmt="webm"))
    result = capture(ohrt, url, *REASON)
    found = roles(result)
    assert [f["path"] for f in found["review"]] == ["derived/review.mp4"] and result["review_copy"] == "derived/review.mp4"
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
                            folder_of(ohrt, result) / "derived" / "review.mp4"], capture_output=True, text=True)
    assert probe.stdout.split() == ["h264", "aac"]
    assert [f["path"] for f in found["audio"]] == ["derived/audio.m4a"]


def test_an_image_gets_only_the_derivatives_that_apply(ohrt, site, make_image):
    url = site.put("images/still.jpg", make_image("capture-still"))
    result = capture(ohrt, url, *REASON)
    assert result["media_kind"] == "image" and result["duration"] is None
    assert set(roles(result)) == {"original", "info"}
    assert result["review_copy"] == "original/still.jpg" and result["status"] == "complete"


def test_audio_only_content_gets_a_listening_copy(ohrt, site, media_dir):
    wav = media_dir / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:duration=2", str(wav))
    result = capture(ohrt, site.put("audio/tone.wav", wav), *REASON)
    assert result["media_kind"] == "audio" and set(roles(result)) == {"original", "info", "audio"}
    assert result["review_copy"] == "derived/audio.m4a"


# --------------------------------------------------------------------------------- failures leave nothing

def test_http_404_fails_in_one_line_and_leaves_nothing(ohrt, site):
    result = ohrt("capture", site.url("clips/gone.mp4"), *REASON)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "HTTP Error 404" in result.stderr and "Traceback" not in result.stderr
    nothing_kept(ohrt)


def test_page_without_media_fails_and_leaves_nothing_when_no_browser_can_keep_the_page(ohrt, site, tmp_path):
    # With a browser the page itself is the capture (test_page_capture.py); without one there is nothing to keep.
    url = site.put("pages/text.html", "<html><head><title>Words</title></head><body>no media</body></html>")
    result = ohrt("capture", url, *REASON, env={"OHRT_CHROMIUM": str(tmp_path / "no-chromium")})
    assert result.exit_code == 1 and "no media found" in result.stderr and "--file" in result.stderr
    nothing_kept(ohrt)


def test_malformed_url_is_refused_as_bad_input(ohrt):
    result = ohrt("capture", "javascript:alert(1)", *REASON)
    assert result.exit_code == 2 and result.stderr.startswith("error:")
    nothing_kept(ohrt)


def test_ffmpeg_missing_fails_in_one_line(ohrt, clip_url, tmp_path):
    result = ohrt("capture", clip_url, *REASON, env={"PATH": str(tmp_path)})
    assert result.exit_code == 1 and "ffmpeg" in result.stderr and "apt-get install ffmpeg" in result.stderr
    assert result.stderr.count("\n") == 1
    nothing_kept(ohrt)


def _ohrt_process(ohrt, *args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "OHRT_HOME": str(ohrt.home), "OHRT_OFFICER": "2345", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([str(BIN / "ohrt"), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)


def test_kill_during_download_leaves_no_complete_folder_and_next_capture_sweeps_it(ohrt, site, make_clip, clip_url):
    slow = site.put("clips/slow.mp4", make_clip("slow", seconds=8, size="640x360")) + "?kbps=96"
    process = _ohrt_process(ohrt, "capture", slow, *REASON)
    captures = ohrt.home / "captures"
    deadline = time.time() + 30
    part = None
    while time.time() < deadline and part is None:
        parts = [p for p in captures.glob(".tmp-*/original/*.part") if p.stat().st_size > 32 * 1024]
        part = parts[0] if parts else None
        time.sleep(0.05)
    assert part is not None, "the download never started"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    left = list(captures.iterdir())
    assert left and all(p.name.startswith(".tmp-") for p in left)
    assert not list(captures.rglob("manifest.json")) and not list(captures.rglob("SHA256SUMS"))
    assert ohrt.db()["captures"].count == 0 and ohrt.db()["tasks"].count == 0
    done = capture(ohrt, clip_url, *REASON)
    assert [p.name for p in captures.iterdir()] == [done["id"]]
    assert ohrt.ok("verify").stdout.startswith("store intact: 1 capture(s)")


def test_leftovers_of_dead_or_old_captures_are_swept_but_live_ones_kept(ohrt, clip_url):
    from ohrt_cli.ground import store

    captures = ohrt.home / "captures"
    dead = captures / ".tmp-999999999-dead"  # no such pid
    (dead / "original").mkdir(parents=True)
    (dead / "original" / "x.mp4.part").write_bytes(b"partial")
    old = captures / f".tmp-{os.getpid()}-old"
    old.mkdir()
    os.utime(old, (time.time() - 2 * store.STALE_AFTER_S,) * 2)
    live = store.Staging(captures)  # still being written: its lock is held
    try:
        capture(ohrt, clip_url, *REASON)
        assert not dead.exists() and not old.exists() and live.path.is_dir()
    finally:
        live.release()
        store.remove_tree(live.path)


def test_disk_full_fails_in_one_line_and_leaves_nothing(ohrt, clip_url):
    """A 64 KiB file system mounted over captures/ in a private mount namespace: a real ENOSPC."""
    captures = ohrt.home / "captures"
    script = ('mount -t tmpfs -o size=64k tmpfs "$1" || exit 99; shift; "$@"; code=$?; '
              'ls -A "$OLDPWD_CAPTURES"; exit $code')
    env = {**os.environ, "OHRT_HOME": str(ohrt.home), "OHRT_OFFICER": "2345", "OLDPWD_CAPTURES": str(captures)}
    run = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", str(captures), str(BIN / "ohrt"), "capture",
                          clip_url, *REASON], env=env, capture_output=True, text=True)
    if run.returncode == 99 or "unshare" in run.stderr and "Operation not permitted" in run.stderr:
        pytest.skip("cannot mount a small file system here (needs user namespaces)")
    assert run.returncode == 1, run.stderr
    assert "disk full" in run.stderr and run.stderr.count("\n") == 1
    assert run.stdout.strip() == ""  # nothing left in the full file system either
    nothing_kept(ohrt)


# ------------------------------------------------------------------------------------ re-captures

def test_recapture_names_the_earlier_capture_and_shares_the_bytes(ohrt, clip_url):
    first = capture(ohrt, clip_url, *REASON)
    second = capture(ohrt, clip_url)
    assert second["task_id"] == first["task_id"]
    original = roles(second)["original"][0]
    assert second["duplicates"] == [{"path": original["path"], "sha256": original["sha256"],
                                     "capture_id": first["id"], "linked": True}]
    a = folder_of(ohrt, first) / "original" / "direct.mp4"
    b = folder_of(ohrt, second) / "original" / "direct.mp4"
    assert os.path.samefile(a, b)
    text = ohrt.ok("capture", clip_url).stdout
    assert f"same bytes as earlier capture {first['id']}" in text
    assert ohrt.db()["captures"].count == 3
    assert ohrt.ok("verify").stdout.startswith("store intact: 3 capture(s)")


# ------------------------------------------------------------------------------------ verification

def test_verify_names_a_changed_a_missing_and_an_unexpected_file(ohrt, clip_url, site, make_clip):
    good = capture(ohrt, site.put("clips/other.mp4", make_clip("other", seconds=2, freq=660)), *REASON)
    bad = capture(ohrt, clip_url, *REASON)
    assert "store intact: 2 capture(s)" in ohrt.ok("verify").stdout
    folder = folder_of(ohrt, bad)
    original = folder / "original" / "direct.mp4"
    os.chmod(original, 0o644)
    with open(original, "r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    (folder / "derived" / "audio.m4a").chmod(0o644)
    (folder / "derived" / "audio.m4a").unlink()
    (folder / "derived" / "notes.txt").write_text("added later")
    result = ohrt("verify")
    assert result.exit_code == 1
    assert f"{bad['id']}: changed original/direct.mp4" in result.stderr
    assert f"{bad['id']}: missing derived/audio.m4a" in result.stderr
    assert f"{bad['id']}: unexpected derived/notes.txt" in result.stderr
    assert good["id"] not in result.stderr
    assert ohrt("verify", good["id"]).exit_code == 0
    report = json.loads(ohrt("verify", bad["id"], "--json").stdout)
    assert report["intact"] is False
    assert {(p["path"], p["problem"]) for p in report["problems"]} == {
        ("original/direct.mp4", "changed"), ("derived/audio.m4a", "missing"), ("derived/notes.txt", "unexpected")}
    assert not sha256sum_passes(folder)


def test_verify_catches_a_forged_manifest_and_a_stray_folder(ohrt, clip_url):
    result = capture(ohrt, clip_url, *REASON)
    folder = folder_of(ohrt, result)
    manifest = folder / "manifest.json"
    manifest.chmod(0o644)
    manifest.write_text(manifest.read_text().replace('"PS Ann Lee"', '"PS Someone Else"'))
    (ohrt.home / "captures" / "C-2026-000777").mkdir()
    report = json.loads(ohrt("verify", "--json").stdout)
    kinds = {(p["capture"], p["path"], p["problem"]) for p in report["problems"]}
    assert (result["id"], "manifest.sig", "signature") in kinds
    assert (result["id"], "manifest.json", "manifest") in kinds
    assert ("C-2026-000777", "captures/C-2026-000777", "unexpected") in kinds
    assert not openssl_verifies(ohrt, folder)


# ------------------------------------------------------------------------------------ derivatives later

def test_a_failed_derivative_is_recorded_and_capture_finish_makes_it(ohrt, site, make_clip):
    """A real x264 failure: the team's configured preset does not exist. The capture still completes."""
    url = site.put("clips/needs-review.webm", make_clip("webm", seconds=2, fmt="webm"))
    set_capture_setting(ohrt, 'review_preset = "no-such-preset"')
    result = capture(ohrt, url, *REASON)
    review = roles(result)["review"][0]
    assert review["status"] == "failed" and "preset" in review["error"].lower() and review["sha256"] is None
    assert result["status"] == "incomplete" and result["derivatives_failed"] == 1 and result["review_copy"] is None
    assert all(f["status"] == "ok" for f in result["files"] if f["role"] != "review")
    folder = folder_of(ohrt, result)
    assert not (folder / "derived" / "review.mp4").exists()
    assert ohrt.ok("verify").stdout.startswith("store intact")
    before = (folder / "original" / "needs-review.webm").stat()
    failed_again = ohrt("capture", "finish", result["id"])
    assert failed_again.exit_code == 1 and "review failed again" in failed_again.stderr

    set_capture_setting(ohrt, "")
    done = ohrt.json("capture", "finish", result["id"])
    assert done["made"] == ["review"] and done["still_failed"] == []
    capture_now = done["capture"]
    assert capture_now["status"] == "complete" and capture_now["derivatives_failed"] == 0
    assert capture_now["review_copy"] == "derived/review.mp4"
    after = (folder / "original" / "needs-review.webm").stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    assert sha256sum_passes(folder) and openssl_verifies(ohrt, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["revisions"][0]["made"] == ["review"]
    assert ohrt.ok("verify").stdout.startswith("store intact")
    assert "nothing to do" in ohrt.ok("capture", "finish", result["id"]).stdout
    actions = [e["action"] for e in ohrt.json("audit", "list", "--object", result["id"])]
    # the fingerprints, recorded as not made in the commit, are recorded as made once their hook ran
    assert [a for a in actions if a.startswith("capture.")] == ["capture.add", "capture.fingerprints",
                                                                 "capture.finish"]


def test_no_derivatives_records_them_as_not_made_until_finish(ohrt, clip_url):
    """The library's fingerprints (when that stage is installed) count as a derivative too."""
    result = capture(ohrt, clip_url, *REASON, "--no-derivatives")
    pending = [f for f in result["files"] if f["status"] != "ok"]
    assert {f["role"] for f in pending} - {"fingerprints"} == {"audio", "keyframes", "contact-sheet"}
    assert all(f["status"] == "not-made" for f in pending) and result["status"] == "incomplete"
    assert not (folder_of(ohrt, result) / "derived").exists() and result["matches"] == []
    done = ohrt.json("capture", "finish", result["id"])
    assert sorted(done["made"]) == sorted(f["role"] for f in pending) and done["still_failed"] == []
    assert done["capture"]["status"] == "complete"
    assert sha256sum_passes(folder_of(ohrt, result)) and ohrt.ok("verify").exit_code == 0


# ------------------------------------------------------------------------------------ other ways in

def test_file_ingest_is_marked_as_such(ohrt, make_clip):
    clip = make_clip("recording", seconds=2)
    url = "https://www.tiktok.com/@drill/live"
    result = capture(ohrt, "--file", str(clip), "--url", url, "--reason", "Live stream, screen-recorded",
                     "--title", "Live drill")
    manifest = json.loads((folder_of(ohrt, result) / "manifest.json").read_text())
    assert result["method"] == "file" and manifest["method"] == "file"
    assert manifest["ingest"]["source_name"] == "recording.mp4" and manifest["ingest"]["source_bytes"] == clip.stat().st_size
    task = ohrt.json("task", "show", result["task_id"])
    assert task["platform"] == "tiktok" and task["title"] == "Live drill"
    assert (folder_of(ohrt, result) / "original" / "recording.mp4").read_bytes() == clip.read_bytes()
    missing = ohrt("capture", "--file", str(clip), "--url", url)
    assert missing.exit_code == 2 and "--reason" in missing.stderr
    text_file = clip.with_name("notes.txt")
    text_file.write_text("not media")
    before = ohrt.db()["captures"].count
    bad = ohrt("capture", "--file", str(text_file), "--url", url, *REASON)
    assert bad.exit_code == 1 and "notes.txt" in bad.stderr and ohrt.db()["captures"].count == before


def test_batch_carries_on_past_failures_and_exits_1(ohrt, site, make_clip, clip_url, tmp_path):
    other = site.put("clips/batch-b.mp4", make_clip("batch-b", seconds=2, freq=550))
    batch = tmp_path / "urls.txt"
    batch.write_text(f"# Tuesday's list\n{clip_url}\n\n{site.url('clips/missing.mp4')}\n  {other}  \n")
    result = ohrt("capture", "--batch", str(batch), *REASON, "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["captured"] == 2 and summary["failed"] == 1
    assert [(r["line"], r["ok"]) for r in summary["results"]] == [(2, True), (4, False), (5, True)]
    assert "404" in summary["results"][1]["error"]
    table = ohrt("capture", "--batch", str(batch), *REASON)
    assert table.exit_code == 1 and "captured 2, failed 1" in table.stdout
    assert table.stderr.startswith("line 4: could not fetch") and "HTTP Error 404" in table.stderr
    good = tmp_path / "good.txt"
    good.write_text(clip_url + "\n")
    assert ohrt("capture", "--batch", str(good)).exit_code == 0


# ------------------------------------------------------------------------------------ reading

def test_open_needs_a_reason_and_logs_the_consultation(ohrt, clip_url):
    result = capture(ohrt, clip_url, *REASON)
    refused = ohrt("capture", "open", result["id"])
    assert refused.exit_code == 2 and "DPA 2018 s.62" in refused.stderr
    opened = ohrt.ok("capture", "open", result["id"], "--reason", "Review for the task")
    assert opened.stdout.strip() == str(folder_of(ohrt, result) / "original" / "direct.mp4")
    entry = ohrt.json("audit", "list", "--object", result["id"])[-1]
    assert entry["action"] == "capture.open" and entry["reason"] == "Review for the task"
    assert entry["detail"]["purpose"] == "consultation"


def test_list_and_show(ohrt, clip_url):
    result = capture(ohrt, clip_url, *REASON)
    rows = ohrt.json("capture", "list")
    assert [r["id"] for r in rows] == [result["id"]] and rows[0]["task_id"] == result["task_id"]
    assert ohrt.json("capture", "list", "--task", "T-2026-000099") == []
    shown = ohrt.json("capture", "show", result["id"].lower())
    assert shown["id"] == result["id"] and shown["files"] == result["files"]
    text = ohrt.ok("capture", "show", result["id"]).stdout
    assert "original/direct.mp4" in text and result["task_id"] in text
    missing = ohrt("capture", "show", "C-2026-000404")
    assert missing.exit_code == 2 and "no capture 'C-2026-000404' in this home" in missing.stderr
    assert missing.stdout == ""
