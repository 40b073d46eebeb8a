"""Proving time with the stamps kept (SOP 9.1, 6.3; ACPO 3): since when a capture is proven to exist
(`proven_times`, `trusted_time`), `ohrt verify`'s check of every capture's stamps (`verify_store`), and the
stamps an evidence package carries: copied in (`package_stamps`), checked (`check_package`) and the
`openssl ts -verify` commands its reader runs (`verify_commands`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from ...ground import timestamp
from ...ground.context import Context
from .. import ots
from .stamping import ANCHORS_DIR, ITEMS, REPLY, _sealed_at, check_stamp, trusted_ca


# ---------------------------------------------------------------------------------------- proving

def proven_times(ctx: Context, capture_id: str) -> list[dict]:
    """Each stamp of the capture, checked now against the trusted authority's certificate: [{"anchor",
    "gen_time" (the authority's time: the manifest existed no later than it), "tsa", "manifest_sha256"
    (the manifest stamped), "current" (whether that is the capture's manifest as it is now), "verified",
    "detail"}], earliest first. Only entries with verified and current prove the capture as it is."""
    row = ctx.db.execute("SELECT manifest_sha256 FROM captures WHERE id = ?", [capture_id]).fetchone()
    if row is None:
        return []
    ca = trusted_ca(ctx)
    found = []
    for anchor_id, folder, root, gen_time, tsa, digest, proof in ctx.db.execute(
            "SELECT a.id, a.folder, a.root, a.gen_time, a.tsa, i.digest, i.proof FROM anchor_items i "
            "JOIN anchors a ON a.id = i.anchor_id WHERE a.status = 'stamped' AND i.kind = 'capture' "
            "AND i.object_id = ? ORDER BY a.gen_time, a.id", [capture_id]):
        verified, detail = check_stamp(ctx.home / folder / REPLY, digest, json.loads(proof), root, ca)
        found.append({"anchor": anchor_id, "gen_time": gen_time, "tsa": tsa, "manifest_sha256": digest,
                      "current": digest == row[0], "verified": verified, "detail": detail})
    return found


def trusted_time(ctx: Context, capture_id: str) -> dict:
    """For `capture show`: the capture's manifest as it is now, proven by an RFC 3161 stamp ({anchor,
    gen_time, tsa, verified, detail}, the earliest verified, or None) and by OpenTimestamps
    (`ots.capture_state`, or None)."""
    row = ctx.db.execute("SELECT manifest_sha256 FROM captures WHERE id = ?", [capture_id]).fetchone()
    if row is None or row[0] is None:
        return {"rfc3161": None, "ots": None}
    stamps = [s for s in proven_times(ctx, capture_id) if s["current"]]
    good = [s for s in stamps if s["verified"]] or stamps
    rfc = {k: good[0][k] for k in ("anchor", "gen_time", "tsa", "verified", "detail")} if good else None
    return {"rfc3161": rfc, "ots": ots.capture_state(ctx, capture_id, row[0])}



def check_captures(ctx: Context, capture_ids: list[str] | None, manifests: dict[str, str]) -> dict:
    """For `ohrt verify`: each capture's proven time, and a problem where the manifest on disk (its sha256 in
    `manifests`) is not the one stamped and no audit entry records the change.

    Returns {"times": {capture_id: {gen_time, anchor} or None}, "problems": [{capture, path, problem, detail}]}."""
    times, problems = {}, []
    for capture_id, on_disk in manifests.items():
        stamps = proven_times(ctx, capture_id)
        good = [s for s in stamps if s["verified"] and s["manifest_sha256"] == on_disk]
        times[capture_id] = {"gen_time": good[0]["gen_time"], "anchor": good[0]["anchor"], "tsa": good[0]["tsa"]} \
            if good else None
        for s in stamps:
            if not s["verified"] and trusted_ca(ctx) is not None:
                problems.append({"capture": capture_id, "path": f"{ANCHORS_DIR}/{s['anchor']}/{REPLY}",
                                 "problem": "timestamp", "detail": f"the stamp of {s['gen_time']} {s['detail']}"})
        if stamps and not good and not _recorded(ctx, capture_id, on_disk):
            latest = stamps[-1]
            problems.append({"capture": capture_id, "path": "manifest.json", "problem": "timestamp", "detail": (
                f"is not the manifest stamped at {latest['gen_time']} ({latest['anchor']}, sha256 "
                f"{latest['manifest_sha256'][:16]}…), and no audit entry records it: it was changed after stamping")})
    return {"times": times, "problems": problems}


def verify_store(ctx: Context, capture_ids: list[str] | None = None, progress=None) -> dict:
    """`ohrt verify`: the store's own check (`capture.verify_captures`), and each capture's proven time with
    its stamps checked against the trusted authority; a manifest changed after it was stamped is a problem.
    Adds "proven" ({gen_time, anchor, tsa} or None) and "ots" (`ots.capture_state`, or None) to each
    capture's report, "stamped" (how many are proven) and "ots" ({pending, bitcoin}: how many of each)."""
    from .. import capture

    report = capture.verify_captures(ctx, capture_ids, progress=progress)
    manifests = {}
    for entry in report["captures"]:
        if entry.get("purged_at"):
            continue
        path = capture.capture_path(ctx, capture.get_capture(ctx, entry["id"])) / "manifest.json"
        if path.is_file():
            manifests[entry["id"]] = hashlib.sha256(path.read_bytes()).hexdigest()
    checked = check_captures(ctx, list(manifests), manifests)
    for entry in report["captures"]:
        entry["proven"] = checked["times"].get(entry["id"])
        entry["ots"] = ots.capture_state(ctx, entry["id"], manifests[entry["id"]]) if entry["id"] in manifests \
            else None
        if entry["ots"] is not None and entry["ots"]["verified"] is False:
            checked["problems"].append({"capture": entry["id"], "path": entry["ots"]["proof"], "problem": "timestamp",
                                        "detail": f"the OpenTimestamps proof: {entry['ots']['detail']}"})
        mine = [p for p in checked["problems"] if p["capture"] == entry["id"]]
        if mine:
            entry["intact"] = False
            entry["problems"] = entry["problems"] + [{k: v for k, v in p.items() if k != "capture"} for p in mine]
    report["problems"] += checked["problems"]
    report["intact"] = not report["problems"]
    report["stamped"] = sum(1 for e in report["captures"] if e.get("proven"))
    report["ots"] = {state: sum(1 for e in report["captures"] if (e.get("ots") or {}).get("state") == state)
                     for state in ("pending", "bitcoin")}
    return report


def _recorded(ctx: Context, capture_id: str, digest: str) -> bool:
    return _sealed_at(ctx, capture_id, digest) is not None


# ---------------------------------------------------------------------------------------- packages

def package_stamps(ctx: Context, capture_ids: list[str], target: Path, manifests: dict[str, str]) -> dict:
    """Copy into a package (`target` = data/timestamps/) each capture's stamp over the manifest it carries,
    with the reply, the item's proof and the trusted certificate, so each is checked with `openssl ts -verify`
    alone; and each capture's OpenTimestamps proof (`ots.package_proofs`, under "ots"). Returns what
    package.json records under "timestamps"."""
    ca = trusted_ca(ctx)
    entries = []
    for capture_id in capture_ids:
        stamps = [s for s in proven_times(ctx, capture_id) if s["verified"] and
                  s["manifest_sha256"] == manifests.get(capture_id)]
        if not stamps:
            continue
        first = stamps[0]
        anchor_dir = ctx.home / ANCHORS_DIR / first["anchor"]
        item = next(i for i in json.loads((anchor_dir / ITEMS).read_text(encoding="utf-8"))
                    if i["kind"] == "capture" and i["object_id"] == capture_id and i["leaf"] == first["manifest_sha256"])
        folder = target / capture_id
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(anchor_dir / REPLY, folder / REPLY)
        (folder / "proof.json").write_text(json.dumps({**item, "anchor": first["anchor"]}, indent=2) + "\n",
                                           encoding="utf-8")
        entries.append({"capture": capture_id, "gen_time": first["gen_time"], "tsa": first["tsa"],
                        "anchor": first["anchor"], "manifest_sha256": first["manifest_sha256"], "root": item["root"],
                        "reply": f"timestamps/{capture_id}/{REPLY}", "proof": f"timestamps/{capture_id}/proof.json",
                        "direct": not item["proof"]})
    if entries and ca is not None:
        shutil.copyfile(ca, target / "tsa-ca.pem")
    return {"trusted_ca": "timestamps/tsa-ca.pem" if entries and ca else None,
            "ca_sha256": hashlib.sha256(ca.read_bytes()).hexdigest() if entries and ca else None,
            "captures": entries, "ots": ots.package_proofs(ctx, capture_ids, target, manifests)}


def check_package(data: Path, recorded: dict, manifests: dict[str, str], ca: Path | None = None) -> tuple[list, list]:
    """The stamps a package carries, checked with the certificate it carries (or `ca`, the one trusted here):
    ([{capture, gen_time, tsa, verified, detail}], [(path, problem, detail)])."""
    problems, found = [], []
    ca = ca or (data / recorded["trusted_ca"] if recorded.get("trusted_ca") else None)
    for entry in recorded.get("captures") or []:
        capture_id = entry["capture"]
        reply, proof_file = data / entry["reply"], data / entry["proof"]
        try:
            proof = json.loads(proof_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            problems.append((f"data/{entry['proof']}", "missing", "the stamp's proof of inclusion is missing or unreadable"))
            continue
        on_disk = manifests.get(capture_id)
        if proof.get("leaf") != on_disk:
            problems.append((f"data/captures/{capture_id}/manifest.json", "timestamp",
                             f"is not the manifest stamped at {entry.get('gen_time')}: changed after stamping"))
            found.append({"capture": capture_id, "gen_time": entry.get("gen_time"), "tsa": entry.get("tsa"),
                          "verified": False, "detail": "the manifest is not the one stamped"})
            continue
        ok, detail = check_stamp(reply, proof["leaf"], proof.get("proof") or [], proof.get("root"), ca)
        if not ok:
            problems.append((f"data/{entry['reply']}", "timestamp", detail))
        found.append({"capture": capture_id, "gen_time": entry.get("gen_time"), "tsa": entry.get("tsa"),
                      "verified": ok, "detail": detail})
    return found, problems


def verify_commands(name: str, recorded: dict) -> list[dict]:
    """The exact `openssl ts -verify` commands for each stamp a package carries (run beside the package)."""
    ca = f"{name}/data/{recorded.get('trusted_ca')}"
    commands = []
    for entry in recorded.get("captures") or []:
        reply = f"{name}/data/{entry['reply']}"
        if entry.get("direct"):
            check = " ".join(timestamp.verify_args(reply, ca_file=ca,
                                                   data=f"{name}/data/captures/{entry['capture']}/manifest.json"))
            commands.append({"capture": entry["capture"], "gen_time": entry["gen_time"], "tsa": entry["tsa"],
                             "commands": [f"openssl {check}"]})
        else:  # the root the manifest leads to by its proof, as the digest the stamp must carry
            root = timestamp.PROOF_COMMAND.format(proof=f"{name}/data/{entry['proof']}",
                                                  data=f"{name}/data/captures/{entry['capture']}/manifest.json")
            check = " ".join(timestamp.verify_args(reply, ca_file=ca, digest=f'"$({root})"'))
            commands.append({"capture": entry["capture"], "gen_time": entry["gen_time"], "tsa": entry["tsa"],
                             "commands": [f"openssl {check}"]})
    return commands
