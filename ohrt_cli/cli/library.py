"""`ohrt library …` and `ohrt purge`: the Domain library (SOP 10.8), holds (CPIA 1996), re-upload
detection, sharing hashes, and the scheduled purge (SOP 2.2, 10.8)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from ._common import (STATE, echo_wrapped, json_option, mode_option, new_app, print_json, print_record, print_table,
                      run, under, wide_option)

library_app = new_app(
    "The Domain library (SOP 10.8): removed musical content kept for the retention period, held for "
    "investigations, and matched against every new capture.\n\nExample: ohrt library expiring --within 30d")

ITEM_COLUMNS = [("id", "Item"), ("status", "Status"), ("held", "Held"), ("from", "From"), ("task_id", "Task"),
                ("format", "Format"), ("title", "Title"), ("channel", "Channel"), ("removed_on", "Removed"),
                ("expires_on", "Expires")]
ITEM_DROP = ("channel", "format", "task_id", "held")


def _item_rows(rows: list[dict]) -> list[dict]:
    """Rows as the table shows them: where each item came from (this team, or the force that shared it),
    and a purged item's tombstone in place of its blanked title."""
    return [{**r, "from": (r.get("source_name") or "another force") if r["source"] == "import" else "this team",
             "title": r["title"] or r.get("purged")} for r in rows]
ITEM_FIELDS = [("id", "item"), ("status", "status"), ("purged", "purged"), ("source", "source"), ("task_id", "task"),
               ("capture_id", "capture"), ("referral_id", "referral"), ("review_id", "review"),
               ("format", "format"), ("title", "title (10.4.1)"), ("url", "URL (10.4.2)"),
               ("platforms", "platforms (10.4.3)"), ("channel", "channel"), ("rationale", "rationale (10.4.4)"),
               ("summary", "summary (10.4.5)"), ("breach", "breach (10.4.6)"), ("removed_on", "removed on"),
               ("expires_on", "expires on"), ("held", "held"), ("created_at", "added (UTC)"),
               ("created_by", "added by"), ("source_name", "shared by"), ("source_ref", "their id")]


def _filters(title, channel, url, date_from, date_to) -> dict:
    return {"title": title, "channel": channel, "url": url, "date_from": date_from, "date_to": date_to}


TITLE = typer.Option(None, "--title", help="Part of the title (any case).")
CHANNEL = typer.Option(None, "--channel", help="Part of the channel or account name (any case).")
URL = typer.Option(None, "--url", help="The content's URL, however written (tracking parameters are ignored).")
FROM = typer.Option(None, "--from", help="Removed on or after this date, YYYY-MM-DD.")
TO = typer.Option(None, "--to", help="Removed on or before this date, YYYY-MM-DD.")


@library_app.command("add")
def library_add(
    task_id: str = typer.Argument(..., metavar="TASK", help="Task id, e.g. T-2026-000001."),
    removed_on: Optional[str] = typer.Option(None, "--removed-on", help="Date the platform removed it, YYYY-MM-DD "
                                             "(default: the decision recorded with `ohrt refer outcome`)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why it is added by hand."),
    as_json: bool = json_option("Print the new item as JSON."),
) -> None:
    """Add a task's content to the library by hand (removals of musical content are added automatically).
    It expires on the date of removal + retention.months (12 by default).

    Example: ohrt library add T-2026-000001 --removed-on 2026-11-20 --reason 'format corrected to music video'
    """
    from ..stages.library.items import add_item

    item = run(lambda ctx: add_item(ctx, task_id, removed_on=removed_on, reason=reason))
    if as_json:
        print_json(item)
    else:
        typer.echo(f"{item['id']} added for {item['task_id']}: kept until {item['expires_on']}")


@library_app.command("hold")
def library_hold(
    item_id: str = typer.Argument(..., metavar="ITEM", help="Library item id, e.g. L-2026-000001."),
    investigation: str = typer.Option(..., "--investigation", help="The investigation or operation it is "
                                      "relevant to."),
    reason: str = typer.Option(..., "--reason", help="Why it is relevant (CPIA 1996)."),
    as_json: bool = json_option("Print the item as JSON."),
) -> None:
    """Hold an item for an investigation: it is not purged while held (CPIA 1996). Sergeant or above.

    Example: ohrt library hold L-2026-000001 --investigation 'Op Quenby' --reason 'suspect's music, trial 2027'
    """
    from ..stages.library.items import place_hold

    item = run(lambda ctx: place_hold(ctx, item_id, investigation=investigation, reason=reason))
    if as_json:
        print_json(item)
    else:
        typer.echo(f"{item['id']} held for {investigation}: it will not be purged while held "
                   f"(its retention ends {item['expires_on']}).")


@library_app.command("release")
def library_release(
    item_id: str = typer.Argument(..., metavar="ITEM", help="Library item id, e.g. L-2026-000001."),
    reason: str = typer.Option(..., "--reason", help="Why the material is no longer needed."),
    investigation: Optional[str] = typer.Option(None, "--investigation", help="Which hold, when it has several."),
    as_json: bool = json_option("Print the item as JSON."),
) -> None:
    """Release an item's hold. Sergeant or above. Past its expiry with no hold left, the next purge
    deletes it.

    Example: ohrt library release L-2026-000001 --reason 'case concluded at court'
    """
    from ..stages.library.items import release_hold

    def work(ctx):
        item = release_hold(ctx, item_id, reason=reason, investigation=investigation)
        return item, ctx.today().isoformat()

    item, today = run(work)
    if as_json:
        print_json(item)
    elif item["held"]:
        typer.echo(f"{item['id']}: hold released; it is still held for another investigation.")
    elif item["expires_on"] <= today:
        typer.echo(f"{item['id']}: hold released; its retention ended {item['expires_on']}, so the next purge "
                   "deletes it.")
    else:
        typer.echo(f"{item['id']}: hold released; it is kept until {item['expires_on']}.")


@library_app.command("list")
def library_list(
    title: Optional[str] = TITLE, channel: Optional[str] = CHANNEL, url: Optional[str] = URL,
    date_from: Optional[str] = FROM, date_to: Optional[str] = TO,
    include_purged: bool = typer.Option(False, "--all", help="Include purged items (their tombstones)."),
    wide: bool = wide_option(),
    as_json: bool = json_option(),
) -> None:
    """List the library's items, latest removal first.

    Example: ohrt library list --from 2026-01-01 --json
    """
    from ..stages.library.items import list_items

    rows = run(lambda ctx: list_items(ctx, **_filters(title, channel, url, date_from, date_to),
                                      include_purged=include_purged))
    if as_json:
        print_json(rows)
    else:
        print_table(_item_rows(rows), ITEM_COLUMNS, empty="no library items", drop=ITEM_DROP)


@library_app.command("search")
def library_search(
    title: Optional[str] = TITLE, channel: Optional[str] = CHANNEL, url: Optional[str] = URL,
    date_from: Optional[str] = FROM, date_to: Optional[str] = TO,
    wide: bool = wide_option(),
    as_json: bool = json_option(),
) -> None:
    """Find library items by title, channel, URL or date of removal (at least one).

    Example: ohrt library search --channel 'crew' --from 2026-03-01 --to 2026-06-30
    """
    from ..ground.errors import InputError
    from ..stages.library.items import list_items

    filters = _filters(title, channel, url, date_from, date_to)
    if not any(filters.values()):
        raise InputError("search needs at least one of --title, --channel, --url, --from, --to "
                         "(or use `ohrt library list`).")
    rows = run(lambda ctx: list_items(ctx, **filters))
    if as_json:
        print_json(rows)
    else:
        print_table(_item_rows(rows), ITEM_COLUMNS, empty="no library item matches", drop=ITEM_DROP)


@library_app.command("show")
def library_show(item_id: str = typer.Argument(..., metavar="ITEM", help="Library item id, e.g. L-2026-000001."),
                 wide: bool = wide_option(), as_json: bool = json_option()) -> None:
    """Show one item: the intelligence record's fields, its holds and its fingerprints.

    Example: ohrt library show L-2026-000001
    """
    from ..stages.library.items import get_item

    item = run(lambda ctx: get_item(ctx, item_id))
    if as_json:
        print_json(item)
        return
    width = max(len(heading) for _, heading in ITEM_FIELDS)
    print_record(item, ITEM_FIELDS)  # multi-line fields (summary, breach) stay in their column
    fingerprints = item["fingerprints"]
    typer.echo(f"{'fingerprints'.rjust(width)}: " + (f"{fingerprints['frames']} frames, "
                                                    f"{fingerprints['audio_seconds']} s of sound" if fingerprints
                                                    else "—"))
    for hold in item["holds"]:
        state = f"released {hold['released_at']} by {hold['released_by']} ({hold['release_reason']})" \
            if hold["released_at"] else "ACTIVE"
        typer.echo(f"{'hold'.rjust(width)}: " + under(f"{hold['investigation']}, placed {hold['placed_at']} by "
                                                      f"{hold['placed_by']} ({hold['reason']}); {state}", width + 2))


@library_app.command("expiring")
def library_expiring(
    within: str = typer.Option("30d", "--within", help="Period ahead: days or weeks, e.g. 30d or 6w."),
    wide: bool = wide_option(),
    as_json: bool = json_option(),
) -> None:
    """Items the purge will delete within the period (and any already past expiry), not under hold.

    Example: ohrt library expiring --within 30d
    """
    from ..stages.library.items import expiring

    rows = run(lambda ctx: expiring(ctx, within))
    if as_json:
        print_json(rows)
    else:
        print_table(rows, [("id", "Item"), ("task_id", "Task"), ("title", "Title"), ("expires_on", "Expires"),
                           ("days_left", "Days left")], empty=f"nothing expires within {within}")


@library_app.command("match")
def library_match(capture_id: str = typer.Argument(..., metavar="CAPTURE", help="Capture id, e.g. C-2026-000001."),
                  as_json: bool = json_option()) -> None:
    """Compare a capture with every library item (local and imported): kind of match, time ranges side by
    side, distances. A capture never fingerprinted (made before the library) is fingerprinted first. Audited
    when something matches.

    Example: ohrt library match C-2026-000007
    """
    from ..ground.progress import Display
    from ..stages.library.matching import describe_match, match_capture

    with Display(sys.stdout.isatty() and not as_json) as display:
        result = run(lambda ctx: match_capture(ctx, capture_id, progress=display.event))
    if as_json:
        print_json(result)
        return
    if not result["matches"]:
        typer.echo(f"{result['capture_id']}: no library item matches ({result['frames']} frames, "
                   f"{result['audio_seconds']} s of sound compared).")
    for match in result["matches"]:
        echo_wrapped(describe_match(match))


@library_app.command("export-hashes")
def library_export(file: Path = typer.Argument(..., metavar="FILE", help="Where to write the hashes; in ohrt's "
                                                "format FILE.sig is written beside it."),
                   fmt: str = typer.Option("ohrt", "--format", help="ohrt (signed, PDQ and Chromaprint, for another "
                                           "force's ohrt) or threatexchange (vPDQ, PDQ and MD5 signals, for Meta's "
                                           "threatexchange CLI and the tools that read its signal files)."),
                   mode: Optional[str] = mode_option(),
                   as_json: bool = json_option()) -> None:
    """Write the hashes of the library's items — no media, no titles, names or references — for another
    force or another tool. Audited.

    Example: ohrt library export-hashes domain-hashes-2026-11.json

    Example: ohrt library export-hashes domain-signals.txt --format threatexchange
    """
    from ..stages.library.exchange import export_threatexchange
    from ..stages.library.sharing import export_hashes

    fmt = fmt.strip().lower()
    if fmt not in ("ohrt", "threatexchange"):
        _bad(f"--format {fmt!r} is not ohrt or threatexchange: choose one.")
    if fmt == "threatexchange":
        result = run(lambda ctx: export_threatexchange(ctx, Path(file), mode))
        if as_json:
            print_json(result)
        else:
            counts = ", ".join(f"{n} {kind}" for kind, n in result["signals"].items() if n) or "no signals"
            typer.echo(f"wrote {result['items']} items' hashes to {result['file']} as ThreatExchange signals "
                       f"({counts}); sha256 {result['sha256']}.")
        return
    result = run(lambda ctx: export_hashes(ctx, Path(file), mode))
    if as_json:
        print_json(result)
    else:
        typer.echo(f"wrote {result['items']} items' fingerprints to {result['file']} (+ .sig); send it with "
                   f"{result['public_key']} (key {result['public_key_fingerprint']}).")


def _bad(message: str):
    from ..ground.errors import InputError

    raise InputError(message)


@library_app.command("import-hashes")
def library_import(
    file: Path = typer.Argument(..., metavar="FILE", help="A hash file: another force's signed ohrt file (FILE.sig "
                                "beside it), a ThreatExchange signal file, or a CSV hash list."),
    key: Optional[Path] = typer.Option(None, "--key", help="ohrt format: the sending force's public key (their "
                                       "keys/public.pem), obtained from them directly."),
    fmt: str = typer.Option("auto", "--format", help="auto, ohrt, threatexchange or csv (auto: ohrt's with --key or "
                            "JSON, csv for a .csv file or a comma-separated header, else threatexchange)."),
    source: Optional[str] = typer.Option(None, "--source", help="threatexchange and csv: who gave the list, e.g. "
                                         "'GIFCT hash list'; importing the same source again updates it."),
    provenance: Optional[str] = typer.Option(None, "--provenance", help="How the list came to you (received when, "
                                             "from whom, under which agreement); kept with the source."),
    expires: Optional[str] = typer.Option(None, "--expires", help="The date the list's hashes may be kept until, "
                                          "YYYY-MM-DD, where a row gives none (default: today + retention.months)."),
    label: Optional[str] = typer.Option(None, "--label", help="The label of items whose row gives none."),
    as_json: bool = json_option(),
) -> None:
    """Import hashes to match every new capture against: another force's signed ohrt file (checked against
    their key), a ThreatExchange signal file (pdq, vpdq, video_md5) or a CSV of MD5, SHA-256 and PDQ hashes
    with labels (header e.g. md5,sha256,pdq,label,id,expires_on). Each source keeps its expiry and
    provenance (`ohrt library sources`); importing it again updates it. A bad file changes nothing.

    Example: ohrt library import-hashes wmp-hashes.json --key wmp-public.pem

    Example: ohrt library import-hashes list.csv --source 'GIFCT hash list' --expires 2027-06-30
    """
    from ..stages.library.exchange import FORMATS, detect_format, import_list
    from ..stages.library.sharing import import_hashes
    from ..ground import tabular

    fmt = fmt.strip().lower()
    if fmt not in ("auto", *FORMATS):
        _bad(f"--format {fmt!r} is not auto, ohrt, threatexchange or csv: choose one.")
    if fmt == "auto":  # a key is given for ohrt's signed files only
        fmt = "ohrt" if key is not None else detect_format(Path(file), tabular.read_text(Path(file), "hash file"))
    if fmt == "ohrt":
        if key is None:
            _bad(f"{Path(file).name} is an ohrt hash file: give the sending force's public key with --key.")
        if source or expires or label:
            _bad("--source, --expires and --label are for hash lists: an ohrt file names its force and its expiry.")
        result = run(lambda ctx: import_hashes(ctx, Path(file), key=Path(key)))
        if as_json:
            print_json({**result, "format": "ohrt"})
        else:
            typer.echo(f"imported from {result['source']} (key {result['public_key_fingerprint']}): "
                       f"{len(result['added'])} added, {len(result['updated'])} updated, {len(result['unchanged'])} "
                       f"unchanged, {len(result['skipped'])} skipped as expired")
        return
    if key is not None:
        _bad(f"--key is for ohrt's signed files; a {fmt} hash list carries no signature: drop --key.")
    result = run(lambda ctx: import_list(ctx, Path(file), fmt=fmt, source=source, provenance=provenance,
                                         expires=expires, label=label))
    if as_json:
        print_json(result)
    else:
        typer.echo(f"imported {result['format']} hash list from {result['source']} (kept until "
                   f"{result['expires_on']} unless a row says otherwise): {len(result['added'])} added, "
                   f"{len(result['updated'])} updated, {len(result['unchanged'])} unchanged, "
                   f"{len(result['skipped'])} skipped as expired")


@library_app.command("sources")
def library_sources(as_json: bool = json_option(), wide: bool = wide_option()) -> None:
    """List the sources of imported hashes: hash lists (format, provenance, file and its SHA-256, expiry,
    who imported them) and the forces whose signed files were imported, with their kept items.

    Example: ohrt library sources --json
    """
    from ..stages.library.exchange import list_sources

    rows = run(list_sources)
    if as_json:
        print_json(rows)
        return
    print_table(rows, [("name", "Source"), ("format", "Format"), ("items", "Items"), ("last_expiry", "Expires"),
                       ("imported_at", "Imported"), ("imported_by", "By"), ("provenance", "Provenance")],
                empty="no hashes imported", wide=wide, drop=("provenance", "imported_by"))


def purge(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would be deleted."),
    as_json: bool = json_option("Print the summary as JSON."),
) -> None:
    """Delete everything whose retention has ended: library items past expiry and not held (SOP 10.8),
    and other captured material (SOP 2.2), with the task's evidence packages in HOME/exports and its referral
    drafts. Leaves a tombstone for each; safe to run twice at once; a purge
    cut short is finished by the next. Made for cron: without --officer or OHRT_OFFICER it is recorded
    as "scheduled". Exit 1 if anything could not be deleted.

    Example: ohrt purge --dry-run
    """
    from ..stages.library.retention import purge as run_purge

    def work(ctx):
        if STATE.officer or os.environ.get("OHRT_OFFICER"):
            ctx.actor()
        else:
            ctx.officer = ctx.officer_claim = None  # a scheduled run: nobody at the keyboard
        return run_purge(ctx, dry_run=dry_run, progress=display.event)

    from ..ground.progress import Display

    with Display(sys.stdout.isatty() and not as_json) as display:
        summary = run(work)
    if as_json:
        print_json(summary)
    else:
        _print_purge(summary)
    if summary["failed"]:
        raise typer.Exit(1)


def _print_purge(summary: dict) -> None:
    verb = "would purge" if summary["dry_run"] else "purged"
    finish = "would finish" if summary["dry_run"] else "finished"
    for unit in summary["resumed"]:
        typer.echo(f"{finish} an interrupted purge of {unit['object_id']}")
    for unit in summary["purged"]:
        what = "library item" if unit["object_type"] == "library_item" else "task"
        captures = ", ".join(unit["captures"]) or "no captures"
        size = "" if summary["dry_run"] else f", {unit['files']} files, {unit['bytes']:,} bytes"
        typer.echo(f"{verb} {what} {unit['object_id']} ({unit['rule']}, expired {unit['expired_on']}; "
                   f"{captures}{size})")
        for path in unit.get("exports") or []:
            typer.echo(f"  with the evidence package {path}")
        for path in unit.get("referral_drafts") or []:
            typer.echo(f"  with the referral drafts {path}/")
    for item in summary["held"]:
        typer.echo(f"kept under hold: {item['id']} (expired {item['expires_on']})")
    for task in summary["overdue"]:
        typer.echo(f"overdue but open: {task['task_id']} is {task['status']} (retention ended {task['due_on']}): "
                   "finish or close it, and the next purge deletes it")
    for failure in summary["failed"]:
        typer.secho(f"could not finish {failure['object_id']}: {failure['error']}", fg=typer.colors.RED, err=True)
    typer.echo(f"{verb} {len(summary['purged'])}, {finish} {len(summary['resumed'])} interrupted, "
               f"{len(summary['held'])} held, {len(summary['overdue'])} overdue but open, "
               f"{len(summary['failed'])} failed (by {summary['by']})")


def register(app: typer.Typer) -> None:
    app.add_typer(library_app, name="library")
    app.command("purge")(purge)
