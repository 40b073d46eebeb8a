"""The permissions of what ohrt writes for use elsewhere (SOP 6.3: evidence and personal data handled by
those entitled to them): evidence packages and their zips, statements, exhibit lists and labels, hash files,
audit exports, reports and time-stamp requests. Each is private to the officer who wrote it — files 0600 in
folders 0700 — unless `--mode` says otherwise: a USB stick or a shared folder must not make it readable by
everyone on the machine. Folders get the execute bit of each class that may read (0640 → folders 0750).
Inside a home shared through a group the team's own mode (0660/0770) is the default, so teammates can purge.

Every file is created with its mode from the start (never readable by others, even half-written), and
written through a hidden partial file renamed into place."""

from __future__ import annotations

import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from .errors import InputError


@dataclass(frozen=True)
class Mode:
    """The mode of the files written; `folder` is derived from it."""

    file: int

    @property
    def folder(self) -> int:
        readable = self.file & 0o444
        return self.file | (readable >> 2)

    def __str__(self) -> str:
        return f"files {self.file:04o}, folders {self.folder:04o}"


PRIVATE = Mode(0o600)
TEAM = Mode(0o660)


def parse_mode(text: str) -> Mode:
    """`--mode 0640` → Mode(0o640); one line, exit 2 for anything that is not a sensible file mode."""
    given = (text or "").strip()
    if not re.fullmatch(r"0?[0-7]{3}", given):
        raise InputError(f"--mode {text!r} is not a file mode: give three octal digits as chmod takes them, e.g. "
                         "--mode 0600 (only you) or --mode 0640 (you, and your group may read).")
    value = int(given, 8)
    if value & 0o600 != 0o600:
        raise InputError(f"--mode {given}: you must be able to read and write what you export: start it with 6, "
                         "e.g. --mode 0640.")
    if value & 0o111:
        raise InputError(f"--mode {given}: exported files need no execute bit (folders get theirs from the read "
                         "bits): use even digits, e.g. --mode 0640.")
    if value & 0o002:
        raise InputError(f"--mode {given}: evidence anyone may overwrite proves nothing: leave others without "
                         "write, e.g. --mode 0644.")
    return Mode(value)


def choose(home: Path, group_home: bool, folder: Path, text: str | None) -> Mode:
    """The mode of what is written into `folder`: --mode when given, else private — or the team's within a
    home shared through a group."""
    if text is not None:
        return parse_mode(text)
    try:
        inside = Path(folder).resolve().is_relative_to(Path(home).resolve())
    except OSError:
        inside = False
    return TEAM if group_home and inside else PRIVATE


def for_context(ctx, folder: Path, text: str | None) -> Mode:
    """`choose` for the home of a Context."""
    return choose(ctx.home, bool(ctx.settings.group), folder, text)


def make_folder(path: Path, mode: Mode) -> None:
    """A new folder (which must not exist) with the folder mode, whatever the umask."""
    os.mkdir(path, 0o700)
    set_folder(path, mode)


def set_folder(path: Path, mode: Mode) -> None:
    """A folder's mode; the set-group-id bit a group home's folders carry is kept."""
    os.chmod(path, mode.folder | (os.stat(path).st_mode & stat.S_ISGID))


def create(path: Path, mode: Mode) -> BinaryIO:
    """Open a new file for writing, created with `mode` (a leftover of the same name is replaced; a symbolic
    link there is never followed)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                 mode.file)
    os.fchmod(fd, mode.file)
    return os.fdopen(fd, "wb")


def partial_of(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")


def write_with(path: Path, mode: Mode, write: Callable[[Path], None]) -> None:
    """Write `path` by `write(partial)` — a library that opens the file by name — into a partial file made
    beforehand with `mode`, then rename it into place: a failure leaves nothing half-written."""
    partial = partial_of(path)
    try:
        create(partial, mode).close()
        write(partial)
        os.chmod(partial, mode.file)  # in case the writer replaced the file rather than writing into it
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes, mode: Mode) -> None:
    """`data` to `path` atomically (fsync'd), created with `mode`."""
    partial = partial_of(path)
    try:
        with create(partial, mode) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def settle(root: Path, mode: Mode) -> None:
    """Give a written tree (a package) the mode: folders the folder mode, files the file mode less the write
    bits of a file kept read-only (the copies of originals). Symbolic links are left alone."""
    for path, dirs, names in os.walk(root):
        for name in names:
            full = os.path.join(path, name)
            info = os.lstat(full)
            if stat.S_ISREG(info.st_mode):
                os.chmod(full, mode.file if info.st_mode & stat.S_IWUSR else mode.file & ~0o222)
        set_folder(Path(path), mode)
