"""The schema's history (the records of SOP 8.6): every schema change is a small named function, marked
`@migration`, which appends it to MIGRATIONS; `db.migrate` applies those not yet recorded in a home's
`_migrations`, in order. Reading `release_0_1_0.py` then `after_0_1_0.py` top to bottom is the history of
the schema; a new migration goes at the end of `after_0_1_0.py`.

Never edit a shipped migration, add one: a home that already ran it will never run it again, so an edit
would leave old homes and new ones with different schemas. tests/test_migrations.py pins the source of
each shipped migration (a new one is pinned there when it is added) and opens a frozen 0.1.0 home with
the current code.

Sensitive data (SOP 8.4 subjects, 9.3 indices research, incident references) lives in its own tables;
ground/sensitive.py keeps it from anything bound for a platform.
"""

from __future__ import annotations

from typing import Callable

MIGRATIONS: list[tuple[str, Callable]] = []


def migration(fn: Callable) -> Callable:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


# in the order they shipped (each module registers its own as it is imported)
from . import release_0_1_0  # noqa: E402,F401
from . import after_0_1_0  # noqa: E402,F401
