"""The workspace's pages and forms (SOP 9.1-9.4, 10.3, 10.8): what each address shows, and what each POST does
through the same stage functions as the commands (`review.record_review`, `refer.draft_referral`).

GET only reads. Each request opens its own Context as the acting officer (SQLite connections belong to one
thread) and closes it when the answer is made.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from urllib.parse import quote

import jinja2

from .server import HEARTBEAT_SECONDS, Lifetime, Refused, Reply
from .view import Files, match_view, task_view, vtt_of

STATIC = {"workspace.js": "text/javascript; charset=utf-8", "workspace.css": "text/css; charset=utf-8"}


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """The compiled templates, kept in Jinja2's own cache folder of this login (0700, checked to be ours);
    never in the home, which other officers may write to, since the cache is code this process would run."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


def clock_text(seconds) -> str:
    """01:23.40: minutes, seconds and hundredths, as the page shows a time in the media."""
    if seconds is None:
        return ""
    seconds = max(float(seconds), 0.0)
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{minutes:02d}:{rest:05.2f}"
    return f"{hours}:{text}" if hours else text


class App:
    """One officer's workspace on one task."""

    def __init__(self, *, home, officer, task_id: str, reason: str, idle_seconds: float, keys: dict | None = None):
        from ...ground.resources import templates_dir

        self.home, self.officer, self.task_id, self.reason = home, officer, task_id, reason
        self.keys = dict(keys or {})  # the officer's personal key, unlocked once at the terminal
        self.token = secrets.token_urlsafe(32)
        self.csrf = secrets.token_urlsafe(32)
        self.files = Files()
        self.lifetime = Lifetime(idle_seconds)
        self.consulted: set[str] = set()
        self.lock = threading.Lock()
        self.folder = templates_dir() / "workspace"
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(self.folder)), autoescape=True,
                                      undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                      bytecode_cache=_bytecode_cache())
        self.env.filters["clock"] = clock_text

    def warm(self) -> None:
        """Import what the pages use and compile their templates, while the browser is still opening."""
        try:
            from ...stages import capture, refer, review  # noqa: F401
            from ...stages.library import matching  # noqa: F401

            for name in ("task.html", "match.html", "preview.html"):
                self.env.get_template(name)
        except Exception:  # the page itself will say what is wrong
            pass

    # ------------------------------------------------------------------------------------ plumbing
    @contextlib.contextmanager
    def context(self):
        from ...ground.home import open_context

        ctx = open_context(self.home, self.officer)
        ctx.personal_keys.update(self.keys)
        try:
            yield ctx
        finally:
            ctx.close()

    def base(self) -> str:
        return f"/{self.token}"

    def consult(self, ctx, capture_id: str) -> None:
        """A capture shown beside the task's (a library item's) is consulted too: audited once, with the reason
        given when the workspace was opened."""
        from ...stages import review

        with self.lock:
            if capture_id in self.consulted:
                return
            review.consult_capture(ctx, capture_id, reason=self.reason)
            self.consulted.add(capture_id)

    def render(self, name: str, status: int = 200, **values) -> Reply:
        page = self.env.get_template(name).render(base=self.base(), csrf=self.csrf, heartbeat=HEARTBEAT_SECONDS,
                                                  **values)
        return Reply(page, status=status)

    # ------------------------------------------------------------------------------------ GET: reading only
    def get(self, path: str, query: dict, wanted_range: str | None) -> Reply:
        parts = path.strip("/").split("/")
        if path == "/":
            self.lifetime.seen(None, active=True)
            return self.task_page(saved=(query.get("saved") or [None])[0],
                                  drafted=(query.get("drafted") or [None])[0])
        if parts[0] == "media" and len(parts) == 2:
            return self.media(parts[1], wanted_range)
        if parts[0] == "subtitles" and len(parts) == 2:
            return self.subtitles(parts[1])
        if parts[0] == "static" and len(parts) == 2 and parts[1] in STATIC:
            return Reply((self.folder / parts[1]).read_bytes(), content_type=STATIC[parts[1]])
        if parts[0] == "match" and len(parts) == 2:
            self.lifetime.seen(None, active=True)
            return self.match_page(parts[1])
        if path == "/preview":
            self.lifetime.seen(None, active=True)
            return self.preview_page()
        raise Refused(404, "not found")

    def media(self, file_id: str, wanted_range: str | None) -> Reply:
        served = self.files.get(file_id)
        if served is None or served.subtitle:
            raise Refused(404, "not found")
        if not served.path.is_file():
            raise Refused(404, "the file is missing from the store: run `ohrt verify`")
        return Reply(content_type=served.content_type, file=(served.path, wanted_range))

    def subtitles(self, file_id: str) -> Reply:
        served = self.files.get(file_id)
        if served is None or not served.subtitle or not served.path.is_file():
            raise Refused(404, "not found")
        return Reply(vtt_of(served.path), content_type="text/vtt; charset=utf-8")

    def task_page(self, *, saved: str | None = None, drafted: str | None = None, form: dict | None = None,
                  errors: dict | None = None, status: int = 200) -> Reply:
        with self.context() as ctx:
            data = task_view(ctx, self.task_id, self.files)
            officer = ctx.actor()
        return self.render("task.html", status=status, data=data, officer=officer, form=form or form_of(data),
                           errors=Errors(errors or {}), saved=saved, drafted=drafted)

    def match_page(self, item_id: str) -> Reply:
        with self.context() as ctx:
            from ...stages import capture as capture_stage

            latest = capture_stage.latest_capture(ctx, self.task_id)
            if latest is None:
                raise Refused(404, "this task has no capture to compare")
            with self.lock:
                consulted = set(self.consulted)
            data = match_view(ctx, latest["id"], item_id.upper(), self.files, consulted)
            task = {"id": self.task_id}
        if data is None:
            raise Refused(404, f"capture {latest['id']} does not match {item_id.upper()}")
        return self.render("match.html", data=data, task=task)

    def preview_page(self) -> Reply:
        from ...ground.errors import OhrtError
        from ...stages import refer

        with self.context() as ctx:
            try:
                preview, problem = refer.preview_referral(ctx, self.task_id), None
            except OhrtError as exc:
                preview, problem = None, exc.message
        return self.render("preview.html", preview=preview, problem=problem, task={"id": self.task_id})

    # ------------------------------------------------------------------------------------ POST: changes
    def post(self, path: str, form: dict) -> Reply:
        if path == "/heartbeat":
            page = (form.get("page") or [""])[0]
            if (form.get("bye") or [""])[0] == "1":
                self.lifetime.bye(page)
            else:
                self.lifetime.seen(page, active=(form.get("active") or [""])[0] == "1")
            return Reply(b"", status=204, content_type="text/plain")
        self.lifetime.seen(None, active=True)
        if path == "/review":
            return self.save_review(form)
        if path == "/draft":
            return self.draft(form)
        if path.startswith("/consult/"):
            return self.consult_item(path.split("/")[2].upper())
        raise Refused(404, "not found")

    def consult_item(self, item_id: str) -> Reply:
        """Open the capture of a library item this task's capture matches, beside it: a consultation of
        another task's material, audited with the workspace's reason (as `capture open` audits it)."""
        from ...stages import capture as capture_stage

        with self.context() as ctx:
            latest = capture_stage.latest_capture(ctx, self.task_id)
            data = match_view(ctx, latest["id"], item_id, self.files, set()) if latest else None
            if data is None:
                raise Refused(404, "this task's capture does not match that library item")
            if data["to_consult"]:
                self.consult(ctx, data["to_consult"])
        return Reply(b"", status=303, location=f"{self.base()}/match/{quote(item_id)}")

    def save_review(self, form: dict) -> Reply:
        """Record the review as `ohrt review` does (the same function, checks, errors and audit); a refusal
        is shown beside the field it concerns, and nothing is recorded."""
        from ...ground.errors import OhrtError
        from ...stages import review

        state = posted(form)
        raw = review.ReviewInput(
            task_id=self.task_id, decision=state["decision"], format=state["format"], reason=state["reason"] or None,
            basis=state["basis"] or None, clauses=state["clauses"], no_capture=state["no_capture"],
            findings=[review.FindingInput(factor=f["factor"], note=f["note"], at=f["at"] or None, line=n)
                      for n, f in enumerate(state["findings"], start=1)])
        try:
            with self.context() as ctx:
                result = review.record_review(ctx, raw)
        except OhrtError as exc:
            return self.task_page(form=state, errors={field_of(exc, raw): exc.message}, status=400)
        saved = result["review"]["id"]
        return Reply(b"", status=303, location=f"{self.base()}/?saved={quote(saved)}")

    def draft(self, form: dict) -> Reply:
        """Draft the referral for QA as `ohrt refer draft` does."""
        from ...ground.errors import OhrtError
        from ...stages import refer

        try:
            with self.context() as ctx:
                drafted = refer.draft_referral(ctx, self.task_id)
        except OhrtError as exc:
            with self.context() as ctx:
                try:
                    preview = refer.preview_referral(ctx, self.task_id)
                except OhrtError:
                    preview = None
            return self.render("preview.html", status=400, preview=preview, problem=exc.message,
                               task={"id": self.task_id})
        return Reply(b"", status=303, location=f"{self.base()}/?drafted={quote(drafted['id'])}")


class Errors(dict):
    """The refusals of a form by field; a field with none shows nothing."""

    def __missing__(self, key):
        return ""


def posted(form: dict) -> dict:
    """The review form as posted: its fields, the findings row by row, the clauses ticked."""
    def one(name: str) -> str:
        return (form.get(name) or [""])[0].strip()

    factors, notes, places = (form.get(k) or [] for k in ("finding_factor", "finding_note", "finding_at"))
    findings = []
    for n in range(max(len(factors), len(notes), len(places))):
        row = {"factor": _at(factors, n), "note": _at(notes, n), "at": _at(places, n)}
        if any(row.values()):
            findings.append(row)
    return {"decision": one("decision"), "format": one("format"), "reason": one("reason"), "basis": one("basis"),
            "clauses": [c.strip() for c in form.get("clause") or [] if c.strip()], "findings": findings,
            "no_capture": one("no_capture") == "1"}


def _at(values: list[str], n: int) -> str:
    return values[n].strip() if n < len(values) else ""


def form_of(data: dict) -> dict:
    """The form as the review in force fills it (empty when the task has none)."""
    current = data.get("current")
    if not current:
        return {"decision": "", "format": "", "reason": "", "basis": "", "clauses": [], "findings": []}
    return {"decision": current["decision"], "format": current["format"], "reason": current["reason"] or "",
            "basis": "", "clauses": [c["id"] for c in current["clauses"]],
            "findings": [{"factor": f["factor"], "note": f["note"], "at": ";".join(f["at"])}
                         for f in current["findings"]]}


def field_of(exc, raw) -> str:
    """Which field of the form a refusal concerns, to show it beside that field ('form' when no one field)."""
    from ...ground.errors import InputError
    from ...stages import review

    line = getattr(exc, "line", None)
    if line:
        return f"finding-{line}"
    if (raw.decision or "").strip().lower() not in review.DECISIONS:
        return "decision"
    try:
        review.format_code(raw.format)
    except InputError:
        return "format"
    message = exc.message.lower()
    if message.startswith("clause") or "clause" in message.split(":")[0]:
        return "clauses"
    if "finding" in message.split(":")[0]:
        return "findings"
    if "reason" in message.split(":")[0]:
        return "reason"
    return "form"

