"""The schema's history (SOP 7.x record keeping): shipped migrations never change, and a home made by an
older ohrt opens with this one, its records intact."""

from __future__ import annotations

import hashlib
import inspect
import shutil
import sqlite3
from pathlib import Path

from support.home import Ohrt, add_task
from ohrt_cli.ground.db import MIGRATIONS

# The sha256 of `inspect.getsource` of each migration that has shipped. A migration is never edited
# once it is here: a home that already ran it would not run it again. Change the schema by adding one.
SHIPPED = {
    "m001_foundation": "8daadb70757127f4f5339a5bf9ea98ab394a7b048dc5b183e0b10bc7ff45d08c",
    "m002_capture": "33bc62d5b04bf0c296da738e3215282d0bd44d44596b5403de8d0e7e6de0bd7a",
    "m003_review": "a698c7bec5ba160e14cd81be301f944df0572a0b9c2cfaaeb350ee8f9ba7b73c",
    "m004_referral": "f38f356b8cda6c027722906f50df6f7e5b8a9313c9be13671c1f24fcf037b28e",
    "m005_library": "ea5c39a3dd7db667973c67294748c01c280530fda4cc2fa78f1ab2eac9c8ae7c",
    "m006_governance": "4bbcda83f0d3d14c0298de28ef91cf7ae4b028bd965ba6d4495d14e7f6ab4380",
    "m007_referral_send_attempt": "487efb34e1e8d975a3ada435815a6bb43ec70ec88543d74d4d98712da15153b0",
    "m008_guard_keys": "e0d02b2f86596761db74564a537a3bd95727df4392019f4ecf49b81955ee593a",
    "m009_referral_officer_text": "8d62382621ecd71418bb9a2b7e14315b4563b0d82453396b71498e02b566c672",
    "m010_exhibits": "901c22f668c47fddca04b336362a19afcd549cfeda77073fe2d8efa82862abb5",
    "m011_anchors": "162eff6bbc794471a4ec0c5d8c3613e4629d1ba06b130fd70a2053b42b8a96e8",
    "m012_observations": "4fe6fe7b88707f1e9544325ec68bd197b98b5d5fe6c095cbdd55e081daa53065",
    "m013_capture_items": "646520240aee4335ac6d8cbdc6e8bb7ae3f3fd110032783f5c1948bbce5fb5a8",
    "m014_audit_signatures": "32454f339078aa9adfc01598191f629e286e1fca99186ff6e98af34177bf465d",
    "m015_standard_hashes": "242d44004ccb52bad96c0dc12740f4a15471bbc30e4ea1c51fa14c5bb0e1d03d",
    "m016_anchor_ots": "bb5cd6174303e45436da00c7f4b74429f45bf7658264d9411fa4c5efb540e335",
}
RELEASE_0_1_0 = list(SHIPPED)[:6]
FIXTURE = Path(__file__).parent / "fixtures" / "home-0.1.0"


def source_sha256(fn) -> str:
    return hashlib.sha256(inspect.getsource(fn).encode("utf-8")).hexdigest()


def test_shipped_migrations_are_never_edited():
    found = dict(MIGRATIONS)
    for name, digest in SHIPPED.items():
        assert name in found, f"migration {name} has shipped and may not be removed or renamed"
        assert source_sha256(found[name]) == digest, (
            f"migration {name} has shipped and was edited: put it back as it was and add a new migration "
            "instead (homes that already ran it will never run it again)")


def test_every_migration_is_pinned_in_order():
    names = [name for name, _ in MIGRATIONS]
    assert len(set(names)) == len(names)
    assert names[:len(SHIPPED)] == list(SHIPPED), "migrations run in the order they shipped; add new ones at the end"
    unpinned = {name: source_sha256(fn) for name, fn in MIGRATIONS if name not in SHIPPED}
    assert not unpinned, f"pin each new migration in SHIPPED (tests/test_migrations.py): {unpinned}"


def home_from_0_1_0(target: Path) -> Path:
    """The frozen 0.1.0 home, its database built from the SQL dump without any of our code."""
    shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns("ohrt.sql"))
    for folder in ("captures", "exports"):
        (target / folder).mkdir(exist_ok=True)
    (target / "keys" / "signing.key").chmod(0o600)
    db = sqlite3.connect(target / "ohrt.db")
    db.executescript((FIXTURE / "ohrt.sql").read_text(encoding="utf-8"))
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    return target


def test_a_home_made_by_0_1_0_opens_migrated_with_its_records_intact(tmp_path):
    home = home_from_0_1_0(tmp_path / "home")
    before = sqlite3.connect(home / "ohrt.db")
    assert [n for (n,) in before.execute("SELECT name FROM _migrations ORDER BY rowid")] == RELEASE_0_1_0
    applied_before = dict(before.execute("SELECT name, applied_at FROM _migrations"))
    before.close()
    ohrt = Ohrt(home)

    # the audit chain of 0.1.0 still verifies, entry for entry
    assert ohrt.ok("audit", "verify").stdout.strip() == "audit chain intact: 18 entries"
    after = sqlite3.connect(home / "ohrt.db")
    applied = dict(after.execute("SELECT name, applied_at FROM _migrations"))
    assert list(applied) == [name for name, _ in MIGRATIONS]
    assert all(applied[name] == applied_before[name] for name in RELEASE_0_1_0)
    after.close()

    tasks = {t["id"]: t for t in ohrt.json("task", "list")}
    assert {t: (v["status"], v["title"]) for t, v in tasks.items()} == {
        "T-2026-000001": ("removed", "Drill video"), "T-2026-000002": ("closed", "Second clip")}
    first = ohrt.json("task", "show", "T-2026-000001")
    assert (first["subjects"], first["incident_refs"]) == (["Jon Smith"], ["CAD:4399/15OCT26"])
    referral = ohrt.json("refer", "show", "R-2026-000001")
    assert (referral["status"], referral["sent_on"], referral["outcome"]) == ("removed", "2026-03-02", "removed")
    assert referral["send_attempt_at"] is None  # the column added since 0.1.0, empty on old rows
    assert Path(referral["draft_file"]).read_bytes() == (
        FIXTURE / "referrals" / "R-2026-000001" / "v1" / "portal.txt").read_bytes()
    [item] = ohrt.json("library", "list")
    assert (item["id"], item["held"], item["expires_on"]) == ("L-2026-000001", True, "2027-03-02")

    # and the migrated home takes new work, chained on to the old entries
    add_task(ohrt, "https://www.tiktok.com/@a/video/9")
    assert ohrt.ok("audit", "verify").stdout.strip() == "audit chain intact: 19 entries"


def test_a_home_written_by_a_newer_ohrt_is_refused(tmp_path):
    home = home_from_0_1_0(tmp_path / "home")
    db = sqlite3.connect(home / "ohrt.db")
    db.execute("INSERT INTO _migrations (name, applied_at) VALUES ('m999_future', '2030-01-01T00:00:00+00:00')")
    db.commit()
    db.close()
    result = Ohrt(home)("task", "list")
    assert result.exit_code == 2 and "written by a newer ohrt" in result.stderr and "m999_future" in result.stderr
