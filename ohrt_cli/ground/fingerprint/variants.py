"""The hashes of one frame (SOP 10.8): the frame as it is and the parts of it a re-upload may show alone —
mirrored, zoomed in (a crop of every side), either half (a caption band or a logo hides the other), and
the picture inside a picture (a clip played in a frame of another video)."""

from __future__ import annotations

import numpy as np

from .base import HALVES, MIN_QUALITY, VARIANTS, ZOOMS

# A picture inside a picture is looked for as four straight edges that make a rectangle: each at least
# INNER_EDGE of its length a strong step in brightness (INNER_STEP of 255), the rectangle between
# INNER_MIN and INNER_MAX of the frame's width and height.
INNER_STEP = 14.0
INNER_EDGE = 0.6
INNER_MIN = 0.35
INNER_MAX = 0.92
_LINES = 6          # the strongest candidate lines on each axis that are tried as sides


def frame_variants(frame: np.ndarray) -> tuple[np.ndarray, int]:
    """The PDQ hashes of one square RGB frame, one per VARIANTS (32 bytes each), and its quality (of
    the frame as it is). A half too plain for PDQ, and the inner picture when there is none, are the
    frame's own hash."""
    import pdqhash

    size = frame.shape[0]
    bits, quality = pdqhash.compute(frame)
    hashes = {"frame": bits}
    hashes["mirror"], _ = pdqhash.compute(np.ascontiguousarray(frame[:, ::-1]))
    for name, zoom in ZOOMS.items():
        margin = int(round(size * (1 - zoom) / 2))
        hashes[name], _ = pdqhash.compute(np.ascontiguousarray(frame[margin:size - margin, margin:size - margin]))
    half = size // 2
    parts = {"top": frame[:half], "bottom": frame[size - half:], "left": frame[:, :half], "right": frame[:, size - half:]}
    for name in HALVES:
        part_bits, part_quality = pdqhash.compute(np.ascontiguousarray(parts[name]))
        hashes[name] = part_bits if part_quality >= MIN_QUALITY else bits
    hashes["inner"] = bits
    box = inner_picture(frame)
    if box is not None:
        top, bottom, left, right = box
        inner_bits, inner_quality = pdqhash.compute(np.ascontiguousarray(frame[top:bottom, left:right]))
        if inner_quality >= MIN_QUALITY:
            hashes["inner"] = inner_bits
    return np.packbits(np.stack([hashes[name] for name in VARIANTS]).astype(np.uint8), axis=1), int(quality)


def inner_picture(frame: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of a picture inside the frame, or None: the largest rectangle of
    INNER_MIN–INNER_MAX of the frame whose four sides are long straight steps in brightness (one side
    may lie on the frame's edge, for a picture pushed against it, when no rectangle has four)."""
    gray = frame.astype(np.float32).mean(axis=2) if frame.ndim == 3 else frame.astype(np.float32)
    h, w = gray.shape
    rows = np.abs(np.diff(gray, axis=0)) >= INNER_STEP      # (h-1, w): a step between row y and y+1
    cols = np.abs(np.diff(gray, axis=1)) >= INNER_STEP      # (h, w-1)
    # cumulative sums along each line, so that the share of strong steps over any span is two look-ups
    row_sums = np.concatenate([np.zeros((h - 1, 1), np.int32), np.cumsum(rows, axis=1, dtype=np.int32)], axis=1)
    col_sums = np.concatenate([np.zeros((1, w - 1), np.int32), np.cumsum(cols, axis=0, dtype=np.int32)], axis=0)
    tops = _lines(rows.mean(axis=1), h)                      # boundary index y: between row y and y+1
    lefts = _lines(cols.mean(axis=0), w)
    # a side on the frame's edge is index -1 (top/left) or h-1 / w-1 (bottom/right)
    ys = sorted(set(tops) | {-1, h - 1})
    xs = sorted(set(lefts) | {-1, w - 1})
    best, best_key = None, (-1, 0)
    for t in ys:
        for b in ys:
            if not INNER_MIN * h <= b - t <= INNER_MAX * h:
                continue
            for left in xs:
                for right in xs:
                    if not INNER_MIN * w <= right - left <= INNER_MAX * w:
                        continue
                    on_edge = (t == -1) + (b == h - 1) + (left == -1) + (right == w - 1)
                    key = (1 - on_edge, (b - t) * (right - left))
                    if on_edge > 1 or key <= best_key:
                        continue
                    x0, x1, y0, y1 = left + 1, right + 1, t + 1, b + 1
                    sides = [_share(row_sums, t, x0, x1) if t >= 0 else 1.0,
                             _share(row_sums, b, x0, x1) if b < h - 1 else 1.0,
                             _share_col(col_sums, left, y0, y1) if left >= 0 else 1.0,
                             _share_col(col_sums, right, y0, y1) if right < w - 1 else 1.0]
                    if min(sides) >= INNER_EDGE:
                        best, best_key = (y0, y1, x0, x1), key
    return best


def _lines(strength: np.ndarray, length: int) -> list[int]:
    """The boundaries with the most strong steps across the whole frame, apart from each other."""
    order = np.argsort(-strength, kind="stable")
    found: list[int] = []
    for index in order:
        if strength[index] < INNER_MIN * INNER_EDGE or len(found) == _LINES:
            break
        if index < 2 or index > length - 4 or any(abs(int(index) - f) < 3 for f in found):
            continue
        found.append(int(index))
    return found


def _share(sums: np.ndarray, line: int, start: int, stop: int) -> float:
    return float(sums[line, stop] - sums[line, start]) / max(1, stop - start)


def _share_col(sums: np.ndarray, line: int, start: int, stop: int) -> float:
    return float(sums[stop, line] - sums[start, line]) / max(1, stop - start)
