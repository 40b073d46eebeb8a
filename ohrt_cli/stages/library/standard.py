"""The standard hashes of captures (PDQ, vPDQ, MD5, SHA-256) held against imported hash lists (SOP 10.8).

Every capture's originals get, beside ohrt's fingerprints and in the same step, the hashes other tools
read (`ground/fingerprint/standard.py`): a photo's PDQ, a video's vPDQ frames. A hash list imported in
another tool's format (`exchange.py`) becomes imported library items whose hashes are kept here; a new
capture is held against them as against every library item:

* MD5 or SHA-256 equal to an original's: "same file";
* a PDQ hash within 31 bits (ThreatExchange's threshold) of the photo's PDQ, or of one of the video's
  vPDQ frames of quality 50 or more: "same visuals";
* a vPDQ signal: as ThreatExchange's vPDQ matcher does, the share of the capture's distinct frames of
  quality 50 or more that are within 31 bits of one of the item's: "same visuals" from 80 %, "possible"
  from 40 %; the matching frames' times side by side.
"""

from __future__ import annotations

import json

import numpy as np

from ...ground.context import Context
from ...ground.times import iso

VPDQ_MATCH_PERCENT = 80.0     # ThreatExchange's VPDQ_QUERY_MATCH_THRESHOLD_PERCENT
VPDQ_POSSIBLE_PERCENT = 40.0


# ------------------------------------------------------------------------------------------- storing

def compute(paths: list[tuple[int, object]], sha256: dict | None = None) -> list[tuple[int, object]]:
    """[(item, StandardHashes)] of a capture's originals [(item, path)]; `sha256` (path → sha256) lets
    those read by the decode that made the derivatives be taken as they are (`fingerprint.remember`)."""
    from ...ground import fingerprint as fpmod
    from ...ground import media

    found = []
    for item, path in paths:
        known = fpmod.remembered_standard((sha256 or {}).get(path))
        found.append((item, known if known is not None else fpmod.standard_hashes(path, media.probe(path))))
    return found


def store_for_capture(ctx: Context, capture_id: str, hashes: list[tuple[int, object]]) -> None:
    """Replace a capture's standard hashes (inside the caller's transaction)."""
    from ...ground.fingerprint import standard

    tools = json.dumps(standard.tool_versions(), sort_keys=True)
    ctx.db.execute("DELETE FROM standard_hashes WHERE capture_id = ?", [capture_id])
    for item, found in hashes:
        ctx.db["standard_hashes"].insert({"capture_id": capture_id, "item": item, "created_at": iso(ctx.now()),
                                          "tools": tools, **found.blobs()})


def store_for_item(ctx: Context, item_id: str, found, *, md5: str | None = None, sha256: str | None = None) -> None:
    """Replace an imported item's hashes (inside the caller's transaction)."""
    ctx.db.execute("DELETE FROM standard_hashes WHERE item_id = ?", [item_id])
    ctx.db["standard_hashes"].insert({"item_id": item_id, "md5": md5, "sha256": sha256, "created_at": iso(ctx.now()),
                                      **found.blobs()})


def of_capture(ctx: Context, capture_id: str) -> list[tuple[int, object]]:
    """[(item, StandardHashes)] stored for a capture, in the post's order."""
    from ...ground.fingerprint import StandardHashes

    return [(row["item"] or 1, StandardHashes.from_blobs(row)) for row in ctx.db.query(
        "SELECT * FROM standard_hashes WHERE capture_id = ? ORDER BY item", [capture_id])]


def has_hashes(ctx: Context, capture_id: str) -> bool:
    return ctx.db.execute("SELECT 1 FROM standard_hashes WHERE capture_id = ?", [capture_id]).fetchone() is not None


# ------------------------------------------------------------------------------------------ matching

def find_matches(ctx: Context, capture_id: str, hashes: list[tuple[int, object]]) -> list[dict]:
    """The imported hash-list items (kept) that a capture's originals match, by their file hashes and
    their standard hashes; entries shaped as `matching.find_matches` gives them."""
    found: dict[str, dict] = {}
    for md5, sha256, item in ctx.db.execute(
            "SELECT md5, sha256, COALESCE(item, 1) FROM capture_files WHERE capture_id = ? AND role = 'original' "
            "AND status = 'ok'", [capture_id]).fetchall():
        for column, value in (("md5", md5), ("sha256", sha256)):
            if not value:
                continue
            for row in _items(ctx, f"s.{column} = ?", [value.lower()]):
                found.setdefault(row["id"], _entry(row, item, "same file", column, [], None))
    pictures = [(item, h) for item, h in hashes if h.pdq is not None or h.frames]
    if pictures:
        for row in _items(ctx, "(s.pdq IS NOT NULL OR s.vpdq_frames > 0)", []):
            if row["id"] in found:
                continue
            entry = _picture_match(row, pictures)
            if entry:
                found[row["id"]] = entry
    rank = {"same file": 0, "same visuals": 1, "possible": 2}
    return sorted(found.values(), key=lambda m: (rank[m["kind"]], m["pdq_distance"] or 0, m["item_id"]))


def _items(ctx: Context, where: str, args: list) -> list[dict]:
    return list(ctx.db.query(
        "SELECT li.id, li.source_name, li.source_ref, li.title, li.format, li.expires_on, s.* FROM library_items li "
        f"JOIN standard_hashes s ON s.item_id = li.id WHERE li.status = 'kept' AND li.source = 'import' AND {where} "
        "ORDER BY li.id", args))


def _entry(row: dict, capture_item: int, kind: str, by: str, segments: list, distance) -> dict:
    return {"item_id": row["id"], "source": row["source_name"], "item_ref": row["source_ref"] or row["id"],
            "kind": kind, "by": by, "segments": segments, "pdq_distance": distance, "bit_error_rate": None,
            "title": row["title"], "format": row["format"], "expires_on": row["expires_on"],
            "capture_item": capture_item}


def _words(hashes: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(hashes, np.uint8).reshape(-1, 32).view(">u8").astype(np.uint64)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.bitwise_count(_words(a)[:, None, :] ^ _words(b)[None, :, :]).sum(axis=2)


def _good_frames(h) -> tuple[np.ndarray, np.ndarray]:
    """A side's hashes worth comparing and their times: the photo's PDQ, else its vPDQ frames of quality
    QUALITY_THRESHOLD or more."""
    from ...ground.fingerprint import pdq_bytes, standard

    if h.pdq is not None:
        if (h.pdq_quality or 0) < standard.QUALITY_THRESHOLD and h.pdq_quality is not None:
            return np.zeros((0, 32), np.uint8), np.zeros(0, np.float32)
        return np.asarray([pdq_bytes(h.pdq)], np.uint8), np.zeros(1, np.float32)
    keep = h.qualities >= standard.QUALITY_THRESHOLD
    return h.hashes[keep], h.times[keep]


def _picture_match(row: dict, pictures: list[tuple[int, object]]) -> dict | None:
    """The best match of one imported item's PDQ or vPDQ with the capture's items, or None."""
    from ...ground.fingerprint import StandardHashes, standard

    theirs = StandardHashes.from_blobs(row)
    if theirs.pdq is not None and row["pdq_quality"] is None:
        theirs.pdq_quality = 100  # a hash list's PDQ carries no quality: it was good enough to list
    their_hashes, their_times = _good_frames(theirs)
    if not len(their_hashes):
        return None
    best = None
    for item, mine in pictures:
        my_hashes, my_times = _good_frames(mine)
        if not len(my_hashes):
            continue
        dist = _distances(my_hashes, their_hashes)
        close = dist <= standard.MATCH_DISTANCE
        if theirs.frames:   # a vPDQ signal: the share of the capture's distinct frames found in it
            _, first = np.unique(my_hashes, axis=0, return_index=True)
            percent = 100.0 * close[first].any(axis=1).mean()
            if percent < VPDQ_POSSIBLE_PERCENT:
                continue
            kind = "same visuals" if percent >= VPDQ_MATCH_PERCENT else "possible"
        else:               # one PDQ: the photo, or any frame of the video
            if not close.any():
                continue
            percent, kind = None, "same visuals"
        rows, cols = np.nonzero(close)
        distance = float(np.median(dist[rows, cols]))
        segment = {"what": "pictures", "capture": [round(float(my_times[rows].min()), 1),
                                                    round(float(my_times[rows].max()) + (1 if mine.frames else 0), 1)],
                   "item": [round(float(their_times[cols].min()), 1),
                            round(float(their_times[cols].max()) + (1 if theirs.frames else 0), 1)],
                   "strong": kind == "same visuals", "pdq_distance": round(distance, 1),
                   "frames": int(len(np.unique(rows))), "mirrored": False}
        if percent is not None:
            segment["vpdq_match_percent"] = round(percent, 1)
        candidate = _entry(row, item, kind, "vpdq" if theirs.frames else "pdq", [segment], round(distance, 1))
        key = (kind != "same visuals", distance)
        if best is None or key < best[0]:
            best = (key, candidate)
    return best[1] if best else None
