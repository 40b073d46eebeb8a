"""Which entries of HOME/exports belong to which task, so a task's evidence packages are purged with it (SOP 2.2)."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

from ...ground import store
from ...ground.context import Context
from ...ground.layout import EXPORTS_DIR, PACKAGE_NAME, PARTIAL_NAME


class ExportIndex:
    """Which entries of HOME/exports belong to which task: a package folder or zip by its bag-info.txt's
    External-Identifier (else by its name, TASK-evidence-DATE), a zip's .sha256 with its zip, and the
    staging folder or partial zip of an export that died. Other files are not ohrt's and are left alone,
    as are the leftovers of an export still running (whose publication the purge's marks refuse).
    The folder is listed again at each look-up, an entry's owner read only once."""

    def __init__(self, ctx: Context):
        self.folder = ctx.exports_dir
        self.owners: dict[str, tuple[tuple, str | None]] = {}   # name → (stat key, task id)
        self.by_task: dict[str, list[str]] = {}

    def of(self, task_id: str) -> list[str]:
        self._refresh()
        return self.by_task.get(task_id, [])

    def _refresh(self) -> None:
        try:
            entries = sorted(os.scandir(self.folder), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            self.by_task = {}
            return
        by_task: dict[str, list[str]] = {}
        for entry in entries:
            if entry.is_symlink():
                continue
            info = entry.stat(follow_symlinks=False)
            key = (info.st_ino, info.st_mtime_ns, info.st_size)
            known = self.owners.get(entry.name)
            owner = known[1] if known and known[0] == key else self._owner(Path(entry.path), entry.is_dir())
            self.owners[entry.name] = (key, owner)
            if owner:
                by_task.setdefault(owner, []).append(f"{EXPORTS_DIR}/{entry.name}")
        self.by_task = by_task

    @staticmethod
    def _owner(path: Path, is_dir: bool) -> str | None:
        partial = PARTIAL_NAME.fullmatch(path.name)
        if partial:
            return None if store.process_alive(int(partial[2])) else partial[1]
        named = PACKAGE_NAME.fullmatch(path.name)
        if is_dir and (path / "bag-info.txt").is_file():
            return _external_identifier(_read_text(path / "bag-info.txt")) or (named and named[1])
        if not is_dir and path.suffix == ".zip":
            return _zip_identifier(path) or (named and named[1])
        return named[1] if named else None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _external_identifier(bag_info: str) -> str | None:
    """The task id a package names in bag-info.txt (RFC 8493 §2.2.2), as `ohrt export` writes it."""
    for line in bag_info.splitlines():
        label, sep, value = line.partition(":")
        if sep and label.strip().lower() == "external-identifier":
            value = value.strip().upper()
            return value if re.fullmatch(r"T-\d{4}-\d{6}", value) else None
    return None


def _zip_identifier(path: Path) -> str | None:
    """External-Identifier of the bag in a zip made by `ohrt export --zip` (its folder at the top)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/bag-info.txt")]
            if len(names) != 1:
                return None
            return _external_identifier(archive.read(names[0]).decode("utf-8", errors="replace"))
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
