"""The exact commands a reader of an evidence package runs to check it without ohrt (SOP 9.1's capture
shown unaltered, for the court the West Midlands practice prepares it for, seeds/000): the bag, the seal,
each capture's sums, signatures, archives and time stamp, the audit excerpt's hashes, and each signed act
with the openssl command that checks its officer's signature. `report.view` shows them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ...ground import signing
from .. import anchor, ots

if TYPE_CHECKING:
    from .contents import Package

AUDIT_CHECK = """python3 -c 'import hashlib,json,sys
F=["seq","at","officer","officer_name","action","object_type","object_id","reason","detail","prev_hash"]
for line in open(sys.argv[1],encoding="utf-8"):
    e=json.loads(line)
    h=hashlib.sha256(json.dumps([e[k] for k in F],sort_keys=True,ensure_ascii=False,separators=(",",":")).encode()).hexdigest()
    print(e["seq"],e["action"],"ok" if h==e["hash"] else "ALTERED")' {name}/data/audit/audit-excerpt.jsonl"""


def archives(manifest: dict) -> list[str]:
    """The capture's WACZ files (a page's archive, or one ingested), which a reader can validate and replay."""
    return [f["path"] for f in manifest.get("files", [])
            if f.get("kind") == "wacz" and f.get("status") == "ok" and f.get("path")]


def signed_acts(package: "Package", root: Path, officer) -> list[dict]:
    """Who captured, approved, held…: each act whose writer's signature the package carries
    (audit/signatures/), and each capture's manifest co-signed by its sealing officer, with the openssl
    command that checks it against the officer's public key (officers/NUMBER.pem)."""
    from .contents import OFFICERS_DIR, SIGNATURES_DIR, SIGNED_ACTS

    name = package.name
    rows = []

    def key_of(number: str) -> dict:
        pem = root / OFFICERS_DIR / f"{number}.pem"
        return {"fingerprint": signing.fingerprint(pem.read_bytes()) if pem.is_file() else None,
                "key": f"{name}/data/{OFFICERS_DIR}/{number}.pem",
                "key_command": signing.FINGERPRINT_COMMAND.format(key=f"{name}/data/{OFFICERS_DIR}/{number}.pem")}

    for entry in package.audit:
        if entry["action"] in SIGNED_ACTS and (root / SIGNATURES_DIR / f"{entry['seq']}.sig").is_file():
            where = f"{name}/data/{SIGNATURES_DIR}/{entry['seq']}"
            key = key_of(entry["officer"])
            rows.append({"what": f"{SIGNED_ACTS[entry['action']]} {entry['object_id']}"
                         + (f" ({_detail(entry).get('verdict')})" if entry["action"] == "referral.qa" else ""),
                         "who": officer(entry["officer"]), "at": entry["at"], "seq": entry["seq"], **key,
                         "command": f"openssl pkeyutl -verify -pubin -inkey {key['key']} -rawin "
                                    f"-in {where}.hash -sigfile {where}.sig"})
    for capture in package.captures:
        sealed = capture["manifest"].get("sealed_by") or {}
        if sealed.get("number"):
            folder = f"{name}/data/captures/{capture['id']}"
            key = key_of(sealed["number"])
            rows.append({"what": f"sealed the manifest of {capture['id']}", "who": officer(sealed["number"]),
                         "at": capture["manifest"].get("finished_at"), "seq": None, **key,
                         "command": f"openssl pkeyutl -verify -pubin -inkey {key['key']} -rawin "
                                    f"-in {folder}/manifest.json -sigfile {folder}/manifest.officer.sig"})
    return rows


def _detail(entry: dict) -> dict:
    detail = entry.get("detail") or {}
    return json.loads(detail) if isinstance(detail, str) else detail


def check_commands(name: str, capture_ids: list[str], archives: dict[str, list[str]] | None = None,
                   fingerprint: str = "FINGERPRINT", timestamps: dict | None = None) -> dict:
    """The exact commands that check this package, to run in the folder that holds it."""
    archives = archives or {}
    stamps = {e["capture"]: e for e in anchor.verify_commands(name, timestamps or {})}
    proofs = {e["capture"]: e for e in ots.verify_commands(name, (timestamps or {}).get("ots") or [])}
    return {
        "timestamp_ca": f"openssl x509 -in {name}/data/{timestamps['trusted_ca']} -noout -subject -fingerprint -sha256"
        if (timestamps or {}).get("trusted_ca") else None,
        "bag": f"bagit.py --validate {name}",
        "ohrt": f"ohrt verify --package {name}",
        "key": signing.FINGERPRINT_COMMAND.format(key=f"{name}/data/public.pem"),
        "seal": (f"openssl pkeyutl -verify -pubin -inkey {name}/data/public.pem -rawin "
                 f"-in {name}/tagmanifest-sha256.txt -sigfile {name}/seal/tagmanifest-sha256.txt.sig"),
        "ohrt_pinned": f"ohrt verify --package {name} --key-fingerprint {fingerprint}",
        "captures": [{
            "id": capture_id,
            "sums": f"(cd {name}/data/captures/{capture_id} && sha256sum -c SHA256SUMS)",
            "signature": (f"openssl pkeyutl -verify -pubin -inkey {name}/data/public.pem -rawin "
                          f"-in {name}/data/captures/{capture_id}/manifest.json "
                          f"-sigfile {name}/data/captures/{capture_id}/manifest.sig"),
            "archives": [f"wacz validate -f {name}/data/captures/{capture_id}/{path}"
                         for path in archives.get(capture_id, [])],
            "timestamp": stamps.get(capture_id),
            "ots": proofs.get(capture_id),
        } for capture_id in capture_ids],
        "audit": AUDIT_CHECK.format(name=name),
    }
