"""OpenTimestamps, the second anchor: a free, public proof over an anchor request's Merkle root, pending until a
Bitcoin block attests it (SOP 9.1 (standalone machine), 6.3; ACPO 3).

Every anchor request (`stages/anchor/`) also writes its root as a small text file, `root.txt`, beside its
`.tsq`. The officer carries it with the `.tsq` and, on a networked machine, runs `ots stamp root.txt` (later
`ots upgrade root.txt.ots`); `ohrt anchor import root.txt.ots` keeps the proof here once it is shown to
commit to the root of one of this home's requests, whose items keep their paths to the root. Where
`[timestamp] ots = true` and the `ots` command is installed, each new request is stamped with it at once
(`on_anchor`); a calendar that cannot be reached fails nothing.

A proof holding only calendar attestations is *pending*: the calendars promise to put it in Bitcoin, and
nothing is proven until they have. One holding a Bitcoin block header attestation says "existed no later
than block N", which ohrt shows but does not itself confirm (it runs no Bitcoin node): `ots verify` does,
and ohrt prints that command for the item. The RFC 3161 stamp stays the anchor ohrt checks itself; this one
is shown beside it, never in its place.

Rows: `anchor_ots` (one per anchor request, replaced by an upgraded proof); files: anchors/A-…/root.txt.ots.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from ..ground import audit, otsfile, timestamp
from ..ground.context import Context
from ..ground.db import transaction
from ..ground.errors import InputError, OhrtError, StateError
from ..ground.times import iso

SUBJECT = "root.txt"
PROOF = SUBJECT + otsfile.SUFFIX
PACKAGE_DIR = "ots"  # inside a package's timestamps/C-…/


def enabled(ctx: Context) -> bool:
    """`[timestamp] ots = true`: stamp each request with the `ots` command as it is made."""
    return ctx.settings.get("timestamp.ots") is True


def calendars(ctx: Context) -> list[str] | None:
    """`[timestamp] ots_calendars`, or None for the client's own calendars."""
    found = ctx.settings.get("timestamp.ots_calendars")
    return [str(u) for u in found] if isinstance(found, list) and found else None


def write_subject(folder: Path, root: str) -> Path:
    """The request's root as the file `ots stamp` is given (anchors/A-…/root.txt)."""
    path = folder / SUBJECT
    path.write_bytes(otsfile.subject(root))
    return path


# ------------------------------------------------------------------------------------------- keeping

def import_proof(ctx: Context, path: str | Path) -> dict:
    """Keep an `.ots` proof over the root file of one of this home's requests; an upgraded proof (a Bitcoin
    attestation) replaces a pending one. InputError, with nothing kept, for a proof of any other file."""
    ctx.actor()
    source = Path(path).expanduser()
    if not source.is_file():
        raise InputError(f"{source} is not a file: give the .ots proof `ots stamp` wrote beside root.txt.")
    data = source.read_bytes()
    proof = otsfile.read(data, what=str(source))
    found = None
    for anchor_id, folder, root in ctx.db.execute("SELECT id, folder, root FROM anchors ORDER BY id DESC"):
        if otsfile.subject_sha256(root) == proof.file_sha256:
            found = (anchor_id, folder, root)
            break
    if found is None:
        raise InputError(f"{source} is a proof of another file (sha256 {proof.file_sha256[:16]}…), not of the root "
                         "of any request of this home: stamp the root.txt that `ohrt anchor request` wrote, and "
                         "import the .ots beside it; nothing was kept.")
    anchor_id, folder, root = found
    before = ctx.db.execute("SELECT state, bitcoin_block, proof_sha256 FROM anchor_ots WHERE anchor_id = ?",
                            [anchor_id]).fetchone()
    digest = hashlib.sha256(data).hexdigest()
    if before is not None and before[2] == digest:
        raise StateError(f"{source} was already imported for {anchor_id}: nothing to do (`ohrt anchor list`).")
    if before is not None and before[0] == "bitcoin" and proof.state != "bitcoin":
        raise StateError(f"{anchor_id} already holds a proof attested in Bitcoin block {before[1]}; {source} is "
                         "still pending and would not add to it: nothing was changed.")
    return _keep(ctx, anchor_id, ctx.home / folder, root, data, proof, "import", replaced=before is not None)


def _keep(ctx: Context, anchor_id: str, folder: Path, root: str, data: bytes, proof: otsfile.Proof, source: str,
          *, replaced: bool) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / SUBJECT).is_file():  # a request made before ohrt wrote it
        write_subject(folder, root)
    candidate = folder / f".{PROOF}.new"
    candidate.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    with transaction(ctx.db):
        ctx.db.execute("INSERT OR REPLACE INTO anchor_ots (anchor_id, state, bitcoin_block, calendars, proof_sha256, "
                       "source, kept_at, officer) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [anchor_id, proof.state, proof.bitcoin_block, json.dumps(proof.calendars), digest, source,
                        iso(ctx.now()), ctx.actor().number])
        audit.record(ctx, "anchor.ots", "anchor", anchor_id, detail={
            "state": proof.state, "bitcoin_block": proof.bitcoin_block, "calendars": proof.calendars,
            "proof_sha256": digest, "root": root, "source": source, "replaced": replaced})
        candidate.replace(folder / PROOF)
    items = [dict(r) for r in ctx.db.query("SELECT kind, object_id, digest FROM anchor_items WHERE anchor_id = ? "
                                           "ORDER BY position", [anchor_id])]
    return {"id": anchor_id, "state": proof.state, "bitcoin_block": proof.bitcoin_block, "calendars": proof.calendars,
            "described": otsfile.describe(proof), "root": root, "subject": str(folder / SUBJECT),
            "proof": str(folder / PROOF), "replaced": replaced, "items": items}


def on_anchor(ctx: Context, anchor_id: str) -> dict:
    """After a request is made: stamp its root with `ots stamp` when `[timestamp] ots = true`. Never fails:
    {"state": "off"} when not asked for, {"state": "failed", "error"} when the command or its calendars fail
    (the request stays without a proof: `ots stamp` by hand, then `ohrt anchor import`), else what `_keep`
    returns (state "pending")."""
    if not enabled(ctx):
        return {"id": anchor_id, "state": "off"}
    row = ctx.db.execute("SELECT folder, root FROM anchors WHERE id = ?", [anchor_id]).fetchone()
    folder, root = ctx.home / row[0], row[1]
    subject = folder / SUBJECT
    if not subject.is_file():
        write_subject(folder, root)
    try:
        data = otsfile.stamp(subject, calendars=calendars(ctx), timeout=_timeout(ctx))
        proof = otsfile.read(data, what="the proof `ots stamp` wrote")
        if proof.file_sha256 != otsfile.subject_sha256(root):
            raise otsfile.OtsUnavailable("`ots stamp` wrote a proof of another file")
    except OhrtError as exc:
        with transaction(ctx.db):
            audit.record(ctx, "anchor.ots_failed", "anchor", anchor_id, detail={"error": exc.message})
        return {"id": anchor_id, "state": "failed", "error": exc.message}
    return _keep(ctx, anchor_id, folder, root, data, proof, "ots stamp", replaced=False)


def _timeout(ctx: Context) -> float:
    try:
        return float(ctx.settings.get("timestamp.timeout_seconds", 15))
    except (TypeError, ValueError):
        return 15.0


# ------------------------------------------------------------------------------------------- states

def item_states(ctx: Context) -> dict[tuple, dict]:
    """The best OpenTimestamps state of each (kind, object_id, digest) in a request with a proof: one attested
    in Bitcoin (the lowest block) before any pending. {key: {anchor, state, bitcoin_block, calendars}}."""
    best: dict[tuple, dict] = {}
    for kind, object_id, digest, anchor_id, state, block, cals in ctx.db.execute(
            "SELECT i.kind, i.object_id, i.digest, o.anchor_id, o.state, o.bitcoin_block, o.calendars FROM "
            "anchor_items i JOIN anchor_ots o ON o.anchor_id = i.anchor_id ORDER BY o.anchor_id"):
        entry = {"anchor": anchor_id, "state": state, "bitcoin_block": block, "calendars": json.loads(cals)}
        key = (kind, object_id, digest)
        if key not in best or _rank(entry) < _rank(best[key]):
            best[key] = entry
    return best


def _rank(entry: dict) -> tuple:
    return (0, entry["bitcoin_block"]) if entry["state"] == "bitcoin" else (1, 0)


def words(entry: dict | None) -> str:
    """An item's OpenTimestamps state in the officer's words (listings, show, verify)."""
    if entry is None:
        return "none"
    if entry["state"] == "bitcoin":
        return f"attested in Bitcoin block {entry['bitcoin_block']} — confirm with `ots verify`"
    return "pending until confirmed"


def capture_state(ctx: Context, capture_id: str, digest: str) -> dict | None:
    """The OpenTimestamps state of a capture's manifest (`digest`, its sha256), checked now: the kept proof
    still commits to the request's root and the manifest leads to it. {anchor, state, bitcoin_block,
    calendars, verified (None: not checked, no opentimestamps library here), detail, proof (path in the
    home)} or None when no request with a proof covers it."""
    entry = item_states(ctx).get(("capture", capture_id, digest))
    if entry is None:
        return None
    folder, root = ctx.db.execute("SELECT folder, root FROM anchors WHERE id = ?", [entry["anchor"]]).fetchone()
    [proof] = [json.loads(r[0]) for r in ctx.db.execute(
        "SELECT proof FROM anchor_items WHERE anchor_id = ? AND kind = 'capture' AND object_id = ? AND digest = ? "
        "LIMIT 1", [entry["anchor"], capture_id, digest])]
    ok, detail = check(ctx.home / folder / PROOF, digest, proof, root)
    return {**entry, "verified": ok, "detail": detail, "proof": f"{folder}/{PROOF}"}


def check(proof_file: Path, leaf: str, proof: list, root: str,
          subject: Path | None = None) -> tuple[bool | None, str]:
    """Whether `leaf` leads by `proof` to `root` and the `.ots` at `proof_file` commits to the root's file
    (and, with `subject`, that file holds the root). What the attestations say is not confirmed here. None
    when the proof cannot be read here (no opentimestamps library): not checked, which is not a problem."""
    if timestamp.root_from(leaf, proof) != root:
        return False, "the item's proof does not lead to the stamped root"
    if subject is not None and (not subject.is_file() or subject.read_bytes() != otsfile.subject(root)):
        return False, f"{subject.name} does not hold the root"
    if not proof_file.is_file():
        return False, f"the OpenTimestamps proof {proof_file.name} is missing"
    if not otsfile.available():
        return None, otsfile.NOT_CHECKED
    try:
        found = otsfile.read(proof_file.read_bytes(), what=proof_file.name)
    except OhrtError as exc:
        return False, exc.message
    if found.file_sha256 != otsfile.subject_sha256(root):
        return False, f"{proof_file.name} is a proof of another file"
    return True, f"commits to the root: {otsfile.describe(found)}"


# ------------------------------------------------------------------------------------------- packages

def package_proofs(ctx: Context, capture_ids: list[str], target: Path, manifests: dict[str, str]) -> list[dict]:
    """Copy into a package (`target` = data/timestamps/) each capture's OpenTimestamps proof over the manifest
    it carries: timestamps/C-…/ots/{root.txt, root.txt.ots, proof.json}. What package.json records under
    timestamps.ots."""
    entries = []
    for capture_id in capture_ids:
        digest = manifests.get(capture_id)
        state = capture_state(ctx, capture_id, digest) if digest else None
        if state is None or not state["verified"]:
            continue
        anchor_dir = ctx.home / ctx.db.execute("SELECT folder FROM anchors WHERE id = ?",
                                               [state["anchor"]]).fetchone()[0]
        item = next(i for i in json.loads((anchor_dir / "items.json").read_text(encoding="utf-8"))
                    if i["kind"] == "capture" and i["object_id"] == capture_id and i["leaf"] == digest)
        folder = target / capture_id / PACKAGE_DIR
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(anchor_dir / PROOF, folder / PROOF)
        (folder / SUBJECT).write_bytes(otsfile.subject(item["root"]))
        (folder / "proof.json").write_text(json.dumps({**item, "anchor": state["anchor"]}, indent=2) + "\n",
                                           encoding="utf-8")
        base = f"timestamps/{capture_id}/{PACKAGE_DIR}"
        entries.append({"capture": capture_id, "anchor": state["anchor"], "state": state["state"],
                        "bitcoin_block": state["bitcoin_block"], "calendars": state["calendars"],
                        "manifest_sha256": digest, "root": item["root"], "subject": f"{base}/{SUBJECT}",
                        "ots": f"{base}/{PROOF}", "proof": f"{base}/proof.json"})
    return entries


def check_package(data: Path, recorded: list[dict], manifests: dict[str, str]) -> tuple[list, list]:
    """The OpenTimestamps proofs a package carries, checked against its manifests: ([{capture, state,
    bitcoin_block, verified, detail}], [(path, problem, detail)])."""
    found, problems = [], []
    for entry in recorded or []:
        capture_id = entry["capture"]
        try:
            item = json.loads((data / entry["proof"]).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            problems.append((f"data/{entry['proof']}", "missing", "the OpenTimestamps proof of inclusion is missing "
                             "or unreadable"))
            continue
        if item.get("leaf") != manifests.get(capture_id):
            ok, detail = False, "the manifest is not the one stamped: changed after stamping"
            problems.append((f"data/captures/{capture_id}/manifest.json", "timestamp", detail))
        else:
            ok, detail = check(data / entry["ots"], item["leaf"], item.get("proof") or [], item.get("root"),
                               data / entry["subject"])
            if ok is False:
                problems.append((f"data/{entry['ots']}", "timestamp", detail))
        state = {"state": entry.get("state"), "bitcoin_block": entry.get("bitcoin_block")}
        if ok:  # what the proof itself holds now, not what package.json says
            try:
                held = otsfile.read((data / entry["ots"]).read_bytes())
                state = {"state": held.state, "bitcoin_block": held.bitcoin_block}
            except OhrtError:
                pass
        found.append({"capture": capture_id, **state, "verified": ok, "detail": detail})
    return found, problems


def verify_commands(name: str, recorded: list[dict]) -> list[dict]:
    """For each OpenTimestamps proof a package carries, the commands that check it beside the package: that
    the manifest leads to the root in root.txt, and `ots verify` of the proof over root.txt."""
    commands = []
    for entry in recorded or []:
        manifest = f"{name}/data/captures/{entry['capture']}/manifest.json"
        walk = timestamp.PROOF_COMMAND.format(proof=f"{name}/data/{entry['proof']}", data=manifest)
        subject = f"{name}/data/{entry['subject']}"
        commands.append({"capture": entry["capture"], "state": entry["state"], "bitcoin_block": entry["bitcoin_block"],
                         "words": words(entry),
                         "commands": [f'test "$({walk})" = "$(cat {subject})" && echo "the manifest leads to the root"',
                                      otsfile.verify_command(f"{name}/data/{entry['ots']}", subject)]})
    return commands


__all__ = ["calendars", "capture_state", "check", "check_package", "enabled", "import_proof", "item_states",
           "on_anchor", "package_proofs", "verify_commands", "words", "write_subject"]
