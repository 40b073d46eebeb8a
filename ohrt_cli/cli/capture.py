"""`ohrt capture …` and `ohrt verify`: content to the write-once evidence store (SOP 9.1), and its check."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._common import (echo_wrapped, is_terminal, json_option, new_app, print_json, print_record, print_table, run,
                      wide_option)

capture_app = new_app(
    "Capture content to the write-once evidence store (SOP 9.1): hashed, signed, with review copies. "
    "`ohrt capture URL` is short for `ohrt capture new URL`.\n\n"
    "Example: ohrt capture 'https://www.tiktok.com/@a/video/1' --task T-2026-000001",
    default="new",
)

CAPTURE_COLUMNS = [("id", "Capture"), ("task_id", "Task"), ("status", "Status"), ("media_kind", "Kind"),
                   ("title", "Title"), ("started_at", "Started (UTC)"), ("officer", "Officer")]
ITEM_COLUMNS = [("item", "Item"), ("kind", "Kind"), ("duration", "Seconds"), ("path", "Original"),
                ("source_url", "From")]
FILE_COLUMNS = [("path", "File"), ("role", "Role"), ("bytes", "Bytes"), ("sha256", "sha256"), ("status", "Status"),
                ("error", "Error")]


@capture_app.command("new")
def capture_new(
    url: Optional[str] = typer.Argument(None, metavar="URL", help="The content's URL (a page or the media itself).",
                                        show_default=False),
    task: Optional[str] = typer.Option(None, "--task", help="Task to link to (default: the open task for this "
                                       "URL, else a new self-tasked one)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why: the rationale when self-tasking (SOP 8.5), "
                                         "or why a --file was not downloaded."),
    file: Optional[Path] = typer.Option(None, "--file", help="Ingest this file instead of downloading: media (e.g. a "
                                        "screen recording) or a page saved otherwise (WACZ, WARC, PDF, HTML), "
                                        "each checked first; needs --url and --reason."),
    source_url: Optional[str] = typer.Option(None, "--url", help="With --file: the URL the content was on."),
    batch: Optional[Path] = typer.Option(None, "--batch", help="A text file of URLs, one per line (# comments); "
                                         "captures them all, carrying on past failures."),
    title: Optional[str] = typer.Option(None, "--title", help="Title for a self-tasked task (default: the page's "
                                        "title, or the file's name)."),
    no_derivatives: bool = typer.Option(False, "--no-derivatives", help="Keep the original only; make the review "
                                        "copies later with `ohrt capture finish ID`."),
    no_page: bool = typer.Option(False, "--no-page", help="Do not open the page in the browser (faster, for a video "
                                 "whose page does not matter); a URL with no media then fails."),
    max_duration: Optional[float] = typer.Option(None, "--max-duration", metavar="MINUTES", help="A live stream "
                                                 "is recorded for at most this long (fractions allowed; default "
                                                 "[capture] max_live_minutes, 60), then kept; Ctrl-C stops it "
                                                 "sooner and keeps it as partial.", show_default=False),
    comments: bool = typer.Option(False, "--comments", help="Also keep the comments the platform shows, in "
                                  "source/comments.json (yt-dlp's where it knows the site, else those in the "
                                  "page)."),
    as_json: bool = json_option("Print the capture (or the batch summary) as JSON."),
) -> None:
    """Capture a URL (or a file, or a batch of URLs) to the store and link it to its task.

    The capture is written in a temporary folder and renamed into place only when complete; a failure
    leaves nothing behind (exit 1). Without an open task for the URL, --reason self-tasks it (SOP 8.5).

    Example: ohrt capture 'https://youtu.be/dQw4w9WgXcQ' --reason 'Seen on patrol, goads a rival group'

    Example: ohrt capture 'https://www.youtube.com/watch?v=LIVE_ID' --max-duration 30 --task T-2026-000001

    Example: ohrt capture 'https://www.tiktok.com/@a/video/1' --comments --task T-2026-000001
    """
    from ..ground.errors import InputError

    chosen = [name for name, value in (("URL", url), ("--file", file), ("--batch", batch)) if value]
    if len(chosen) != 1:
        raise InputError("give one of: a URL, --file PATH --url URL, or --batch FILE (e.g. ohrt capture "
                         "'https://youtu.be/…' --reason 'why').")
    if source_url and not file:
        raise InputError("--url goes with --file: for a download give the URL on its own (ohrt capture URL).")
    if comments and (file or batch):
        raise InputError("--comments goes with a URL: capture the post by its URL to keep its comments.")
    if max_duration is not None and (file or batch):
        raise InputError("--max-duration goes with a URL: a file is not recorded, and a batch uses "
                         "[capture] max_live_minutes of config.toml.")
    if batch and task:
        raise InputError("--task does not go with --batch: each URL goes to its own open task, or is self-tasked "
                         "with --reason.")
    derive = not no_derivatives
    with _Display(enabled=is_terminal() and not as_json) as display:
        if batch:
            _batch(batch, reason, derive, display, as_json, page=not no_page)
            return
        if file:
            if not source_url:
                raise InputError("--file needs --url: the address the content was on (SOP 8.3.5).")
            stage = _capture_stage()
            result = run(lambda ctx: stage.capture_file(ctx, file, url=source_url, reason=reason, task_id=task,
                                                  progress=display.event, derivatives=derive, title=title))
        else:
            stage = _capture_stage()
            result = run(lambda ctx: stage.capture_url(ctx, url, task_id=task, reason=reason, progress=display.event,
                                                 derivatives=derive, title=title, page=not no_page,
                                                 max_minutes=max_duration, comments=comments))
    if as_json:
        print_json(result)
    else:
        _print_result(result)


def _capture_stage():
    """The capture stage, with the work that follows a commit (fingerprints, matching) registered."""
    from ..stages import capture, wiring

    wiring.install()
    return capture


def _batch(path: Path, reason: Optional[str], derive: bool, display: "_Display", as_json: bool, *,
           page: bool = True) -> None:
    stage = _capture_stage()
    summary = run(lambda ctx: stage.capture_batch(ctx, path, reason=reason, progress=display.event, derivatives=derive,
                                                  page=page))
    display.stop()
    if as_json:
        print_json(summary)
    else:
        rows = [{**r, "result": r["capture_id"] if r["ok"] else "failed"} for r in summary["results"]]
        print_table(rows, [("line", "Line"), ("url", "URL"), ("task_id", "Task"), ("result", "Capture")],
                    title=f"captured {summary['captured']}, failed {summary['failed']}")
        for row in summary["results"]:
            if not row["ok"]:
                typer.secho(f"line {row['line']}: {row['error']}", fg=typer.colors.RED, err=True)
    if summary["failed"]:
        raise typer.Exit(1)


def _print_result(result: dict) -> None:
    how = "new self-tasked task" if result["task_created"] else "task"
    typer.echo(f"{result['id']} captured for {how} {result['task_id']}: {result['title'] or result['requested_url']}")
    originals = [entry for entry in result["files"] if entry["role"] == "original"]
    for entry in originals:
        if len(originals) > 1:
            typer.echo(f"  item {entry['item']} ({entry.get('kind') or 'media'}): {entry['path']} "
                       f"({entry['bytes']:,} bytes, sha256 {entry['sha256']})")
        elif entry["status"] == "ok":
            typer.echo(f"  original: {entry['path']} ({entry['bytes']:,} bytes, sha256 {entry['sha256']})")
    if result.get("live"):
        typer.echo(f"  {live_line(result)}")
    if result.get("comments"):
        kept = result["comments"]
        typer.echo(f"  comments: {kept['count']} kept in {kept['path']}"
                   + (f", found by {kept['found_by']}" if kept["found_by"] else
                      f" (none found; looked in: {'; '.join(kept['looked_in'])})"))
    for dup in result["duplicates"]:
        shared = ", stored once by hard link" if dup["linked"] else ""
        typer.echo(f"  same bytes as earlier capture {dup['capture_id']} ({dup['path']}{shared})")
    _print_derivatives(result)
    if result.get("matches"):
        from ..stages.library.matching import describe_match

        typer.echo("  matches the Domain library (re-upload?):")
        for match in result["matches"]:
            echo_wrapped("\n".join(f"    {line}" for line in describe_match(match).splitlines()))
    for stamp in result.get("timestamps") or []:
        typer.echo(f"  time stamp: existed no later than {stamp['gen_time']} ({stamp['id']}, "
                   f"{stamp['tsa'] or 'the authority'})")
    typer.echo(f"  folder: {result['path']}")


def _print_derivatives(capture: dict) -> None:
    states: dict[str, str] = {}
    for entry in capture["files"]:
        if entry["role"] in ("original", "info", "thumbnail", "subtitle", "comments"):
            continue
        states.setdefault(entry["role"], entry["status"])
    if states:
        typer.echo("  derivatives: " + ", ".join(f"{role} {status}" for role, status in states.items()))
    said = set()
    for entry in capture["files"]:
        if entry["status"] == "failed" and (entry["role"], entry["error"]) not in said:  # page files share one reason
            said.add((entry["role"], entry["error"]))
            typer.secho(f"  {entry['role']} failed: {entry['error']}", fg=typer.colors.YELLOW, err=True)
    for note in _manifest_notes(capture):
        typer.secho(f"  note: {note}", fg=typer.colors.YELLOW, err=True)
    if capture["derivatives_failed"]:
        typer.echo(f"  make the missing ones with: ohrt capture finish {capture['id']}")


def _manifest_notes(capture: dict) -> list[str]:
    """The notes the manifest records on derivatives (a font that was not found, say), once each."""
    import json

    try:
        manifest = json.loads((Path(capture["path"]) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return []
    return list(dict.fromkeys(f["note"] for f in manifest.get("files") or [] if isinstance(f, dict) and f.get("note")
                              and f.get("role") in ("contact-sheet", "keyframes", "review", "audio")))


class _Display:
    """The capture's progress on a terminal (ground/progress.py): bytes, speed and time left of a download
    or a copy, then each derivative with the seconds of media ffmpeg has done; silent otherwise."""

    def __init__(self, enabled: bool):
        from ..ground.progress import Display

        self.shown = Display(enabled)
        self.download = None
        self.downloading = None
        self.live_row = None
        self.steps: dict = {}

    @property
    def progress(self):
        return self.shown.progress

    def __enter__(self) -> "_Display":
        self.shown.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.shown.stop()

    def event(self, event: dict) -> None:
        if self.progress is None:
            return
        if event["event"] == "download":
            self._download(event)
        elif event["event"] == "step":
            self._step(event)
        elif event["event"] == "live":
            self._live(event)
        else:
            self.shown.event(event)

    def _live(self, event: dict) -> None:
        """One line while a live stream records: the time recorded and the limit."""
        said = (f"recording live: {_length(event['recorded'])} of at most {_length(event['limit'])}"
                + (" (stopping: keeping what was recorded; Ctrl-C again abandons it)" if event["stopping"] else
                   "" if event["done"] else " (Ctrl-C stops and keeps it)"))
        if self.live_row is None:
            self.live_row = self.progress.add_task(said, total=None, unit="step")
        self.progress.update(self.live_row, description=said)

    def _download(self, event: dict) -> None:
        if event["name"] != self.downloading:  # a new file (picture and sound may come separately)
            self.downloading = event["name"]
            self.download = self.progress.add_task(f"downloading {event['name'][:40]}", total=None, unit="bytes")
        self.progress.update(self.download, completed=event["downloaded"] or 0, total=event["total"])

    def _step(self, event: dict) -> None:
        role = event["role"] if not event.get("item") else f"{event['role']} of item {event['item']}"
        if event["status"] == "started":
            self.steps[role] = self.progress.add_task(f"making {role}", total=None, unit="step")
        elif event["status"] == "running" and role in self.steps:  # ffmpeg's seconds of media done
            self.progress.update(self.steps[role], completed=event["done"], total=event["total"],
                                 unit="seconds" if event["total"] else "step")
        elif role in self.steps:
            self.progress.remove_task(self.steps.pop(role))
            if event["status"] != "retrying":  # one decode for all failed: each is made on its own next
                self.progress.console.print(f"  {role}: {event['status']}")


@capture_app.command("finish")
def capture_finish(capture_id: str = typer.Argument(..., metavar="CAPTURE", help="Capture id, e.g. C-2026-000001."),
                   as_json: bool = json_option()) -> None:
    """Make the derivatives that failed or were skipped, and re-sign the manifest; originals are not touched.

    Exit 1 if any still fails.

    Example: ohrt capture finish C-2026-000001
    """
    stage = _capture_stage()
    with _Display(enabled=is_terminal() and not as_json) as display:
        result = run(lambda ctx: stage.finish_capture(ctx, capture_id, progress=display.event))
    if as_json:
        print_json(result)
    elif not result["made"] and not result["still_failed"]:
        typer.echo(f"{result['id']} has every derivative: nothing to do.")
    else:
        if result["made"]:
            typer.echo(f"{result['id']}: made {', '.join(result['made'])}; manifest re-signed.")
        for failed in result["still_failed"]:
            typer.secho(f"{result['id']}: {failed['role']} failed again: {failed['error']}", fg=typer.colors.RED,
                        err=True)
    if result["still_failed"]:
        raise typer.Exit(1)


@capture_app.command("open")
def capture_open(
    capture_id: str = typer.Argument(..., metavar="CAPTURE", help="Capture id, e.g. C-2026-000001."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why you consult it (required, DPA 2018 s.62)."),
    play: bool = typer.Option(False, "--play", help="Also open it in the desktop's player."),
    as_json: bool = json_option(),
) -> None:
    """Print the path of the capture's review copy, logging the consultation and its reason (DPA 2018 s.62).

    Example: ohrt capture open C-2026-000001 --reason 'review for T-2026-000001' --play
    """
    from ..stages.capture import open_capture
    from ..stages.capture import play as play_file

    result = run(lambda ctx: open_capture(ctx, capture_id, reason=reason))
    if result["note"]:
        typer.secho(f"note: {result['note']}", fg=typer.colors.YELLOW, err=True)
    if as_json:
        print_json(result)
    else:
        typer.echo(result["path"])
    if play:
        play_file(result["path"])


@capture_app.command("list")
def capture_list(task: Optional[str] = typer.Option(None, "--task", help="Only this task's captures."),
                 wide: bool = wide_option(), as_json: bool = json_option()) -> None:
    """List captures, oldest first.

    Example: ohrt capture list --task T-2026-000001
    """
    from ..stages.capture import list_captures

    rows = run(lambda ctx: list_captures(ctx, task))
    if as_json:
        print_json(rows)
    else:
        rows = [{**r, "status": "purged" if r["purged_at"] else r["status"]} for r in rows]
        print_table(rows, CAPTURE_COLUMNS, empty="no captures", drop=("officer", "media_kind", "status"))


@capture_app.command("show")
def capture_show(capture_id: str = typer.Argument(..., metavar="CAPTURE", help="Capture id, e.g. C-2026-000001."),
                 wide: bool = wide_option(), as_json: bool = json_option()) -> None:
    """Show one capture with every file, its role, size, hash and state, and its trusted time: the RFC 3161
    stamp over its manifest and the OpenTimestamps proof (pending until a Bitcoin block attests it).

    Example: ohrt capture show C-2026-000001 --json
    """
    from ..stages.anchor import trusted_time
    from ..stages.capture import get_capture

    def shown(ctx) -> dict:
        found = get_capture(ctx, capture_id)
        return {**found, "trusted_time": None if found["purged"] else trusted_time(ctx, capture_id)}

    capture = run(shown)
    if as_json:
        print_json(capture)
        return
    if capture["purged"]:
        # the folder and every file are gone: say so, not the state and path the record had
        capture = {**capture, "status": capture["purged"], "path": None, "folder": None, "review_copy": None}
    hidden = ("files", "purged", "live", "clock", "items", "comments", "trusted_time")
    print_record(capture, [(k, k.replace("_", " ")) for k in capture if k not in hidden])
    if capture.get("clock") and not capture["purged"]:
        import textwrap

        from ..stages.capture import clock_text

        typer.secho(textwrap.fill(f"clock: {clock_text(capture['clock'])}", width=80, subsequent_indent="  "),
                    fg=typer.colors.YELLOW if capture["clock"]["flagged"] else None)
    import textwrap

    if capture.get("trusted_time"):
        typer.echo(textwrap.fill(trusted_time_line(capture["trusted_time"]), width=80, subsequent_indent="  "))
    if capture.get("live"):
        typer.echo(textwrap.fill(live_line(capture), width=80, subsequent_indent="  "))
    if len(capture.get("items") or []) > 1:
        print_table(capture["items"], ITEM_COLUMNS, title=f"{len(capture['items'])} items, in the post's order")
    if capture.get("comments"):
        import textwrap

        kept = capture["comments"]
        typer.echo(textwrap.fill(f"comments: {kept['count']} in {kept['path']}, found by "
                                 f"{kept['found_by'] or 'nothing: none found'}", width=80, subsequent_indent="  "))
    if capture["files"]:
        print_table(capture["files"], FILE_COLUMNS, drop=("bytes", "status"))
    for reason in dict.fromkeys(f"{f['role']} {f['status']}: {f['error']}" for f in capture["files"] if f["error"]):
        typer.echo(reason)


def trusted_time_line(found: dict) -> str:
    """The capture's trusted time in one line: the RFC 3161 stamp, and OpenTimestamps beside it."""
    from ..stages.ots import words

    rfc = found["rfc3161"]
    if rfc is None:
        stamp = "no RFC 3161 stamp yet (pending: `ohrt anchor list`)"
    elif rfc["verified"]:
        stamp = f"existed no later than {rfc['gen_time']} (RFC 3161, {rfc['anchor']}, {rfc['tsa'] or 'the authority'})"
    else:
        stamp = f"RFC 3161 stamp {rfc['anchor']} not verified: {rfc['detail']}"
    proof = found["ots"]
    beside = "none" if proof is None else f"{words(proof)} ({proof['anchor']}" + (
        ")" if proof["verified"] else f"; {'NOT verified: ' if proof['verified'] is False else ''}{proof['detail']})")
    return f"trusted time: {stamp}; OpenTimestamps: {beside}"


def _length(seconds) -> str:
    from ..ground.times import duration_text

    return duration_text(seconds) or "0 s"


def live_line(capture: dict) -> str:
    """What a live capture's manifest says of its recording, in one line."""
    live = capture["live"]
    partial = " The capture is partial: the recording was cut short." if capture["status"] == "partial" else ""
    return (f"live stream recorded {live.get('recording_started_at')} to {live.get('recording_stopped_at')}: "
            f"{_length(live.get('recorded_seconds'))} (limit {_length(live.get('limit_seconds'))}"
            f"); stopped because {live.get('stopped')}.{partial}")


def verify(
    capture_ids: Optional[List[str]] = typer.Argument(None, metavar="CAPTURE", help="Capture ids (default: every capture).",
                                                      show_default=False),
    package: Optional[Path] = typer.Option(None, "--package", help="Check an evidence package that comes back "
                                           "(its folder or zip) instead of the store.", show_default=False),
    key_fingerprint: Optional[str] = typer.Option(None, "--key-fingerprint", metavar="FP", help="With --package: "
                                                  "the fingerprint the issuing team publishes for its key; the "
                                                  "package must be sealed by that key (inside the issuing home, "
                                                  "the home's own key is pinned without it).", show_default=False),
    as_json: bool = json_option(),
) -> None:
    """Re-hash every file of the captures, check each manifest's signature and SHA256SUMS; exit 0 with the
    count when all is intact, exit 1 naming each changed, missing or unexpected file. With --package, check an
    evidence package that comes back from the officer in the case instead.

    Example: ohrt verify C-2026-000001

    Example: ohrt verify --package T-2026-000001-evidence-2026-11-20.zip --key-fingerprint 3f5c…(64 hex digits)
    """
    if package is not None:
        from ..ground.errors import InputError
        from .evidence import verify_package_command

        if capture_ids:
            raise InputError("give capture ids or --package, not both: e.g. ohrt verify --package DIR.")
        verify_package_command(package, as_json, key_fingerprint)
        return
    if key_fingerprint is not None:
        from ..ground.errors import InputError

        raise InputError("--key-fingerprint goes with --package: e.g. ohrt verify --package DIR --key-fingerprint FP.")
    from ..ground.progress import Display
    from ..stages.anchor import verify_store

    def check(ctx) -> dict:
        with Display(is_terminal() and not as_json) as display:
            found = verify_store(ctx, capture_ids or None, progress=display.event)
        if not capture_ids:  # the whole home: referral drafts no record owns, too
            from ..stages.refer import unowned_drafts

            found["problems"] += unowned_drafts(ctx)
            found["intact"] = not found["problems"]
        return found

    report = run(check)
    if as_json:
        print_json(report)
    else:
        for problem in report["problems"]:
            typer.secho(f"{problem['capture']}: {problem['problem']} {problem['path']}: {problem['detail']}",
                        fg=typer.colors.RED, err=True)
        gone = [c for c in report["captures"] if c.get("purged_at")]
        if capture_ids:
            for capture in gone:
                typer.echo(f"{capture['id']}: purged on {capture['purged_at'][:10]} under retention: no files left "
                           "to check (`ohrt capture show` says under which rule)")
        for checked in report["captures"]:
            if checked.get("status") == "partial" and not checked["purged_at"]:
                typer.echo(f"{checked['id']} is partial: a live recording interrupted before its end or limit; "
                           "its files are what was recorded until then.")
        from ..stages.ots import words

        for entry in report["captures"]:
            if entry.get("proven"):
                echo_wrapped(f"{entry['id']}: existed no later than {entry['proven']['gen_time']} "
                             f"(time stamp {entry['proven']['anchor']}, {entry['proven']['tsa'] or 'the authority'})")
            if entry.get("ots") and entry["ots"]["verified"] is not False:
                echo_wrapped(f"{entry['id']}: OpenTimestamps: {words(entry['ots'])} ({entry['ots']['anchor']}"
                             + ("" if entry["ots"]["verified"] else f"; {entry['ots']['detail']}") + ")")
        if report["intact"]:
            checked = report["checked"] - len(gone)
            typer.echo(f"store intact: {checked} capture(s), {report['files']} file(s) re-hashed"
                       + (f"; {len(gone)} purged under retention, nothing left of them to check" if gone else "")
                       + f"; {report['stamped']} with a trusted time stamp"
                       + (f"; OpenTimestamps: {report['ots']['bitcoin']} attested in Bitcoin (confirm with `ots "
                          f"verify`), {report['ots']['pending']} pending" if any(report["ots"].values()) else ""))
        else:
            typer.secho(f"store NOT intact: {len(report['problems'])} problem(s) in {report['checked']} capture(s)",
                        fg=typer.colors.RED, err=True)
    if not report["intact"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(capture_app, name="capture")
    app.command("verify")(verify)
