"""Matching two fingerprints: the stretches of pictures and sound they share, side by side (SOP 10.8)."""

from __future__ import annotations

import dataclasses

import numpy as np

from .base import (AUDIO_KEY_BITS, AUDIO_MATCH, AUDIO_MIN_CHANGE, AUDIO_MIN_S, AUDIO_POSSIBLE, AUDIO_SPAN_S,
                   AUDIO_STEP_S, FRAME_GAP_S, HALVES, MIN_FRAMES, PDQ_MATCH, PDQ_POSSIBLE, VARIANTS, WORDS, ZOOMS,
                   Fingerprint, frame_step)


def _pairs() -> list[tuple[str, str, bool]]:
    """The (capture's variant, item's variant, mirrored) pairs compared: the frames as they are; either
    one mirrored; one zoomed further than the other (whichever was cropped, by up to ~10 % a side: the
    ratio of the two zooms is the crop's), the mirrored frame against the other's zooms too; half against
    the same half (a caption or logo on the other); the picture inside a picture against the frame."""
    levels = {"frame": 1.0, **ZOOMS}
    pairs = [("frame", "frame", False), ("mirror", "frame", True), ("frame", "mirror", True)]
    for a, za in levels.items():
        for b, zb in levels.items():
            if zb < za and zb / za >= 0.78:
                pairs += [(a, b, False), (b, a, False)]
    pairs += [(pair, "mirror", True) for pair in ZOOMS] + [("mirror", pair, True) for pair in ZOOMS]
    pairs += [(half, half, False) for half in HALVES]
    return pairs + [("inner", "frame", False), ("frame", "inner", False)]


PAIRS = _pairs()
_AT = {name: n for n, name in enumerate(VARIANTS)}


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
    from the other (PAIRS: as is, mirrored, cropped either way, a half alone, a picture in a picture),
    and whether that way was the mirror."""
    q, i = as_words(query.pdq), as_words(item.pdq)
    best = np.full((query.frames, item.frames), 256, np.int32)
    mirrored = np.zeros(best.shape, bool)
    for mine, theirs, mirror in PAIRS:
        found = distances(q[:, _AT[mine]], i[:, _AT[theirs]])
        better = found < best
        best = np.where(better, found, best)
        mirrored = np.where(better, mirror, mirrored)
    return best, mirrored


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
    step = max(frame_step(query.positions), frame_step(item.positions))  # either may be sampled faster
    offsets = item.positions[None, :] - query.positions[:, None]
    found: list[Segment] = []
    open_rows = np.ones(query.frames, bool)
    for _ in range(4):
        candidates = (dist <= PDQ_MATCH) & open_rows[:, None]
        if not candidates.any():
            break
        offset = _best_offset(offsets[candidates], step)
        near = np.abs(offsets - offset) <= step + 0.01
        best = np.where(near, dist, 256).min(axis=1)
        column = np.where(near, dist, 256).argmin(axis=1)
        rows = np.flatnonzero(open_rows & (best <= PDQ_POSSIBLE))
        runs = [run for run in _runs(query.positions, rows, max(FRAME_GAP_S, 2 * step))
                if (best[run] <= PDQ_MATCH).any()]
        if not runs:
            break
        for run in runs:
            found.append(_picture_segment(query, item, run, best, column, mirrored))
        open_rows[np.concatenate(runs)] = False
    return sorted(found, key=lambda s: (-s.strong, -s.count, s.query))


def _best_offset(values: np.ndarray, step: float) -> float:
    """The time offset most matching frames agree on (to the nearest frame interval)."""
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
    matched frames agree on, in the item. Frames are counted, and the median distance taken, on the
    side sampled the sparser: each item frame by the closest capture frame near it, and the other way."""
    matched = run[best[run] <= PDQ_MATCH]
    columns, distance = column[run], best[run]
    order = np.lexsort((distance, columns))
    first = np.concatenate([[True], columns[order][1:] != columns[order][:-1]])
    per_frame = distance[order][first] if len(np.unique(columns)) < len(run) else distance
    need = min(MIN_FRAMES, query.frames, item.frames)
    median = float(np.median(per_frame))
    count = int((per_frame <= PDQ_MATCH).sum())
    strong = count >= need and median <= PDQ_MATCH
    step = frame_step(query.positions)
    offset = float(np.median(item.positions[column[matched]] - query.positions[matched]))
    # A frame's label is its own time; the stretch it stands for is the step of sampling it was picked
    # from (the fps filter's i-th frame is the last before (i + ½) × step), and the stretches are given
    # in those steps on both sides.
    q0 = np.floor(float(query.positions[run[0]]) / step + 1e-6) * step
    q1 = min((np.floor(float(query.positions[run[-1]]) / step + 1e-6) + 1) * step, query.duration or np.inf)
    snap = min(step, frame_step(item.positions))
    offset = round(offset / snap) * snap
    i0, i1 = max(0.0, q0 + offset), q1 + offset
    return Segment("pictures", (q0, q1), (i0, min(i1, item.duration or i1)), median, count, strong,
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
        qi, pos = expand(lo, hi)
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


def expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each i, the range lo[i]:hi[i] laid out flat: (i repeated, positions)."""
    lengths = np.asarray(hi, np.int64) - np.asarray(lo, np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    owner = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.repeat(np.asarray(lo, np.int64) - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return owner, starts + np.arange(total)
