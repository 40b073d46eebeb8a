"""Perceptual fingerprints of captured media, and matching them: how the Domain library (SOP 10.8)
recognises a removed video when it is uploaded again.

Pictures: one frame a second (PDQ_FPS) is hashed with PDQ, Meta's open perceptual hash (256 bits), after
black borders are cut off with ffmpeg's `cropdetect` and the picture is scaled to 512 × 512. Frames PDQ
itself rates below quality 50 (near-blank, flat) are dropped. Each frame is also hashed mirrored, and
zoomed in by a few percent (ZOOM), so that a mirrored upload, or one cropped a little, still matches.

Sound: the Chromaprint fingerprint (the algorithm of AcoustID, through ffmpeg's `chromaprint` muxer, or
`fpcalc` where ffmpeg lacks it): one 32-bit value every 0.124 s (AUDIO_STEP_S).

Matching (`match`) compares two fingerprints and returns the segments that match side by side: the time
range in the capture and in the library item, the frames' PDQ distances, the sound's bit-error rate. The
thresholds below were tuned on generated media (see tests/test_match.py and the README). `Index` finds,
among many library items, the few worth comparing, in well under a second for 100,000 items.

This is ground: files, numbers and numpy; no tasks, no database.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

import numpy as np

from .errors import Failure

# ------------------------------------------------------------------------------------------ settings

PDQ_FPS = 1.0                # frames hashed per second of video
FRAME_SIZE = 512             # frames are scaled to FRAME_SIZE × FRAME_SIZE before hashing
MIN_QUALITY = 50             # PDQ's own quality score, 0–100; lower frames are dropped
ZOOM = 0.94                  # the centre 94 % of each frame is hashed too: crops of up to ~8 % still match
VARIANTS = ("frame", "mirror", "zoom")   # the second axis of Fingerprint.pdq

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
    pdq: np.ndarray                # uint8 (n, len(VARIANTS), 32): frame, mirrored, zoomed
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
        return cls(duration=row.get("duration"), positions=positions,
                   quality=np.frombuffer(row["quality"] or b"", np.uint8),
                   pdq=np.frombuffer(row["pdq"] or b"", np.uint8).reshape(len(positions), len(VARIANTS), 32),
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
        if len(frames) != len(positions) or any(len(f) != len(VARIANTS) for f in frames):
            raise ValueError("pdq and positions disagree")
        pdq = np.array([[list(bytes.fromhex(v)) for v in f] for f in frames], dtype=np.uint8).reshape(
            len(positions), len(VARIANTS), 32)
        quality = np.asarray(data.get("quality") or [100] * len(positions), dtype=np.uint8)
        audio = np.asarray(data.get("audio") or [], dtype=np.uint64)
        if len(quality) != len(positions) or (audio.size and int(audio.max()) >= 2 ** 32):
            raise ValueError("quality or audio out of range")
        return cls(duration=data.get("duration"), positions=positions, quality=quality, pdq=pdq,
                   audio=audio.astype(np.uint32))


def audio_seconds(values: int) -> float:
    """How much sound `values` Chromaprint values cover."""
    return 0.0 if values <= 0 else (values - 1) * AUDIO_STEP_S + AUDIO_SPAN_S


def empty_frames() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0, np.float32), np.zeros(0, np.uint8), np.zeros((0, len(VARIANTS), 32), np.uint8)


def fingerprint_file(path: Path, info: dict | None = None) -> Fingerprint:
    """Hash the pictures and the sound of a media file (video, audio or image). `info` is ffprobe's
    answer when the caller has it. Failure (one line) when ffmpeg cannot read the file."""
    from . import media

    path = Path(path)
    info = info or media.probe(path)
    kind = media.media_kind(info)
    if kind is None:
        raise Failure(f"{path.name} holds no pictures or sound to fingerprint: check the file.")
    crop = None
    positions, quality, pdq = empty_frames()
    with ThreadPoolExecutor(1) as pool:  # the sound is fingerprinted by its own ffmpeg meanwhile
        sound = pool.submit(audio_fingerprint, path) if media.streams(info, "audio") else None
        if kind in ("video", "image"):
            video = media.streams(info, "video")[0]  # the first picture stream that is not cover art
            stream = f"0:{video.get('index', 0)}"
            crop = detect_crop(path, video, stream) if kind == "video" else None
            positions, quality, pdq = frame_hashes(path, crop=crop, still=(kind == "image"), stream=stream)
        audio = sound.result() if sound else np.zeros(0, np.uint32)
    return Fingerprint(duration=media.duration(info), positions=positions, quality=quality, pdq=pdq, audio=audio,
                       crop=crop, tools=tool_versions())


@functools.lru_cache(maxsize=None)
def tool_versions() -> dict:
    from importlib.metadata import version

    from . import media

    return {"ffmpeg": media._tool_version("ffmpeg"), "pdqhash": version("pdqhash"),
            "chromaprint": "ffmpeg muxer" if chromaprint_muxer() else "fpcalc " + media._tool_version("fpcalc")}


def _ffmpeg(*args: str) -> list[str]:
    return ["ffmpeg", "-nostdin", "-hide_banner", *args]


def detect_crop(path: Path, video: dict, stream: str = "0:v:0") -> str | None:
    """The black border to cut off, as ffmpeg's `cropdetect` finds it over the key frames (over every
    frame at 2 a second when there are few key frames): the largest picture area seen, so that a dark
    scene does not shrink it. None when there is no border, or when nearly all is black. `video` is
    ffprobe's description of the stream."""
    def run(sample: list[str], vf: str) -> list[tuple[int, ...]]:
        done = subprocess.run(_ffmpeg(*sample, "-i", str(path), "-map", stream, "-vf", vf, "-f", "null", "-"),
                              capture_output=True, text=True)
        return [tuple(map(int, m)) for m in re.findall(r"crop=(\d+):(\d+):(\d+):(\d+)", done.stderr)]

    detect = "cropdetect=limit=24:round=2:reset=0:skip=0"
    found = run(["-skip_frame", "nokey"], detect)
    if len(found) < 5:
        found = run([], f"fps=2,{detect}")
    if not found:
        return None
    w, h, x, y = found[-1]
    full_w, full_h = int(video.get("width") or 0), int(video.get("height") or 0)
    if w <= 0 or h <= 0 or (w, h) == (full_w, full_h) or w * h < 0.1 * full_w * full_h:
        return None
    return f"{w}:{h}:{x}:{y}"


def frame_hashes(path: Path, *, crop: str | None = None, still: bool = False,
                 stream: str = "0:v:0") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PDQ hashes of one frame a second (or of the one picture of a still): positions (s), qualities,
    and the hashes of each frame as is, mirrored and zoomed (VARIANTS). Frames below MIN_QUALITY are
    dropped."""
    chain = ([f"crop={crop}"] if crop else []) + ([] if still else [f"fps={PDQ_FPS}"])
    chain += [f"scale={FRAME_SIZE}:{FRAME_SIZE}:flags=area", "format=rgb24"]
    command = _ffmpeg("-v", "error", "-i", str(path), "-map", stream, *(["-frames:v", "1"] if still else []),
                      "-vf", ",".join(chain), "-f", "rawvideo", "-")
    size = FRAME_SIZE * FRAME_SIZE * 3
    positions, qualities, hashes = [], [], []
    # ffmpeg's complaints go to a file, not a pipe, so that many of them cannot block it while we read frames
    with tempfile.TemporaryFile() as errors, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors) as proc:
        index = 0
        while len(data := proc.stdout.read(size)) == size:
            variants, quality = hash_frame(np.frombuffer(data, np.uint8).reshape(FRAME_SIZE, FRAME_SIZE, 3))
            if quality >= MIN_QUALITY:
                positions.append(index / PDQ_FPS)
                qualities.append(quality)
                hashes.append(variants)
            index += 1
        proc.wait()
        errors.seek(0)
        error = errors.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise Failure(f"ffmpeg could not read the pictures of {path.name} ({_last_line(error)}): check the file.")
    if not hashes:
        return empty_frames()
    return (np.asarray(positions, np.float32), np.asarray(qualities, np.uint8),
            np.stack(hashes).astype(np.uint8))


def hash_frame(frame: np.ndarray) -> tuple[np.ndarray, int]:
    """The PDQ hashes (VARIANTS × 32 bytes) of one RGB frame, and its quality."""
    import pdqhash

    size = frame.shape[0]
    margin = int(round(size * (1 - ZOOM) / 2))
    bits, quality = pdqhash.compute(frame)
    mirrored, _ = pdqhash.compute(np.ascontiguousarray(frame[:, ::-1]))
    zoomed, _ = pdqhash.compute(np.ascontiguousarray(frame[margin:size - margin, margin:size - margin]))
    return np.packbits(np.stack([bits, mirrored, zoomed]).astype(np.uint8), axis=1), int(quality)


@functools.lru_cache(maxsize=None)
def chromaprint_muxer() -> bool:
    done = subprocess.run(_ffmpeg("-h", "muxer=chromaprint"), capture_output=True, text=True)
    return "Unknown format" not in done.stdout + done.stderr and done.returncode == 0


def audio_fingerprint(path: Path) -> np.ndarray:
    """The Chromaprint fingerprint of the first sound stream, as raw 32-bit values (empty when the sound
    is shorter than Chromaprint needs)."""
    if chromaprint_muxer():
        done = subprocess.run(_ffmpeg("-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-f",
                                      "chromaprint", "-fp_format", "raw", "-"), capture_output=True)
        if done.returncode != 0:
            raise Failure(f"ffmpeg could not fingerprint the sound of {path.name} "
                          f"({_last_line(done.stderr.decode('utf-8', 'replace'))}): check the file.")
        return np.frombuffer(done.stdout[: len(done.stdout) // 4 * 4], "<u4").astype(np.uint32)
    if shutil.which("fpcalc") is None:
        raise Failure("neither ffmpeg's chromaprint muxer nor fpcalc is installed: install libchromaprint-tools "
                      "(sudo apt-get install libchromaprint-tools) and run `ohrt capture finish`.")
    done = subprocess.run(["fpcalc", "-raw", "-length", "0", str(path)], capture_output=True, text=True)
    found = re.search(r"^FINGERPRINT=([\d,]*)$", done.stdout, re.M)
    if not found:
        raise Failure(f"fpcalc could not fingerprint the sound of {path.name} ({_last_line(done.stderr)}): "
                      "check the file.")
    return np.array([int(v) for v in found[1].split(",") if v], dtype=np.uint32)


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no reason given"


# ------------------------------------------------------------------------------------------ matching

def as_words(hashes: np.ndarray) -> np.ndarray:
    """(..., 32) uint8 hashes → (..., 4) uint64 words, for fast XOR and popcount."""
    return np.ascontiguousarray(hashes).view(">u8").astype(np.uint64) if hashes.size else \
        np.zeros(hashes.shape[:-1] + (WORDS,), np.uint64)


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between every hash of `a` (n, 4 words) and of `b` (m, 4 words): (n, m)."""
    out = np.zeros((len(a), len(b)), np.int32)
    for word in range(WORDS):
        out += np.bitwise_count(a[:, None, word] ^ b[None, :, word])
    return out


def picture_distances(query: Fingerprint, item: Fingerprint) -> tuple[np.ndarray, np.ndarray]:
    """For every (query frame, item frame): the smallest distance over the ways one may have been made
    from the other — as is, mirrored, cropped either way — and whether that way was the mirror."""
    q, i = as_words(query.pdq), as_words(item.pdq)
    straight = distances(q[:, 0], i[:, 0])
    mirror = distances(q[:, 1], i[:, 0])
    cropped = np.minimum(distances(q[:, 0], i[:, 2]), distances(q[:, 2], i[:, 0]))
    best = np.minimum(np.minimum(straight, cropped), mirror)
    return best, mirror < np.minimum(straight, cropped)


@dataclasses.dataclass
class Segment:
    """One stretch of the capture that matches one stretch of the item."""

    what: str                      # "pictures" or "sound"
    query: tuple[float, float]     # seconds in the capture
    item: tuple[float, float]      # seconds in the library item
    distance: float                # median PDQ distance of the frames, or the bit-error rate
    count: int                     # frames matched, or sound values compared
    strong: bool                   # meets the match thresholds (else only "possible")
    mirrored: bool = False

    def as_dict(self) -> dict:
        data = {"what": self.what, "capture": [round(float(t), 1) for t in self.query],
                "item": [round(float(t), 1) for t in self.item], "strong": bool(self.strong)}
        if self.what == "pictures":
            data.update(pdq_distance=round(float(self.distance), 1), frames=int(self.count), mirrored=bool(self.mirrored))
        else:
            data.update(bit_error_rate=round(float(self.distance), 3),
                        seconds=round(float(self.query[1] - self.query[0]), 1))
        return data


def picture_segments(query: Fingerprint, item: Fingerprint) -> list[Segment]:
    """Runs of capture frames that match item frames at one consistent time offset, best first. Several
    runs at different offsets are found (a compilation of clips of one item)."""
    if not query.frames or not item.frames:
        return []
    dist, mirrored = picture_distances(query, item)
    offsets = item.positions[None, :] - query.positions[:, None]
    found: list[Segment] = []
    open_rows = np.ones(query.frames, bool)
    for _ in range(4):
        candidates = (dist <= PDQ_MATCH) & open_rows[:, None]
        if not candidates.any():
            break
        offset = _best_offset(offsets[candidates])
        near = np.abs(offsets - offset) <= 1.0 / PDQ_FPS + 0.01
        best = np.where(near, dist, 256).min(axis=1)
        column = np.where(near, dist, 256).argmin(axis=1)
        rows = np.flatnonzero(open_rows & (best <= PDQ_POSSIBLE))
        runs = [run for run in _runs(query.positions, rows, FRAME_GAP_S) if (best[run] <= PDQ_MATCH).any()]
        if not runs:
            break
        for run in runs:
            found.append(_picture_segment(query, item, run, best, column, mirrored))
        open_rows[np.concatenate(runs)] = False
    return sorted(found, key=lambda s: (-s.strong, -s.count, s.query))


def _best_offset(values: np.ndarray) -> float:
    """The time offset most matching frames agree on (to the nearest frame interval)."""
    step = 1.0 / PDQ_FPS
    bins = np.round(values / step).astype(np.int64)
    uniq, counts = np.unique(bins, return_counts=True)
    return float(uniq[counts.argmax()] * step)


def _runs(positions: np.ndarray, rows: np.ndarray, gap: float) -> list[np.ndarray]:
    """Split frame indices into runs whose neighbours are at most `gap` seconds apart."""
    if not len(rows):
        return []
    breaks = np.flatnonzero(np.diff(positions[rows]) > gap + 0.01) + 1
    return np.split(rows, breaks)


def _picture_segment(query: Fingerprint, item: Fingerprint, run: np.ndarray, best: np.ndarray, column: np.ndarray,
                     mirrored: np.ndarray) -> Segment:
    """A run of capture frames as a segment: its range in the capture and, shifted by the offset its
    matched frames agree on, in the item."""
    matched = run[best[run] <= PDQ_MATCH]
    need = min(MIN_FRAMES, query.frames, item.frames)
    median = float(np.median(best[run]))
    strong = len(matched) >= need and median <= PDQ_MATCH
    step = 1.0 / PDQ_FPS
    offset = float(np.median(item.positions[column[matched]] - query.positions[matched]))
    q0, q1 = float(query.positions[run[0]]), float(query.positions[run[-1]]) + step
    q1 = min(q1, query.duration or q1)
    i0, i1 = max(0.0, q0 + offset), q1 + offset
    return Segment("pictures", (q0, q1), (i0, min(i1, item.duration or i1)), median, len(matched), strong,
                   bool(mirrored[run, column[run]].mean() > 0.5))


def sound_segments(query: Fingerprint, item: Fingerprint) -> list[Segment]:
    """Stretches of at least AUDIO_MIN_S where the capture's sound follows the item's at one alignment
    with a bit-error rate of at most AUDIO_POSSIBLE (AUDIO_MATCH for a strong match)."""
    q, it = query.audio, item.audio
    window = int(np.ceil((AUDIO_MIN_S - AUDIO_SPAN_S) / AUDIO_STEP_S)) + 1
    if len(q) < window or len(it) < window:
        return []
    found = []
    for offset in _audio_offsets(q, it):
        segment = _aligned_sound(q, it, offset, window)
        if segment is not None and not any(_overlaps(segment.query, s.query) for s in found):
            found.append(segment)
    return sorted(found, key=lambda s: (-s.strong, s.distance))


def _audio_offsets(q: np.ndarray, it: np.ndarray, top: int = 3) -> list[int]:
    """The alignments (item index − capture index) that the most near-identical values agree on."""
    votes = np.zeros(len(q) + len(it), np.int64)
    order = np.argsort(it, kind="stable")
    sorted_it = it[order]
    for shift in (16, 0):  # look values up by each half, keep those within a few bits
        keys_q = (q >> shift) & 0xFFFF
        keys_i = (sorted_it >> shift) & 0xFFFF
        by_key = np.argsort(keys_i, kind="stable")
        lo = np.searchsorted(keys_i[by_key], keys_q, "left")
        hi = np.searchsorted(keys_i[by_key], keys_q, "right")
        qi, pos = _expand(lo, hi)
        if not len(qi):
            continue
        ii = order[by_key[pos]]
        close = np.bitwise_count(q[qi] ^ it[ii]) <= AUDIO_KEY_BITS
        np.add.at(votes, (ii[close] - qi[close]) + len(q), 1)
    if not votes.any():
        return []
    smooth = votes + np.concatenate([[0], votes[:-1]]) + np.concatenate([votes[1:], [0]])
    best = []
    for index in np.argsort(-smooth, kind="stable"):
        if smooth[index] == 0 or len(best) == top:
            break
        if all(abs(index - b) > 2 for b in best):
            best.append(int(index))
    refined = []
    for index in best:  # the exact alignment: the lowest error among the neighbours
        candidates = [index + d for d in (-1, 0, 1) if 0 <= index + d < len(votes)]
        refined.append(min(candidates, key=lambda c: _mean_error(q, it, c - len(q))) - len(q))
    return refined


def _aligned(q: np.ndarray, it: np.ndarray, offset: int) -> tuple[int, int, int]:
    """(first capture index, first item index, length) of the overlap at an alignment."""
    q0 = max(0, -offset)
    i0 = q0 + offset
    return q0, i0, max(0, min(len(q) - q0, len(it) - i0))


def _mean_error(q: np.ndarray, it: np.ndarray, offset: int) -> float:
    q0, i0, n = _aligned(q, it, offset)
    if n == 0:
        return 1.0
    return float(np.bitwise_count(q[q0:q0 + n] ^ it[i0:i0 + n]).mean() / 32)


def _aligned_sound(q: np.ndarray, it: np.ndarray, offset: int, window: int) -> Segment | None:
    """The longest stretch at this alignment whose every AUDIO_MIN_S window has a low error rate."""
    q0, i0, n = _aligned(q, it, offset)
    if n < window:
        return None
    errors = np.bitwise_count(q[q0:q0 + n] ^ it[i0:i0 + n]).astype(np.float64) / 32
    sums = np.concatenate([[0.0], np.cumsum(errors)])
    rates = (sums[window:] - sums[:-window]) / window
    good = rates <= AUDIO_POSSIBLE
    if not good.any():
        return None
    covered = np.zeros(n + 1, np.int64)
    starts = np.flatnonzero(good)
    np.add.at(covered, starts, 1)
    np.add.at(covered, starts + window, -1)
    inside = np.cumsum(covered)[:n] > 0
    runs = _true_runs(inside)
    a, b = max(runs, key=lambda r: r[1] - r[0])
    rate = float(errors[a:b].mean())
    change = min(_change_rate(q[q0 + a:q0 + b]), _change_rate(it[i0 + a:i0 + b]))
    if change < AUDIO_MIN_CHANGE:
        return None
    span = (b - a - 1) * AUDIO_STEP_S + AUDIO_SPAN_S
    qs, is_ = (q0 + a) * AUDIO_STEP_S, (i0 + a) * AUDIO_STEP_S
    return Segment("sound", (qs, qs + span), (is_, is_ + span), rate, b - a, rate <= AUDIO_MATCH)


def _true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2], edges[1::2]))


def _change_rate(values: np.ndarray) -> float:
    return float((values[1:] != values[:-1]).mean()) if len(values) > 1 else 0.0


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def match(query: Fingerprint, item: Fingerprint) -> dict | None:
    """How `query` (a capture) matches `item` (a library item): None, or the kind of match and its
    segments side by side. "same video": pictures and sound both match; "same visuals": pictures only;
    "same audio": sound only; "possible": only weaker evidence (a few frames, or near thresholds)."""
    pictures = picture_segments(query, item)
    sound = sound_segments(query, item)
    strong_pictures = any(s.strong for s in pictures)
    strong_sound = any(s.strong for s in sound)
    if strong_pictures and strong_sound:
        kind = "same video"
    elif strong_pictures:
        kind = "same visuals"
    elif strong_sound:
        kind = "same audio"
    elif pictures or sound:
        kind = "possible"
    else:
        return None
    segments = sorted(pictures + sound, key=lambda s: (not s.strong, s.query[0], s.what))
    best_pdq = min((s.distance for s in pictures), default=None)
    best_ber = min((s.distance for s in sound), default=None)
    return {"kind": kind, "segments": [s.as_dict() for s in segments],
            "pdq_distance": None if best_pdq is None else round(float(best_pdq), 1),
            "bit_error_rate": None if best_ber is None else round(float(best_ber), 3)}


# --------------------------------------------------------------------------------------------- index

def representatives(fp: Fingerprint) -> np.ndarray:
    """The distinct frames of an item (as is), for the index: the first, each frame more than
    REP_SPACING bits from the one before (a cut, fast movement) and one every REP_EVERY_S at least
    (slow drift); then those too close to the one kept before them are dropped, and at most INDEX_REPS
    are kept, spread evenly. (k, 32) uint8."""
    words = as_words(fp.pdq[:, 0])
    if not len(words):
        return fp.pdq[:0, 0]
    step = np.bitwise_count(words[1:] ^ words[:-1]).sum(axis=1)
    every = np.maximum(1, int(round(REP_EVERY_S * PDQ_FPS)))
    keep = np.flatnonzero(np.concatenate([[True], step > REP_SPACING]) | (np.arange(len(words)) % every == 0))
    apart = np.bitwise_count(words[keep[1:]] ^ words[keep[:-1]]).sum(axis=1) > REP_SPACING
    keep = keep[np.concatenate([[True], apart])]
    if len(keep) > INDEX_REPS:
        keep = keep[np.linspace(0, len(keep) - 1, INDEX_REPS).round().astype(int)]
    return fp.pdq[keep, 0]


def index_columns(fp: Fingerprint) -> dict:
    """What the index needs of a fingerprint, stored beside it: the distinct frames and every
    AUDIO_STRIDE-th sound value."""
    return {"index_pdq": np.ascontiguousarray(representatives(fp), np.uint8).tobytes(),
            "index_audio": fp.audio[::AUDIO_STRIDE].astype("<u4").tobytes()}


def _band_keys(words: np.ndarray, band: int) -> np.ndarray:
    """The 16-bit key of every hash (n, 4 words) in one of the BANDS bands."""
    shift = np.uint64(16 * (band % 4))
    return ((words[:, band // 4] >> shift) & np.uint64(0xFFFF)).astype(np.int64)


def _bucket(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bucket layout of 16-bit keys: rows in key order (numpy radix-sorts 16-bit keys), and where each
    key's rows start."""
    rows = np.argsort(keys.astype(np.uint16), kind="stable").astype(np.uint32)
    starts = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=65536))]).astype(np.int64)
    return rows, starts


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique by sorting, which is the faster here)."""
    if not len(values):
        return values
    ordered = np.sort(values)
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]


def _counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and how often each occurs."""
    distinct = _distinct(values)
    return distinct, np.diff(np.searchsorted(np.sort(values), np.concatenate([distinct, [np.iinfo(np.int64).max]])))


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each i, the range lo[i]:hi[i] laid out flat: (i repeated, positions)."""
    lengths = np.asarray(hi, np.int64) - np.asarray(lo, np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    owner = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.repeat(np.asarray(lo, np.int64) - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return owner, starts + np.arange(total)


class Index:
    """The library's fingerprints laid out for look-up: which items are worth comparing in full with a
    capture. Pictures are looked up by 16 bands of 16 bits (a frame within ~40 bits of another nearly
    always shares one band exactly), sound by either half of a value; every hit is checked on the
    whole hash before it counts. Saved as .npy files that are read memory-mapped."""

    FILES = ("v_words", "v_owner", "v_rows", "v_starts", "a_values", "a_owner", "a_pos", "a_rows", "a_starts")

    def __init__(self, owners: list[str], arrays: dict[str, np.ndarray]):
        self.owners = owners
        self.arrays = arrays

    @classmethod
    def build(cls, entries: Iterable[tuple[str, bytes, bytes]]) -> "Index":
        """From (owner, index_pdq, index_audio) triples, as `index_columns` makes them."""
        owners, pdq, audio = [], [], []
        for owner, frames, sound in entries:
            owners.append(owner)
            pdq.append(frames or b"")
            audio.append(sound or b"")
        v_words = as_words(np.frombuffer(b"".join(pdq), np.uint8).reshape(-1, 32))
        a_values = np.frombuffer(b"".join(audio), "<u4").astype(np.uint32)
        v_count = np.array([len(x) // 32 for x in pdq], np.int64)
        a_count = np.array([len(x) // 4 for x in audio], np.int64)
        a_first = np.repeat(np.cumsum(a_count) - a_count, a_count)
        arrays = {"v_words": v_words, "v_owner": np.repeat(np.arange(len(owners), dtype=np.int32), v_count),
                  "a_values": a_values, "a_owner": np.repeat(np.arange(len(owners), dtype=np.int32), a_count),
                  "a_pos": ((np.arange(len(a_values)) - a_first) * AUDIO_STRIDE).astype(np.int32)}
        bands = [_bucket(_band_keys(v_words, band)) for band in range(BANDS)]
        arrays["v_rows"] = np.stack([rows for rows, _ in bands])
        arrays["v_starts"] = np.stack([starts for _, starts in bands])
        halves = [_bucket((a_values.astype(np.int64) >> shift) & 0xFFFF) for shift in (16, 0)]
        arrays["a_rows"] = np.stack([rows for rows, _ in halves])
        arrays["a_starts"] = np.stack([starts for _, starts in halves])
        return cls(owners, arrays)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in self.FILES:
            np.save(folder / f"{name}.npy", self.arrays[name])
        (folder / "owners.json").write_text(json.dumps(self.owners), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "Index":
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in cls.FILES}
        return cls(json.loads((folder / "owners.json").read_text(encoding="utf-8")), arrays)

    def __len__(self) -> int:
        return len(self.owners)

    def candidates(self, query: Fingerprint) -> list[str]:
        """The owners worth comparing with `query` in full: a frame (as is, mirrored or zoomed) within
        INDEX_PDQ bits of one of theirs, or AUDIO_VOTES sound values agreeing on one alignment."""
        found = set(self._by_pictures(query).tolist()) | set(self._by_sound(query).tolist())
        return [self.owners[i] for i in sorted(found)]

    def _by_pictures(self, query: Fingerprint) -> np.ndarray:
        a = self.arrays
        if not query.frames or not len(a["v_owner"]):
            return np.zeros(0, np.int64)
        q = as_words(query.pdq).reshape(-1, WORDS)
        hits_q, hits_row = [], []
        for band in range(BANDS):
            keys = _band_keys(q, band)
            starts = a["v_starts"][band]
            qi, pos = _expand(starts[keys], starts[keys + 1])
            hits_q.append(qi)
            hits_row.append(np.asarray(a["v_rows"][band][pos], np.int64))
        qi, rows = np.concatenate(hits_q), np.concatenate(hits_row)
        if not len(rows):
            return np.zeros(0, np.int64)
        pairs = _distinct(rows * len(q) + qi)
        rows, qi = pairs // len(q), pairs % len(q)
        close = np.bitwise_count(q[qi] ^ np.asarray(a["v_words"][rows])).sum(axis=1) <= INDEX_PDQ
        return _distinct(np.asarray(a["v_owner"][rows[close]], np.int64))

    def _by_sound(self, query: Fingerprint) -> np.ndarray:
        a = self.arrays
        q = query.audio
        if not len(q) or not len(a["a_owner"]):
            return np.zeros(0, np.int64)
        # Steady sound (silence, a held tone) repeats one value: it says nothing about which song it is.
        lively = np.flatnonzero(_changing(q))
        hits_q, hits_row = [], []
        for half, shift in enumerate((16, 0)):
            keys = (q[lively].astype(np.int64) >> shift) & 0xFFFF
            starts = a["a_starts"][half]
            qi, pos = _expand(starts[keys], starts[keys + 1])
            hits_q.append(lively[qi])
            hits_row.append(np.asarray(a["a_rows"][half][pos], np.int64))
        pairs = _distinct(np.concatenate(hits_row) * len(q) + np.concatenate(hits_q))
        rows, qi = pairs // len(q), pairs % len(q)
        close = np.bitwise_count(q[qi] ^ np.asarray(a["a_values"][rows])) <= AUDIO_KEY_BITS
        rows, qi = rows[close], qi[close]
        owner = np.asarray(a["a_owner"][rows], np.int64)
        offset = np.asarray(a["a_pos"][rows], np.int64) - qi
        # Votes of distinct library values for (owner, alignment give or take a little), counted on two
        # staggered grids so that an alignment near a grid line is not split.
        found = []
        for stagger in (0, 2):
            cell = (offset + stagger) // 4 + (1 << 30)
            voted = _distinct(rows * (1 << 32) + cell)          # each library value votes once per cell
            keys, counts = _counted(np.asarray(a["a_owner"][voted >> 32], np.int64) * (1 << 32) + (voted & 0xFFFFFFFF))
            found.append(keys[counts >= AUDIO_VOTES] >> 32)
        del owner
        return _distinct(np.concatenate(found))


def _changing(values: np.ndarray) -> np.ndarray:
    """True where a value differs from both neighbours' (a steady stretch repeats one value)."""
    if len(values) < 2:
        return np.ones(len(values), bool)
    before = np.concatenate([[True], values[1:] != values[:-1]])
    after = np.concatenate([values[:-1] != values[1:], [True]])
    return before & after


def save_index(index: Index, target: Path) -> None:
    """Write the index beside `target` and rename it into place, so a reader never sees half of one."""
    staging = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    index.save(staging)
    try:
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another process built the same index first
