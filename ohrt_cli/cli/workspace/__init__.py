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

__all__ = ["App", "Server", "serve"]


def serve(app: App, *, ready: Callable[[str], None], poll: float = 0.25) -> str:
    """Serve `app` until its page is closed or idle, or Ctrl-C (KeyboardInterrupt goes on); `ready(url)` is
    called once the server listens. Returns why it stopped."""
    threading.Thread(target=app.warm, daemon=True).start()
    server = Server(app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        ready(f"http://127.0.0.1:{server.port}/{app.token}/")
        while True:
            why = app.lifetime.why_stop()
            if why:
                return why
            time.sleep(poll)
    finally:
        server.shutdown()
        server.server_close()
