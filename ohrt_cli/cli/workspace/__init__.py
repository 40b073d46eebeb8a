"""The review workspace (`ohrt review open`): a web page on 127.0.0.1 where an officer watches the capture,
marks findings at the playhead, decides and compares re-uploads (SOP 9.1-9.4, 10.3, 10.8).

`server.py` is the HTTP plumbing and its safety (token, origin, CSRF, ranges, silence); `app.py` the pages and
forms, which call the same stage functions as the commands; `view.py` gathers what a page shows. The pages
are templates/workspace/*.html, with one small script and one style sheet, served by the workspace itself.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from .app import App
from .server import Server

__all__ = ["App", "Server", "launcher", "serve"]


def launcher(folder, url: str):
    """A page in `folder` (private to this login) that sends the browser on to `url`: the browser is opened
    on this file, so the address with its token never stands on a command line, which every login on the
    machine may read (`ps`). Returns the file's Path."""
    import html
    import os
    from pathlib import Path

    path = Path(folder) / "open-workspace.html"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={html.escape(url)}">'
                  f'<title>ohrt workspace</title><a href="{html.escape(url)}">Open the ohrt workspace</a>\n')
    return path


class Signalled(KeyboardInterrupt):
    """SIGTERM or SIGHUP (the terminal closed): stop as Ctrl-C stops, cleaning up on the way out."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _stop_on(signum, frame) -> None:
    import signal

    raise Signalled(signal.Signals(signum).name)


def serve(app: App, *, ready: Callable[[str], None], poll: float = 0.25) -> str:
    """Serve `app` until its page is closed or idle, or Ctrl-C, SIGTERM or SIGHUP (a KeyboardInterrupt goes on,
    a `Signalled` one for the latter two); `ready(url)` is called once the server listens. Returns why it
    stopped."""
    import signal

    threading.Thread(target=app.warm, daemon=True).start()
    server = Server(app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGTERM, signal.SIGHUP):
            previous[number] = signal.signal(number, _stop_on)
    try:
        ready(f"http://127.0.0.1:{server.port}/{app.token}/")
        while True:
            why = app.lifetime.why_stop()
            if why:
                return why
            time.sleep(poll)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        server.shutdown()
        server.server_close()
