"""What a purge left on record, in words every show and listing uses (SOP 2.2, 10.8; DESIGN invariant 4).

`ohrt purge` (stages/library/retention.py) writes a tombstone for each task or library item it deletes:
when, under which rule, and whether it finished. A record whose material went is shown as
`purged on DATE under RULE` wherever it appears, never with the blanks the purge left behind.
"""

from __future__ import annotations

# The tombstone's rule, as an officer reads it.
RULES = {
    "library": "SOP 10.8 (Domain library, retention ended)",
    "captured": "SOP 2.2 (captured material, retention ended)",
    "import": "the sending force's expiry date",
}


def describe(note: dict | None) -> str | None:
    """'purged on 2027-06-01 under SOP 2.2 (…)', or for a purge cut short, how to finish it."""
    if not note:
        return None
    rule = RULES.get(note["rule"], note["rule"])
    if note["state"] != "done":
        return f"being purged since {note['on']} under {rule} (cut short: `ohrt purge` finishes it)"
    return f"purged on {note['on']} under {rule}"


def _note(row) -> dict:
    object_type, object_id, task_id, rule, state, purged_at, started_at = row
    return {"object_type": object_type, "object_id": object_id, "task_id": task_id, "rule": rule, "state": state,
            "on": ((purged_at if state == "done" else started_at) or purged_at or started_at or "")[:10]}


_SELECT = "SELECT object_type, object_id, task_id, rule, state, purged_at, started_at FROM tombstones"


def of_tasks(db, task_ids: list[str] | None = None) -> dict[str, dict]:
    """{task id: the latest tombstone that names it} for the tasks given (all when None)."""
    if task_ids is not None and not task_ids:
        return {}
    sql, params = _SELECT + " WHERE task_id IS NOT NULL", []
    if task_ids is not None:
        sql += f" AND task_id IN ({','.join('?' for _ in task_ids)})"
        params = list(task_ids)
    found: dict[str, dict] = {}
    for row in db.execute(sql + " ORDER BY id", params):
        found[row[2]] = _note(row)
    return found


def of_task(db, task_id: str) -> dict | None:
    return of_tasks(db, [task_id]).get(task_id)


def of_object(db, object_id: str) -> dict | None:
    """The latest tombstone of a library item (or any object purged under its own id)."""
    row = db.execute(_SELECT + " WHERE object_id = ? ORDER BY id DESC LIMIT 1", [object_id]).fetchone()
    return _note(row) if row else None
