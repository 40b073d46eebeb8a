"""The capturing officer's witness statement (the prosecution file's MG11, under section 9 of the Criminal
Justice Act 1967), drafted from the records (SOP 6.3, 9.1; ACPO principles 1 and 3).

Every sentence comes from a record: the task (who asked and why), the capture's row and signed manifest
(when and how it was captured, from which URL to which, with which tools on which computer, what was
preserved and its hashes), the exhibit references, the home's key, and the audit chain (continuity: every
consultation and disclosure). A record that is missing is a visible blank (`________ [not recorded: …]`),
never a guess; the officer reads the draft against the records, completes it and signs it.
"""

from __future__ import annotations

import re
from pathlib import Path

from ... import __version__
from ...ground import audit, documents, exports, layout, signing, urls
from ...ground.context import Context
from ...ground.db import transaction
from ...ground.errors import InputError, StateError
from . import exhibits as exhibit_refs
from .paper import (Guarded, Records, marking, officer_text, output_folder, read_records, unique_path, when,
                    write_pair)

DECLARATION = ("This statement (consisting of {pages} page(s) each signed by me) is true to the best of my "
               "knowledge and belief and I make it knowing that, if it is tendered in evidence, I shall be liable "
               "to prosecution if I have wilfully stated in it anything which I know to be false, or do not believe "
               "to be true.")
RULES = "Criminal Procedure Rules, r. 16.2; Criminal Justice Act 1967, s. 9; Magistrates' Courts Act 1980, s. 5B"
ACTIONS = {
    "task.add": "recorded the request", "task.import": "recorded the request (imported)",
    "capture.commit": "captured it", "capture.create": "captured it", "capture.open": "opened the captured material",
    "capture.finish": "made the capture's remaining derived files", "exhibit.assign": "gave it its exhibit reference",
    "exhibit.label": "printed its exhibit label", "evidence.export": "exported an evidence package",
    "evidence.statement": "drafted a witness statement", "evidence.exhibits": "drafted the exhibit list",
    "capture.add": "captured it", "task.captured": "marked the task captured",
    "library.fingerprint": "fingerprinted it for the library", "library.match": "matched it against the library",
    "task.close": "closed the task", "task.status": "changed the task's status", "review.decide": "decided",
    "review.record": "recorded the review", "referral.draft": "drafted a referral", "referral.qa": "checked a referral",
    "referral.sent": "sent a referral to the platform", "referral.outcome": "recorded the platform's decision",
}
CHECKED_ACTIONS = ("capture.open", "evidence.export", "evidence.statement", "evidence.exhibits", "exhibit.label")


def choose_officer(ctx: Context, records: Records, wanted: str | None) -> str:
    """The officer whose statement it is: `wanted` (number or name), else the one officer who captured the
    task's material."""
    capturers = list(dict.fromkeys(c["officer"] for c in records.captures if c.get("officer")))
    if wanted:
        text = wanted.strip()
        found = ctx.settings.find_officer(text)
        number = found.number if found else text
        if number not in capturers:
            who = ", ".join(officer_text(ctx, n) or n for n in capturers) or "nobody"
            raise InputError(f"officer {text!r} captured nothing of {records.task['id']}: its captures were made by "
                             f"{who}; give one of them with --officer.")
        return number
    if not capturers:
        raise StateError(f"{records.task['id']} has no capture, so there is no capturing officer's statement to "
                         f"draft: capture it first (`ohrt capture URL --task {records.task['id']}`).")
    if len(capturers) > 1:
        who = ", ".join(officer_text(ctx, n) or n for n in capturers)
        raise InputError(f"{records.task['id']} was captured by several officers ({who}): choose whose statement "
                         "with --officer NUMBER.")
    return capturers[0]


def build(ctx: Context, records: Records, number: str, guard: Guarded, sensitive_record: dict | None) -> documents.Document:
    task = records.task
    officer = next((o for o in ctx.settings.officers if o.number == number), None)
    mine = [c for c in records.captures if c.get("officer") == number]
    manifest_officer = next((c["manifest"].get("officer") for c in mine if c["manifest"].get("officer")), None) or {}
    name = officer.name if officer else manifest_officer.get("name")
    role = officer.role if officer else manifest_officer.get("role")
    p = documents.Para
    blank = documents.Blank
    blocks: list = [
        p([RULES], small=True),
        p(["URN: ", blank("the case's unique reference number", prefix="to be completed")]),
        p(["Statement of: ", documents.value(name, "the officer's name")]),
        p(["Age if under 18: Over 18"]),
        p(["Occupation: Police ", documents.value(role, "the officer's role"), f", number {number}, ",
           documents.value(ctx.settings.team_name, "the team's name")]),
        p([DECLARATION.format(pages=documents.BLANK_LINE)]),
        documents.Signature(["Signature", "Date"]),
        documents.Heading("Statement"),
        p(["I am ", documents.value(name, "the officer's name"), ", a ", documents.value(role, "role"),
           f" (number {number}) of ", documents.value(ctx.settings.team_name, "the team's name"), "."]),
    ]
    blocks += _request(ctx, task, guard)
    blocks += _sensitive(task, sensitive_record)
    for capture in mine:
        blocks += _capture(ctx, capture, records, guard)
    others = [c for c in records.captures if c.get("officer") != number]
    if others:
        blocks.append(p(["Other captures of this task were made by other officers: "
                         + "; ".join(f"{c['id']} by {officer_text(ctx, c['officer']) or 'an unrecorded officer'}"
                                     for c in others) + ". They are not part of this statement."]))
    blocks += _continuity(ctx, records, guard)
    blocks.append(p([f"Drafted by ohrt {__version__} from the records of task {task['id']} on {when(_now(ctx))} "
                     f"for {officer_text(ctx, ctx.officer.number)}. Read every sentence against the records, "
                     "complete each blank or strike it out, then sign each page."], small=True))
    return documents.Document(title="Witness statement (MG11)", blocks=blocks, marking=marking(ctx),
                              footer=f"Task {task['id']} · statement of officer {number}")


def _now(ctx: Context) -> str:
    from ...ground.times import iso

    return iso(ctx.now())


def _request(ctx: Context, task: dict, guard: Guarded) -> list:
    """Who asked and why (SOP 8.3): the task's record."""
    platform = urls.PLATFORM_NAMES.get(task.get("platform") or "", task.get("platform"))
    where = [guard.piece(task.get("url") or task.get("canonical_url"), "URL"), " on ",
             documents.value(platform, "platform")]
    titled = [", titled “", guard.piece(task.get("title"), "the content's title"), "”, uploaded on ",
              documents.value(task.get("upload_date"), "upload date")]
    if task.get("self_tasked"):
        opening = [f"On {when(task.get('received_at')) or ''}, ",
                   guard.piece(officer_text(ctx, task.get("created_by")), "officer"),
                   " tasked the team (SOP 8.5) to look at the content at "]
    else:
        opening = [f"On {when(task.get('received_at')) or ''}, the team received a request (task {task['id']}) from ",
                   guard.piece(task.get("applicant_name"), "the applicant's name"), " of ",
                   guard.piece(task.get("applicant_ocu"), "the applicant's OCU"), ", ",
                   guard.piece(task.get("applicant_unit"), "the applicant's unit"), ", to look at the content at "]
    return [documents.Para([*opening, *where, *titled, "."]),
            documents.Para(["The reason given was: ", guard.piece(task.get("rationale"), "the reason for the request"),
                            "."])]


def _sensitive(task: dict, record: dict | None) -> list:
    """With --include-sensitive, the subjects and incident references recorded with the request; else a
    sentence that they are held back (their number only)."""
    if record is None:
        return []
    if record.get("withheld"):
        counts = record["withheld"]
        return [documents.Para([f"The request's record also holds {counts['subjects']} subject name(s) and "
                                f"{counts['incident_refs']} incident reference(s); they are not in this draft "
                                "(SOP 6.3)."])]
    subjects = ", ".join(record.get("subjects") or []) or None
    refs = ", ".join(record.get("incident_refs") or []) or None
    return [documents.Para(["Subjects named in the request (SOP 8.4): ",
                            documents.value(subjects, "no subject recorded"), "."]),
            documents.Para(["Incident references of the request (SOP 8.3.3): ",
                            documents.value(refs, "no incident reference recorded"), "."])]


def _capture(ctx: Context, capture: dict, records: Records, guard: Guarded) -> list:
    manifest = capture.get("manifest") or {}
    refs = {e["item"]: e["reference"] for e in records.exhibits if e["capture_id"] == capture["id"]}
    title = ", ".join(refs[i] for i in sorted(refs)) or "no exhibit reference"
    blocks: list = [documents.Heading(f"Capture {capture['id']} (exhibit {title})", level=2)]
    p = documents.Para
    if capture.get("purged_at"):
        blocks.append(p([f"Capture {capture['id']} was purged on {when(capture['purged_at'])} at the end of its "
                         "retention (SOP 2.2): its files and details are no longer held, so this statement cannot "
                         "describe it."]))
        return blocks
    started = documents.value(when(capture.get("started_at")), "when the capture began")
    finished = documents.value(when(capture.get("finished_at")), "when the capture finished")
    requested = guard.piece(capture.get("requested_url"), "the URL captured")
    method = capture.get("method")
    page = manifest.get("page") if isinstance(manifest.get("page"), dict) else None
    tools = manifest.get("tools") or {}
    sentence = ["On ", started, ", I captured the content at ", requested]
    if method == "file":
        ingest = manifest.get("ingest") or {}
        check = ingest.get("check") or {}
        sentence += [" from a file saved another way, ", documents.value(ingest.get("source_name"), "the file's name"),
                     f" ({ingest.get('source_bytes'):,} bytes" if ingest.get("source_bytes") else " (",
                     "" if ingest.get("source_bytes") else documents.Blank("size"),
                     ", last modified ", documents.value(when(ingest.get("source_modified")), "modified time"), ")."]
        blocks.append(p(sentence))
        blocks.append(p(["The reason recorded for capturing it this way was: ",
                         guard.piece(manifest.get("reason"), "reason"), ". Before it was kept it was checked with ",
                         documents.value(check.get("tool"), "the checking tool"), " ",
                         documents.value(check.get("version"), "its version"), ", which found: ",
                         documents.value(check.get("result"), "the check's result"), "."]))
    else:
        final = capture.get("final_url")
        browser = (page or {}).get("browser") or {}
        browser_text = documents.value(" ".join(str(v) for v in (browser.get("name"), browser.get("version")) if v),
                                       "the browser and its version")
        if capture.get("media_kind") == "page":  # the page itself is the capture: yt-dlp found no media
            sentence += [" by loading the page in ", browser_text]
        else:
            sentence += [" by downloading it with yt-dlp ", documents.value(tools.get("yt_dlp"), "yt-dlp's version")]
            if page:
                sentence += [" and loading the page in ", browser_text]
        sentence += [". The address it ended at was ", guard.piece(final or (page or {}).get("final_url"),
                                                                     "the final URL"), "."]
        blocks.append(p(sentence))
        if page:
            server = page.get("server") or {}
            blocks.append(p(["The page was served by ", documents.value(
                f"{server.get('ip')}:{server.get('port')}" if server.get("ip") else None, "the server's address"),
                " with HTTP status ", documents.value(page.get("status"), "status"), "; the server's own clock read ",
                documents.value(page.get("server_date"), "the server's Date header"), "."]))
    blocks.append(p(["The capture finished at ", finished, ". It was made on the computer ",
                     documents.value(manifest.get("host"), "the computer's name"), " with ",
                     documents.value(", ".join(f"{k.replace('_', '-')} {v}" for k, v in sorted(tools.items())),
                                     "the tools and their versions"), "."]))
    blocks += _preserved(capture, refs)
    blocks.append(p(["The capture's manifest, which lists every file with its SHA-256, has the SHA-256 ",
                     documents.value(capture.get("manifest_sha256"), "the manifest's SHA-256"),
                     " and was signed with the home's Ed25519 key, whose fingerprint is ",
                     documents.value(_fingerprint(ctx), "the key's fingerprint"), "."]))
    blocks += _trusted_times(ctx, capture)
    blocks += _checks(capture)
    return blocks


def _trusted_times(ctx: Context, capture: dict) -> list:
    """The capture's time as a trusted time-stamping authority proved it (RFC 3161), from the home's stamps,
    each checked now against the trusted authority's certificate: only a stamp that verifies, over the
    manifest as it is, is stated; any other is named as a blank with why; none is a blank too."""
    from .. import anchor

    lines = []
    for stamp in anchor.proven_times(ctx, capture["id"]):
        if stamp["verified"] and stamp["current"]:
            lines.append(documents.Para([
                "Trusted timestamp: the manifest above existed no later than ", when(stamp["gen_time"]),
                ", as stamped by the time-stamping authority ", documents.value(stamp["tsa"], "the authority's name"),
                f" (RFC 3161; ohrt request {stamp['anchor']}, verified against the trusted authority's certificate "
                "when this statement was drafted)."]))
        else:
            why = "it is over an earlier manifest of this capture" if stamp["verified"] else stamp["detail"]
            lines.append(documents.Para(["Trusted timestamp: ", documents.Blank(
                f"stamp {stamp['anchor']} is recorded but not stated here: {why}", prefix="trusted time")]))
    return lines or [documents.Para(["Trusted timestamp: ", documents.Blank("none recorded", prefix="trusted time")])]


def _fingerprint(ctx: Context) -> str | None:
    try:
        return signing.fingerprint((ctx.keys_dir / signing.PUBLIC_NAME).read_bytes())
    except OSError:
        return None


def _preserved(capture: dict, refs: dict[int, str]) -> list:
    originals = [f for f in capture["files"] if f["role"] == "original"]
    derived = [f for f in capture["files"] if f["role"] != "original" and f["status"] == "ok"]
    blocks: list = [documents.Para(["I preserved the original(s) below, unaltered, in ohrt's write-once evidence "
                                    "store, and produce each as the exhibit named:"])]
    numbered = {}
    for n, entry in enumerate(originals, start=1):
        numbered.setdefault(entry.get("item") or n, entry)
    for item, entry in sorted(numbered.items()):
        source = [", from ", entry["source_url"]] if len(numbered) > 1 and entry.get("source_url") else []
        blocks.append(documents.Para([
            "Exhibit ", refs.get(item, documents.Blank("reference")), ": ",
            f"item {item}, " if len(numbered) > 1 else "", documents.value(entry["path"], "file"),
            ", ", f"{entry['bytes']:,} bytes" if entry.get("bytes") is not None else documents.Blank("size"),
            *source]))
        blocks.append(documents.Para(["SHA-256 ", documents.value(entry.get("sha256"), "SHA-256")], mono=True))
        blocks.append(documents.Para(["MD5     ", documents.value(entry.get("md5"), "MD5")], mono=True))
    for item in sorted(set(refs) - set(numbered)):
        blocks.append(documents.Para(["Exhibit ", refs[item], ": ", documents.Blank("the original file's record"),
                                      "; SHA-256 ", documents.Blank("SHA-256")]))
    if derived:
        blocks.append(documents.Para([f"ohrt also made {len(derived)} other file(s) from the original(s) (review copy, "
                                      "sound, key frames, contact sheet, page files), each listed in the manifest "
                                      "with its SHA-256, its parent's SHA-256 and the command that made it; the "
                                      "original itself was never changed."]))
    return blocks


def _checks(capture: dict) -> list:
    folder = f"captures/{capture['id']}"
    return [documents.Para(["Anyone can repeat these checks in the capture's folder (in the store, or in an "
                            "evidence package under data/):"]),
            documents.Para([f"cd {folder} && sha256sum -c SHA256SUMS"], mono=True),
            documents.Para(["openssl pkeyutl -verify -pubin -inkey public.pem -rawin -in manifest.json "
                            "-sigfile manifest.sig"], mono=True),
            documents.Para([signing.FINGERPRINT_COMMAND.format(key="public.pem")], mono=True)]


def _continuity(ctx: Context, records: Records, guard: Guarded) -> list:
    """Every action the audit chain records on the task and its material, consultations and disclosures
    included, with its hash so that the chain can be set against it."""
    rows = []
    for entry in records.audit:
        reason = entry.get("reason")
        rows.append([str(entry["seq"]), when(entry["at"]) or "", guard.piece(
            f"{entry['officer_name'] or ''} ({entry['officer']})" if entry.get("officer") else None, "officer"),
            f"{ACTIONS.get(entry['action'], entry['action'])} ({entry['object_id']})",
            guard.piece(reason, "reason") if reason else "", entry["hash"][:10]])
    checked = sum(1 for e in records.audit if e["action"] in CHECKED_ACTIONS)
    return [documents.Heading("Continuity", level=2),
            documents.Para([f"The home's audit chain, each entry hash-chained to the one before, records "
                            f"{len(rows)} action(s) on this task and its material, {checked} of them consultations, "
                            "disclosures or documents drafted:"]),
            documents.Table(["#", "When", "Officer", "What", "Reason", "Entry hash"], rows,
                            widths=[0.05, 0.17, 0.18, 0.27, 0.2, 0.13])]


def write_statement(ctx: Context, task_id: str, *, officer: str | None = None, to: str | Path | None = None,
                    include_sensitive: bool = False, mode: str | None = None) -> dict:
    """Give the task's captures their exhibit references (those without), then draft the capturing officer's
    MG11 as DOCX and PDF into `to` (default HOME/exports), with `mode` (ground/exports.py); audited."""
    from .gather import _sensitive_record

    folder = output_folder(ctx, to)
    permissions = exports.for_context(ctx, folder, mode)
    ctx.actor()
    # A bad --officer is refused before any reference is given.
    choose_officer(ctx, read_records(ctx, task_id, exhibit_refs.list_exhibits(ctx, task_id)), officer)
    exhibit_refs.assign(ctx, task_id)
    records = read_records(ctx, task_id, exhibit_refs.list_exhibits(ctx, task_id))
    number = choose_officer(ctx, records, officer)
    document = statement_document(ctx, records, number, include_sensitive, _sensitive_record(ctx, records.task["id"]))
    kind = "statement-" + (re.sub(r"[^0-9A-Za-z]", "", number) or "officer")
    base = layout.document_base(records.task["id"], kind, ctx.today().isoformat())
    docx_path, pdf_path = unique_path(folder, base, (".docx", ".pdf"))
    files = write_pair(document, docx_path, pdf_path, permissions)
    with transaction(ctx.db):
        seq = audit.record(ctx, "evidence.statement", "task", records.task["id"], detail={
            "officer": number, "files": files, "include_sensitive": include_sensitive,
            "exhibits": [e["reference"] for e in records.exhibits]})
    return {"task_id": records.task["id"], "officer": number, "docx": str(docx_path), "pdf": str(pdf_path),
            "files": files, "exhibits": [e["reference"] for e in records.exhibits],
            "include_sensitive": include_sensitive, "audit_seq": seq}


def statement_document(ctx: Context, records: Records, number: str, include_sensitive: bool,
                       sensitive_record: dict) -> documents.Document:
    """The statement as a document, guarded (see `paper.Guarded`)."""
    guard = Guarded(ctx, records, include_sensitive)
    shown = sensitive_record if include_sensitive else {"withheld": {
        "subjects": len(sensitive_record["subjects"]), "incident_refs": len(sensitive_record["incident_refs"])}}
    document = build(ctx, records, number, guard, shown)
    guard.check(document)
    return document


def capturing_officers(records: Records) -> list[str]:
    return list(dict.fromkeys(c["officer"] for c in records.captures if c.get("officer") and not c.get("purged_at")))
