"""Shared test ground: a home on tmp_path driven through the real CLI, media made with ffmpeg, and a
loopback HTTP server so that yt-dlp's real code path runs without leaving 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import socketserver
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ohrt_cli.cli import app

FIRST = ["--team", "Online Harm Referral Team", "--mailbox", "ohrt@example.police.uk",
         "--officer", "PS Ann Lee", "--number", "2345", "--role", "sergeant"]


@dataclass
class Ohrt:
    """Runs `ohrt` in-process against one home; `env` adds or overrides environment variables."""

    home: Path

    def __call__(self, *args: str, env: dict | None = None, input: str | None = None):
        runner = CliRunner()
        full_env = {"OHRT_HOME": str(self.home), "OHRT_OFFICER": None, "OHRT_NOW": None, "COLUMNS": "200"}
        full_env.update(env or {})
        return runner.invoke(app, [str(a) for a in args], env=full_env, input=input, catch_exceptions=True)

    def ok(self, *args: str, env: dict | None = None):
        """Run and insist on exit 0, showing the output when it is not."""
        result = self(*args, env=env)
        assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
        return result

    def json(self, *args: str, env: dict | None = None):
        return json.loads(self.ok(*args, "--json", env=env).stdout)

    def db(self):
        import sqlite_utils

        return sqlite_utils.Database(self.home / "ohrt.db")


@pytest.fixture
def ohrt(tmp_path) -> Ohrt:
    """A fresh home with PS Ann Lee (2345, sergeant) as the first officer, PC Sam Okafor (7781,
    constable) and Insp Ray Diaz (9001, inspector) on the roster."""
    runner = Ohrt(tmp_path / "home")
    runner.ok("init", *FIRST)
    runner.ok("officer", "add", "PC Sam Okafor", "--number", "7781", "--role", "constable")
    runner.ok("officer", "add", "Insp Ray Diaz", "--number", "9001", "--role", "inspector")
    return runner


TASK_ARGS = ["--title", "Drill video", "--applicant", "DC Rae", "--ocu", "Central West", "--unit", "Gangs",
             "--uploaded", "2026-01-02", "--rationale", "Goads a rival group"]


def add_task(ohrt: Ohrt, url: str, *extra: str) -> str:
    """Add a task for `url` through the CLI and return its id."""
    return ohrt.ok("task", "add", "--url", url, *TASK_ARGS, *extra).stdout.strip()


# ------------------------------------------------------------------------------------------- media

def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def make_clip(media_dir):
    """make_clip(name, seconds=6, size='320x240', source='testsrc2', audio=True, fmt='mp4') → Path.

    Clips are generated once per session with ffmpeg's lavfi sources (testsrc2 / smptebars / mandelbrot
    for pictures, a sine or noise for sound) and cached by their parameters."""

    @functools.lru_cache(maxsize=None)
    def make(name: str, seconds: float = 6, size: str = "320x240", source: str = "testsrc2", audio: bool = True,
             fmt: str = "mp4", freq: int = 440) -> Path:
        out = media_dir / f"{name}.{fmt}"
        args = ["-f", "lavfi", "-i", f"{source}=size={size}:rate=25:duration={seconds}"]
        if audio:
            args += ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=44100:duration={seconds}"]
        if fmt == "mp4":
            args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
            if audio:
                args += ["-c:a", "aac", "-b:a", "96k"]
            args += ["-movflags", "+faststart"]
        elif fmt == "webm":
            args += ["-c:v", "libvpx", "-b:v", "300k", "-deadline", "realtime", "-cpu-used", "8"]
            if audio:
                args += ["-c:a", "libopus"]
        args += ["-shortest", str(out)]
        _ffmpeg(*args)
        return out

    return make


@pytest.fixture(scope="session")
def make_image(media_dir):
    def make(name: str = "still", size: str = "640x360") -> Path:
        out = media_dir / f"{name}.jpg"
        if not out.exists():
            _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:duration=1", "-frames:v", "1", str(out))
        return out

    return make


@pytest.fixture(scope="session")
def make_hls(media_dir, make_clip):
    def make(name: str = "hls") -> Path:
        folder = media_dir / name
        if not folder.exists():
            folder.mkdir()
            _ffmpeg("-i", str(make_clip("hls-source", seconds=6)), "-c", "copy", "-f", "hls", "-hls_time", "2",
                    "-hls_playlist_type", "vod", "-hls_segment_filename", str(folder / "seg%03d.ts"),
                    str(folder / "index.m3u8"))
        return folder / "index.m3u8"

    return make


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site folder with Range support (yt-dlp resumes and probes with Range requests)."""

    def log_message(self, *args):  # keep pytest output clean
        pass

    def copyfile(self, source, outputfile):
        """`?kbps=N` on a URL sends the body at about N KiB/s, for tests that interrupt a download."""
        import time
        from urllib.parse import parse_qs, urlsplit

        rate = parse_qs(urlsplit(self.path).query).get("kbps")
        if not rate:
            return super().copyfile(source, outputfile)
        chunk = 8 * 1024
        while data := source.read(chunk):
            outputfile.write(data)
            outputfile.flush()
            time.sleep(len(data) / (float(rate[0]) * 1024))

    def send_head(self):
        if "Range" not in self.headers:
            return super().send_head()
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        spec = self.headers["Range"].replace("bytes=", "")
        start_text, _, end_text = spec.partition("-")
        start = int(start_text or 0)
        end = min(int(end_text) if end_text else size - 1, size - 1)
        if start >= size:
            self.send_error(416)
            return None
        handle = open(path, "rb")
        handle.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self._remaining = end - start + 1
        return _Limited(handle, end - start + 1)


class _Limited:
    def __init__(self, handle, length):
        self.handle, self.left = handle, length

    def read(self, n=-1):
        if self.left <= 0:
            return b""
        n = self.left if n < 0 else min(n, self.left)
        data = self.handle.read(n)
        self.left -= len(data)
        return data

    def close(self):
        self.handle.close()


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        """A client that hangs up mid-body (a killed capture, yt-dlp's probe) is not a server error."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class Site:
    root: Path
    base: str

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def put(self, name: str, source: Path | str | bytes) -> str:
        """Publish a file (copied) or text/bytes under `name`; returns its URL."""
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copyfile(source, target)
        elif isinstance(source, bytes):
            target.write_bytes(source)
        else:
            target.write_text(source, encoding="utf-8")
        return self.url(name)

    def page(self, name: str, video: str, title: str = "Test clip") -> str:
        """An HTML page with a <video> tag and og:title, as a platform page would carry."""
        return self.put(name, f"""<!doctype html><html><head><title>{title}</title>
<meta property="og:title" content="{title}">
</head><body><video controls src="{video}"></video></body></html>""")


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """A loopback HTTP server on 127.0.0.1 (random port) serving a folder tests publish into."""
    root = tmp_path_factory.mktemp("site")
    handler = functools.partial(_Handler, directory=str(root))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(root, f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
