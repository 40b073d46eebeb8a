"""A capture in the making: its staging draft, manifest entries and the vocabulary every step shares (SOP 9.1)."""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ...ground import media, store
from ...ground.context import Context

MANIFEST_FORMAT = "ohrt-capture/1"
PENDING = ("failed", "not-made")
FILE_KEYS = ("path", "role", "sha256", "md5", "bytes", "parent_sha256", "status", "error", "item", "source_url",
             "kind", "duration")
ROLE_ORDER = ("original", "photos", "info", "thumbnail", "subtitle", "comments", "page", "review", "audio",
              "keyframes", "contact-sheet", "fingerprints")


def ordered(files: list[dict]) -> list[dict]:
    """Files in the manifest's order: by role, the originals by their place in the post, the rest by path."""
    rank = {role: i for i, role in enumerate(ROLE_ORDER)}
    return sorted(files, key=lambda f: (rank.get(f["role"], len(rank)),
                                        (f.get("item") or 0) if f["role"] == "original" else 0, f.get("path") or ""))


Progress = Callable[[dict], None]


@dataclass
class Draft:
    """A capture being made in its staging folder, before it has an id or a row."""

    stage: store.Staging
    method: str
    requested_url: str
    canonical_url: str
    platform: str | None
    officer: dict
    started_at: str
    reason: str | None
    title: str | None = None
    info: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)
    kind: str = ""
    duration: float | None = None
    finished_at: str = ""
    duplicates: list[dict] = field(default_factory=list)
    probe: dict | None = None
    committed: str | None = None  # the capture's id once its transaction is committed

    @property
    def original(self) -> dict:
        return next(f for f in self.files if f["role"] == "original")

    @property
    def originals(self) -> list[dict]:
        """Every original, in the post's order (one for most captures)."""
        return [f for f in self.files if f["role"] == "original"]


def capture_status(files: list[dict], live: dict | None) -> str:
    """`partial` for a live recording that was interrupted (what was recorded is kept, but it is not the
    whole of what was to be recorded), else `incomplete` while a derivative is failed or not made, else
    `complete`. Every list of capture statuses (review, the report) knows all three."""
    if (live or {}).get("stopped_because") == "interrupted":
        return "partial"
    return "incomplete" if any(f["status"] in PENDING for f in files) else "complete"


def clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


@contextlib.contextmanager
def disk_guard(ctx: Context) -> Iterator[None]:
    """'No space left on device' anywhere in a capture (files or database) becomes one clear line."""
    try:
        yield
    except OSError as exc:
        if store.is_disk_full(exc):
            raise media.disk_full(ctx.captures_dir) from None
        raise
    except sqlite3.OperationalError as exc:
        if "full" in str(exc):
            raise media.disk_full(ctx.home) from None
        raise

def record(folder: Path, path: Path, role: str, digest: store.Digest | None = None, **extra) -> dict:
    """A manifest entry for a file now in the store: hashed (unless the hash came with it), read-only."""
    digest = digest or store.hash_file(path)
    store.make_read_only(path)
    return {"path": path.relative_to(folder).as_posix(), "role": role, "sha256": digest.sha256, "md5": digest.md5,
            "bytes": digest.bytes, "parent_sha256": extra.pop("parent_sha256", None),
            "command": extra.pop("command", None), "status": "ok", "error": None, **extra}


def signer(ctx: Context) -> Callable[[bytes], bytes]:
    from ...ground import signing

    return lambda data: signing.sign(ctx.keys_dir, data)


def cosigner(ctx: Context, manifest: dict) -> Callable[[bytes], bytes] | None:
    """The sealing officer's own key, which co-signs manifest.json; names them in its `sealed_by` (set
    before the manifest's bytes are made). None when the officer has no key yet."""
    from ...ground import officer_keys

    key = officer_keys.signer_for(ctx)
    if key is None:
        manifest.pop("sealed_by", None)
        return None
    manifest["sealed_by"] = {"number": ctx.officer.number, "key": ctx.officer.fingerprint}
    return key.sign
