"""The fingerprint of one piece of media, and the settings and thresholds every part shares (SOP 10.8)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np


# ------------------------------------------------------------------------------------------ settings

PDQ_FPS = 1.0                # frames hashed per second of video ...
SHORT_FPS = 2.0              # ... and of a video shorter than SHORT_S, so that a short excerpt has
SHORT_S = 120.0              #     frames enough, close enough in time to the original's, to match
FRAME_SIZE = 256             # frames are scaled to FRAME_SIZE × FRAME_SIZE before hashing (PDQ works on
                             # 64 × 64 of it; 512 cost 4× the time for the same hashes give or take a few bits)
MIN_QUALITY = 50             # PDQ's own quality score, 0–100; lower frames are dropped
ZOOM = 0.94                  # the centre 94 % of each frame is hashed too ...
ZOOMS = {"zoom": ZOOM, "zoom97": 0.97, "zoom88": 0.88, "zoom80": 0.80}  # ... and these: a crop of up to 10 %
                             # on every side lands within ~1.5 % of one of their ratios (see matching.PAIRS)
HALVES = ("top", "bottom", "left", "right")  # each half alone: a caption band or a logo covers one side
# The second axis of Fingerprint.pdq. The first three are those of fingerprints made before the others
# existed (stored, or imported from another force); such fingerprints are read with the frame's hash in
# place of the later ones. "inner" is the picture inside a picture (a clip playing in a frame of another
# video), or the frame again when there is none; a half too plain to hash (PDQ quality below MIN_QUALITY)
# is the frame again too.
VARIANTS = ("frame", "mirror", "zoom", "zoom97", "zoom88", "zoom80", *HALVES, "inner")
FIRST_VARIANTS = 3

AUDIO_STEP_S = 1365 / 11025  # Chromaprint (algorithm 1) gives one value per 1365 samples at 11,025 Hz
AUDIO_SPAN_S = 2.6           # ... each value summarising the 2.6 s of sound from its position

# Matching thresholds (tuned on generated media: tests/test_match.py, README "Re-upload detection").
PDQ_MATCH = 31               # frames at most this many bits apart (of 256) are the same picture
PDQ_POSSIBLE = 48            # ... up to this, a frame in a run of matching frames still counts
MIN_FRAMES = 3               # a picture match needs this many matching frames in one run (fewer for stills)
FRAME_GAP_S = 2.0            # a run of matching frames may skip this long (cuts, dropped frames)
AUDIO_MATCH = 0.20           # Chromaprint bit-error rate at most this over ...
AUDIO_POSSIBLE = 0.25        # ... (up to this, the sound is a "possible" match)
AUDIO_MIN_S = 10.0           # ... at least this long
AUDIO_MIN_CHANGE = 0.5       # steady tones and silence give constant values: they are no evidence

KINDS = ("same video", "same visuals", "same audio", "possible")

WORDS = 4                    # a PDQ hash as four 64-bit words
BANDS = 16                   # the index looks hashes up by 16 bands of 16 bits
INDEX_REPS = 48              # at most this many distinct frames of an item go into the index
REP_SPACING = 16             # ... a frame joins them when this many bits from the one before
REP_EVERY_S = 4.0            # ... and one every 4 s at least
INDEX_ZOOMS = ("zoom", "zoom88", "zoom80")   # ... and of these, zoomed in (a cropped re-upload's frames are
INDEX_ZOOM_REPS = 8          #     far from the frame's own hash), at most this many each
INDEX_PDQ = 64               # an index hit closer than this makes an item worth comparing in full
AUDIO_STRIDE = 8             # every 8th sound value of an item goes into the index
AUDIO_KEY_BITS = 3           # ... and a capture's value within 3 bits of it is a hit
AUDIO_VOTES = 2              # an item needs this many hits at one alignment to be compared in full


# ------------------------------------------------------------------------------------ fingerprints

@dataclasses.dataclass
class Fingerprint:
    """The fingerprints of one piece of media."""

    duration: float | None
    positions: np.ndarray          # float32 (n,): seconds from the start of each hashed frame
    quality: np.ndarray            # uint8 (n,): PDQ quality of each frame
    pdq: np.ndarray                # uint8 (n, len(VARIANTS), 32): the frame, mirrored, zoomed, its halves...
    audio: np.ndarray              # uint32 (m,): Chromaprint values, AUDIO_STEP_S apart
    crop: str | None = None        # the border cut off (w:h:x:y), if any
    tools: dict = dataclasses.field(default_factory=dict)

    @property
    def frames(self) -> int:
        return len(self.positions)

    def blobs(self) -> dict:
        """The fingerprint as columns to store: numbers as little-endian bytes."""
        return {"duration": self.duration, "frames": self.frames, "positions": self.positions.astype("<f4").tobytes(),
                "quality": self.quality.astype(np.uint8).tobytes(), "pdq": self.pdq.astype(np.uint8).tobytes(),
                "audio": self.audio.astype("<u4").tobytes(), "audio_values": len(self.audio), "crop": self.crop,
                "tools": json.dumps(self.tools, sort_keys=True)}

    @classmethod
    def from_blobs(cls, row: dict) -> "Fingerprint":
        positions = np.frombuffer(row["positions"] or b"", "<f4").astype(np.float32)
        pdq = np.frombuffer(row["pdq"] or b"", np.uint8)
        return cls(duration=row.get("duration"), positions=positions,
                   quality=np.frombuffer(row["quality"] or b"", np.uint8),
                   pdq=full_variants(pdq.reshape(len(positions), -1, 32) if len(positions) else
                                     pdq.reshape(0, len(VARIANTS), 32)),
                   audio=np.frombuffer(row["audio"] or b"", "<u4").astype(np.uint32), crop=row.get("crop"),
                   tools=json.loads(row.get("tools") or "{}"))

    def shareable(self) -> dict:
        """The fingerprint as JSON-safe text, for `export-hashes`: hashes only, no media."""
        return {"duration": self.duration, "positions": [round(float(p), 3) for p in self.positions],
                "quality": self.quality.tolist(),
                "pdq": [[bytes(v).hex() for v in frame] for frame in self.pdq],
                "audio": self.audio.tolist()}

    @classmethod
    def from_shareable(cls, data: dict) -> "Fingerprint":
        """The inverse of `shareable`; ValueError when the data is malformed."""
        positions = np.asarray(data.get("positions") or [], dtype=np.float32)
        frames = data.get("pdq") or []
        width = len(frames[0]) if frames else len(VARIANTS)
        if len(frames) != len(positions) or width not in (FIRST_VARIANTS, len(VARIANTS)) or \
                any(len(f) != width for f in frames):
            raise ValueError("pdq and positions disagree")
        pdq = full_variants(np.array([[list(bytes.fromhex(v)) for v in f] for f in frames], dtype=np.uint8).reshape(
            len(positions), width, 32))
        quality = np.asarray(data.get("quality") or [100] * len(positions), dtype=np.uint8)
        audio = np.asarray(data.get("audio") or [], dtype=np.uint64)
        if len(quality) != len(positions) or (audio.size and int(audio.max()) >= 2 ** 32):
            raise ValueError("quality or audio out of range")
        return cls(duration=data.get("duration"), positions=positions, quality=quality, pdq=pdq,
                   audio=audio.astype(np.uint32))


def full_variants(pdq: np.ndarray) -> np.ndarray:
    """(n, k, 32) hashes with every one of VARIANTS: those a fingerprint made before some existed lacks
    are the frame's own hash (so they match as the frame does, never better)."""
    if pdq.shape[1] == len(VARIANTS):
        return pdq
    if pdq.shape[1] not in (FIRST_VARIANTS, len(VARIANTS)):
        raise ValueError(f"a fingerprint's frames have {pdq.shape[1]} hashes, not {len(VARIANTS)}")
    return np.concatenate([pdq, np.repeat(pdq[:, :1], len(VARIANTS) - pdq.shape[1], axis=1)], axis=1)


def frame_step(positions: np.ndarray) -> float:
    """The time between hashed frames (1 / the sampling rate), from their positions."""
    if len(positions) < 2:
        return 1.0 / PDQ_FPS
    # labels are the frames' own times, a frame or so off the sampling grid: the step is the grid's
    typical = float(np.median(np.diff(positions)))
    if typical <= 0:
        return 1.0 / PDQ_FPS
    return max(0.05, 1.0 / max(1, round(1.0 / typical)) if typical <= 1 else float(round(typical)))


def sample_times(indices, fps: float, rate: float | None) -> np.ndarray:
    """The time of each frame ffmpeg's fps filter hands on as its `indices`-th at `fps` a second: it
    rounds to the nearest, so the i-th is the last frame shown before (i + ½) ÷ fps. With the stream's
    frame rate `rate` that is frame number ⌈(i + ½) × rate ÷ fps⌉ − 1, shown at its number ÷ rate (a
    variable rate gives it within a frame or so); without one, the bound itself. Times are from the first
    frame. A frame's label is thus the time of the frame hashed, not of the second it stands for."""
    i = np.asarray(indices, np.float64)
    if not rate or rate <= 0:
        return ((i + 0.5) / fps).astype(np.float32)
    numbers = np.maximum(0, np.ceil((i + 0.5) * rate / fps - 1e-6) - 1)
    return (numbers / rate).astype(np.float32)


def audio_seconds(values: int) -> float:
    """How much sound `values` Chromaprint values cover."""
    return 0.0 if values <= 0 else (values - 1) * AUDIO_STEP_S + AUDIO_SPAN_S


def empty_frames() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0, np.float32), np.zeros(0, np.uint8), np.zeros((0, len(VARIANTS), 32), np.uint8)

