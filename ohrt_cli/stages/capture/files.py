"""File ingest: media obtained elsewhere (a screen-recorded live stream) copied into the staging folder (SOP 9.1)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ...ground import store
from ...ground.times import iso
from .draft import Draft, record


def ingest(draft: Draft, source: Path) -> None:
    """Copy a file obtained elsewhere into original/, hashing the bytes written."""
    folder = draft.stage.path / "original"
    folder.mkdir()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name).strip("._") or "recording"
    target = folder / name
    digest = store.copy_hashed(source, target)
    stat = source.stat()
    draft.extra["ingest"] = {"source_name": source.name, "source_bytes": stat.st_size,
                             "source_modified": iso(dt.datetime.fromtimestamp(stat.st_mtime, dt.timezone.utc))}
    draft.files.append(record(draft.stage.path, target, "original", digest))
