"""The standard hashes other hash-sharing tools read, made beside ohrt's own fingerprints (SOP 10.8).

ohrt's fingerprints (`extract.py`) cut black borders off and scale each frame to 512 × 512 before PDQ,
which serves matching here but gives hashes nobody else can compare with theirs. These are made the
way Meta's reference hashers make them, so that a hash list from a platform, from another force or from
Meta's Hasher-Matcher-Actioner can be held against a capture, and ours against theirs:

* **PDQ** of a photo: the whole picture at its own size, decoded to RGB, downscaled by PDQ itself
  (pdq-photo-hasher; 256 bits and a quality 0–100).
* **vPDQ** of a video: PDQ of one decoded frame a second, chosen as vPDQ's `filehasher` chooses them
  (the frames whose number in decoding order is a multiple of int(frame rate), timestamp = number ÷
  frame rate), each at its own size, no border cut off, not rotated, PDQ's own downscaling. Every frame
  is kept with its quality, as vPDQ keeps them; matching leaves out those below quality 50.

Frames are decoded by ffmpeg (a child process like every other), hashed by `pdqhash`, the C++ PDQ of
the reference implementation. tests/test_standard_hashes.py holds both against Meta's published
reference hashes (tests/fixtures/threatexchange/).
"""

from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from .. import processes
from ..errors import Failure

SECONDS_PER_HASH = 1.0       # vPDQ's default: one frame a second
QUALITY_THRESHOLD = 50       # vPDQ and PDQ signals: frames below this quality are not compared
MATCH_DISTANCE = 31          # ThreatExchange's PDQ/vPDQ threshold: hashes at most this many bits apart match


@dataclasses.dataclass
class StandardHashes:
    """The standard hashes of one original: a photo's PDQ, or a video's vPDQ frames (or neither, for sound)."""

    pdq: str | None = None                 # hex, 64 characters
    pdq_quality: int | None = None
    frame_numbers: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.uint32))
    times: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.float32))
    qualities: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.uint8))
    hashes: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 32), np.uint8))

    @property
    def frames(self) -> int:
        return len(self.times)

    def blobs(self) -> dict:
        """As columns to store (numbers as little-endian bytes)."""
        return {"pdq": self.pdq, "pdq_quality": self.pdq_quality, "vpdq_frames": self.frames or None,
                "vpdq_numbers": self.frame_numbers.astype("<u4").tobytes() if self.frames else None,
                "vpdq_times": self.times.astype("<f4").tobytes() if self.frames else None,
                "vpdq_quality": self.qualities.astype(np.uint8).tobytes() if self.frames else None,
                "vpdq": self.hashes.astype(np.uint8).tobytes() if self.frames else None}

    @classmethod
    def from_blobs(cls, row: dict) -> "StandardHashes":
        n = int(row.get("vpdq_frames") or 0)
        if not n:
            return cls(pdq=row.get("pdq"), pdq_quality=row.get("pdq_quality"))
        return cls(pdq=row.get("pdq"), pdq_quality=row.get("pdq_quality"),
                   frame_numbers=np.frombuffer(row["vpdq_numbers"], "<u4").astype(np.uint32),
                   times=np.frombuffer(row["vpdq_times"], "<f4").astype(np.float32),
                   qualities=np.frombuffer(row["vpdq_quality"], np.uint8),
                   hashes=np.frombuffer(row["vpdq"], np.uint8).reshape(n, 32))

    def vpdq_features(self) -> list[str]:
        """The vPDQ frames as ThreatExchange writes a vPDQ signal's features: "hash,quality,timestamp"."""
        return [f"{bytes(h).hex()},{int(q)},{float(t):.3f}" for h, q, t in zip(self.hashes, self.qualities, self.times)]

    @classmethod
    def from_vpdq_features(cls, features: list) -> "StandardHashes":
        """The inverse of `vpdq_features`; ValueError when a feature is malformed."""
        hashes, qualities, times = [], [], []
        for feature in features:
            if not isinstance(feature, str):
                raise ValueError(f"feature {feature!r} is not text")
            parts = feature.split(",")
            if len(parts) != 3:
                raise ValueError(f"feature {feature[:80]!r} is not hash,quality,timestamp")
            hashes.append(pdq_bytes(parts[0]))
            quality, time = int(parts[1]), float(parts[2])
            if not 0 <= quality <= 100 or not 0 <= time < 10 ** 7:
                raise ValueError(f"feature {feature[:80]!r} has a quality or time out of range")
            qualities.append(quality)
            times.append(time)
        if not hashes:
            raise ValueError("a vPDQ signal with no frames")
        return cls(frame_numbers=np.arange(len(hashes), dtype=np.uint32), times=np.asarray(times, np.float32),
                   qualities=np.asarray(qualities, np.uint8), hashes=np.asarray(hashes, np.uint8).reshape(-1, 32))


def pdq_bytes(text: str) -> list[int]:
    """A PDQ hash written as 64 hex digits, as 32 bytes; ValueError otherwise."""
    text = (text or "").strip().lower()
    if len(text) != 64:
        raise ValueError(f"{text[:80]!r} is not a PDQ hash (64 hex digits)")
    return list(bytes.fromhex(text))


_KEPT: dict[str, StandardHashes] = {}


def keep(sha256: str, hashes: StandardHashes) -> None:
    """Keep, for this process, the standard hashes read from the file with these bytes by another decode
    (`extract.remember`)."""
    _KEPT[sha256] = hashes


def remembered_standard(sha256: str | None) -> StandardHashes | None:
    """The standard hashes kept for these bytes (handed over once), or None."""
    return _KEPT.pop(sha256, None) if sha256 else None


def standard_hashes(path: Path, info: dict, *, sha256: str | None = None) -> StandardHashes:
    """The standard hashes of one original: PDQ for a photo, vPDQ for a video, none for sound alone.
    `info` is ffprobe's answer (media.probe). With `sha256`, those already read from these bytes by the
    decode that made the capture's derivatives (`extract.remember`) are taken instead."""
    from .. import media

    found = remembered_standard(sha256)
    if found is not None:
        return found

    kind = media.media_kind(info)
    if kind == "image":
        return photo_pdq(Path(path))
    if kind == "video":
        return vpdq_hashes(Path(path), media.streams(info, "video")[0])
    return StandardHashes()


def photo_pdq(path: Path) -> StandardHashes:
    """PDQ of a photo as pdq-photo-hasher makes it: the whole picture, RGB at its own size (first frame of
    an animation; no EXIF turn, as the reference hasher reads it), PDQ's own downscaling."""
    import pdqhash
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.seek(0)
            pixels = np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        pixels = _ffmpeg_picture(path)
    bits, quality = pdqhash.compute(np.ascontiguousarray(pixels))
    return StandardHashes(pdq=np.packbits(bits.astype(np.uint8)).tobytes().hex(), pdq_quality=int(quality))


def _ffmpeg_picture(path: Path) -> np.ndarray:
    """A picture Pillow cannot read (AVIF, HEIF…), decoded by ffmpeg at its own size."""
    from .. import media

    video = media.streams(media.probe(path), "video")
    if not video:
        raise Failure(f"{path.name} holds no picture to hash: check the file.")
    width, height = int(video[0].get("width") or 0), int(video[0].get("height") or 0)
    done = processes.run(["ffmpeg", "-nostdin", "-v", "error", "-noautorotate", "-i", str(path), "-map",
                          f"0:{video[0].get('index', 0)}", "-frames:v", "1", "-pix_fmt", "rgb24", "-f", "rawvideo",
                          "-"], capture_output=True)
    if done.returncode != 0 or len(done.stdout) < width * height * 3 or not width or not height:
        raise Failure(f"ffmpeg could not read the picture of {path.name}: check the file.")
    return np.frombuffer(done.stdout[:width * height * 3], np.uint8).reshape(height, width, 3)


def frame_rate(video: dict) -> float:
    """The frame rate vPDQ uses: the stream's average rate, else its base rate."""
    for key in ("avg_frame_rate", "r_frame_rate"):
        try:
            rate = Fraction(str(video.get(key) or "0/0"))
        except (ValueError, ZeroDivisionError):
            continue
        if rate > 0:
            return float(rate)
    raise Failure("the video states no frame rate: vPDQ hashes cannot be made; check the file.")


def vpdq_hashes(path: Path, video: dict, seconds_per_hash: float = SECONDS_PER_HASH) -> StandardHashes:
    """vPDQ of a video stream (ffprobe's description `video`): see the module's docstring."""
    import pdqhash

    rate = frame_rate(video)
    every = max(1, int(seconds_per_hash * rate))
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise Failure(f"{path.name} states no picture size: vPDQ hashes cannot be made; check the file.")
    # every decoded frame, none dropped or repeated to a rate (passthrough), not turned by its rotation
    # tag; the chosen ones are converted to RGB as vPDQ converts them (swscale, area)
    command = ["ffmpeg", "-nostdin", "-v", "error", "-noautorotate", "-i", str(path), "-map",
               f"0:{video.get('index', 0)}", "-fps_mode", "passthrough", "-sws_flags", "area",
               "-vf", f"select=not(mod(n\\,{every}))", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    size = width * height * 3
    hashes, qualities = [], []
    with tempfile.TemporaryFile() as errors, processes.popen(command, stdout=subprocess.PIPE, stderr=errors) as proc:
        while len(data := proc.stdout.read(size)) == size:
            bits, quality = pdqhash.compute(np.frombuffer(data, np.uint8).reshape(height, width, 3))
            hashes.append(np.packbits(bits.astype(np.uint8)))
            qualities.append(int(quality))
        proc.wait()
        errors.seek(0)
        error = errors.read().decode("utf-8", "replace").strip().splitlines()
    if proc.returncode != 0:
        raise Failure(f"ffmpeg could not read the pictures of {path.name} ({error[-1] if error else 'no reason given'})"
                      ": check the file.")
    numbers = np.arange(len(hashes), dtype=np.uint32) * every
    return StandardHashes(frame_numbers=numbers, times=(numbers / np.float32(rate)).astype(np.float32),
                          qualities=np.asarray(qualities, np.uint8),
                          hashes=np.asarray(hashes, np.uint8).reshape(-1, 32))


def tool_versions() -> dict:
    from importlib.metadata import version

    from .. import media

    return {"ffmpeg": media._tool_version("ffmpeg"), "pdqhash": version("pdqhash"), "vpdq": "frame choice of vPDQ 0.2"}
