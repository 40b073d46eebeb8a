"""Capture: online content preserved to the write-once store, SOP 9.1, to an evidential standard.

`capture_url` downloads one piece of content with yt-dlp (`download.py`) into a staging folder, hashes it,
makes the review derivatives (`derivatives.py`), and only then, in one transaction (`commit.py`), links it
to its task (the open task for the canonical URL, or a self-tasked one, SOP 8.5, whose rationale is
`--reason`), moves the task to `captured`, seals the manifest and renames the folder into place. Anything
that fails before that leaves nothing behind: no row, no folder, no task. The work registered to follow a
commit (`hooks.py`: the library's fingerprints and matches) runs next; a hook or derivative that fails is
recorded as failed and costs nothing else; `finish_capture` makes it later. `capture_file` ingests media
obtained elsewhere (`files.py`). `open_capture` is a consultation, logged with its reason (DPA 2018 s.62).

These names are the stage's public face: other stages and the CLI import them from here, never from the
modules inside. The store's layout is described in `ground/store.py` and the README.
"""

from __future__ import annotations

from . import hooks
from .batch import capture_batch, read_batch
from .comments import citation, comments_of
from .commit import content_title
from .derivatives import make_derivatives
from .finish import finish_capture
from .flow import capture_file, capture_url
from .reading import (capture_path, clock_evidence, clock_limit, clock_text, get_capture, latest_capture, list_captures,
                      open_capture, play, review_copy)
from .verify import verify_captures

__all__ = ["capture_batch", "citation", "comments_of", "clock_evidence", "clock_limit", "clock_text", "capture_file", "capture_path", "capture_url", "content_title", "finish_capture",
           "get_capture", "hooks", "latest_capture", "list_captures", "make_derivatives", "open_capture", "play",
           "read_batch", "review_copy", "verify_captures"]
