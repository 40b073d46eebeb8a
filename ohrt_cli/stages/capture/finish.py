"""Finishing a capture: derivatives that failed or were skipped, and post-commit hooks not yet run (SOP 9.1)."""

from __future__ import annotations

import os
from pathlib import Path

from ... import __version__
from ...ground import media, store
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import IntegrityFailure, StateError
from ...ground.times import iso
from . import hooks
from . import page as page_step
from .commit import reseal
from .derivatives import item_folder, make_derivatives
from .draft import PENDING, Progress, disk_guard
from .reading import capture_path, get_capture


def finish_capture(ctx: Context, capture_id: str, *, progress: Progress | None = None) -> dict:
    """Make the derivatives that failed or were skipped, and run the hooks that did not, then re-sign the manifest. The originals are
    checked first and never touched (ACPO principle 1).

    Returns {"id", "made": [roles], "still_failed": [{role, error}], "capture": get_capture(...)}."""
    ctx.actor()
    capture = get_capture(ctx, capture_id)
    if capture["purged_at"]:
        raise StateError(f"capture {capture['id']} was purged on {capture['purged_at']}: nothing to finish.")
    folder = capture_path(ctx, capture)
    manifest = store.read_manifest(folder)
    pending = {f["role"] for f in manifest["files"] if f["status"] in PENDING}
    if not pending:
        return {"id": capture["id"], "made": [], "still_failed": [], "capture": capture}
    originals = [f for f in manifest["files"] if f["role"] == "original"]
    for original in originals:
        _check_original(folder, original, capture["id"])
    made, failed = set(), []
    if "photos" in pending:  # what the platform did not give cannot be made from what was kept
        failed.append({"role": "photos", "error": next(f["error"] for f in manifest["files"] if f["role"] == "photos")})
    derived = pending - hooks.names() - {"page", "photos"}
    if derived:
        media.require_tools()
        media.prefetch_versions()  # asked on a side thread while the derivatives are made
        # the fingerprints, when they are to be made too, are read by the same decode as the derivatives
        fingerprints = any(h.fingerprints and h.name in pending for h in hooks.registered())
        made, failed = _remake(ctx, capture["id"], folder, manifest, originals, derived, progress, failed,
                               fingerprints)
    if "page" in pending:
        error = _remake_page(ctx, capture, folder, progress)
        if error:
            failed.append({"role": "page", "error": error})
        else:
            made.add("page")
    for hook in hooks.registered():
        if hook.name not in pending:
            continue
        _, error = hooks.run_hook(ctx, hook, capture["id"], progress)
        hooks.set_outcome(ctx, capture["id"], hook.name, "failed" if error else "ok", error)
        if error:
            failed.append({"role": hook.name, "error": error})
        else:
            made.add(hook.name)
    hooks.after_seal(ctx, {"id": capture["id"]}, progress)  # the re-signed manifest is stamped in its turn
    return {"id": capture["id"], "made": sorted(made), "still_failed": failed, "capture": get_capture(ctx, capture_id)}


def _check_original(folder: Path, original: dict, capture_id: str) -> None:
    path = folder / original["path"]
    if not path.is_file() or store.hash_file(path, md5=False).sha256 != original["sha256"]:
        raise IntegrityFailure(f"the original of {capture_id} ({original['path']}) is missing or changed: "
                               f"nothing was derived from it; run `ohrt verify {capture_id}` and report it.")


def _remake(ctx: Context, capture_id: str, folder: Path, manifest: dict, originals: list[dict], roles: set[str],
            progress: Progress | None, failed: list[dict], fingerprints: bool = False) -> tuple[set, list]:
    """Make `roles` (of each original that lacks them) in a scratch folder beside the store, then move them
    in and re-seal in one transaction."""
    store.sweep(ctx.captures_dir)
    several = len(originals) > 1

    def slot(entry: dict) -> tuple:  # which derivative of which item (a capture of one item: by role alone)
        return (entry.get("item") if several else None, entry["role"])

    pending = {slot(f) for f in manifest["files"] if f["status"] in PENDING}
    with disk_guard(ctx), store.staging(ctx.captures_dir) as scratch:
        os.symlink(folder / "original", scratch.path / "original")
        entries = []
        for number, original in enumerate(originals, start=1):
            wanted = {role for role in roles if slot({"item": original.get("item"), "role": role}) in pending}
            if not wanted:
                continue
            kind = original.get("kind") if several else manifest["media_kind"]
            entries += make_derivatives(ctx, scratch.path, original, kind, roles=wanted, progress=progress,
                                        into=item_folder(original.get("item") or number) if several else "derived",
                                        fingerprints=fingerprints)
        made = {e["role"] for e in entries if e["status"] == "ok"}
        failed = failed + [{"role": e["role"], "error": e["error"]} for e in entries if e["status"] != "ok"]
        if not made:
            return made, failed
        attempted = {slot(e) for e in entries}
        moved: list[Path] = []
        try:
            _move_in(scratch.path, folder, [e for e in entries if e["status"] == "ok"], moved)
            manifest["files"] = [f for f in manifest["files"]
                                 if slot(f) not in attempted] + entries
            manifest.setdefault("revisions", []).append({
                "at": iso(ctx.now()), "officer": ctx.actor().as_dict(), "made": sorted(made),
                "tools": {"ohrt": __version__, **media.tool_versions()}})
            with transaction(ctx.db):
                reseal(ctx, capture_id, folder, manifest, roles={r for _, r in attempted}, action="capture.finish",
                        detail={"made": sorted(made), "still_failed": [f["role"] for f in failed]})
        except BaseException:
            for path in moved:
                store.remove_tree(path) if path.is_dir() else path.unlink(missing_ok=True)
            raise
    return made, failed


def _move_in(scratch: Path, folder: Path, entries: list[dict], moved: list[Path]) -> None:
    for entry in entries:
        source, target = scratch / entry["path"], folder / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()  # left by an interrupted finish: it is not in the sealed manifest
        os.rename(source, target)
        moved.append(target)


def _remake_page(ctx: Context, capture: dict, folder: Path, progress: Progress | None) -> str | None:
    """Visit the page now (a later visit, said so in the manifest), move what was made in and re-seal;
    None when every page file was made, else why not."""
    manifest = store.read_manifest(folder)
    if manifest.get("media_kind") == "page":  # its archive is the original: a later visit would not match it
        return ("the page is this capture's original, so its other files cannot be made at a later visit: "
                "capture the URL again for a new page capture")
    with disk_guard(ctx):
        made = page_step.remake(ctx, capture, folder, manifest, progress)
        scratch = made["scratch"]
        try:
            entries = made["entries"]
            done = [e for e in entries if e["status"] == "ok"]
            failed = [e for e in entries if e["status"] != "ok"]
            if not done:
                return failed[0]["error"] if failed else "no page file was made"
            moved: list[Path] = []
            try:
                _move_in(scratch.path, folder, done, moved)
                manifest["files"] = [f for f in manifest["files"] if f["role"] != "page"] + entries
                manifest["page"] = made["page"]
                manifest.setdefault("revisions", []).append({
                    "at": iso(ctx.now()), "officer": ctx.actor().as_dict(), "made": ["page"],
                    "tools": {"ohrt": __version__, "browser": made["page"].get("browser")}})
                with transaction(ctx.db):
                    reseal(ctx, capture["id"], folder, manifest, roles={"page"}, action="capture.finish",
                           detail={"made": ["page"], "still_failed": ["page"] if failed else []})
            except BaseException:
                for path in moved:
                    path.unlink(missing_ok=True)
                raise
        finally:
            store.remove_tree(scratch.path)
            scratch.release()
    return failed[0]["error"] if failed else None
