"""The write-once store's ground (issue 3): hashing, hashing while a download is written, sealing and
verifying a folder. Real files, real threads, the home's real key."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ohrt_cli.ground import signing, store, store_check


@pytest.mark.parametrize("size", [0, 1, store.HASH_BUFFER - 1, store.HASH_BUFFER, 3 * store.HASH_BUFFER + 7])
def test_hash_file_gives_sha256_md5_and_size(tmp_path, size):
    data = os.urandom(size)
    path = tmp_path / "f"
    path.write_bytes(data)
    digest = store.hash_file(path)
    assert digest == store.Digest(hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(), size)
    assert store.hash_file(path, md5=False).md5 is None


def _write_slowly(path: Path, chunks: list[bytes], *, restart_at: int | None = None) -> None:
    with open(path, "wb") as handle:
        for i, chunk in enumerate(chunks):
            if i == restart_at:  # a downloader that lost the connection and starts the file again
                handle.seek(0)
                handle.truncate()
            handle.write(chunk)
            handle.flush()
            time.sleep(0.01)


def test_stream_hashers_follow_a_download_through_its_rename(tmp_path):
    chunks = [os.urandom(300_000) for _ in range(8)]
    part, final = tmp_path / "clip.mp4.part", tmp_path / "clip.mp4"
    hashers = store.StreamHashers()
    hashers.update(str(part), 0)
    writer = threading.Thread(target=_write_slowly, args=(part, chunks))
    writer.start()
    writer.join()
    hashers.update(str(part), sum(map(len, chunks)), finished=True)
    os.rename(part, final)
    digest = hashers.digest_for(final)
    hashers.close()
    assert digest is not None and digest == store.hash_file(final)


def test_stream_hashers_refuse_a_download_that_started_again(tmp_path):
    chunks = [os.urandom(200_000) for _ in range(6)]
    part = tmp_path / "clip.mp4.part"
    hashers = store.StreamHashers()
    hashers.update(str(part), 0)
    _write_slowly(part, chunks[:3])
    hashers.update(str(part), 600_000)
    time.sleep(0.1)  # the follower has read what is there
    _write_slowly(part, chunks[:3])  # truncated and written again
    hashers.update(str(part), 200_000)  # the downloader's count went down
    hashers.update(str(part), 600_000, finished=True)
    assert hashers.digest_for(part) is None  # the caller hashes the file afresh
    hashers.close()


def test_a_file_never_followed_has_no_stream_digest(tmp_path):
    path = tmp_path / "merged.mkv"
    path.write_bytes(b"merged by ffmpeg, a new inode")
    hashers = store.StreamHashers()
    assert hashers.digest_for(path) is None


@pytest.fixture
def keys(tmp_path):
    folder = tmp_path / "keys"
    signing.create_key(folder)
    return folder


def _sealed_folder(tmp_path: Path, keys: Path) -> Path:
    folder = tmp_path / "sealed"
    (folder / "original").mkdir(parents=True)
    (folder / "original" / "clip.mp4").write_bytes(b"the content as downloaded")
    digest = store.hash_file(folder / "original" / "clip.mp4")
    manifest = {"files": [{"path": "original/clip.mp4", "role": "original", "sha256": digest.sha256, "md5": digest.md5,
                           "bytes": digest.bytes, "status": "ok"},
                          {"path": "derived/review.mp4", "role": "review", "sha256": None, "status": "failed"}]}
    store.seal(folder, manifest, lambda data: signing.sign(keys, data))
    return folder


def test_a_sealed_folder_verifies_with_openssl_sha256sum_and_verify_folder(tmp_path, keys):
    folder = _sealed_folder(tmp_path, keys)
    public = (keys / signing.PUBLIC_NAME).read_bytes()
    report = store_check.verify_folder(folder, public)
    assert report["intact"] and report["files"] == 3  # the original, manifest.json, manifest.sig
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True).returncode == 0
    assert subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", keys / signing.PUBLIC_NAME, "-rawin",
                           "-in", folder / "manifest.json", "-sigfile", folder / "manifest.sig"],
                          capture_output=True).returncode == 0


def test_verify_folder_names_what_changed(tmp_path, keys):
    folder = _sealed_folder(tmp_path, keys)
    public = (keys / signing.PUBLIC_NAME).read_bytes()
    os.chmod(folder / "original" / "clip.mp4", 0o644)
    (folder / "original" / "clip.mp4").write_bytes(b"the content as downloaded!")
    (folder / "original" / "extra.bin").write_bytes(b"x")
    report = store_check.verify_folder(folder, public, manifest_sha256="0" * 64)
    assert {(p["path"], p["problem"]) for p in report["problems"]} == {
        ("original/clip.mp4", "changed"), ("original/extra.bin", "unexpected"), ("manifest.json", "manifest")}
    other = tmp_path / "other-keys"
    signing.create_key(other)
    report = store_check.verify_folder(folder, (other / signing.PUBLIC_NAME).read_bytes())
    assert ("manifest.sig", "signature") in {(p["path"], p["problem"]) for p in report["problems"]}


def test_a_staging_folder_is_removed_whatever_goes_wrong(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with store.staging(tmp_path) as stage:
            (stage.path / "original").mkdir()
            (stage.path / "original" / "x.part").write_bytes(b"partial")
            store.make_read_only(stage.path / "original" / "x.part")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
