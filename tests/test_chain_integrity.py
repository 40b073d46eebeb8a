"""The audit chain an insider cannot quietly undo (DPA 2018 s.62; SOP 3.6, 10.2): every entry signed by
who wrote it, the head checkpointed outside the database, the roster and keys set against the chain.
Each forgery is made with the sqlite3 module, as an insider would with the sqlite3 shell."""

from __future__ import annotations

import base64
import json
import sqlite3
import tomllib

import tomli_w
from cryptography.hazmat.primitives import serialization

from ohrt_cli.ground.audit import canonical_json, entry_hash
from support.home import CONSTABLE, SERGEANT, add_task


def insider(ohrt) -> sqlite3.Connection:
    """The database as an insider opens it with the sqlite3 shell, the append-only triggers dropped."""
    db = sqlite3.connect(ohrt.home / "ohrt.db")
    db.execute("DROP TRIGGER IF EXISTS audit_no_update")
    db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    return db


def verify(ohrt, *against):
    result = ohrt("audit", "verify", "--json", *[a for path in against for a in ("--against", path)])
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["intact"] else 1)
    return report


def kinds(report) -> set:
    return {(p["check"], p["problem"]) for p in report["problems"]}


def forge(ohrt, officer: str, action: str, detail: dict, *, key_of: str | None = None) -> int:
    """Append a well-formed entry as `officer`, move the head, and sign it with `key_of`'s training key."""
    db = insider(ohrt)
    seq, prev = db.execute("SELECT seq, hash FROM audit_head").fetchone()
    name = {SERGEANT: "PS Ann Lee", CONSTABLE: "PC Sam Okafor"}[officer]
    entry = {"seq": seq + 1, "at": "2026-12-01T10:00:00+00:00", "officer": officer, "officer_name": name,
             "action": action, "object_type": "referral", "object_id": "R-2026-000001", "reason": None,
             "detail": canonical_json(detail), "prev_hash": prev}
    entry["hash"] = entry_hash(entry)
    db.execute(f"INSERT INTO audit ({', '.join(entry)}) VALUES ({', '.join('?' * len(entry))})", list(entry.values()))
    db.execute("UPDATE audit_head SET seq = ?, hash = ?", [entry["seq"], entry["hash"]])
    if key_of:
        key = serialization.load_pem_private_key(
            (ohrt.home / "keys" / "officers" / f"{key_of}.key").read_bytes(), password=None)
        fingerprint = tomllib.loads((ohrt.home / "config.toml").read_text())
        fingerprint = next(o["fingerprint"] for o in fingerprint["officers"] if o["number"] == key_of)
        db.execute("INSERT INTO audit_signatures VALUES (?, ?, ?, ?)", [
            entry["seq"], key_of, fingerprint, base64.b64encode(key.sign(entry["hash"].encode())).decode()])
    db.commit()
    db.close()
    return entry["seq"]


def test_an_untouched_home_verifies_with_every_entry_signed(ohrt):
    add_task(ohrt, "https://www.tiktok.com/@a/video/1")
    report = verify(ohrt)
    assert report["intact"] and report["signatures"] == report["entries"] == 4
    assert report["checkpoints"]["latest"]["seq"] == 4


def test_an_appended_entry_without_its_writers_signature_is_named(ohrt):
    seq = forge(ohrt, SERGEANT, "referral.qa", {"verdict": "approved"})
    report = verify(ohrt)
    assert ("signature", "missing") in kinds(report)
    assert any(p["seq"] == seq for p in report["problems"])


def test_an_approval_signed_by_a_constables_key_is_named(ohrt):
    forge(ohrt, CONSTABLE, "referral.qa", {"verdict": "approved"}, key_of=CONSTABLE)
    assert ("signature", "role") in kinds(verify(ohrt))  # a constable may not approve
    forged = ohrt.home / "forged"
    forged.mkdir()
    forge(ohrt, SERGEANT, "referral.qa", {"verdict": "approved"}, key_of=CONSTABLE)
    report = verify(ohrt)
    assert ("signature", "key") in kinds(report)  # the sergeant's entry, the constable's key
    assert "not by the writer's key" in json.dumps(report["problems"])


def test_a_truncated_chain_with_its_head_rewound_is_named(ohrt):
    for n in range(3):
        add_task(ohrt, f"https://www.tiktok.com/@a/video/{n}")
    db = insider(ohrt)
    db.execute("DELETE FROM audit_signatures WHERE seq > 3")
    db.execute("DELETE FROM audit WHERE seq > 3")
    db.execute("UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit WHERE seq = 3)")
    db.commit()
    db.close()
    report = verify(ohrt)
    assert ("checkpoint", "truncated") in kinds(report)
    assert "ends at entry 3 now" in json.dumps(report["problems"])


def test_an_edited_entry_with_the_rest_recomputed_is_named(ohrt):
    for n in range(2):
        add_task(ohrt, f"https://www.tiktok.com/@a/video/{n}")
    db = insider(ohrt)
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("SELECT * FROM audit ORDER BY seq")]
    prev = rows[2]["prev_hash"]
    for row in rows[2:]:
        if row["seq"] == 3:
            row["officer"] = CONSTABLE
        row["prev_hash"] = prev
        row["hash"] = prev = entry_hash(row)
        db.execute("UPDATE audit SET officer = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                   [row["officer"], row["prev_hash"], row["hash"], row["seq"]])
    db.execute("UPDATE audit_head SET hash = ?", [prev])
    db.commit()
    db.close()
    report = verify(ohrt)
    assert ("checkpoint", "rewritten") in kinds(report)
    assert ("signature", "key") in kinds(report) or ("signature", "invalid") in kinds(report)


def test_emptied_tables_are_never_intact(ohrt):
    add_task(ohrt, "https://www.tiktok.com/@a/video/1")
    db = insider(ohrt)
    for table in ("audit_signatures", "audit", "audit_head"):
        db.execute(f"DELETE FROM {table}")
    db.commit()
    db.close()
    report = verify(ohrt)
    assert ("chain", "emptied") in kinds(report) and report["entries"] == 0
    assert "holds 1 task(s)" in json.dumps(report["problems"])


def test_checkpoints_that_left_the_machine_catch_what_the_home_file_no_longer_can(ohrt, tmp_path):
    add_task(ohrt, "https://www.tiktok.com/@a/video/1")
    exported = tmp_path / "audit.jsonl"
    ohrt.ok("audit", "export", exported)
    assert verify(ohrt, exported)["intact"]
    db = insider(ohrt)
    db.execute("DELETE FROM audit_signatures WHERE seq > 2")
    db.execute("DELETE FROM audit WHERE seq > 2")
    db.execute("UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit WHERE seq = 2)")
    db.commit()
    db.close()
    (ohrt.home / "audit-checkpoints.jsonl").unlink()  # the insider removes the home's own record too
    report = verify(ohrt, exported)
    assert ("checkpoint", "missing") in kinds(report) and ("checkpoint", "truncated") in kinds(report)
    assert str(exported) in report["checkpoints"]["sources"]
    result = ohrt("audit", "verify", "--against", tmp_path / "nothing.txt")
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_a_roster_edited_by_hand_and_a_swapped_home_key_are_named(ohrt):
    config = tomllib.loads((ohrt.home / "config.toml").read_text())
    for officer in config["officers"]:
        if officer["number"] == CONSTABLE:
            officer["role"] = "chief-inspector"
    (ohrt.home / "config.toml").write_text(tomli_w.dumps(config))
    from ohrt_cli.ground import signing

    (ohrt.home / "keys" / "public.pem").unlink()
    (ohrt.home / "keys" / "signing.key").unlink()
    signing.create_key(ohrt.home / "keys")
    report = verify(ohrt)
    assert ("roster", "role") in kinds(report) and ("key", "replaced") in kinds(report)


def test_quarterly_reports_carry_a_checkpoint_signed_by_the_home(ohrt, tmp_path):
    for n in range(3):
        add_task(ohrt, f"https://www.tiktok.com/@a/video/{n}")
    reports = []
    for fmt in ("csv", "html", "md", "json"):
        reports.append(tmp_path / f"report.{fmt}")
        ohrt.ok("report", "--format", fmt, "--out", reports[-1])
        assert SERGEANT not in reports[-1].read_text()  # the checkpoint names no officer (SOP 6.5)
    assert verify(ohrt, *reports)["checkpoints"]["checked"] >= 4 + 4
    db = insider(ohrt)
    db.execute("DELETE FROM audit_signatures WHERE seq > 3")
    db.execute("DELETE FROM audit WHERE seq > 3")
    db.execute("UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit WHERE seq = 3)")
    db.commit()
    db.close()
    (ohrt.home / "audit-checkpoints.jsonl").write_text("")
    for path in reports:
        assert ("checkpoint", "truncated") in kinds(verify(ohrt, path)), path
