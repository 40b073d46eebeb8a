"""Re-upload detection for the Domain library, SOP 10.8: a capture's fingerprints, the items it matches, the look-up index."""

from __future__ import annotations

import contextlib
import secrets
import shutil
from pathlib import Path

from ...ground import audit
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import Failure, NotFound, StateError
from ...ground.progress import Report, meter
from ...ground.times import clock, iso


MEDIA_KINDS = ("video", "audio", "image", "mixed")   # what can be fingerprinted (mixed: a slideshow, say)
CACHE_DIR = "cache"
INDEX_PREFIX = "library-index-"


def audio_seconds_of(values: int) -> float:
    from ...ground.fingerprint import audio_seconds

    return round(audio_seconds(values or 0), 1)


def on_capture(ctx: Context, capture_id: str) -> list[dict]:
    """Called by the capture stage once a capture is committed: fingerprint it (each of its items: a
    photo's PDQ hash, a video's frames and sound), keep the fingerprints (purged with the capture), and
    return the library items it matches (see `find_matches`)."""
    if _capture_row(ctx, capture_id)["media_kind"] not in MEDIA_KINDS:
        return []  # nothing to fingerprint (no pictures or sound)
    fps = fingerprint_capture(ctx, capture_id)
    matches = find_matches(ctx, fps, exclude_capture=capture_id)
    matches += _list_matches(ctx, capture_id, matches)
    _audit_matches(ctx, capture_id, matches)
    return matches


def _list_matches(ctx: Context, capture_id: str, found: list[dict]) -> list[dict]:
    """The imported hash-list items the capture's standard hashes match (`standard.py`), less those its
    fingerprints already matched."""
    from . import standard

    known = {m["item_id"] for m in found}
    return [m for m in standard.find_matches(ctx, capture_id, standard.of_capture(ctx, capture_id))
            if m["item_id"] not in known]


def fingerprint_capture(ctx: Context, capture_id: str, progress: Report | None = None) -> list[tuple[int, object]]:
    """Compute and store the fingerprints of each of a capture's originals (item by item, each decode's
    seconds of media told to `progress`); returns [(item, Fingerprint)] in the post's order."""
    from ...ground import fingerprint as fpmod

    from . import standard

    capture = _capture_row(ctx, capture_id)
    paths = _original_paths(ctx, capture)
    # an original whose derivatives were just made was fingerprinted by the same decode: known by its bytes
    known = dict(ctx.db.execute("SELECT path, sha256 FROM capture_files WHERE capture_id = ? AND role = 'original'",
                                [capture["id"]]).fetchall())
    sha256 = {path: known.get(path.relative_to(ctx.home / capture["folder"]).as_posix()) for _, path in paths}
    fps = []
    for item, path in paths:
        label = f"fingerprinting {capture['id']}" + (f", item {item}" if len(paths) > 1 else "")
        with meter(progress, label, unit="seconds") as shown:
            told = shown.update if progress else None
            fps.append((item, fpmod.fingerprint_file(path, sha256=sha256[path], on_seconds=told)))
    hashes = standard.compute(paths, sha256)   # the standard hashes (PDQ, vPDQ) are made in the same step
    with transaction(ctx.db):
        _capture_row(ctx, capture["id"])  # not purged while we were hashing
        standard.store_for_capture(ctx, capture["id"], hashes)
        ctx.db.execute("DELETE FROM fingerprints WHERE capture_id = ?", [capture["id"]])
        for item, fp in fps:
            ctx.db["fingerprints"].insert({"capture_id": capture["id"], "item": item, "created_at": iso(ctx.now()),
                                           **fpmod.index_columns(fp), **fp.blobs()})
        detail = {"task": capture["task_id"], "frames": sum(fp.frames for _, fp in fps),
                  "audio_values": sum(len(fp.audio) for _, fp in fps), "crop": fps[0][1].crop,
                  "vpdq_frames": sum(h.frames for _, h in hashes), "pdq": sum(h.pdq is not None for _, h in hashes)}
        if len(fps) > 1:
            detail["items"] = len(fps)
        audit.record(ctx, "library.fingerprint", "capture", capture["id"], detail=detail)
        if ctx.db.execute("SELECT 1 FROM library_items WHERE capture_id = ? AND status = 'kept'",
                          [capture["id"]]).fetchone():
            bump_generation(ctx)
    return fps


def _capture_row(ctx: Context, capture_id: str) -> dict:
    capture_id = (capture_id or "").strip().upper()
    rows = list(ctx.db.query("SELECT id, task_id, folder, purged_at, media_kind FROM captures WHERE id = ?",
                             [capture_id]))
    if not rows:
        raise NotFound(f"no capture {capture_id!r} in this home: check the id with `ohrt capture list`.")
    if rows[0]["purged_at"]:
        raise StateError(f"capture {capture_id} was purged on {rows[0]['purged_at']}: nothing is left to match.")
    return rows[0]


def _original_paths(ctx: Context, capture: dict) -> list[tuple[int, Path]]:
    """(item, path) of each original with pictures or sound, in the post's order."""
    found = ctx.db.execute("SELECT COALESCE(item, 1), path, kind FROM capture_files WHERE capture_id = ? AND "
                           "role = 'original' AND status = 'ok' ORDER BY item, id", [capture["id"]]).fetchall()
    if not found:
        raise Failure(f"capture {capture['id']} has no original file recorded: run `ohrt verify {capture['id']}`.")
    paths = []
    for item, relative, kind in found:
        if len(found) > 1 and kind not in MEDIA_KINDS:
            continue
        path = ctx.home / capture["folder"] / relative
        if not path.is_file():
            raise Failure(f"{path} is missing: run `ohrt verify {capture['id']}`.")
        paths.append((item, path))
    return paths


def stored_fingerprints(ctx: Context, *, capture_id: str | None = None, item_id: str | None = None) -> list[tuple]:
    """[(item, Fingerprint)] of a capture (each of its items) or of an imported library item (one)."""
    from ...ground import fingerprint as fpmod

    column, value = ("capture_id", capture_id) if capture_id else ("item_id", item_id)
    rows = list(ctx.db.query(f"SELECT * FROM fingerprints WHERE {column} = ? ORDER BY item, id", [value]))
    return [(row.get("item") or 1, fpmod.Fingerprint.from_blobs(row)) for row in rows]


def stored_fingerprint(ctx: Context, *, capture_id: str | None = None, item_id: str | None = None):
    """The fingerprint of a capture's first item (or of an imported item), or None."""
    found = stored_fingerprints(ctx, capture_id=capture_id, item_id=item_id)
    return found[0][1] if found else None


def has_fingerprints(ctx: Context, capture_id: str) -> bool:
    return ctx.db.execute("SELECT 1 FROM fingerprints WHERE capture_id = ?", [capture_id]).fetchone() is not None


def fingerprint_row(ctx: Context, item: dict, columns: str):
    if item["source"] == "import":
        return ctx.db.execute(f"SELECT {columns} FROM fingerprints WHERE item_id = ?", [item["id"]]).fetchone()
    if not item["capture_id"]:
        return None
    return ctx.db.execute(f"SELECT {columns} FROM fingerprints WHERE capture_id = ?", [item["capture_id"]]).fetchone()


def match_capture(ctx: Context, capture_id: str, progress: Report | None = None) -> dict:
    """`ohrt library match`: the library items a capture matches, fingerprinting it first if it never
    was (a capture made before the library, or whose fingerprints failed; its seconds of media decoded
    told to `progress`)."""
    ctx.actor()
    capture = _capture_row(ctx, capture_id)
    if capture["media_kind"] not in MEDIA_KINDS:
        raise StateError(f"capture {capture['id']} holds no pictures or sound ({capture['media_kind']}): there is "
                         "nothing to match.")
    from . import standard

    fps = stored_fingerprints(ctx, capture_id=capture["id"])
    computed = not fps or not standard.has_hashes(ctx, capture["id"])  # made before the standard hashes were
    if computed:
        fps = fingerprint_capture(ctx, capture["id"], progress)
    matches = find_matches(ctx, fps, exclude_capture=capture["id"])
    matches += _list_matches(ctx, capture["id"], matches)
    _audit_matches(ctx, capture["id"], matches)
    result = {"capture_id": capture["id"], "task_id": capture["task_id"], "fingerprinted_now": computed,
              "frames": sum(fp.frames for _, fp in fps),
              "audio_seconds": audio_seconds_of(sum(len(fp.audio) for _, fp in fps)), "matches": matches}
    if len(fps) > 1:
        result["items"] = len(fps)
    return result


def find_matches(ctx: Context, fps, *, exclude_capture: str | None = None) -> list[dict]:
    """Every library item (kept, local or imported) that the capture's fingerprints `fps` ([(item,
    Fingerprint)], or one Fingerprint) match, strongest first: `item_id`, `source` ('local' or the
    sending force), `item_ref` (their id for imported hashes), `kind` (same video / same visuals / same
    audio / possible), `segments` side by side, distances, and the item's title and expiry. When either
    side is a post of several items, `capture_item` and `library_item_item` say which item of the capture
    matched which item of the library item's capture (the closest pair)."""
    from ...ground import fingerprint as fpmod

    if not isinstance(fps, list):
        fps = [(1, fps)]
    index = library_index(ctx)
    if index is None:
        return []
    found = []
    candidates = dict.fromkeys(item_id for _, fp in fps for item_id in index.candidates(fp))
    for item_id in candidates:
        item = _match_target(ctx, item_id)
        if item is None or (exclude_capture and item["capture_id"] == exclude_capture):
            continue
        others = stored_fingerprints(ctx, item_id=item["id"]) if item["source"] == "import" else \
            stored_fingerprints(ctx, capture_id=item["capture_id"])
        best = _best_pair(fps, others)
        if best:
            mine, theirs, result = best
            entry = {"item_id": item["id"], "source": item["source_name"] if item["source"] == "import"
                     else "local", "item_ref": item["source_ref"] or item["id"], **result,
                     "title": item["title"], "format": item["format"], "expires_on": item["expires_on"]}
            if len(fps) > 1 or len(others) > 1:
                entry.update(capture_item=mine, library_item_item=theirs)
            found.append(entry)
    rank = {kind: n for n, kind in enumerate(fpmod.KINDS)}
    return sorted(found, key=lambda m: (rank[m["kind"]], m["pdq_distance"] if m["pdq_distance"] is not None else 999,
                                        m["item_id"]))


def _best_pair(fps: list[tuple], others: list[tuple]) -> tuple[int, int, dict] | None:
    """The (capture item, library item's item, match) that matches best, by kind then PDQ distance."""
    from ...ground import fingerprint as fpmod

    rank = {kind: n for n, kind in enumerate(fpmod.KINDS)}
    best = None
    for mine, fp in fps:
        for theirs, other in others:
            result = fpmod.match(fp, other)
            if result is None:
                continue
            key = (rank[result["kind"]], result["pdq_distance"] if result["pdq_distance"] is not None else 999)
            if best is None or key < best[0]:
                best = (key, mine, theirs, result)
    return best[1:] if best else None


def describe_match(match: dict) -> str:
    """A match as lines for the officer: the item and kind, then each matching stretch side by side (for
    posts of several items, which item matched which)."""
    source = "" if match["source"] == "local" else f" ({match['source']}'s {match['item_ref']})"
    title = f" “{match['title']}”" if match.get("title") else ""
    lines = [f"{match['item_id']}{source}{title}: {match['kind']} (library item kept until {match['expires_on']})"]
    if match.get("by"):
        how = {"md5": "its MD5", "sha256": "its SHA-256", "pdq": "its PDQ hash", "vpdq": "its vPDQ frames"}
        lines.append(f"  matched by {how[match['by']]} (a hash list's item)")
    if match.get("capture_item") is not None and match.get("library_item_item") is not None:
        lines.append(f"  item {match['capture_item']} of the capture matches item {match['library_item_item']} "
                     f"of {match['item_id']}")
    for seg in match["segments"]:
        if seg["what"] == "pictures":
            how = f"pictures, PDQ distance {seg['pdq_distance']:g}/256 over {seg['frames']} frames" \
                  + (", mirrored" if seg["mirrored"] else "")
        else:
            how = f"sound, {seg['bit_error_rate']:.0%} bit errors over {seg['seconds']:g} s"
        mine = "photo" if seg["capture"][1] - seg["capture"][0] < 1 else \
            f"{clock(seg['capture'][0])}–{clock(seg['capture'][1])}"
        theirs = f"at {clock(seg['item'][0])}" if seg["item"][1] - seg["item"][0] < 1 else \
            f"{clock(seg['item'][0])}–{clock(seg['item'][1])}"
        lines.append(f"  capture {mine}  ↔  item {theirs}  ({how}{'' if seg['strong'] else '; weak'})")
    return "\n".join(lines)


def _match_target(ctx: Context, item_id: str) -> dict | None:
    rows = list(ctx.db.query("SELECT id, source, source_name, source_ref, capture_id, title, format, expires_on "
                             "FROM library_items WHERE id = ? AND status = 'kept'", [item_id]))
    return rows[0] if rows else None


def _audit_matches(ctx: Context, capture_id: str, matches: list[dict]) -> None:
    if not matches:
        return
    with transaction(ctx.db):
        audit.record(ctx, "library.match", "capture", capture_id, detail={
            "matches": [{"item": m["item_id"], "kind": m["kind"], "source": m["source"]} for m in matches]})


def bump_generation(ctx: Context) -> None:
    """Note that the fingerprints the library matches against changed (inside the transaction that
    changes them): the look-up index is rebuilt on next use."""
    ctx.db.execute("INSERT INTO library_generation (id, token, changed_at) VALUES (1, ?, ?) "
                   "ON CONFLICT(id) DO UPDATE SET token = excluded.token, changed_at = excluded.changed_at",
                   [secrets.token_hex(8), iso(ctx.now())])


def library_index(ctx: Context):
    """The look-up index of the kept items' fingerprints (fingerprint.Index), or None when there are
    none. It is a cache under HOME/cache named by the library's generation: built when missing (or
    damaged), safe to delete."""
    from ...ground import fingerprint as fpmod

    with _snapshot(ctx):
        row = ctx.db.execute("SELECT token FROM library_generation WHERE id = 1").fetchone()
        target = ctx.home / CACHE_DIR / f"{INDEX_PREFIX}{row[0] if row else 'initial'}"
        if target.is_dir():
            try:
                return fpmod.Index.load(target)
            except (OSError, ValueError):
                shutil.rmtree(target, ignore_errors=True)
        entries = _index_entries(ctx)
    if not entries:
        return None
    index = fpmod.Index.build(entries)
    try:  # the cache is a convenience: without it the index is built again next time
        target.parent.mkdir(exist_ok=True)
        fpmod.save_index(index, target)
        for old in target.parent.glob(f"{INDEX_PREFIX}*"):
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass
    return index


@contextlib.contextmanager
def _snapshot(ctx: Context):
    """Reads that must see one state of the database (a read transaction, unless already in one)."""
    own = not ctx.db.conn.in_transaction
    if own:
        ctx.db.conn.execute("BEGIN")
    try:
        yield
    finally:
        if own and ctx.db.conn.in_transaction:
            ctx.db.conn.execute("COMMIT")


def _index_entries(ctx: Context) -> list[tuple[str, bytes, bytes]]:
    return [tuple(row) for row in ctx.db.execute(
        "SELECT li.id, f.index_pdq, f.index_audio FROM library_items li JOIN fingerprints f ON "
        "(li.source = 'import' AND f.item_id = li.id) OR (li.source != 'import' AND f.capture_id = li.capture_id) "
        "WHERE li.status = 'kept' ORDER BY li.id")]
