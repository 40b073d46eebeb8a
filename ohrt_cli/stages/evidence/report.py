"""What an evidence package says to its readers: the view that `templates/export/` renders into
`report.html` (for a court and the officer in the case), `review/review.txt`, `HOW-TO-CHECK.txt` and,
with sensitive material, `sensitive/HANDLING.txt` (SOP 6.3).

The report follows the West Midlands practice of preparing captured material for court presentation
(seeds/000): what was captured, from where, when and by whom, with which tool versions; every hash; the
contact sheet; the review's findings (SOP 9.2) with their time ranges; the referral history (SOP 10); and
the exact commands to check all of it (checks.py). The view is built field by field; subjects, incident references and
indices research are never in it, whatever the package holds (`REPORT_FORBIDDEN` names them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from ... import __version__
from ...ground import signing, urls
from .. import capture as capture_stage
from .. import ots
from .checks import archives, check_commands, signed_acts
from ...ground.times import duration_text
from ...ground.context import Context
from ...ground.render import Renderer

if TYPE_CHECKING:
    from .contents import Package

_SENSITIVE = ("sensitive material never goes into the report or texts of a package: with --include-sensitive it "
              "is in data/sensitive/ alone (SOP 6.3)")
REPORT_FORBIDDEN = {name: _SENSITIVE for name in ("subjects", "incident_refs", "indices_research", "research",
                                                  "sensitive")}
EMBED_LIMIT = 8 << 20  # a contact sheet larger than this is linked, not embedded
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
               ".gif": "image/gif"}
METHODS = {"download": "downloaded from the URL with yt-dlp",
           "file": "ingested from a file obtained otherwise (e.g. a screen recording)"}
INGESTED_KINDS = {"wacz": "a WACZ web archive", "warc": "a WARC web archive", "pdf": "a PDF document",
                  "html": "an HTML page", "image": "an image", "video": "a video", "audio": "a sound recording"}
TEXT_LIMIT = 200_000  # characters of a page's visible text shown in the report; the whole file is in the package
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"


def renderer(ctx: Context) -> Renderer:
    """The export templates of this home (team overrides in HOME/templates/export/ first)."""
    found = Renderer(ctx.home, "export", REPORT_FORBIDDEN)
    found.env.filters.update(when=when, size=size, short=short)
    return found


def when(value) -> str:
    """'2026-11-21T23:08:44+00:00' → '2026-11-21 23:08:44 UTC'; anything else as it is."""
    text = str(value or "")
    if len(text) >= 19 and text[10] == "T":
        return f"{text[:10]} {text[11:19]} UTC"
    return text or "—"


def size(value) -> str:
    if value in (None, ""):
        return "—"
    number = int(value)
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if number >= scale:
            return f"{number:,} bytes ({number / scale:.1f} {unit})"
    return f"{number:,} bytes"


def short(value, length: int = 16) -> str:
    text = str(value or "")
    return f"{text[:length]}…" if len(text) > length else text


# --------------------------------------------------------------------------------------------- view

def view(ctx: Context, package: "Package", root: Path) -> dict:
    """Everything the export templates may show, built from the package's records (`root` is the payload
    as written so far, whose files the report lists with their hashes)."""
    from .. import review as review_stage

    officers = {o.number: o for o in ctx.settings.officers}

    def officer(number) -> str:
        found = officers.get(str(number or ""))
        return f"{found.name} ({found.number}, {found.role})" if found else (str(number) if number else "—")

    events = _events(package.audit, officer)
    return {
        "marking": ctx.settings.get("export.marking", DEFAULT_MARKING),
        "team": {"name": ctx.settings.team_name, "mailbox": ctx.settings.mailbox},
        "package": {
            "name": package.name, "exported_at": package.exported_at,
            "exported_by": f"{package.officer['name']} ({package.officer['number']}, {package.officer['role']})",
            "recipient": package.recipient, "reason": package.reason,
            "include_sensitive": package.include_sensitive,
            "fingerprint": signing.fingerprint(package.public_pem), "ohrt": __version__,
        },
        "task": _task(package, officer),
        "withheld": {k: len(v) for k, v in package.sensitive.items()},
        "captures": [_capture(c, root, officer, capture_stage.clock_limit(ctx)) for c in package.captures],
        "purged": [{"id": c["id"], "purged_at": c["purged_at"]} for c in package.purged],
        "review": _review(package.review, officer, review_stage) if package.review else None,
        "earlier_reviews": [{"id": r["id"], "reviewed_at": r["reviewed_at"], "officer": officer(r["officer"]),
                             "decision": r["decision"], "superseded_by": r["superseded_by"]}
                            for r in package.reviews if r.get("superseded_by")],
        "referrals": [_referral(r, root, officer, events.get(r["id"], [])) for r in package.referrals],
        "library": [_library_item(i, officer) for i in package.library],
        "audit": [_audit_row(e) for e in package.audit],
        "chain": package.chain,
        "other_files": _other_files(root),
        "officer_file": _officer_file(package, root, officer),
        "signed_acts": signed_acts(package, root, officer),
        "checks": check_commands(package.name, [c["id"] for c in package.captures],
                                 {c["id"]: archives(c["manifest"]) for c in package.captures},
                                 signing.fingerprint(package.public_pem), package.timestamps),
        "timestamps": _timestamps(package),
    }


def _timestamps(package: "Package") -> dict:
    """Each capture's trusted time (RFC 3161) as the package carries it, and the authority's certificate; and
    its OpenTimestamps state in words (pending until a Bitcoin block attests it), or None."""
    stamps = package.timestamps or {}
    by_capture = {e["capture"]: e for e in stamps.get("captures") or []}
    proofs = {e["capture"]: e for e in stamps.get("ots") or []}
    return {"captures": [{"id": c["id"], "gen_time": by_capture[c["id"]]["gen_time"] if c["id"] in by_capture else None,
                          "tsa": by_capture[c["id"]]["tsa"] if c["id"] in by_capture else None,
                          "ots": ots.words(proofs[c["id"]]) if c["id"] in proofs else None}
                         for c in package.captures],
            "ca": stamps.get("trusted_ca"), "ca_sha256": stamps.get("ca_sha256")}


def _task(package: "Package", officer) -> dict:
    task = package.task
    return {
        "id": task["id"], "status": task["status"], "received_at": task["received_at"], "url": task["url"],
        "canonical_url": task["canonical_url"], "platform": task["platform"],
        "platform_name": urls.PLATFORM_NAMES.get(task["platform"], task["platform"]), "title": task["title"],
        "upload_date": task["upload_date"], "applicant": task["applicant_name"], "ocu": task["applicant_ocu"],
        "unit": task["applicant_unit"], "rationale": task["rationale"], "self_tasked": task["self_tasked"],
        "created_by": officer(task["created_by"]),
    }


def _capture(capture: dict, root: Path, officer, clock_limit: float) -> dict:
    manifest = capture["manifest"]
    clock = capture_stage.clock_evidence(manifest, clock_limit)
    folder = root / "captures" / capture["id"]
    files = [_file_row(f) for f in manifest.get("files", [])]
    by_officer = manifest.get("officer") or {}
    return {
        "id": capture["id"], "status": capture["status"], "method": manifest.get("method"),
        "method_text": _method_text(manifest),
        "requested_url": manifest.get("requested_url"), "final_url": manifest.get("final_url"),
        "canonical_url": manifest.get("canonical_url"), "media_url": manifest.get("media_url"),
        "extractor": manifest.get("extractor"), "platform_item_id": manifest.get("platform_item_id"),
        "channel": manifest.get("channel"), "uploader": manifest.get("uploader"),
        "upload_date": manifest.get("upload_date"), "title": manifest.get("title"),
        "duration": duration_text(manifest.get("duration")), "media_kind": manifest.get("media_kind"),
        "started_at": manifest.get("started_at"), "finished_at": manifest.get("finished_at"),
        "officer": (f"{by_officer.get('name')} ({by_officer.get('number')}, {by_officer.get('role')})"
                    if by_officer else officer(capture["officer"])),
        "host": manifest.get("host"), "reason": manifest.get("reason"), "ingest": manifest.get("ingest"),
        "clock": manifest.get("clock"),
        "clock_evidence": {"text": capture_stage.clock_text(clock), "flagged": clock["flagged"]},
        "tools": [{"name": k, "version": v} for k, v in sorted((manifest.get("tools") or {}).items())],
        "revisions": [{"at": r.get("at"), "officer": (r.get("officer") or {}).get("name"), "made": r.get("made"),
                       "tools": ", ".join(f"{k} {v}" for k, v in sorted((r.get("tools") or {}).items()))}
                      for r in manifest.get("revisions") or []],
        "manifest_sha256": capture["manifest_sha256"],
        "signature_sha256": _sha256(folder / "manifest.sig"),
        "files": [f for f in files if f["status"] == "ok"],
        "not_made": [f for f in files if f["status"] != "ok"],
        "commands": _commands(files),
        "contact_sheet": _picture(manifest, folder, capture["id"]),
        "ingested": _ingested(manifest),
        "page": _page(manifest),
        "screenshot": _page_file_picture(manifest, folder, capture["id"]),
        "page_text": _page_text(manifest, folder),
        "live": _live(manifest),
        "post_items": [{"item": i.get("item"), "kind": i.get("kind"), "duration": duration_text(i.get("duration")),
                   "path": i.get("path"), "sha256": i.get("sha256"), "source_url": i.get("source_url")}
                  for i in manifest.get("items") or []],
    }


def _live(manifest: dict) -> dict | None:
    """A live stream's recording, in words: when it ran, how long, and why it stopped."""
    live = manifest.get("live")
    if not live:
        return None
    return {"started_at": live.get("recording_started_at"), "stopped_at": live.get("recording_stopped_at"),
            "recorded": duration_text(live.get("recorded_seconds")) or "0 s",
            "limit": duration_text(live.get("limit_seconds")) or "0 s", "stopped": live.get("stopped"),
            "interrupted": live.get("stopped_because") == "interrupted", "from_start": live.get("from_start")}


def _method_text(manifest: dict) -> str:
    """How the capture was made, in words: a URL whose page the browser kept says so beside yt-dlp."""
    method = manifest.get("method")
    if method == "download" and isinstance(manifest.get("page"), dict):
        if manifest.get("media_kind") == "page":
            return "loaded from the URL in a browser (Chromium); the page itself is the capture"
        return "downloaded from the URL with yt-dlp; the page loaded in a browser (Chromium) and kept beside it"
    return METHODS.get(method, method or "—")


def _file_row(entry: dict) -> dict:
    command = entry.get("command")
    return {"path": entry.get("path") or "—", "role": entry.get("role"), "bytes": entry.get("bytes"),
            "sha256": entry.get("sha256"), "md5": entry.get("md5"), "status": entry.get("status"),
            "error": entry.get("error"), "parent": entry.get("parent_sha256"), "at": entry.get("at"),
            "kind": entry.get("kind"), "item": entry.get("item"),
            "command": " ".join(shlex.quote(str(c)) for c in command) if command else None}


def _commands(files: list[dict]) -> list[dict]:
    """Each command once, with what it made: the keyframes are many files of one command, and one command
    may make several derivatives (one decode for the keyframes and the contact sheet)."""
    made: dict[str, list[dict]] = {}
    for f in files:
        if f["command"] and f["status"] == "ok":
            made.setdefault(f["command"], []).append(f)
    rows = []
    for group in made.values():
        frames = [f for f in group if f["role"] == "keyframes"]
        paths = [f["path"] for f in group if f["role"] != "keyframes"]
        if frames:
            paths.insert(0, f"{frames[0]['path'].rsplit('/', 1)[0]}/ ({len(frames)} frames)")
        roles = list(dict.fromkeys(f["role"] for f in group))
        rows.append({**group[0], "path": ", ".join(paths), "role": ", ".join(roles)})
    return rows


def _picture(manifest: dict, folder: Path, capture_id: str) -> dict | None:
    """The contact sheet (or, for an image, the image itself), embedded so the report needs no other file."""
    files = {f.get("role"): f for f in manifest.get("files", []) if f.get("status") == "ok"}
    chosen = files.get("contact-sheet")
    if chosen is None and manifest.get("media_kind") == "image":
        chosen = files.get("original")
    if chosen is None:
        return None
    return _embed(folder, capture_id, chosen)


def _embed(folder: Path, capture_id: str, chosen: dict) -> dict | None:
    """A picture of the capture as a data: URL (so the report needs no other file), or a link when large."""
    if Path(chosen["path"]).suffix.lower() not in IMAGE_TYPES:
        return None
    path = folder / chosen["path"]
    link = f"captures/{capture_id}/{chosen['path']}"
    if not path.is_file() or path.stat().st_size > EMBED_LIMIT:
        return {"src": link, "path": link, "sha256": chosen["sha256"], "embedded": False}
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return {"src": f"data:{IMAGE_TYPES[path.suffix.lower()]};base64,{data}", "path": link,
            "sha256": chosen["sha256"], "embedded": True}


def _page_file(manifest: dict, kind: str) -> dict | None:
    """The page file of this kind (contract: role `page`, `kind`), made and recorded as ok."""
    for entry in manifest.get("files", []):
        if entry.get("role") in ("page", "original") and entry.get("kind") == kind and entry.get("status") == "ok":
            return entry
    return None


def _page_file_picture(manifest: dict, folder: Path, capture_id: str) -> dict | None:
    """The page's full screenshot, embedded like the contact sheet: the page as the officer saw it."""
    entry = _page_file(manifest, "screenshot")
    return _embed(folder, capture_id, entry) if entry else None


def _page_text(manifest: dict, folder: Path) -> dict | None:
    """The page's visible text (SOP 9.2.3: the words are evidence), for the report to show escaped."""
    entry = _page_file(manifest, "text")
    path = folder / entry["path"] if entry else None
    if path is None or not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    return {"path": f"captures/{folder.name}/{entry['path']}", "sha256": entry["sha256"],
            "text": text[:TEXT_LIMIT], "cut": len(text) > TEXT_LIMIT, "characters": f"{len(text):,}",
            "shown": f"{min(len(text), TEXT_LIMIT):,}"}


def _page(manifest: dict) -> dict | None:
    """The page's provenance as the manifest's `page` key records it: where the browser ended up, which
    server answered, its clock beside ours, the TLS chain, and the browser itself."""
    page = manifest.get("page")
    if not isinstance(page, dict):
        return None
    server = page.get("server") or {}
    tls = page.get("tls") or None
    browser = page.get("browser") or {}
    viewport = page.get("viewport") or {}
    skew = page.get("clock_skew_seconds")
    return {
        "requested_url": page.get("requested_url"), "final_url": page.get("final_url"),
        "redirects": [{"url": r.get("url"), "status": r.get("status"), "location": r.get("location")}
                      for r in page.get("redirects") or []],
        "server": f"{server.get('ip')}:{server.get('port')}" if server.get("ip") else None,
        "status": page.get("status"), "title": page.get("title"),
        "server_date": page.get("server_date"),
        "clock_skew": None if skew is None else f"{skew:+.1f} s (the server's clock minus ours)",
        "tls": {"protocol": tls.get("protocol"),
                "certificates": [{k: c.get(k) for k in ("subject", "issuer", "not_before", "not_after", "sha256")}
                                 for c in tls.get("certificates") or []]} if isinstance(tls, dict) else None,
        "browser": " ".join(str(v) for v in (browser.get("name"), browser.get("version")) if v) or None,
        "viewport": f"{viewport.get('width')} × {viewport.get('height')}" if viewport.get("width") else None,
        "user_agent": page.get("user_agent"), "started_at": page.get("started_at"),
        "finished_at": page.get("finished_at"), "timed_out": bool(page.get("timed_out")),
        "requests": page.get("requests"), "truncated_responses": page.get("truncated_responses"),
        "error": page.get("error"),
    }


def _ingested(manifest: dict) -> dict | None:
    """What kind of file an officer saved another way, and the check it passed before it was kept."""
    ingest = manifest.get("ingest") or {}
    if not ingest.get("kind"):
        return None
    check = ingest.get("check") or {}
    return {"kind": ingest["kind"], "kind_text": INGESTED_KINDS.get(ingest["kind"], ingest["kind"]),
            "check": " ".join(str(check[k]) for k in ("tool", "version") if check.get(k)) or None,
            "result": check.get("result")}


def _review(review: dict, officer, review_stage) -> dict:
    from ..disclosure import FORMAT_NAMES

    return {
        "id": review["id"], "capture_id": review["capture_id"], "officer": officer(review["officer"]),
        "reviewed_at": review["reviewed_at"], "review_date": review["review_date"],
        "decision": review["decision"], "decision_text": review_stage.DECISIONS.get(review["decision"], ""),
        "format": review["format"], "format_name": FORMAT_NAMES.get(review["format"], review["format"]),
        "basis": review["basis"], "reason": review["reason"], "no_capture_reason": review["no_capture_reason"],
        "findings": [{"number": n, "factor": f["factor"], "title": f["factor_title"],
                      "sop": getattr(review_stage.FACTORS.get(f["factor"]), "sop", ""), "note": f["note"],
                      "at": f["at"]} for n, f in enumerate(review["findings"], start=1)],
        "clauses": review["clauses"],
    }


def _referral(referral: dict, root: Path, officer, events: list[dict]) -> dict:
    from ..refer import ROUTES

    folder = root / "referrals" / referral["id"]
    drafts = [{"path": p.relative_to(root).as_posix(), "bytes": p.stat().st_size, "sha256": _sha256(p),
               "current": p.relative_to(root).as_posix() == referral["draft_path"]}
              for p in sorted(folder.rglob("*")) if p.is_file()] if folder.is_dir() else []
    return {
        "id": referral["id"], "kind": referral["kind"], "appeal_of": referral["appeal_of"],
        "platform": urls.PLATFORM_NAMES.get(referral["platform"], referral["platform"]),
        "route": ROUTES.get(referral["route"], referral["route"]), "recipient": referral["recipient"],
        "status": referral["status"], "version": referral["version"], "review_id": referral["review_id"],
        "drafted_by": officer(referral["drafted_by"]), "drafted_at": referral["drafted_at"],
        "qa": [{"version": q["version"], "verdict": q["verdict"], "officer": officer(q["officer"]), "at": q["at"],
                "note": q["note"]} for q in referral["qa"]],
        "sent_on": referral["sent_on"], "sent_by": officer(referral["sent_by"]) if referral["sent_by"] else None,
        "sent_via": referral["sent_via"], "platform_ref": referral["platform_ref"],
        "message_id": referral["message_id"], "outcome": referral["outcome"], "outcome_on": referral["outcome_on"],
        "outcome_note": referral["outcome_note"], "draft_sha256": referral["draft_sha256"], "drafts": drafts,
        "events": events,
    }


def _library_item(item: dict, officer) -> dict:
    return {"id": item["id"], "status": item["status"], "created_at": item["created_at"],
            "removed_on": item["removed_on"], "expires_on": item["expires_on"], "format": item["format"],
            "holds": [{"investigation": h["investigation"], "placed_by": officer(h["placed_by"]),
                       "placed_at": h["placed_at"], "released_at": h["released_at"]} for h in item["holds"]]}


EVENT_WORDS = {
    "referral.draft": "drafted", "referral.redraft": "drafted again", "appeal.draft": "appeal drafted",
    "appeal.redraft": "appeal drafted again", "referral.qa": "quality check (SOP 10.2)",
    "referral.sent": "sent to the platform", "referral.outcome": "platform's decision recorded (SOP 10.6)",
}


def _events(entries: list[dict], officer) -> dict[str, list[dict]]:
    """Each referral's history from the audit chain: every version drafted, QA verdict, sending, decision."""
    found: dict[str, list[dict]] = {}
    for entry in entries:
        if entry["object_type"] != "referral":
            continue
        detail = json.loads(entry["detail"] or "{}")
        facts = [f"v{detail['version']}" if detail.get("version") else "", detail.get("verdict") or "",
                 detail.get("outcome") or "", f"on {detail['on']}" if detail.get("on") else "",
                 f"via {detail['via']}" if detail.get("via") else "",
                 f"platform ref {detail['platform_ref']}" if detail.get("platform_ref") else ""]
        found.setdefault(entry["object_id"], []).append({
            "seq": entry["seq"], "at": entry["at"], "officer": officer(entry["officer"]),
            "what": EVENT_WORDS.get(entry["action"], entry["action"]), "facts": ", ".join(f for f in facts if f)})
    return found


def _audit_row(entry: dict) -> dict:
    """One audit entry for the reader: who by name, and the detail's facts without its empty fields (the
    exact stored entry, whose hash can be recomputed, is in the excerpt file)."""
    detail = json.loads(entry["detail"] or "{}")
    facts = [f"{k}: {_plain(v)}" for k, v in sorted(detail.items()) if v not in (None, "", [], {})]
    return {"seq": entry["seq"], "at": entry["at"], "officer": entry["officer_name"] or entry["officer"],
            "number": entry["officer"] if entry["officer"] != "scheduled" else "", "action": entry["action"],
            "object": entry["object_id"], "reason": entry["reason"], "detail": ", ".join(facts),
            "hash": entry["hash"], "prev_hash": entry["prev_hash"]}


def _plain(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


DOCUMENTS = (("statement-", "Witness statement (MG11)"), ("exhibits.", "Exhibit list (MG12)"))


def _officer_file(package: "Package", root: Path, officer) -> dict | None:
    """The exhibits and the documents drafted for the officer in the case, with their hashes."""
    from .contents import OFFICER_DIR, PROVENANCE

    documents = []
    folder = root / OFFICER_DIR
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        what = next((text for prefix, text in DOCUMENTS if path.name.startswith(prefix)), path.name)
        if path.name.startswith("statement-"):
            what += f", officer {path.stem.split('-', 1)[1]}"
        documents.append({"what": f"{what} ({path.suffix[1:].upper()})", "path": f"data/{OFFICER_DIR}/{path.name}",
                          "sha256": _sha256(path)})
    if (root / PROVENANCE).is_file():
        documents.append({"what": "Provenance (CASE/UCO JSON-LD)", "path": f"data/{PROVENANCE}",
                          "sha256": _sha256(root / PROVENANCE)})
    if not documents and not package.exhibits:
        return None
    return {"exhibits": [{"reference": e["reference"], "capture_id": e["capture_id"], "item": e["item"],
                          "file": e["file"], "officer": officer(e["officer"]), "sha256": e["sha256"]}
                         for e in package.exhibits], "documents": documents}


def _other_files(root: Path) -> list[dict]:
    """The payload's own files beside the captures (whose hashes are in their manifests), with sha256."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if not rel.startswith("captures/"):
            found.append({"path": f"data/{rel}", "bytes": path.stat().st_size, "sha256": _sha256(path)})
    return found


def _sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
