"""Stamping what the home holds (SOP 9.1, the standalone computer; 6.3): the `[timestamp]` settings, what is
pending, a request made online (`stamp`, `on_capture`, `on_package`) or carried offline (`request`), a reply
or an OpenTimestamps proof imported and checked (`import_file`), and the list of anchors.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ...ground import audit, exports, otsfile, timestamp
from ...ground.context import Context
from ...ground.db import next_id, transaction
from ...ground.errors import InputError, OhrtError, StateError
from ...ground.times import iso
from .. import ots

ANCHORS_DIR = "anchors"
REQUEST = "request.tsq"
REPLY = "reply.tsr"
ITEMS = "items.json"
KINDS = ("capture", "package", "chain")
DEFAULT_TIMEOUT = 15


@dataclass(frozen=True)
class Item:
    kind: str         # capture, package, chain
    object_id: str    # C-…, the package's name, or the chain head's seq
    digest: str       # sha256 hex of what is stamped
    since: str | None  # when it was sealed (pending since)


# ------------------------------------------------------------------------------------------- settings

def authority_url(ctx: Context) -> str | None:
    url = ctx.settings.get("timestamp.url")
    return str(url).strip() if url else None


def trusted_ca(ctx: Context) -> Path | None:
    """The authority's CA certificate configured as trusted (`[timestamp] ca_file`, relative to the home)."""
    value = ctx.settings.get("timestamp.ca_file")
    if not value:
        return None
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else ctx.home / path


def _require_ca(ctx: Context) -> Path:
    ca = trusted_ca(ctx)
    if ca is None:
        raise InputError("no trusted time-stamp authority: set `ca_file` under [timestamp] in config.toml to the "
                         "authority's CA certificate (PEM), as the authority publishes it.")
    if not ca.is_file():
        raise InputError(f"[timestamp] ca_file {ca} is not a file: give the authority's CA certificate (PEM).")
    return ca


def _timeout(ctx: Context) -> float:
    try:
        return float(ctx.settings.get("timestamp.timeout_seconds", DEFAULT_TIMEOUT))
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT


# -------------------------------------------------------------------------------------------- pending

def pending(ctx: Context, kinds: tuple[str, ...] = KINDS) -> list[Item]:
    """What has no stamp yet: each capture's current manifest, each package's seal, the chain's head."""
    stamped = {(r[0], r[1], r[2]) for r in ctx.db.execute(
        "SELECT i.kind, i.object_id, i.digest FROM anchor_items i JOIN anchors a ON a.id = i.anchor_id "
        "WHERE a.status = 'stamped'")}
    found: list[Item] = []
    if "capture" in kinds:
        for capture_id, digest, finished in ctx.db.execute(
                "SELECT id, manifest_sha256, finished_at FROM captures WHERE purged_at IS NULL ORDER BY id"):
            if ("capture", capture_id, digest) not in stamped:
                found.append(Item("capture", capture_id, digest, _sealed_at(ctx, capture_id, digest) or finished))
    if "package" in kinds:
        for at, name, digest in ctx.db.execute(
                "SELECT at, json_extract(detail, '$.package'), json_extract(detail, '$.package_sha256') FROM audit "
                "WHERE action = 'evidence.export' ORDER BY seq"):
            if digest and ("package", name, digest) not in stamped:
                found.append(Item("package", name, digest, at))
    if "chain" in kinds:
        head = ctx.db.execute("SELECT seq, hash, at FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        last = ctx.db.execute(
            "SELECT MAX(CAST(i.object_id AS INTEGER)) FROM anchor_items i JOIN anchors a ON a.id = i.anchor_id "
            "WHERE a.status = 'stamped' AND i.kind = 'chain'").fetchone()[0]
        # the chain is pending once anything but stamping itself was recorded after the stamped head
        since = ctx.db.execute("SELECT MIN(at) FROM audit WHERE seq > ? AND action NOT LIKE 'anchor.%'",
                               [last or 0]).fetchone()[0]
        if head and since:
            found.append(Item("chain", str(head[0]), head[1], since))
    return found


def _sealed_at(ctx: Context, capture_id: str, digest: str) -> str | None:
    row = ctx.db.execute("SELECT at FROM audit WHERE object_id = ? AND json_extract(detail, '$.manifest_sha256') = ? "
                         "ORDER BY seq DESC LIMIT 1", [capture_id, digest]).fetchone()
    return row[0] if row else None


# ------------------------------------------------------------------------------------------- requests

def _new_anchor(ctx: Context, items: list[Item], mode: str, url: str | None) -> tuple[str, Path, bytes, str]:
    """Write the request's folder and row (status 'requested'); returns (id, folder, tsq, nonce)."""
    leaves = [i.digest for i in items]
    root, proofs = timestamp.merkle(leaves)
    tsq = timestamp.query(root)
    nonce = timestamp.read_query(tsq)["nonce"]
    base = ctx.home / ANCHORS_DIR
    base.mkdir(exist_ok=True)
    with transaction(ctx.db):
        anchor_id = next_id(ctx.db, "A", ctx.now())
        folder = base / anchor_id
        if folder.exists():
            shutil.rmtree(folder)  # left by a request whose transaction did not commit
        folder.mkdir()
        (folder / REQUEST).write_bytes(tsq)
        ots.write_subject(folder, root)  # the same root, for `ots stamp` (the second anchor)
        described = [{"kind": i.kind, "object_id": i.object_id, "leaf": i.digest, "proof": p, "root": root}
                     for i, p in zip(items, proofs)]
        (folder / ITEMS).write_text(json.dumps(described, indent=2) + "\n", encoding="utf-8")
        ctx.db["anchors"].insert({
            "id": anchor_id, "made_at": iso(ctx.now()), "officer": ctx.actor().number, "mode": mode, "url": url,
            "root": root, "nonce": nonce, "status": "requested", "error": None, "answered_at": None,
            "gen_time": None, "tsa": None, "serial": None, "folder": f"{ANCHORS_DIR}/{anchor_id}"})
        ctx.db["anchor_items"].insert_all([
            {"anchor_id": anchor_id, "position": n, "kind": i.kind, "object_id": i.object_id, "digest": i.digest,
             "proof": json.dumps(p)} for n, (i, p) in enumerate(zip(items, proofs))])
        audit.record(ctx, "anchor.request", "anchor", anchor_id, detail={
            "mode": mode, "url": url, "root": root, "items": len(items),
            "captures": [i.object_id for i in items if i.kind == "capture"]})
    return anchor_id, folder, tsq, nonce


def request(ctx: Context, out: str | Path | None = None, mode: str | None = None) -> dict:
    """Write one request over the Merkle root of everything pending, to carry to a networked machine.

    Returns {"id", "request" (path of the .tsq), "copy" (--out), "root", "subject" (the root as a file, for
    `ots stamp`), "subject_copy" (beside --out: NAME.root.txt), "ots" (`ots.on_anchor`: {"state": "off"} unless
    `[timestamp] ots = true`), "items": [{kind, object_id, digest}]}."""
    ctx.actor()
    target = Path(out).expanduser() if out else None
    if target is not None and (target.is_dir() or not target.parent.is_dir()):
        raise InputError(f"--out {target}: give a file name in an existing folder, e.g. /media/usb/ohrt.tsq.")
    if target is None and mode is not None:
        raise InputError("--mode is for the copy written with --out: give --out FILE, or leave out --mode.")
    permissions = exports.for_context(ctx, target.parent, mode) if target is not None else None
    items = pending(ctx)
    if not items:
        raise StateError("nothing is pending: every capture, package and the audit chain's head are stamped "
                         "(`ohrt anchor list`).")
    anchor_id, folder, tsq, _ = _new_anchor(ctx, items, "offline", None)
    subject = folder / ots.SUBJECT
    subject_copy = target.with_name(f"{target.stem}.{ots.SUBJECT}") if target is not None else None
    if target is not None:
        exports.write_bytes(target, tsq, permissions)
        exports.write_bytes(subject_copy, subject.read_bytes(), permissions)
    proof = ots.on_anchor(ctx, anchor_id)  # online only, when asked for: never fails the request
    return {"ots": proof, "id": anchor_id, "request": str(folder / REQUEST), "copy": str(target) if target else None,
            "root": timestamp.merkle([i.digest for i in items])[0], "subject": str(subject),
            "subject_copy": str(subject_copy) if subject_copy else None,
            "items": [{"kind": i.kind, "object_id": i.object_id, "digest": i.digest} for i in items]}


def stamp(ctx: Context, kinds: tuple[str, ...] = KINDS, *, only: list[Item] | None = None) -> dict:
    """Stamp what is pending online with the configured authority, in one request. AuthorityUnreachable
    (exit 1) when it fails: everything stays pending, the attempt is recorded."""
    ctx.actor()
    url = authority_url(ctx)
    if not url:
        raise InputError("no time-stamp authority: set `url` under [timestamp] in config.toml, or carry a request "
                         "to a networked machine (`ohrt anchor request`).")
    ca = _require_ca(ctx)
    items = only if only is not None else pending(ctx, kinds)
    if not items:
        raise StateError("nothing is pending: everything is stamped (`ohrt anchor list`).")
    anchor_id, folder, tsq, _ = _new_anchor(ctx, items, "online", url)
    proof = ots.on_anchor(ctx, anchor_id)  # the second anchor, when asked for: never fails the stamp
    try:
        reply = timestamp.post(url, tsq, timeout=_timeout(ctx))
        return {**_accept(ctx, anchor_id, folder, reply, ca), "ots": proof}
    except OhrtError as exc:
        with transaction(ctx.db):
            ctx.db.execute("UPDATE anchors SET status = 'failed', error = ?, answered_at = ? WHERE id = ?",
                           [exc.message, iso(ctx.now()), anchor_id])
            audit.record(ctx, "anchor.failed", "anchor", anchor_id, detail={"url": url, "error": exc.message})
        raise timestamp.AuthorityUnreachable(f"{exc.message}: {len(items)} item(s) stay pending; "
                                             "`ohrt anchor stamp` tries again, `ohrt anchor request` works offline.")


def on_capture(ctx: Context, capture_id: str) -> list:
    """The post-capture step: stamp the capture's manifest now when an authority is configured. It never
    fails the capture: an authority that is down leaves it pending (`ohrt anchor list`)."""
    if not authority_url(ctx) or trusted_ca(ctx) is None:
        return []
    items = [i for i in pending(ctx, ("capture",)) if i.object_id == capture_id]
    if not items:
        return []
    try:
        return [stamp(ctx, only=items)]
    except OhrtError:
        return []


def on_package(ctx: Context, name: str, digest: str) -> dict | None:
    """After an export: stamp the package's seal now when an authority is configured; None when it is not or
    fails (the seal stays pending, never the export)."""
    if not authority_url(ctx) or trusted_ca(ctx) is None:
        return None
    items = [i for i in pending(ctx, ("package",)) if i.object_id == name and i.digest == digest]
    if not items:
        return None
    try:
        return stamp(ctx, only=items)
    except OhrtError:
        return None


def seal_time(ctx: Context, digest: str) -> dict | None:
    """The earliest stamp of a package's seal (`digest`, the SHA-256 of its tag manifest), checked against the
    trusted authority now: {anchor, gen_time, tsa, verified, detail}, or None when it has none."""
    row = ctx.db.execute(
        "SELECT a.id, a.folder, a.root, a.gen_time, a.tsa, i.proof FROM anchor_items i JOIN anchors a ON "
        "a.id = i.anchor_id WHERE a.status = 'stamped' AND i.kind = 'package' AND i.digest = ? "
        "ORDER BY a.gen_time, a.id LIMIT 1", [digest]).fetchone()
    if row is None:
        return None
    anchor_id, folder, root, gen_time, tsa, proof = row
    verified, detail = check_stamp(ctx.home / folder / REPLY, digest, json.loads(proof), root, trusted_ca(ctx))
    return {"anchor": anchor_id, "gen_time": gen_time, "tsa": tsa, "verified": verified, "detail": detail}


def import_file(ctx: Context, path: str | Path) -> dict:
    """`ohrt anchor import FILE`: an authority's reply (.tsr, `import_reply`) or an OpenTimestamps proof (.ots,
    `ots.import_proof`), told apart by their first bytes. Adds "kind": "rfc3161" or "ots"."""
    source = Path(path).expanduser()
    if source.is_file():
        with open(source, "rb") as handle:
            if otsfile.is_proof(handle.read(len(otsfile.MAGIC))):
                return {"kind": "ots", **ots.import_proof(ctx, source)}
    return {"kind": "rfc3161", **import_reply(ctx, source)}


def import_reply(ctx: Context, path: str | Path) -> dict:
    """Keep an authority's reply to one of this home's requests, once it is shown to answer it (imprint and
    nonce) and to be signed by the trusted authority."""
    ctx.actor()
    source = Path(path).expanduser()
    if not source.is_file():
        raise InputError(f"{source} is not a file: give the reply (.tsr) the authority returned.")
    tsr = source.read_bytes()
    reply = timestamp.read_reply(tsr)
    if not reply.granted:
        raise InputError(f"{source} is the authority's refusal ({reply.status}): send the request again, or to "
                         "another authority.")
    row = ctx.db.execute("SELECT id, folder, status FROM anchors WHERE root = ? AND nonce = ? AND mode = 'offline'",
                         [reply.digest, reply.nonce]).fetchone()
    if row is None:
        raise InputError(f"{source} answers no request of this home (imprint {str(reply.digest)[:16]}…, nonce "
                         f"{reply.nonce}): import the reply to the .tsq that `ohrt anchor request` wrote.")
    anchor_id, folder, status = row
    if status == "stamped":
        raise StateError(f"{source} was already imported for {anchor_id}: nothing to do (`ohrt anchor list`).")
    return _accept(ctx, anchor_id, ctx.home / folder, tsr, _require_ca(ctx))


def _accept(ctx: Context, anchor_id: str, folder: Path, tsr: bytes, ca: Path) -> dict:
    """Check a reply against its request (`openssl ts -verify -queryfile`: imprint, nonce, signature by the
    trusted authority) and keep it."""
    reply = timestamp.read_reply(tsr)
    if not reply.granted:
        raise timestamp.AuthorityUnreachable(f"the authority did not grant the stamp ({reply.status})")
    candidate = folder / f".{REPLY}.new"
    candidate.write_bytes(tsr)
    ok, said = timestamp.verify(candidate, ca_file=ca, query_file=folder / REQUEST)
    if not ok:
        candidate.unlink()
        raise InputError(f"the reply does not verify against request {anchor_id} and the trusted authority {ca} "
                         f"({said}): it is not this request's reply, or not from the authority configured as "
                         "trusted; nothing was kept.")
    with transaction(ctx.db):
        ctx.db.execute("UPDATE anchors SET status = 'stamped', error = NULL, answered_at = ?, gen_time = ?, tsa = ?, "
                       "serial = ? WHERE id = ?", [iso(ctx.now()), reply.gen_time, reply.tsa, reply.serial, anchor_id])
        audit.record(ctx, "anchor.stamped", "anchor", anchor_id, detail={
            "gen_time": reply.gen_time, "tsa": reply.tsa, "serial": reply.serial,
            "reply_sha256": hashlib.sha256(tsr).hexdigest()})
        candidate.replace(folder / REPLY)
    items = [dict(r) for r in ctx.db.query("SELECT kind, object_id, digest FROM anchor_items WHERE anchor_id = ? "
                                           "ORDER BY position", [anchor_id])]
    return {"id": anchor_id, "gen_time": reply.gen_time, "tsa": reply.tsa, "serial": reply.serial,
            "reply": str(folder / REPLY), "items": items}


def check_stamp(reply: Path, leaf: str, proof: list, root: str, ca: Path | None) -> tuple[bool, str]:
    """Whether `leaf` leads by `proof` to `root` and the reply stamps `root` under the trusted `ca`."""
    if timestamp.root_from(leaf, proof) != root:
        return False, "the item's proof does not lead to the stamped root"
    if ca is None or not ca.is_file():
        return False, "no trusted authority certificate to check it against ([timestamp] ca_file)"
    if not reply.is_file():
        return False, f"the authority's reply {reply} is missing"
    ok, said = timestamp.verify(reply, ca_file=ca, digest=root)
    return ok, "verified against the trusted authority's certificate" if ok else f"does not verify: {said}"


# ------------------------------------------------------------------------------------------- listing

def list_anchors(ctx: Context) -> dict:
    """What is stamped (by which request, at the authority's time), what was requested and not yet answered,
    and what is pending since when.

    Returns {"stamped": [{kind, object_id, digest, anchor, gen_time, tsa, ots}], "requested": [{id, made_at,
    mode, items, ots}], "failed": [{id, made_at, url, error}] (online attempts since the last success),
    "pending": [{kind, object_id, digest, since, requested_in, ots}], "authority": url or None, "trusted_ca":
    path or None, "ots_online": whether requests are stamped with `ots` as they are made}; each "ots" is the
    item's OpenTimestamps state ({anchor, state (pending|bitcoin), bitcoin_block, calendars}) or None."""
    stamped = [dict(r) for r in ctx.db.query(
        "SELECT i.kind, i.object_id, i.digest, a.id AS anchor, a.gen_time, a.tsa FROM anchor_items i "
        "JOIN anchors a ON a.id = i.anchor_id WHERE a.status = 'stamped' ORDER BY a.gen_time, a.id, i.position")]
    requested = [dict(r) for r in ctx.db.query(
        "SELECT a.id, a.made_at, a.mode, COUNT(i.position) AS items FROM anchors a JOIN anchor_items i "
        "ON i.anchor_id = a.id WHERE a.status = 'requested' GROUP BY a.id ORDER BY a.id")]
    last_ok = ctx.db.execute("SELECT MAX(made_at) FROM anchors WHERE status = 'stamped'").fetchone()[0] or ""
    failed = [dict(r) for r in ctx.db.query(
        "SELECT id, made_at, url, error FROM anchors WHERE status = 'failed' AND made_at >= ? ORDER BY id", [last_ok])]
    outstanding: dict[tuple, str] = {}
    for kind, object_id, digest, anchor_id in ctx.db.execute(
            "SELECT i.kind, i.object_id, i.digest, a.id FROM anchor_items i JOIN anchors a ON a.id = i.anchor_id "
            "WHERE a.status = 'requested' ORDER BY a.id"):
        outstanding[(kind, object_id, digest)] = anchor_id
    proofs = ots.item_states(ctx)
    waiting = [{"kind": i.kind, "object_id": i.object_id, "digest": i.digest, "since": i.since,
                "requested_in": outstanding.get((i.kind, i.object_id, i.digest)),
                "ots": proofs.get((i.kind, i.object_id, i.digest))} for i in pending(ctx)]
    for entry in stamped:
        entry["ots"] = proofs.get((entry["kind"], entry["object_id"], entry["digest"]))
    states = {r[0]: r[1] for r in ctx.db.execute("SELECT anchor_id, state FROM anchor_ots")}
    for entry in requested:
        entry["ots"] = states.get(entry["id"])
    ca = trusted_ca(ctx)
    return {"stamped": stamped, "requested": requested, "failed": failed, "pending": waiting,
            "authority": authority_url(ctx), "trusted_ca": str(ca) if ca else None,
            "ots_online": ots.enabled(ctx)}
