"""Which stage's work follows which: the hooks run after each committed capture, registered here (SOP 9.1, 10.8).

The capture stage runs its hooks without knowing who they belong to; the library stage does not reach
into the capture stage either. The CLI calls `install()` before it captures, so the import graph stays
downward: capture knows nothing of the library, and nothing here is found by probing what is installed.
"""

from __future__ import annotations

from . import anchor, capture
from .library import matching


def install() -> None:
    """Register every post-capture hook (idempotent: registering again replaces, it never doubles)."""
    capture.hooks.register("fingerprints", matching.on_capture, result="matches", fingerprints=True)
    capture.hooks.register("timestamp", anchor.on_capture, result="timestamps", recorded=False)
