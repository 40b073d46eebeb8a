"""One decode for every derivative and fingerprint of a video (ground/media.plan_pass, fingerprint.Reader):
the manifest names the one command and every file it makes, repeating it gives the same bytes, and the
fingerprints are those each file gave when each was read by its own ffmpeg."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ohrt_cli.ground import fingerprint as F
from ohrt_cli.ground import media
from ohrt_cli.ground.errors import Failure
from support.home import ffmpeg

REASON = ["--reason", "Goads a rival group after a stabbing"]
DERIVED = ("review", "audio", "keyframes", "contact-sheet")


def old_way(path: Path) -> F.Fingerprint:
    """The fingerprint as it was made before one decode read everything: the border, the frames and the
    sound each read by an ffmpeg of its own."""
    info = media.probe(path)
    video = media.streams(info, "video")[0]
    stream = f"0:{video['index']}"
    crop = F.detect_crop(path, video, stream, media.duration(info))
    positions, quality, pdq = F.frame_hashes(path, crop=crop, stream=stream, fps=F.sampling_rate(media.duration(info)),
                                             rate=F.standard.frame_rate(video))
    return F.Fingerprint(duration=media.duration(info), positions=positions, quality=quality, pdq=pdq,
                         audio=F.audio_fingerprint(path), crop=crop)


def stored(ohrt, capture_id: str) -> F.Fingerprint:
    return F.Fingerprint.from_blobs(next(ohrt.db()["fingerprints"].rows_where("capture_id = ?", [capture_id])))


def stored_standard(ohrt, capture_id: str) -> F.StandardHashes:
    return F.StandardHashes.from_blobs(next(ohrt.db()["standard_hashes"].rows_where("capture_id = ?", [capture_id])))


def same_standard(a: F.StandardHashes, b: F.StandardHashes) -> bool:
    return (a.frames > 0 and np.array_equal(a.hashes, b.hashes) and np.array_equal(a.qualities, b.qualities)
            and np.array_equal(a.times, b.times) and np.array_equal(a.frame_numbers, b.frame_numbers))


def same(a: F.Fingerprint, b: F.Fingerprint) -> bool:
    return (a.crop == b.crop and np.array_equal(a.positions, b.positions) and np.array_equal(a.quality, b.quality)
            and np.array_equal(a.pdq, b.pdq) and np.array_equal(a.audio, b.audio))


@pytest.fixture
def matroska(media_dir, make_clip) -> Path:
    """H.264/AAC that plays anywhere, in a container that does not: its review copy is a remux."""
    out = media_dir / "remux.mkv"
    if not out.exists():
        ffmpeg("-i", make_clip("remux-source", seconds=4), "-c", "copy", out)
    return out


def test_one_command_makes_every_derivative_and_repeating_it_gives_the_same_bytes(ohrt, site, matroska, tmp_path):
    result = ohrt.json("capture", site.put("clips/remux.mkv", matroska), *REASON)
    folder = ohrt.home / "captures" / result["id"]
    manifest = json.loads((folder / "manifest.json").read_text())
    original = next(f for f in manifest["files"] if f["role"] == "original")
    derived = [f for f in manifest["files"] if f["role"] in DERIVED]
    assert {f["role"] for f in derived} == set(DERIVED) and all(f["status"] == "ok" for f in derived)
    review, audio = (next(f for f in derived if f["role"] == role) for role in ("review", "audio"))
    together = [f for f in derived if f["role"] in ("keyframes", "contact-sheet")]
    command = together[0]["command"]
    assert all(f["command"] == command and f["parent_sha256"] == original["sha256"] for f in together)
    assert set(together[0]["made_together"]) == {"derived/keyframes", "derived/contact-sheet.jpg"}
    assert command.count("-i") == 1 and "original/remux.mkv" in command  # one process, one decode
    # the review copy is the original's own streams, copied into an MP4 by a command of its own
    assert review["remuxed"] is True and "made_together" not in review and review["parent_sha256"] == original["sha256"]
    assert review["command"][review["command"].index("-c") + 1] == "copy" and "libx264" not in review["command"]
    codecs = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
                             folder / "derived" / "review.mp4"], capture_output=True, text=True).stdout.split()
    assert codecs == ["h264", "aac"]
    # a third party repeating the recorded commands in a copy of the folder gets the same bytes
    again = tmp_path / "again"
    (again / "original").mkdir(parents=True)
    shutil.copyfile(folder / original["path"], again / original["path"])
    (again / "derived" / "keyframes").mkdir(parents=True)
    for run in (review["command"], audio["command"], command):
        subprocess.run(run, cwd=again, check=True, capture_output=True)
    for entry in derived:
        assert hashlib.sha256((again / entry["path"]).read_bytes()).hexdigest() == entry["sha256"], entry["path"]


def test_a_capture_fingerprinted_by_its_one_decode_matches_one_fingerprinted_the_old_way(ohrt, site, library_media):
    """A letterboxed re-upload: its border is found and cut off before the frames are hashed."""
    clip = library_media.reupload("letterboxed")
    result = ohrt.json("capture", site.put("clips/letterboxed.mp4", clip), *REASON)
    assert not [f for f in result["files"] if f["status"] != "ok"]
    new, old = stored(ohrt, result["id"]), old_way(clip)
    assert new.crop is not None and new.frames >= 10 and len(new.audio) > 50
    assert same(new, old)
    assert F.match(new, old)["kind"] == "same video" and F.match(old, new)["kind"] == "same video"
    # the standard hashes (vPDQ) come from the same decode, the same as vPDQ's own reading gives them
    assert same_standard(stored_standard(ohrt, result["id"]),
                         F.vpdq_hashes(clip, media.streams(media.probe(clip), "video")[0]))
    # and it is what `library match` would read from the file on its own
    assert same(F.fingerprint_file(clip), old)


def test_capture_finish_reads_derivatives_and_fingerprints_in_one_decode_as_capture_does(ohrt, site, library_media):
    clip = library_media.song(1)
    late = ohrt.json("capture", site.put("clips/song-late.mp4", clip), *REASON, "--no-derivatives")
    done = ohrt.json("capture", "finish", late["id"])
    assert sorted(done["made"]) == ["audio", "contact-sheet", "fingerprints", "keyframes"]
    assert same(stored(ohrt, late["id"]), old_way(clip))
    assert same_standard(stored_standard(ohrt, late["id"]),
                         F.vpdq_hashes(clip, media.streams(media.probe(clip), "video")[0]))


def test_a_fingerprint_read_with_the_derivatives_is_handed_over_once():
    fp = F.Fingerprint(duration=1.0, positions=np.zeros(0, np.float32), quality=np.zeros(0, np.uint8),
                       pdq=np.zeros((0, len(F.VARIANTS), 32), np.uint8), audio=np.zeros(0, np.uint32))
    F.remember("ab" * 32, fp)
    assert F.fingerprint_file(Path("/nonexistent/clip.mp4"), sha256="ab" * 32) is fp
    with pytest.raises(Failure):  # then it is read from the file again, which here does not exist
        F.fingerprint_file(Path("/nonexistent/clip.mp4"), sha256="ab" * 32)


@pytest.mark.parametrize("how", ["letterboxed", "mirrored"])
def test_one_decode_reads_the_fingerprints_and_vpdq_as_their_own_readers_do(library_media, how):
    clip = library_media.reupload(how)
    info = media.probe(clip)
    with F.Reader(clip, info, standard=True) as reader:
        media.run_pass(media.plan_pass(str(clip), info, "video", media.DEFAULTS, roles=set()), clip.parent,
                       reading=reader.reading())
        assert same(reader.fingerprint(), old_way(clip))
        assert same_standard(reader.standard_hashes(), F.vpdq_hashes(clip, media.streams(info, "video")[0]))


def test_fingerprinting_a_file_by_its_bytes_keeps_its_vpdq_frames_from_the_same_decode(library_media):
    clip = library_media.song(2)
    F.fingerprint_file(clip, sha256="cd" * 32)
    kept = F.remembered_standard("cd" * 32)
    assert kept is not None and same_standard(kept, F.vpdq_hashes(clip, media.streams(media.probe(clip), "video")[0]))
    assert F.remembered_standard("cd" * 32) is None  # handed over once
