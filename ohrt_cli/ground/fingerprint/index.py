"""The library's fingerprints laid out for look-up: which items are worth comparing with a capture (SOP 10.8)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Iterable

import numpy as np

from .base import (AUDIO_KEY_BITS, AUDIO_STRIDE, AUDIO_VOTES, BANDS, INDEX_PDQ, INDEX_REPS, INDEX_ZOOM_REPS,
                   INDEX_ZOOMS, REP_EVERY_S, REP_SPACING, VARIANTS, WORDS, Fingerprint, frame_step)
from .matching import as_words, expand


# --------------------------------------------------------------------------------------------- index

def representatives(fp: Fingerprint) -> np.ndarray:
    """The distinct frames of an item, for the index: the first, each frame more than REP_SPACING bits
    from the one before (a cut, fast movement) and one every REP_EVERY_S at least (slow drift); then
    those too close to the one kept before them are dropped, and at most INDEX_REPS are kept, spread
    evenly; then INDEX_ZOOM_REPS of them, spread evenly, zoomed in each of INDEX_ZOOMS (so that a cropped
    re-upload finds the item). (k, 32) uint8."""
    keep = _distinct_frames(fp)
    spread = keep[np.unique(np.linspace(0, len(keep) - 1, min(len(keep), INDEX_ZOOM_REPS)).round().astype(int))]
    zoomed = [fp.pdq[spread, VARIANTS.index(name)] for name in INDEX_ZOOMS]
    return np.concatenate([fp.pdq[keep, 0], *zoomed]) if len(keep) else fp.pdq[:0, 0]


def _distinct_frames(fp: Fingerprint) -> np.ndarray:
    words = as_words(fp.pdq[:, 0])
    if not len(words):
        return np.zeros(0, np.int64)
    step = np.bitwise_count(words[1:] ^ words[:-1]).sum(axis=1)
    every = np.maximum(1, int(round(REP_EVERY_S / frame_step(fp.positions))))
    keep = np.flatnonzero(np.concatenate([[True], step > REP_SPACING]) | (np.arange(len(words)) % every == 0))
    apart = np.bitwise_count(words[keep[1:]] ^ words[keep[:-1]]).sum(axis=1) > REP_SPACING
    keep = keep[np.concatenate([[True], apart])]
    if len(keep) > INDEX_REPS:
        keep = keep[np.linspace(0, len(keep) - 1, INDEX_REPS).round().astype(int)]
    return keep


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
        v_count = np.array([len(x) // 32 for x in pdq], np.int64)
        a_count = np.array([len(x) // 4 for x in audio], np.int64)
        v_words = as_words(np.frombuffer(b"".join(pdq), np.uint8).reshape(-1, 32))
        del pdq   # each item's bytes are no longer needed once joined (a million items' are gigabytes)
        a_values = np.frombuffer(b"".join(audio), "<u4").astype(np.uint32)
        del audio
        a_first = np.repeat(np.cumsum(a_count) - a_count, a_count)
        arrays = {"v_words": v_words, "v_owner": np.repeat(np.arange(len(owners), dtype=np.int32), v_count),
                  "a_values": a_values, "a_owner": np.repeat(np.arange(len(owners), dtype=np.int32), a_count),
                  "a_pos": ((np.arange(len(a_values)) - a_first) * AUDIO_STRIDE).astype(np.int32)}
        # each band's layout is written into its row of one array as it is made (stacking a list of them
        # afterwards would hold every band twice)
        arrays["v_rows"] = np.empty((BANDS, len(v_words)), np.uint32)
        arrays["v_starts"] = np.empty((BANDS, 65537), np.int64)
        for band in range(BANDS):
            arrays["v_rows"][band], arrays["v_starts"][band] = _bucket(_band_keys(v_words, band))
        arrays["a_rows"] = np.empty((2, len(a_values)), np.uint32)
        arrays["a_starts"] = np.empty((2, 65537), np.int64)
        for half, shift in enumerate((16, 0)):
            arrays["a_rows"][half], arrays["a_starts"][half] = _bucket((a_values.astype(np.int64) >> shift) & 0xFFFF)
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
        """The owners worth comparing with `query` in full: a frame (any of its VARIANTS) within
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
            qi, pos = expand(starts[keys], starts[keys + 1])
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
            qi, pos = expand(starts[keys], starts[keys + 1])
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
