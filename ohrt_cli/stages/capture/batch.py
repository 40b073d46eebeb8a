"""Batch capture: every URL of a text file captured in one process, carrying on past failures (SOP 9.1)."""

from __future__ import annotations

from pathlib import Path

from ...ground import media
from ...ground.context import Context
from ...ground.errors import InputError, Interrupted, OhrtError
from .draft import Progress
from .flow import capture_url, interrupted_after


def read_batch(path: str | Path) -> list[tuple[int, str]]:
    """(line number, URL) for each line of a batch file; blank lines and # comments are skipped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, NotADirectoryError):  # NotADirectory: a folder in the path is a file
        raise InputError(f"{path} does not exist: give a text file with one URL per line.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder: give a text file with one URL per line.") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text: save it as UTF-8 with one URL per line.") from None
    items = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.strip().startswith("#")]
    if not items:
        raise InputError(f"{path} lists no URLs: put one URL per line (# starts a comment).")
    return items


def capture_batch(ctx: Context, path: str | Path, *, reason: str | None = None, progress: Progress | None = None,
                  derivatives: bool = True, page: bool = True) -> dict:
    """Capture every URL of a batch file in this one process, carrying on past failures.

    Returns {"captured", "failed", "results": [{line, url, ok, capture_id, task_id, error, ...}]}. Stops
    early only when the disk is full (every later capture would fail the same way)."""
    ctx.actor()
    items = read_batch(path)
    media.require_tools()
    results = []
    for index, (line, url) in enumerate(items):
        row = {"line": line, "url": url, "ok": False, "capture_id": None, "task_id": None, "task_created": False,
               "duplicates": 0, "derivatives_failed": 0, "error": None}
        try:
            done = capture_url(ctx, url, reason=reason, progress=progress, derivatives=derivatives, page=page)
        except (KeyboardInterrupt, Interrupted) as exc:
            kept = [r["capture_id"] for r in results if r["ok"]] + list(getattr(exc, "kept", []))
            if not kept:
                raise
            last = line if getattr(exc, "kept", None) else items[index - 1][0]
            raise Interrupted(f"{interrupted_after(ctx, kept)} The lines after line {last} of {Path(path).name} "
                              "were not captured.", kept=kept) from None
        except OhrtError as exc:
            row["error"] = exc.message
            results.append(row)
            if isinstance(exc, media.DiskFull):
                results += [{**row, "line": n, "url": u, "error": "not attempted: the disk is full"}
                            for n, u in items[index + 1:]]
                break
            continue
        row.update(ok=True, capture_id=done["id"], task_id=done["task_id"], task_created=done["task_created"],
                   duplicates=len(done["duplicates"]), derivatives_failed=done["derivatives_failed"])
        results.append(row)
    ok = sum(1 for r in results if r["ok"])
    return {"captured": ok, "failed": len(results) - ok, "results": results}
