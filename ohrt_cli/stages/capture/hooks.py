"""Work that follows a committed capture (fingerprints, library matching), registered, run in one loop (SOP 9.1, 10.8).

A stage that has work to do once a capture is sealed registers a hook here, as yt-dlp's post-processors
are added to a downloader; the capture stage never looks for other stages itself. Who registers what is
said in one place, `ohrt_cli.stages.wiring`, which the CLI calls. A hook that fails is recorded on the
capture as a failed step under its own name (re-signed in the manifest), never a failed capture;
`ohrt capture finish` runs it again. A hook registered with `recorded=False` (the time stamp, which stays
pending in its own records when it cannot be made) leaves no trace in the manifest: it runs last, after
every commit and every `capture finish`, even under --no-derivatives, and its failure is only shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...ground import store
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import OhrtError
from .commit import reseal
from .draft import Draft, Progress
from .reading import capture_path, get_capture


@dataclass(frozen=True)
class Hook:
    """One step run after every committed capture. `name` is the role its outcome has in the manifest
    and on the progress display; what `run(ctx, capture_id)` returns (a list) is added to the capture's
    result under `result` (the library's matches, say)."""

    name: str
    run: Callable[[Context, str], list | None]
    result: str = "matches"
    recorded: bool = True
    fingerprints: bool = False  # it fingerprints each original: the derivatives' decode reads them for it


_HOOKS: dict[str, Hook] = {}


def register(name: str, run: Callable[[Context, str], list | None], *, result: str = "matches",
             recorded: bool = True, fingerprints: bool = False) -> Hook:
    """Register (or replace) the hook called `name`; hooks run in the order they were first registered,
    those not `recorded` after all the others. A hook that fingerprints each original says so
    (`fingerprints`): the one decode that makes a capture's derivatives then reads the fingerprints too
    (`ground.fingerprint.Reader`), and `fingerprint_file(path, sha256=…)` hands them to the hook."""
    hook = Hook(name, run, result, recorded, fingerprints)
    _HOOKS[name] = hook
    return hook


def unregister(name: str) -> None:
    _HOOKS.pop(name, None)


def registered() -> list[Hook]:
    """The hooks whose outcome the manifest records, in order."""
    return [h for h in _HOOKS.values() if h.recorded]


def unrecorded() -> list[Hook]:
    return [h for h in _HOOKS.values() if not h.recorded]


def names() -> set[str]:
    return {h.name for h in registered()}


def fingerprinted() -> bool:
    """Whether a registered hook fingerprints each original (see `register`)."""
    return any(h.fingerprints for h in _HOOKS.values())


def after_commit(ctx: Context, result: dict, progress: Progress | None = None) -> dict:
    """Run every hook on a committed capture (whose commit recorded each as not made); each outcome is
    recorded under the hook's name, a failure as a failed step, and the capture stands."""
    found: dict[str, list] = {}
    for hook in registered():
        items, error = run_hook(ctx, hook, result["id"], progress)
        found.setdefault(hook.result, []).extend(items)
        # the commit recorded the hook as not made: now it is made, or failed
        set_outcome(ctx, result["id"], hook.name, "failed" if error else "ok", error)
    fresh = get_capture(ctx, result["id"])
    result.update({k: fresh[k] for k in ("status", "derivatives_failed", "files", "manifest_sha256")})
    result.update(empty_results())
    result.update(found)
    return after_seal(ctx, result, progress)


def after_seal(ctx: Context, result: dict, progress: Progress | None = None) -> dict:
    """Run the unrecorded hooks on a capture whose manifest was just sealed or re-signed; their failures are
    shown on the progress display only."""
    for hook in unrecorded():
        items, _ = run_hook(ctx, hook, result["id"], progress)
        result[hook.result] = items
    return result


def empty_results() -> dict[str, list]:
    """What the hooks add to a capture's result when none of them ran (--no-derivatives)."""
    return {"matches": [], **{hook.result: [] for hook in _HOOKS.values()}}


def run_hook(ctx: Context, hook: Hook, capture_id: str, progress: Progress | None) -> tuple[list, str | None]:
    """(what the hook returned, None), or ([], why it failed), shown as one more step on the progress display."""
    if progress:
        progress({"event": "step", "role": hook.name, "status": "started"})
    try:
        items, error = list(hook.run(ctx, capture_id) or []), None
    except OhrtError as exc:
        items, error = [], exc.message
    except Exception as exc:  # a hook's own bug must not fail a committed capture: it is recorded instead
        items, error = [], f"{type(exc).__name__}: {exc}"
    if progress:
        progress({"event": "step", "role": hook.name, "status": "failed" if error else "ok", "error": error})
    return items, error


def not_made(draft: Draft) -> list[dict]:
    """Each hook as not made, recorded in the capture's own commit: `after_commit` clears them as they
    run; under --no-derivatives, or after a crash, they stay for `capture finish`."""
    return [_entry(hook.name, draft.original["sha256"], "not-made", None) for hook in registered()]


def set_outcome(ctx: Context, capture_id: str, name: str, status: str, error: str | None) -> None:
    """Record a hook's outcome in the manifest (re-signed) and rows: no entry when it ran, else why not."""
    capture = get_capture(ctx, capture_id)
    folder = capture_path(ctx, capture)
    manifest = store.read_manifest(folder)
    manifest["files"] = [f for f in manifest["files"] if f["role"] != name]
    if status != "ok":
        original = next(f for f in manifest["files"] if f["role"] == "original")
        manifest["files"].append(_entry(name, original["sha256"], status, error))
    with transaction(ctx.db):
        reseal(ctx, capture_id, folder, manifest, roles={name}, action=f"capture.{name}",
               detail={"status": status, "error": error})


def _entry(name: str, parent_sha256: str, status: str, error: str | None) -> dict:
    return {"path": None, "role": name, "sha256": None, "md5": None, "bytes": None,
            "parent_sha256": parent_sha256, "command": None, "status": status, "error": error}
