"""What the workspace shows of a task (SOP 9.1-9.4, 10.3, 10.8), gathered through the stages' public functions.

Nothing here writes: the pages are built from `capture`, `review`, `intake`, `refer` and `library.matching`,
and the files they show are named by ids that `Files` hands out, never by a path.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

CONTENT_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska",
                 ".mov": "video/quicktime", ".m4a": "audio/mp4", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
                 ".opus": "audio/ogg", ".wav": "audio/wav", ".flac": "audio/flac", ".aac": "audio/aac",
                 ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
                 ".gif": "image/gif", ".vtt": "text/vtt; charset=utf-8"}
PAGE_TEXT_LIMIT = 200_000  # characters of page/text.txt shown (the file keeps the whole)
SUBTITLE_SUFFIXES = (".vtt", ".srt", ".ass", ".ssa", ".ttml", ".srv3", ".sbv", ".lrc")


@dataclass(frozen=True)
class Served:
    path: Path
    content_type: str
    subtitle: bool = False


class Files:
    """The files of the home the workspace may serve, each by a random id (no path ever reaches a URL)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Served] = {}
        self._ids: dict[tuple[Path, bool], str] = {}
        self._lock = threading.Lock()

    def id_for(self, path: Path, *, subtitle: bool = False) -> str:
        path = Path(path)
        with self._lock:
            key = (path, subtitle)
            if key not in self._ids:
                found = secrets.token_hex(8)
                content = "text/vtt; charset=utf-8" if subtitle else \
                    CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
                self._ids[key] = found
                self._by_id[found] = Served(path, content, subtitle)
            return self._ids[key]

    def get(self, file_id: str) -> Served | None:
        with self._lock:
            return self._by_id.get(file_id)


def frame_rate(probe: dict | None) -> float:
    """The first video stream's frame rate from ffprobe's record (25 when it does not say)."""
    for stream in (probe or {}).get("streams") or []:
        if stream.get("codec_type") != "video":
            continue
        for key in ("avg_frame_rate", "r_frame_rate"):
            top, _, bottom = str(stream.get(key) or "").partition("/")
            try:
                rate = float(top) / float(bottom or 1)
            except (ValueError, ZeroDivisionError):
                continue
            if 0 < rate <= 240:
                return round(rate, 3)
    return 25.0


def _manifest(folder: Path) -> dict:
    """The capture's manifest as stored; {} when it cannot be read (`ohrt verify` says why)."""
    try:
        found = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def capture_view(ctx, capture: dict, files: Files) -> dict:
    """A capture as the workspace shows it: each item with its player, frame rate, key frames (with their
    times), contact sheet (its grid and spacing) and subtitles; the page (screenshot, text) and comments."""
    from ...stages import capture as capture_stage

    folder = Path(capture["path"])
    manifest = _manifest(folder)
    entries = {f.get("path"): f for f in manifest.get("files") or [] if isinstance(f, dict)}
    several = len(capture["items"]) > 1
    items = []
    for item in capture["items"]:
        number = item["item"] if several else None
        mine = [f for f in capture["files"] if f["status"] == "ok" and (not several or f.get("item") == number)]
        original = entries.get(item["path"]) or {}
        kind = item["kind"] or capture["media_kind"]
        if kind == "page":  # a page is shown as the page (its screenshot and text), not played
            continue
        copy = item.get("review_copy")
        view = {"item": item["item"], "kind": kind, "duration": item.get("duration") or capture.get("duration"),
                "fps": frame_rate(original.get("probe")), "media": files.id_for(folder / copy) if copy else None,
                "media_type": CONTENT_TYPES.get(Path(copy).suffix.lower(), "") if copy else None,
                "keyframes": [], "contact_sheet": None, "subtitles": [], "source_url": item.get("source_url")}
        keyframes = [f for f in mine if f["role"] == "keyframes"]
        for n, entry in enumerate(keyframes):
            at = (entries.get(entry["path"]) or {}).get("at")
            if at is None and view["duration"]:  # an older capture: spread them evenly
                at = view["duration"] * n / max(len(keyframes), 1)
            view["keyframes"].append({"id": files.id_for(folder / entry["path"]), "t": round(float(at or 0), 3)})
        sheet = next((f for f in mine if f["role"] == "contact-sheet"), None)
        if sheet:
            tiles = int((entries.get(sheet["path"]) or {}).get("tiles") or 16)
            columns = min(4, tiles)
            view["contact_sheet"] = {"id": files.id_for(folder / sheet["path"]), "tiles": tiles, "columns": columns,
                                     "rows": math.ceil(tiles / columns),
                                     "spacing": round((view["duration"] or tiles) / tiles, 4)}
        for entry in (f for f in capture["files"] if f["role"] == "subtitle" and f["status"] == "ok"):
            path = folder / entry["path"]
            if path.suffix.lower() not in SUBTITLE_SUFFIXES or (several and _item_of(entry) != number):
                continue
            parts = path.name.split(".")
            lang = parts[-2] if len(parts) > 2 else "und"
            view["subtitles"].append({"id": files.id_for(path, subtitle=True), "lang": lang[:12]})
        items.append(view)
    page = None
    shot = next((f for f in capture["files"] if f["status"] == "ok" and f["path"] == "page/screenshot.png"), None)
    text_file = next((f for f in capture["files"] if f["status"] == "ok" and f["path"] == "page/text.txt"), None)
    if shot or text_file:
        text = None
        if text_file:
            try:
                text = (folder / text_file["path"]).read_text(encoding="utf-8", errors="replace")[:PAGE_TEXT_LIMIT]
            except OSError:
                text = None
        page = {"screenshot": files.id_for(folder / shot["path"]) if shot else None, "text": text,
                "final_url": (manifest.get("page") or {}).get("final_url")}
    comments = sorted(capture_stage.comments_of(ctx, capture).values(), key=lambda c: c["n"])
    return {"id": capture["id"], "status": capture["status"], "media_kind": capture["media_kind"],
            "duration": capture.get("duration"), "title": capture.get("title"), "items": items, "page": page,
            "comments": comments, "several": several}


def _item_of(entry: dict) -> int | None:
    """The item a file of a post of several belongs to: its own `item`, else the number yt-dlp put before its
    name (`source/02-….en.vtt`: the second entry of the post)."""
    if entry.get("item") is not None:
        return entry["item"]
    import re

    found = re.match(r"(\d{2,})-", Path(entry["path"]).name)
    return int(found[1]) if found else None


def task_view(ctx, task_id: str, files: Files) -> dict:
    """Everything the workspace page shows of a task."""
    from ...stages import capture as capture_stage
    from ...stages import intake, review

    task = intake.get_task(ctx, task_id)
    latest = capture_stage.latest_capture(ctx, task["id"])
    capture = capture_view(ctx, latest, files) if latest else None
    try:
        clauses = review.list_clauses(ctx.home, task["platform"])
    except Exception as exc:  # no catalogue for the platform: said on the page, as the CLI says it
        from ...ground.errors import OhrtError

        if not isinstance(exc, OhrtError):
            raise
        clauses = []
    return {
        "task": {k: task.get(k) for k in ("id", "status", "platform", "title", "url", "rationale", "upload_date",
                                          "applicant_name", "applicant_ocu", "applicant_unit", "self_tasked")},
        "police_only": {"subjects": task.get("subjects") or [], "incident_refs": task.get("incident_refs") or [],
                        "research": review.research_for(ctx, task["id"])},
        "capture": capture,
        "current": review.current_review(ctx, task["id"]),
        "factors": review.factor_list(),
        "formats": list(review.FORMATS),
        "decisions": dict(review.DECISIONS),
        "clauses": clauses,
        "matches": matches_of(ctx, latest["id"]) if latest else [],
    }


def matches_of(ctx, capture_id: str) -> list[dict]:
    """The Domain library items the capture matches, from its stored fingerprints (nothing is computed or
    recorded here: a capture never fingerprinted is matched with `ohrt library match`)."""
    from ...stages.library import matching

    fps = matching.stored_fingerprints(ctx, capture_id=capture_id)
    if not fps:
        return []
    return matching.find_matches(ctx, fps, exclude_capture=capture_id)


def match_view(ctx, capture_id: str, item_id: str, files: Files, consulted: set[str]) -> dict | None:
    """The re-upload comparison of a capture with one library item it matches: both players (the item's only
    when its capture is kept here, and once consulted: `consulted` holds the captures this workspace has
    opened, with their audit entries; else `to_consult` names it) and every matched range, aligned. None
    when they do not match."""
    from ...stages import capture as capture_stage

    match = next((m for m in matches_of(ctx, capture_id) if m["item_id"] == item_id), None)
    if match is None:
        return None
    capture = capture_view(ctx, capture_stage.get_capture(ctx, capture_id), files)
    row = ctx.db.execute("SELECT capture_id FROM library_items WHERE id = ?", [item_id]).fetchone()
    other = to_consult = None
    if row and row[0]:
        theirs = capture_stage.get_capture(ctx, row[0])
        if not theirs["purged_at"]:
            if theirs["id"] in consulted:
                other = capture_view(ctx, theirs, files)
            else:
                to_consult = theirs["id"]
    mine_item = match.get("capture_item") or 1
    their_item = match.get("library_item_item") or 1
    segments = []
    for seg in match.get("segments") or []:
        segments.append({
            "what": seg.get("what"), "capture": seg.get("capture") or [0, 0], "item": seg.get("item") or [0, 0],
            "pdq_distance": seg.get("pdq_distance"), "bit_error_rate": seg.get("bit_error_rate"),
            "frames": seg.get("frames"), "seconds": seg.get("seconds"), "strong": seg.get("strong"),
            "mirrored": seg.get("mirrored")})
    return {"match": match, "capture": capture, "other": other, "to_consult": to_consult, "segments": segments,
            "capture_item": _item(capture, mine_item), "other_item": _item(other, their_item) if other else None}


def _item(capture: dict, number: int) -> dict | None:
    return next((i for i in capture["items"] if i["item"] == number), capture["items"][0] if capture["items"] else None)


def vtt_of(path: Path) -> bytes:
    """A subtitle file as WebVTT, which a <video> can show: WebVTT as it is, SubRip converted here, any other
    format converted by ffmpeg."""
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".vtt":
        return data
    if suffix == ".srt":
        import re

        text = data.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
        text = re.sub(r"(\d{2}:\d{2}:\d{2}),(\d{3})", r"\1.\2", text)
        return ("WEBVTT\n\n" + text).encode("utf-8")
    from ...ground import processes

    done = processes.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path), "-f", "webvtt",
                          "-"], capture_output=True, timeout=60)
    if done.returncode != 0 or not done.stdout.startswith(b"WEBVTT"):
        return b"WEBVTT\n\n"
    return done.stdout
