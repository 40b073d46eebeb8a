"""Re-upload detection (issue 6, point 6): PDQ and Chromaprint fingerprints of media made with ffmpeg, and
the match between a re-upload and the original — re-encoded, rescaled, cropped, clipped, letterboxed
to vertical, mirrored, a new video over the same sound — while unrelated media must not match."""

from __future__ import annotations

import numpy as np
import pytest

from support.library import Media, ffmpeg, fingerprint_of as fp
from ohrt_cli.ground import fingerprint as F


@pytest.fixture(scope="module")
def media(library_media) -> Media:
    return library_media


def segment(result: dict, what: str) -> dict:
    found = [s for s in result["segments"] if s["what"] == what and s["strong"]]
    assert found, f"no strong {what} segment in {result}"
    return found[0]


def test_the_original_is_fingerprinted_frame_by_frame_and_its_sound(media):
    original = fp(media.song(1))
    assert original.frames == 32 and original.pdq.shape == (32, len(F.VARIANTS), 32)  # 2 a second: it is short
    # each frame is labelled with its own time: the last frames before 0.25, 0.75 and 1.25 s are hashed,
    # frames 6, 18 and 31 at 25 a second
    assert original.positions[:3] == pytest.approx([0.24, 0.72, 1.24], abs=1e-5)
    assert original.quality.min() >= F.MIN_QUALITY
    assert 100 <= len(original.audio) <= 112 and original.crop is None  # 16 s at 8 values a second
    assert original.tools["pdqhash"] and original.tools["ffmpeg"]


@pytest.mark.parametrize("how", ["reencoded", "rescaled", "cropped", "letterboxed", "mirrored"])
def test_a_reupload_altered_this_way_is_the_same_video(media, how):
    result = F.match(fp(media.reupload(how)), fp(media.song(1)))
    assert result is not None and result["kind"] == "same video"
    pictures, sound = segment(result, "pictures"), segment(result, "sound")
    assert pictures["capture"] == [0.0, 16.0] and pictures["item"] == [0.0, 16.0]
    assert pictures["frames"] >= 28 and pictures["pdq_distance"] <= F.PDQ_MATCH
    assert pictures["mirrored"] is (how == "mirrored")
    assert sound["capture"][0] == 0.0 and sound["seconds"] >= 15 and sound["bit_error_rate"] <= 0.05


def test_black_borders_of_a_vertical_reupload_are_cut_off_before_hashing(media):
    letterboxed = fp(media.reupload("letterboxed"))
    width, height, x, y = map(int, letterboxed.crop.split(":"))
    assert (width, x) == (360, 0) and 268 <= height <= 272 and 184 <= y <= 186


def test_a_clip_cut_from_the_middle_matches_with_its_time_ranges_side_by_side(media):
    result = F.match(fp(media.clipped(1, start=3.37, seconds=12)), fp(media.song(1)))
    assert result["kind"] == "same video"
    pictures, sound = segment(result, "pictures"), segment(result, "sound")
    assert pictures["capture"] == [0.0, 12.0] and pictures["item"][0] in (3.0, 3.5, 4.0)
    assert pictures["item"][1] - pictures["item"][0] == 12.0
    assert abs(sound["item"][0] - 3.37) < 0.2 and sound["seconds"] >= 10
    assert 0.02 <= sound["bit_error_rate"] <= 0.12  # a cut between Chromaprint's frames costs a few bits


def test_a_new_video_over_the_same_sound_is_the_same_audio(media):
    result = F.match(fp(media.swapped(pictures=2, sound=1)), fp(media.song(1)))
    assert result["kind"] == "same audio"
    assert not any(s["what"] == "pictures" for s in result["segments"])
    assert segment(result, "sound")["bit_error_rate"] <= 0.05


def test_the_same_pictures_with_new_sound_are_the_same_visuals(media):
    result = F.match(fp(media.swapped(pictures=1, sound=2)), fp(media.song(1)))
    assert result["kind"] == "same visuals"
    assert not any(s["what"] == "sound" for s in result["segments"])


def test_a_screenshot_matches_its_frame_and_a_sound_file_the_sound(media):
    still = fp(media.still(1))
    assert still.frames == 1 and len(still.audio) == 0
    result = F.match(still, fp(media.song(1)))
    assert result["kind"] == "same visuals" and segment(result, "pictures")["item"][0] in (5.0, 5.5, 6.0)
    sound = fp(media.sound_only(1))
    assert sound.frames == 0
    assert F.match(sound, fp(media.song(1)))["kind"] == "same audio"


@pytest.mark.parametrize("seed", [2, 3])
def test_unrelated_media_does_not_match_either_way(media, seed):
    original, other = fp(media.song(1)), fp(media.song(seed))
    assert F.match(other, original) is None and F.match(original, other) is None
    assert F.match(fp(media.reupload("cropped")), other) is None
    distances, _ = F.picture_distances(other, original)
    assert distances.min() > 2 * F.PDQ_MATCH  # far from the threshold, not just over it


def test_steady_tones_and_silence_are_no_evidence_of_the_same_sound(tmp_path):
    tone, silence = tmp_path / "tone.wav", tmp_path / "silence.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=660:sample_rate=44100:duration=14", tone)
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "14", silence)
    steady, quiet = F.fingerprint_file(tone), F.fingerprint_file(silence)
    assert len(steady.audio) > 80 and np.array_equal(steady.audio, quiet.audio)  # Chromaprint cannot tell them
    assert F.match(steady, quiet) is None


def test_fingerprints_survive_storage_and_sharing_unchanged(media):
    original = fp(media.song(1))
    for copy in (F.Fingerprint.from_blobs(original.blobs()), F.Fingerprint.from_shareable(original.shareable())):
        assert np.array_equal(copy.pdq, original.pdq) and np.array_equal(copy.audio, original.audio)
        assert np.allclose(copy.positions, original.positions) and np.array_equal(copy.quality, original.quality)
    with pytest.raises(ValueError):
        F.Fingerprint.from_shareable({**original.shareable(), "positions": [0.0]})


def test_the_index_finds_the_original_among_many_and_not_an_unrelated_song(media):
    rng = np.random.default_rng(7)
    entries = [(f"other-{n}", rng.integers(0, 256, 40 * 32, dtype=np.uint8).tobytes(),
                rng.integers(0, 2 ** 32, 200, dtype=np.uint32).tobytes()) for n in range(2000)]
    columns = F.index_columns(fp(media.song(1)))
    entries.insert(1234, ("original", columns["index_pdq"], columns["index_audio"]))
    index = F.Index.build(entries)
    for reupload in (media.reupload("cropped"), media.clipped(1), media.swapped(2, 1), media.reupload("mirrored")):
        assert "original" in index.candidates(fp(reupload))
    assert "original" not in index.candidates(fp(media.song(3)))


def test_the_index_reads_back_from_disk_the_same(media, tmp_path):
    columns = F.index_columns(fp(media.song(1)))
    index = F.Index.build([("a", columns["index_pdq"], columns["index_audio"]), ("b", b"", b"")])
    F.save_index(index, tmp_path / "index")
    loaded = F.Index.load(tmp_path / "index")
    assert loaded.owners == ["a", "b"] and loaded.candidates(fp(media.reupload("reencoded"))) == ["a"]


def test_a_file_ffmpeg_cannot_read_is_one_clear_failure(tmp_path):
    from ohrt_cli.ground.errors import Failure

    bad = tmp_path / "notmedia.mp4"
    bad.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(Failure) as caught:
        F.fingerprint_file(bad)
    assert "check the file" in caught.value.message and "\n" not in caught.value.message


# ------------------------------------------------------------------ synthetic fingerprints, exact control

def synthetic(frames: int, seed: int, audio: int = 0) -> F.Fingerprint:
    rng = np.random.default_rng(seed)
    pdq = rng.integers(0, 256, (frames, len(F.VARIANTS), 32), dtype=np.uint8)
    steps = np.bitwise_xor.reduce(np.uint32(1) << rng.integers(0, 32, (audio, 5), dtype=np.uint32), axis=1)
    return F.Fingerprint(float(frames), np.arange(frames, dtype=np.float32), np.full(frames, 90, np.uint8), pdq,
                         np.bitwise_xor.accumulate(steps).astype(np.uint32) if audio else np.zeros(0, np.uint32))


def flipped(hashes: np.ndarray, bits: int, seed: int) -> np.ndarray:
    """Each 32-byte hash with `bits` of its bits flipped."""
    rng = np.random.default_rng(seed)
    unpacked = np.unpackbits(hashes, axis=-1)
    flat = unpacked.reshape(-1, 256)
    for row in flat:
        row[rng.choice(256, bits, replace=False)] ^= 1
    return np.packbits(flat.reshape(unpacked.shape), axis=-1)


def test_a_compilation_of_two_stretches_gives_both_side_by_side():
    item = synthetic(20, seed=1)
    order = list(range(12, 18)) + list(range(2, 8))  # item 12–18 s, then item 2–8 s
    query = F.Fingerprint(12.0, np.arange(12, dtype=np.float32), np.full(12, 90, np.uint8),
                          flipped(item.pdq[order], 10, seed=2), np.zeros(0, np.uint32))
    result = F.match(query, item)
    assert result["kind"] == "same visuals"
    assert sorted((s["capture"], s["item"]) for s in result["segments"]) == [
        ([0.0, 6.0], [12.0, 18.0]), ([6.0, 12.0], [2.0, 8.0])]


def test_weaker_evidence_is_reported_as_possible():
    item = synthetic(12, seed=3, audio=120)
    pictures = flipped(item.pdq, 40, seed=4)         # every frame 40 bits off (a heavy crop) ...
    pictures[5] = flipped(item.pdq[5:6], 20, seed=5)[0]  # ... but one close enough to start a run
    query = F.Fingerprint(12.0, item.positions.copy(), item.quality.copy(), pictures, np.zeros(0, np.uint32))
    result = F.match(query, item)
    assert result["kind"] == "possible" and result["segments"][0]["strong"] is False
    assert result["segments"][0]["capture"] == [0.0, 12.0]

    noise = np.packbits(np.random.default_rng(6).random((120, 32)) < 0.225, axis=1, bitorder="little")
    sound = F.Fingerprint(None, np.zeros(0, np.float32), np.zeros(0, np.uint8), np.zeros((0, 3, 32), np.uint8),
                          item.audio ^ noise.view("<u4").ravel())
    result = F.match(sound, item)
    assert result["kind"] == "possible" and F.AUDIO_MATCH < result["bit_error_rate"] <= F.AUDIO_POSSIBLE
    assert F.match(F.Fingerprint(None, sound.positions, sound.quality, sound.pdq, item.audio ^ np.packbits(
        np.random.default_rng(7).random((120, 32)) < 0.35, axis=1, bitorder="little").view("<u4").ravel()),
        item) is None


def test_a_fingerprint_made_before_the_zoomed_and_half_hashes_still_reads_and_matches(media):
    original = fp(media.song(1))
    row = original.blobs()
    row["pdq"] = original.pdq[:, :F.FIRST_VARIANTS].tobytes()      # as stored before the later variants
    old = F.Fingerprint.from_blobs(row)
    assert old.pdq.shape == original.pdq.shape and (old.pdq[:, -1] == original.pdq[:, 0]).all()
    shared = original.shareable()
    shared["pdq"] = [frame[:F.FIRST_VARIANTS] for frame in shared["pdq"]]
    assert np.array_equal(F.Fingerprint.from_shareable(shared).pdq, old.pdq)
    assert F.match(fp(media.reupload("cropped")), old)["kind"] == "same video"
