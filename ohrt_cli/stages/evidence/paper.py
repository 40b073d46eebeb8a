"""What the documents of the officer in the case's file share (SOP 6.3): the task's records read once, the
guard applied piece by piece, and each document written as a DOCX and a PDF.

Without `include_sensitive`, a piece of a document that holds a subject's name, an incident reference or
indices research (of any task, in any wording, unless the content itself shows it) is replaced by a visible
blank saying it was withheld; the whole text is then checked again, and refused if anything got through.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ...ground import documents, exports, sensitive, store
from ...ground.context import Context
from ...ground.errors import InputError
from .. import intake as tasks

DEFAULT_MARKING = "OFFICIAL-SENSITIVE"
WITHHELD = "holds sensitive material (SOP 6.3): draft again with --include-sensitive to show it"


@dataclasses.dataclass
class Records:
    """A task's records for its documents: the task, its captures (with their manifests where the folder is
    still there), its exhibits, and the audit entries about it."""

    task: dict
    captures: list[dict]
    exhibits: list[dict]
    audit: list[dict]
    public: str


def read_records(ctx: Context, task_id: str, exhibits: list[dict]) -> Records:
    """The task's records, with its `exhibits` (as `exhibits.list_exhibits` gives them, or as an export will
    give them)."""
    from .gather import audit_excerpt

    task = tasks.get_task(ctx, task_id)
    captures = []
    for row in ctx.db.query("SELECT * FROM captures WHERE task_id = ? ORDER BY id", [task["id"]]):
        capture = dict(row)
        capture["files"] = [dict(r) for r in ctx.db.query(
            "SELECT item, path, role, sha256, md5, bytes, status, source_url FROM capture_files WHERE capture_id = ? "
            "ORDER BY id",
            [capture["id"]])]
        capture["manifest"] = _manifest(ctx.home / capture["folder"]) if capture.get("folder") else {}
        captures.append(capture)
    ids = [task["id"], *[c["id"] for c in captures]]
    ids += [r for (r,) in ctx.db.execute("SELECT id FROM reviews WHERE task_id = ?", [task["id"]])]
    ids += [r for (r,) in ctx.db.execute("SELECT id FROM referrals WHERE task_id = ?", [task["id"]])]
    ids += [r for (r,) in ctx.db.execute("SELECT id FROM library_items WHERE task_id = ?", [task["id"]])]
    return Records(task=task, captures=captures,
                   exhibits=exhibits,
                   audit=audit_excerpt(ctx, task["id"], list(dict.fromkeys(ids))), public=public_text(task, captures))


def _manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / store.MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def public_text(task: dict, captures: list[dict]) -> str:
    """What the content itself shows (its title, URLs, channel): a name found here may be quoted."""
    pieces = [task.get("title"), task.get("canonical_url"), task.get("url")]
    for capture in captures:
        manifest = capture.get("manifest") or {}
        pieces += [capture.get(k) for k in ("title", "channel", "requested_url", "final_url")]
        pieces += [manifest.get(k) for k in ("title", "channel", "uploader", "requested_url", "final_url")]
    return " ".join(str(p) for p in pieces if p)


class Guarded:
    """Applies the one guard to each piece of a document as it is built (nothing when sensitive material is
    to be included)."""

    def __init__(self, ctx: Context, records: Records, include_sensitive: bool):
        self.checker = None if include_sensitive else sensitive.for_context(ctx)
        self.public = records.public
        self.task_id = records.task["id"]
        self.withheld = 0

    def piece(self, text, what: str) -> documents.Piece:
        """`text` as recorded, a blank when there is none, a withheld blank when it holds sensitive material."""
        found = documents.value(text, what)
        if isinstance(found, str) and self.checker is not None and self.hit(found):
            self.withheld += 1
            return documents.Blank(what, prefix="withheld")
        return found

    def hit(self, text: str):
        return self.checker.first(text, public=self.public, kinds=sensitive.AUDIT_KINDS) if self.checker else None

    def check(self, document: documents.Document) -> None:
        """The whole document once more: refuse rather than write a file that would disclose anything."""
        hit = self.hit(document.text())
        if hit:
            raise InputError(f"{document.title} would disclose {hit.what(self.task_id)}: draft it with "
                             "--include-sensitive to disclose it knowingly, or mend the record that carries it.")


def marking(ctx: Context) -> str:
    return ctx.settings.get("export.marking", DEFAULT_MARKING)


def write_pair(document: documents.Document, docx_path: Path, pdf_path: Path,
               mode: exports.Mode = exports.PRIVATE) -> list[dict]:
    """The document as DOCX and PDF, each through a partial file made with `mode`; returns each file's path,
    bytes and sha256."""
    written = []
    try:
        write_atomically(docx_path, lambda target: documents.write_docx(document, target), mode)
        written.append(docx_path)
        write_atomically(pdf_path, lambda target: documents.write_pdf(document, target), mode)
        written.append(pdf_path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return [{"path": str(p), "bytes": p.stat().st_size, "sha256": store.hash_file(p, md5=False).sha256}
            for p in written]


def when(value: str | None) -> str | None:
    """'2026-11-21T23:08:44+00:00' → '21 November 2026 at 23:08:44 UTC' (None stays None, for a blank)."""
    if not value or len(value) < 19 or value[10] != "T":
        return value or None
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M:%S} UTC"


def officer_text(ctx: Context, number: str | None) -> str | None:
    """'PC Sam Okafor (7781, constable)' from the roster; the number alone when the roster no longer has it."""
    for officer in ctx.settings.officers:
        if officer.number == str(number or ""):
            return str(officer)
    return str(number) if number else None


def output_folder(ctx: Context, to: str | Path | None) -> Path:
    """Where a document is written: `to` (which must exist), else the home's exports/ folder."""
    if to is None or not str(to).strip():
        ctx.exports_dir.mkdir(exist_ok=True)
        return ctx.exports_dir
    folder = Path(to).expanduser().resolve()
    if not folder.is_dir():
        raise InputError(f"folder {folder} does not exist: create it or choose another --to.")
    if folder.is_relative_to(ctx.captures_dir.resolve()):
        raise InputError(f"{folder} is inside the evidence store: choose a folder outside it, e.g. {ctx.exports_dir}.")
    return folder


def unique_path(folder: Path, base: str, suffixes: tuple[str, ...]) -> list[Path]:
    """`base` + each suffix in `folder`, with -2, -3 … added until none of them exists."""
    name, n = base, 1
    while any((folder / f"{name}{s}").exists() for s in suffixes):
        n += 1
        name = f"{base}-{n}"
    return [folder / f"{name}{s}" for s in suffixes]


def write_atomically(path: Path, write, mode: exports.Mode = exports.PRIVATE) -> None:
    """Write through a hidden partial file, made with `mode`, renamed into place: a failure leaves nothing
    half-written."""
    exports.write_with(path, mode, write)
