"""The exhibit list of a task (the prosecution file's MG12): every exhibit's reference, description, where it
was found, the officer who seized it, when, and its SHA-256 — as a DOCX and a PDF (SOP 6.3, 9.1)."""

from __future__ import annotations

from pathlib import Path

from ...ground import audit, documents, exports, layout
from ...ground.context import Context
from ...ground.db import transaction
from . import exhibits as exhibit_refs
from .paper import (Guarded, Records, marking, officer_text, output_folder, read_records, unique_path, when,
                    write_pair)

HEADERS = ["Ref.", "Description of exhibit", "Where found", "Officer", "Seized (UTC)"]
WIDTHS = [0.08, 0.36, 0.26, 0.15, 0.15]


def build(ctx: Context, records: Records, guard: Guarded) -> documents.Document:
    """The MG12 as a document: one row per exhibit of the task, purged ones said to be so."""
    rows = []
    for exhibit in records.exhibits:
        if exhibit["purged_at"]:
            description: documents.Piece = f"Capture {exhibit['capture_id']}, purged on {exhibit['purged_at'][:10]} " \
                "at the end of its retention (SOP 2.2)"
        else:
            description = guard.piece(exhibit["description"], "description")
        rows.append([exhibit["reference"], description, guard.piece(exhibit["where_found"], "URL"),
                     guard.piece(officer_text(ctx, exhibit["officer"]), "officer"),
                     guard.piece(when(exhibit["seized_at"]), "time seized")])
    task = records.task
    blocks: list = [
        documents.Para(["URN: ", documents.Blank("the case's unique reference number", prefix="to be completed")]),
        documents.Para([f"Task {task['id']}: ", guard.piece(task.get("title"), "the content's title"), " (",
                        guard.piece(task.get("canonical_url"), "URL"), ")"]),
        documents.Para(["Prepared by ", guard.piece(officer_text(ctx, ctx.officer.number), "officer"), " of ",
                        documents.value(ctx.settings.team_name, "the team's name"), " on ",
                        when(_now(ctx)) or ""]),
    ]
    if rows:
        blocks.append(documents.Table(HEADERS, rows, widths=WIDTHS))
        blocks.append(documents.Heading("SHA-256 of each exhibit", level=2))
        blocks += [documents.Para([f"{e['reference']:<8} ", documents.value(e["sha256"], "SHA-256")], mono=True)
                   for e in records.exhibits]
    else:
        blocks.append(documents.Para([documents.Blank("no exhibit: the task has no capture to exhibit",
                                                      prefix="none")]))
    blocks.append(documents.Para([
        "Each exhibit is an original file of a capture in ohrt's evidence store; its SHA-256 is the one recorded "
        "when it was captured and listed in the capture's signed manifest. `sha256sum FILE` gives it again."],
        small=True))
    return documents.Document(title="Exhibit list (MG12)", blocks=blocks, marking=marking(ctx),
                              footer=f"Drafted by ohrt from the records of task {task['id']}.")


def _now(ctx: Context) -> str:
    from ...ground.times import iso

    return iso(ctx.now())


def write_exhibit_list(ctx: Context, task_id: str, *, to: str | Path | None = None,
                       include_sensitive: bool = False, mode: str | None = None) -> dict:
    """Give the task's captures their exhibit references (those without), then write the MG12 as DOCX and PDF
    into `to` (default HOME/exports), with `mode` (ground/exports.py); audited."""
    folder = output_folder(ctx, to)  # refused before anything is written
    permissions = exports.for_context(ctx, folder, mode)
    exhibit_refs.assign(ctx, task_id)
    records = read_records(ctx, task_id, exhibit_refs.list_exhibits(ctx, task_id))
    guard = Guarded(ctx, records, include_sensitive)
    document = build(ctx, records, guard)
    guard.check(document)
    base = layout.document_base(records.task["id"], "exhibits", ctx.today().isoformat())
    docx_path, pdf_path = unique_path(folder, base, (".docx", ".pdf"))
    files = write_pair(document, docx_path, pdf_path, permissions)
    with transaction(ctx.db):
        seq = audit.record(ctx, "evidence.exhibits", "task", records.task["id"], detail={
            "files": files, "exhibits": [e["reference"] for e in records.exhibits],
            "include_sensitive": include_sensitive})
    return {"task_id": records.task["id"], "docx": str(docx_path), "pdf": str(pdf_path), "files": files,
            "exhibits": records.exhibits, "withheld": guard.withheld, "include_sensitive": include_sensitive,
            "audit_seq": seq}
