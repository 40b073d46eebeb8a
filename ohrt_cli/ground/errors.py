"""The kinds of mistake and failure an officer can meet, each carrying how to mend it (no SOP paragraph of its own).

The CLI turns these into one red line: exit 2 for bad input (nothing was changed), 1 for a failure.
"""

import re


class OhrtError(Exception):
    """Something the officer can mend; `message` says what is wrong and how."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InputError(OhrtError):
    """A flag, value or file the officer gave is not acceptable."""


class NotFound(OhrtError):
    """An id that names nothing in this home."""


class NotAllowed(OhrtError):
    """The acting officer may not do this (not on the roster, wrong role, own work)."""


class StateError(OhrtError):
    """The object is not in a state where this step applies."""


class HomeError(OhrtError):
    """The home is missing, unreadable, or written by a newer ohrt."""


class Failure(OhrtError):
    """Something outside the officer's input went wrong (download, ffmpeg, disk); nothing was kept."""

    exit_code = 1


class IntegrityFailure(Failure):
    """A check found that stored material or the audit chain is not as recorded."""


class Interrupted(OhrtError):
    """Ctrl-C after some work was committed: the message says exactly what was kept and how to go on."""

    exit_code = 130

    def __init__(self, message: str, kept: list[str] | None = None):
        super().__init__(message)
        self.kept = kept or []


class Busy(Failure):
    """Another ohrt command holds the home's database past the busy timeout; nothing was changed."""

    def __init__(self, message: str = "another ohrt command is using the home; try again"):
        super().__init__(message)


def is_busy(exc: BaseException) -> bool:
    """Whether `exc` is SQLite giving up on a lock another connection holds (`database is locked/busy`)."""
    import sqlite3

    return isinstance(exc, sqlite3.OperationalError) and any(
        word in str(exc).lower() for word in ("database is locked", "database is busy", "database table is locked"))


# C0 controls, DEL and C1 controls, but a tab and line ends: what no text an officer writes holds
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def refuse_control_characters(value: str, what: str) -> None:
    """InputError when `value` holds a NUL or another control character (a tab and line ends excepted)."""
    if _CONTROL.search(value):
        raise InputError(f"{what} holds a control character (a NUL byte, say): remove it and give the text again.")
