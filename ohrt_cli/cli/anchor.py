"""`ohrt anchor …`: trusted time (RFC 3161, and OpenTimestamps beside it) for captures, packages and the audit
chain, online or offline (SOP 9.1, the standalone computer; 6.3: stages/anchor.py, stages/ots.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import json_option, mode_option, new_app, print_json, print_table, run, under, wide_option

anchor_app = new_app("Trusted time: RFC 3161 stamps (and OpenTimestamps proofs beside them) over captures' "
                     "manifests, packages' seals and the audit chain's head.\n\nExample: ohrt anchor list")


@anchor_app.command("request")
def anchor_request(
    out: Optional[Path] = typer.Option(None, "--out", metavar="FILE", help="Also write the request here (a .tsq "
                                       "on the stick you carry), e.g. /media/usb/ohrt.tsq, and its root beside it "
                                       "for `ots stamp` (ohrt.root.txt).", show_default=False),
    mode: Optional[str] = mode_option(),
    as_json: bool = json_option("Print the request as JSON."),
) -> None:
    """Write one time-stamp request (.tsq, as `openssl ts -query` makes) over a Merkle root of everything not
    yet stamped: each capture's manifest, each package's seal and the audit chain's head. Carry it to a
    networked machine, get the authority's reply (see the README), and bring the .tsr back to `ohrt anchor
    import`. The same root is written as a small file (root.txt) that `ots stamp` can stamp there too, for
    an OpenTimestamps proof (.ots) to import the same way (with `[timestamp] ots = true` and a network,
    ohrt runs `ots stamp` itself).

    Example: ohrt anchor request --out /media/usb/ohrt.tsq
    """
    from ..stages import anchor

    result = run(lambda ctx: anchor.request(ctx, out, mode))
    if as_json:
        print_json(result)
        return
    kinds = {k: sum(1 for i in result["items"] if i["kind"] == k) for k in ("capture", "package", "chain")}
    typer.echo(f"{result['id']}: request over {len(result['items'])} item(s) ({kinds['capture']} capture(s), "
               f"{kinds['package']} package(s), audit chain head {'yes' if kinds['chain'] else 'no'})")
    typer.echo(f"  request: {result['request']}" + (f"\n  copied to: {result['copy']}" if result["copy"] else ""))
    typer.echo(f"  Merkle root (the digest stamped): {result['root']}")
    typer.echo(f"  root for OpenTimestamps: {result['subject_copy'] or result['subject']}")
    typer.echo("on a networked machine: curl -sS -H 'Content-Type: application/timestamp-query' --data-binary "
               "@ohrt.tsq https://AUTHORITY -o ohrt.tsr ; then: ohrt anchor import ohrt.tsr")
    typer.echo("  and, optionally: ots stamp ohrt.root.txt ; then: ohrt anchor import ohrt.root.txt.ots")
    _print_ots(result["ots"])


@anchor_app.command("stamp")
def anchor_stamp(as_json: bool = json_option("Print the stamp as JSON.")) -> None:
    """Stamp everything not yet stamped, now, with the authority in `[timestamp] url` (one request over a
    Merkle root). When it cannot be reached, everything stays pending and the attempt is listed. With
    `[timestamp] ots = true` the request's root is stamped with `ots stamp` too (OpenTimestamps: pending
    until a Bitcoin block attests it); calendars that fail fail nothing.

    Example: ohrt anchor stamp
    """
    from ..stages import anchor

    result = run(lambda ctx: anchor.stamp(ctx))
    if as_json:
        print_json(result)
        return
    _print_stamped(result)
    _print_ots(result["ots"])


@anchor_app.command("import")
def anchor_import(
    file: Path = typer.Argument(..., metavar="FILE.tsr|FILE.ots", help="The authority's reply to a request of "
                                "this home, or the OpenTimestamps proof of its root."),
    as_json: bool = json_option("Print the stamp as JSON."),
) -> None:
    """Keep an authority's reply to a request of this home, once it is shown to answer that request (its
    digest and nonce) and to be signed by the authority in `[timestamp] ca_file`. Or keep an OpenTimestamps
    proof (`ots stamp ohrt.root.txt` wrote ohrt.root.txt.ots) once it is shown to commit to a request's
    root: pending until a Bitcoin block attests it; an upgraded proof (`ots upgrade`) replaces it.

    Example: ohrt anchor import /media/usb/ohrt.tsr

    Example: ohrt anchor import /media/usb/ohrt.root.txt.ots
    """
    from ..stages import anchor

    result = run(lambda ctx: anchor.import_file(ctx, file))
    if as_json:
        print_json(result)
        return
    if result["kind"] == "ots":
        _print_ots(result)
        for item in result["items"]:
            typer.echo(f"  {item['kind']:<8} {item['object_id']}")
        return
    _print_stamped(result)


def _print_ots(result: dict | None) -> None:
    """What became of the OpenTimestamps proof of a request."""
    if not result or result["state"] == "off":
        return
    if result["state"] == "failed":
        typer.echo(f"OpenTimestamps: not stamped ({result['error']}); stays without a proof: stamp "
                   "root.txt by hand with `ots stamp`, then `ohrt anchor import root.txt.ots`")
        return
    typer.echo(f"{result['id']}: OpenTimestamps proof {'replaced' if result['replaced'] else 'kept'}: "
               f"{result['described']}; kept in {result['proof']}")


def _print_stamped(result: dict) -> None:
    typer.echo(f"{result['id']}: stamped {result['gen_time']} by {result['tsa'] or 'the authority'} "
               f"(serial {result['serial']}); kept in {result['reply']}")
    for item in result["items"]:
        typer.echo(f"  {item['kind']:<8} {item['object_id']}  existed no later than {result['gen_time']}")


@anchor_app.command("list")
def anchor_list(wide: bool = wide_option(), as_json: bool = json_option()) -> None:
    """What is stamped (and at the authority's time), what was requested and not answered yet, and what is
    pending and since when; beside each, its OpenTimestamps state (pending until a Bitcoin block attests it).

    Example: ohrt anchor list --json
    """
    from ..stages import anchor

    result = run(anchor.list_anchors)
    if as_json:
        print_json(result)
        return
    typer.echo(f"authority: {under(result['authority'] or 'none set ([timestamp] url): offline requests only', 11)}")
    typer.echo(f"trusted certificate: {under(result['trusted_ca'] or 'none set ([timestamp] ca_file)', 21)}")
    print_table([{**r, "ots": _ots_cell(r["ots"])} for r in result["stamped"]],
                [("kind", "Kind"), ("object_id", "Item"), ("gen_time", "Existed no later than"),
                 ("anchor", "Stamp"), ("ots", "OpenTimestamps")], title="Stamped", empty="nothing stamped yet",
                drop=("anchor",))
    print_table([{**r, "requested_in": r["requested_in"] or "—", "ots": _ots_cell(r["ots"])} for r in result["pending"]],
                [("kind", "Kind"), ("object_id", "Item"), ("since", "Pending since"),
                 ("requested_in", "Requested in"), ("ots", "OpenTimestamps")], title="Pending",
                empty="nothing pending", drop=("requested_in",))
    if any(r["ots"] for r in result["stamped"] + result["pending"]):
        typer.echo(under("OpenTimestamps: pending until a Bitcoin block attests it; a block shown is confirmed with "
                         "`ots verify` (ohrt runs no Bitcoin node)", 0))
    for failed in result["failed"]:
        typer.echo(under(f"online attempt {failed['id']} at {failed['made_at']} failed: {failed['error']}", 0))


def _ots_cell(entry: dict | None) -> str:
    if entry is None:
        return "—"
    return f"block {entry['bitcoin_block']}" if entry["state"] == "bitcoin" else "pending"


def register(app: typer.Typer) -> None:
    app.add_typer(anchor_app, name="anchor")
