"""URL capture: yt-dlp downloads one post into the staging folder, hashed as it arrives (SOP 9.1). A post of
several items (a page with two videos, a carousel) gives one original per item, in the post's order, each
with its number (`item`) and the address it came from (`source_url`)."""

from __future__ import annotations

from pathlib import Path

from ...ground import live, media, store
from .draft import Draft, Progress, record

SUBTITLE_EXTS = {".vtt", ".srt", ".ass", ".ssa", ".ttml", ".srv1", ".srv2", ".srv3", ".json3", ".lrc"}


def download(draft: Draft, progress: Progress | None, live_limit: live.Limit | None = None,
             comments: bool = False) -> None:
    """yt-dlp into original/ and source/, hashing while the bytes arrive; a live stream is recorded
    within `live_limit` and the manifest's `live` key says how (`_live_facts`)."""
    hashers = store.StreamHashers()

    def on_block(block: media.Progress) -> None:
        if block.temp_path or block.status == "finished":
            hashers.update(block.temp_path or block.path, block.downloaded, finished=block.status != "downloading")
        if progress is not None:
            progress({"event": "download", "status": block.status, "downloaded": block.downloaded,
                      "total": block.total, "speed": block.speed, "eta": block.eta,
                      "name": Path(block.path or "").name})

    try:
        fetched = media.download(draft.requested_url, draft.stage.path, on_progress=on_block, live_limit=live_limit,
                                 comments=comments)
        draft.info = fetched.info
        draft.extra["yt_dlp"] = {"format": "bv*+ba/b", "postprocessors": fetched.postprocessors,
                                 "postprocessor_args": ["-bitexact"], "warnings": fetched.warnings}
        _keep_only(draft.stage.path / "original", fetched.originals)
        probing = media.probe_soon(fetched.originals[0])
        draft.files += _record_items(draft, fetched, hashers)
        draft.probe = probing.result()
        if fetched.live is not None:
            draft.extra["live"] = _live_facts(fetched.live, draft.probe)
    finally:
        hashers.close()
    draft.files += _record_sources(draft.stage.path)


def _live_facts(recording: live.Recording, probe: dict | None) -> dict:
    """That the content was live, when the recording started and stopped, and why it stopped; its length is
    the kept file's (ffprobe), which may differ from ffmpeg's count by a frame or two."""
    return recording.facts(media.duration(probe or {}))


def _record_items(draft: Draft, fetched: media.Fetched, hashers: store.StreamHashers) -> list[dict]:
    """One manifest entry per original, numbered in the post's order, with the address it came from."""
    entries = []
    for item in fetched.items or [media.FetchedItem(fetched.info, fetched.originals)]:
        for path in item.originals:
            entries.append(record(draft.stage.path, path, "original", hashers.digest_for(path),
                                  item=len(entries) + 1, source_url=item_url(item.info)))
    return entries


def item_url(info: dict) -> str | None:
    """Where an item's bytes came from: the media's own address (the picture's, when two formats were
    merged), else its page."""
    formats = [f.get("url") for f in info.get("requested_formats") or [] if f.get("url")]
    return (formats[0] if formats else info.get("url")) or info.get("webpage_url")


def _keep_only(folder: Path, keep: list[Path]) -> None:
    """Drop the downloader's leftovers (part files of merged formats) so only the originals remain."""
    wanted = {p.resolve() for p in keep}
    for path in folder.iterdir():
        if path.resolve() not in wanted:
            store.remove_tree(path) if path.is_dir() else path.unlink()


def _record_sources(folder: Path) -> list[dict]:
    """yt-dlp's info JSON (as `source/info.json`), thumbnails and subtitles, as received."""
    source = folder / "source"
    if not source.is_dir():
        return []
    entries = []
    for path in sorted(source.iterdir()):
        if path.name.endswith(".info.json"):
            path = path.rename(source / "info.json") if not (source / "info.json").exists() else path
            role = "info"
        elif path.suffix.lower() in SUBTITLE_EXTS:
            role = "subtitle"
        else:
            role = "thumbnail"
        entries.append(record(folder, path, role))
    return entries
