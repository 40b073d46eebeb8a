"""The write-once evidence store: one folder per capture, hashed, signed and checkable by a third party.

SOP 9.1 asks that content be transferred "to a standalone computer"; the West Midlands practice asks that
it be captured "to an evidential standard". ACPO principle 1 (the original is never changed) and 3 (an
audit trail a third party can repeat) are what this module keeps:

* a capture is written in `captures/.tmp-<pid>-<token>/`, locked by its writer, and renamed into
  `captures/<C-id>/` only when complete, so an interrupted capture never looks complete and the next
  capture sweeps the leftover away;
* every stored file is made read-only (0444) once hashed;
* `manifest.json` lists every file with its sha256, md5 and size; `manifest.sig` is a raw Ed25519
  signature over its exact bytes (openssl checks it); `SHA256SUMS` is accepted by `sha256sum -c`;
* `store_check.verify_folder` re-hashes everything and names each changed, missing or unexpected file.

This is ground: it knows files, hashes and signatures, not tasks or captures.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import stat
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

# 1 MiB reads keep hashlib (which releases the GIL for large buffers) busy with few system calls.
HASH_BUFFER = 1 << 20
# Following a download, the hashing thread competes for the GIL with the downloader: fewer, larger reads
# keep it from falling behind.
FOLLOW_BUFFER = 8 << 20
MANIFEST, SIGNATURE, SUMS = "manifest.json", "manifest.sig", "SHA256SUMS"
# The sealing officer's own signature over manifest.json (beside the home's), named in its `sealed_by`.
OFFICER_SIGNATURE = "manifest.officer.sig"
CONTROL_FILES = (MANIFEST, SIGNATURE, OFFICER_SIGNATURE, SUMS)
TMP_PREFIX = ".tmp-"
# A temporary folder whose writer's lock is free is a leftover once its pid is gone, or after this long
# (which covers a pid reused by an unrelated process).
STALE_AFTER_S = 600
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


@dataclass(frozen=True)
class Digest:
    sha256: str
    md5: str | None
    bytes: int


# ------------------------------------------------------------------------------------------- hashing

class _Hashes:
    """sha256 (and md5, for hash-sharing schemes) of bytes fed in order. md5 runs on a second thread
    (hashlib lets go of the GIL for large chunks), one chunk in flight at a time, so that the pair costs
    little more than sha256 alone and keeps up with a fast download. Close it (or leave its `with`)
    before reading `digest()`."""

    def __init__(self, *, md5: bool = True):
        self.sha = hashlib.sha256()
        self.md5 = hashlib.md5() if md5 else None
        self.size = 0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="ohrt-md5") if md5 else None
        self._pending = None

    def update(self, chunk: bytes) -> None:
        if self._pool is not None:
            if self._pending is not None:
                self._pending.result()
            self._pending = self._pool.submit(self.md5.update, chunk)
        self.sha.update(chunk)
        self.size += len(chunk)

    def close(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        if self._pool is not None:
            self._pool.shutdown()

    def __enter__(self) -> "_Hashes":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def digest(self) -> Digest:
        return Digest(self.sha.hexdigest(), self.md5.hexdigest() if self.md5 is not None else None, self.size)


def hash_file(path: Path, *, md5: bool = True, on_bytes: Callable[[int], None] | None = None) -> Digest:
    """sha256 (and md5) of a file in one pass (`_Hashes`). `on_bytes(n)` after each chunk of n bytes read,
    for a progress display."""
    with open(path, "rb", buffering=0) as handle, _Hashes(md5=md5) as hashes:
        while chunk := handle.read(HASH_BUFFER):
            hashes.update(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    return hashes.digest()


def copy_hashed(source: Path, target: Path, on_bytes: Callable[[int], None] | None = None) -> Digest:
    """Copy `source` to a new file `target`, hashing the very bytes written; `on_bytes(copied so far)`
    after each chunk, for a progress display."""
    with open(source, "rb", buffering=0) as src, open(target, "xb") as dst, _Hashes() as hashes:
        while chunk := src.read(HASH_BUFFER):
            dst.write(chunk)
            hashes.update(chunk)
            if on_bytes is not None:
                on_bytes(hashes.size)
    return hashes.digest()


class _Follower(threading.Thread):
    """Hashes a file while another writer appends to it, following the inode through a rename."""

    def __init__(self, path: Path):
        super().__init__(daemon=True)
        self.path = path
        self.hashes = _Hashes()
        self.inode: tuple[int, int] | None = None
        self.valid = True
        self.done = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            handle = self._open()
        except OSError:
            self.valid = False
            return
        if handle is None:
            return
        with handle, self.hashes:
            info = os.fstat(handle.fileno())
            self.inode = (info.st_dev, info.st_ino)
            while not self.stop.is_set():
                finishing = self.done.is_set()
                chunk = handle.read(FOLLOW_BUFFER)
                if chunk:
                    self.hashes.update(chunk)
                    continue
                if os.fstat(handle.fileno()).st_size < self.hashes.size:
                    self.valid = False  # truncated and rewritten: the bytes hashed are not the file's
                    return
                if finishing:
                    return
                time.sleep(0.005)

    def _open(self):
        while not self.stop.is_set():
            try:
                return open(self.path, "rb", buffering=0)
            except FileNotFoundError:
                if self.done.is_set():
                    self.valid = False
                    return None
                time.sleep(0.005)
        return None


class StreamHashers:
    """Hash downloads while they are written, so hashing costs no extra time after the download.

    Fed with (temporary path, bytes so far) after every block the downloader writes. A digest is only
    used for a final file that is the very inode followed, of the very size hashed, written without any
    restart (bytes so far never went down); otherwise `digest_for` returns None and the caller hashes the
    file afresh. Merged or post-processed files are new inodes, so they are always hashed afresh."""

    def __init__(self) -> None:
        self._followers: dict[str, _Follower] = {}
        self._last: dict[str, int] = {}

    def update(self, temp_path: str, downloaded: int | None, *, finished: bool = False) -> None:
        follower = self._followers.get(temp_path)
        if follower is None:
            follower = self._followers[temp_path] = _Follower(Path(temp_path))
            follower.start()
        if downloaded is not None:
            if downloaded < self._last.get(temp_path, 0):
                follower.valid = False
            self._last[temp_path] = downloaded
        if finished:
            follower.done.set()

    def digest_for(self, path: Path) -> Digest | None:
        try:
            info = os.stat(path)
        except OSError:
            return None
        for follower in self._followers.values():
            if follower.inode != (info.st_dev, info.st_ino):
                continue
            follower.done.set()
            follower.join()
            if follower.valid and follower.hashes.size == info.st_size:
                return follower.hashes.digest()
        return None

    def close(self) -> None:
        for follower in self._followers.values():
            follower.stop.set()
        for follower in self._followers.values():
            follower.join()


# -------------------------------------------------------------------------------- the staging folder

class Staging:
    """A capture being written: `captures/.tmp-<pid>-<token>/`, flock-ed by its writer for its whole
    life so that a sweep never removes a folder still being written."""

    def __init__(self, captures_dir: Path):
        captures_dir.mkdir(parents=True, exist_ok=True)
        self.path = captures_dir / f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        self.path.mkdir()
        self._fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.published: Path | None = None

    def publish(self, target: Path) -> Path:
        """Rename the finished folder to its final name (atomic on one file system)."""
        fsync_dir(self.path)
        os.rename(self.path, target)
        fsync_dir(target.parent)
        self.published = target
        return target

    def discard(self) -> None:
        remove_tree(self.published or self.path)
        self.published = None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@contextlib.contextmanager
def staging(captures_dir: Path) -> Iterator[Staging]:
    """A fresh staging folder; removed with everything in it unless published, whatever goes wrong."""
    stage = Staging(captures_dir)
    try:
        yield stage
        if stage.published is None:
            remove_tree(stage.path)
    except BaseException:
        stage.discard()
        raise
    finally:
        stage.release()


def sweep(captures_dir: Path, *, now: float | None = None) -> list[str]:
    """Remove the temporary folders of captures that were interrupted (killed, Ctrl-C, power cut):
    those whose writer no longer holds their lock and whose pid is gone, or which are old."""
    removed = []
    now = time.time() if now is None else now
    if not captures_dir.is_dir():
        return removed
    for entry in captures_dir.iterdir():
        if not entry.name.startswith(TMP_PREFIX) or not entry.is_dir():
            continue
        if _is_stale(entry, now):
            remove_tree(entry)
            removed.append(entry.name)
    return removed


def _is_stale(folder: Path, now: float) -> bool:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # its writer is alive and still writing
        pid = _pid_of(folder.name)
        old = now - folder.stat().st_mtime > STALE_AFTER_S
        return old or pid is None or not process_alive(pid)
    finally:
        os.close(fd)


def _pid_of(name: str) -> int | None:
    head = name[len(TMP_PREFIX):].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def process_alive(pid: int) -> bool:
    """Whether a process with this pid runs (ours counts); a pid we may not signal is someone's, so alive."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_tree(path: Path) -> None:
    """Remove a store folder even though its files are read-only."""
    if not path.exists():
        return

    def _retry(function, target, _exc):
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(target), 0o755)
        function(target)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=_retry)
    else:
        shutil.rmtree(path, onerror=_retry)


def make_read_only(path: Path) -> None:
    os.chmod(path, READ_ONLY)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


# ------------------------------------------------------------------------------ manifest and sealing

def manifest_bytes(manifest: dict) -> bytes:
    """The exact bytes signed: sorted keys, two-space indent, UTF-8, one final newline."""
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def sums_text(entries: list[tuple[str, str]]) -> str:
    """`sha256sum` format: '<hex>  <path>' per line, sorted by path."""
    return "".join(f"{sha}  {path}\n" for path, sha in sorted(entries))


def stored_files(manifest: dict) -> list[dict]:
    """The manifest's entries that are files on disk (made and hashed)."""
    return [f for f in manifest.get("files", []) if f.get("status") == "ok" and f.get("sha256") and f.get("path")]


@dataclass(frozen=True)
class Seal:
    """The three control files of a folder, made before anything is written."""

    manifest: bytes
    signature: bytes
    sums: bytes
    cosignature: bytes | None = None

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest).hexdigest()


def make_seal(manifest: dict, sign: Callable[[bytes], bytes],
              cosign: Callable[[bytes], bytes] | None = None) -> Seal:
    """manifest.json's bytes, their signature (and the sealing officer's, with `cosign`), and SHA256SUMS
    covering every stored file, the manifest and the signatures."""
    data = manifest_bytes(manifest)
    signature = sign(data)
    cosignature = cosign(data) if cosign else None
    entries = [(f["path"], f["sha256"]) for f in stored_files(manifest)]
    entries += [(MANIFEST, hashlib.sha256(data).hexdigest()), (SIGNATURE, hashlib.sha256(signature).hexdigest())]
    if cosignature is not None:
        entries.append((OFFICER_SIGNATURE, hashlib.sha256(cosignature).hexdigest()))
    return Seal(data, signature, sums_text(entries).encode(), cosignature)


def write_seal(folder: Path, seal: Seal) -> None:
    """Write the control files, each beside its final name then renamed over it (SHA256SUMS last); if any
    write fails, the previous ones are put back, so a re-seal never leaves a half-signed folder."""
    previous = {name: (folder / name).read_bytes() for name in CONTROL_FILES if (folder / name).exists()}
    try:
        for name, content in ((MANIFEST, seal.manifest), (SIGNATURE, seal.signature),
                              (OFFICER_SIGNATURE, seal.cosignature), (SUMS, seal.sums)):
            if content is None:
                with contextlib.suppress(FileNotFoundError):
                    (folder / name).unlink()
            else:
                _write_replace(folder / name, content)
        fsync_dir(folder)
    except BaseException:
        for name, content in previous.items():
            with contextlib.suppress(OSError):
                _write_replace(folder / name, content)
        raise


def seal(folder: Path, manifest: dict, sign: Callable[[bytes], bytes]) -> str:
    """Make and write the control files; returns the manifest's sha256."""
    made = make_seal(manifest, sign)
    write_seal(folder, made)
    return made.manifest_sha256


def _write_replace(path: Path, content: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    with open(partial, "xb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    make_read_only(partial)
    os.replace(partial, path)


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
