"""`make demo`: the main job end to end, on an embedded home (./demo-home unless OHRT_HOME is set).

Each step runs the real `ohrt` command and shows it, so the demo doubles as a worked example.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OHRT = str(ROOT / ".venv" / "bin" / "ohrt")


def ohrt(*args: str, check: bool = True) -> str:
    print(f"\n$ ohrt {shlex.join(args)}", flush=True)
    result = subprocess.run([OHRT, *args], text=True, capture_output=True)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if check and result.returncode != 0:
        sys.exit(f"demo step failed (exit {result.returncode})")
    return result.stdout.strip()


def serve_demo_clip(folder: Path) -> str:
    """Make a 10-second clip with ffmpeg, publish it on a page with a <video> tag, and serve the folder on
    127.0.0.1 (a thread of this process); returns the page's URL."""
    import functools
    import http.server
    import threading

    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=10",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=10",
                    "-c:v", "libvpx", "-b:v", "600k", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus",
                    "-shortest", str(folder / "drill.webm")], check=True)
    (folder / "watch.html").write_text(
        '<!doctype html><html><head><title>Demo drill video</title>'
        '<meta property="og:title" content="Demo drill video"></head>'
        '<body><video controls src="drill.webm"></video></body></html>', encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):  # a client hanging up is not news
            pass

    server = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/watch.html"


def demo_capture(folder: Path) -> str:
    """Capture (SOP 9.1): a colleague's task for the served page, then the capture, its record and the
    store's check. Returns the capture id."""
    page = serve_demo_clip(folder)
    ohrt("task", "add", "--url", page, "--platform", "demo-site", "--title", "Demo drill video",
         "--applicant", "DC Rae", "--ocu", "Central West", "--unit", "Gangs", "--uploaded", "2026-11-02",
         "--rationale", "Goads a rival group after a stabbing")
    capture_id = ohrt("capture", page).split()[0]
    ohrt("capture", "show", capture_id)
    ohrt("verify")
    return capture_id


def main() -> None:
    home = Path(os.environ.setdefault("OHRT_HOME", str(ROOT / "demo-home")))
    print(f"demo home: {home}")
    ohrt("init", "--team", "Online Harm Referral Team", "--mailbox", "ohrt@example.police.uk",
         "--officer", "PS Ann Lee", "--number", "2345", "--role", "sergeant")
    os.environ["OHRT_OFFICER"] = "2345"
    ohrt("task", "add", "--url", "https://youtu.be/dQw4w9WgXcQ?si=demo", "--title", "Demo drill video",
         "--applicant", "DC Rae", "--ocu", "Central West", "--unit", "Gangs", "--uploaded", "2026-11-02",
         "--ref", "CAD:1234/02NOV26", "--rationale", "Goads a rival group after a stabbing",
         "--subject", "Demo Subject", "--allow-duplicate")
    ohrt("task", "list")
    with tempfile.TemporaryDirectory(prefix="ohrt-demo-site-") as site:
        demo_capture(Path(site))
    ohrt("audit", "verify")


if __name__ == "__main__":
    main()
