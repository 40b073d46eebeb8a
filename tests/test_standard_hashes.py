"""The standard hashes made beside ohrt's fingerprints are the ones Meta's reference hashers make (SOP 10.8
sharing): a video's vPDQ frames as the `vpdq` package (Meta's C++ vPDQ, built from PyPI) makes them, a
photo's PDQ as the `threatexchange` CLI hashes it; each vPDQ frame labelled with the time of the frame
hashed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ohrt_cli.ground import fingerprint as fpmod
from ohrt_cli.ground import media
from support.home import ffmpeg
from support.threatexchange import ThreatExchange

vpdq = pytest.importorskip("vpdq", reason="the test extras (pip install -e '.[test]') bring Meta's vpdq")
REFERENCE = Path(__file__).resolve().parent / "fixtures" / "threatexchange"


def _video(folder: Path, name: str, rate: str, size: str, seconds: int) -> Path:
    out = folder / name
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}", "-c:v", "libx264", "-preset",
           "ultrafast", "-pix_fmt", "yuv420p", out)
    return out


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("standard")
    return [_video(folder, "pal.mp4", "25", "320x240", 6), _video(folder, "ntsc.mp4", "30000/1001", "322x242", 5),
            _video(folder, "thirty.mp4", "30", "640x360", 4)]


def test_vpdq_frames_are_those_of_metas_vpdq_hasher(videos):
    for path in videos:
        ours = fpmod.standard_hashes(path, media.probe(path))
        theirs = vpdq.computeHash(str(path), seconds_per_hash=1)
        assert ours.frames == len(theirs) >= 4, path.name
        assert [int(n) for n in ours.frame_numbers] == [f.frame_number for f in theirs]
        assert [round(float(t), 3) for t in ours.times] == [round(f.timestamp, 3) for f in theirs]
        assert [int(q) for q in ours.qualities] == [f.quality for f in theirs]
        distances = [bin(int(h, 16) ^ int(f.hex, 16)).count("1")
                     for h, f in zip((bytes(x).hex() for x in ours.hashes), theirs)]
        assert max(distances) <= 2, (path.name, distances)   # the same frames, decoded by another libavcodec call


def test_a_photos_pdq_is_the_threatexchange_hasher_s(tmp_path):
    tx = ThreatExchange(tmp_path / "tx")
    for name, source in (("wide.jpg", "testsrc2=size=1600x1004"), ("small.png", "mandelbrot=size=256x256"),
                         ("tiny.jpg", "testsrc=size=42x34")):
        path = tmp_path / name
        ffmpeg("-f", "lavfi", "-i", source, "-frames:v", "1", path)
        ours = fpmod.standard_hashes(path, media.probe(path))
        assert tx.hashes("photo", path) == {"pdq": ours.pdq}, name
        # ohrt's own fingerprint scales to 256 × 256 first: not the standard hash, hence both are kept
        assert ours.pdq_quality >= 50


def test_a_videos_vpdq_is_the_threatexchange_hasher_s(videos, tmp_path):
    import json

    path = videos[1]
    ours = fpmod.standard_hashes(path, media.probe(path))
    theirs = [f.split(",") for f in json.loads(ThreatExchange(tmp_path / "tx").hashes("video", path)["vpdq"])]
    mine = [f.split(",") for f in ours.vpdq_features()]
    assert [q for _, q, _ in theirs] == [q for _, q, _ in mine]
    # threatexchange writes 3 significant digits (1.94), ohrt 3 decimals (1.935)
    assert all(abs(float(a) - float(b)) < 0.01 for (_, _, a), (_, _, b) in zip(theirs, mine))
    assert all(bin(int(a, 16) ^ int(b, 16)).count("1") <= 2 for (a, _, _), (b, _, _) in zip(theirs, mine))


def test_metas_published_reference_hashes():
    """Meta's own sample media and the hashes ThreatExchange publishes for them (tests/fixtures/threatexchange,
    with their BSD licence): a photo's PDQ as its Java and Python reference tests give it, each vPDQ frame as
    vpdq/sample-hashes lists it (frame number, quality, hash)."""
    photos = [line.split(",")[:2] for line in (REFERENCE / "pdq-reference.txt").read_text().splitlines()]
    assert len(photos) >= 10
    for expected, name in photos:
        found = fpmod.standard_hashes(REFERENCE / name, media.probe(REFERENCE / name))
        distance = bin(int(found.pdq, 16) ^ int(expected, 16)).count("1")
        # a picture PDQ rates too plain to hash (quality under 50) may round otherwise in places
        assert distance == 0 if found.pdq_quality >= 50 else distance <= 16, (name, distance, found.pdq_quality)
    listings = sorted(REFERENCE.glob("*.vpdq.txt"))
    assert len(listings) == 2
    for listing in listings:
        video = REFERENCE / listing.name.replace(".vpdq.txt", ".mp4")
        found = fpmod.standard_hashes(video, media.probe(video))
        reference = {int(f): (h, int(q)) for f, q, h, _ in (x.split(",") for x in listing.read_text().splitlines())}
        assert found.frames >= 4
        for number, hashed, quality in zip(found.frame_numbers, found.hashes, found.qualities):
            expected, their_quality = reference[int(number)]
            assert quality == their_quality, (video.name, int(number))
            if quality >= 50:
                assert bin(int(bytes(hashed).hex(), 16) ^ int(expected, 16)).count("1") <= 2, (video.name, int(number))
