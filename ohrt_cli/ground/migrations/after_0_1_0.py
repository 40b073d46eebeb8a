"""The schema's changes since release 0.1.0, in the order they shipped; a new migration is added at the
end of this file (and pinned in tests/test_migrations.py). Each says what it is for; SOP 8.6's records.
"""

from __future__ import annotations

from . import migration


@migration
def m007_referral_send_attempt(db):
    # A send through the SMTP relay happens between two transactions (refer.mark_sent); the attempt is
    # recorded first, with the sending process, so that one killed midway is known for what it is.
    db["referrals"].add_column("send_attempt_at", str)
    db["referrals"].add_column("send_attempt_by", str)
    db["referrals"].add_column("send_attempt_pid", int)


@migration
def m008_guard_keys(db):
    # The keys the one guard finds every task's sensitive values by (ground/sensitive.py): src is the
    # source (1 subjects, 2 incident references, 3 research references, 4 research summaries, 5 applicants,
    # 6 platforms given as host names), row the rowid of its table. Triggers note each row added or changed
    # in guard_dirty, whose keys the guard makes before its next check, and drop a deleted row's keys, so a
    # purge leaves none behind.
    db.execute("CREATE TABLE guard_keys (key TEXT NOT NULL, src INTEGER NOT NULL, row INTEGER NOT NULL)")
    db.execute("CREATE INDEX idx_guard_keys_key ON guard_keys (key)")
    db.execute("CREATE INDEX idx_guard_keys_row ON guard_keys (row, src)")
    db.execute("CREATE TABLE guard_dirty (tab TEXT NOT NULL, row INTEGER NOT NULL)")
    for table, columns, codes in (("subjects", "name", "1"), ("incident_refs", "reference, system", "2"),
                                  ("indices_research", "reference, summary", "3, 4"),
                                  ("tasks", "applicant_name, platform", "5, 6")):
        drop = f"DELETE FROM guard_keys WHERE row = old.rowid AND src IN ({codes});"
        note = f"INSERT INTO guard_dirty VALUES ('{table}', new.rowid);"
        db.execute(f"CREATE TRIGGER guard_{table}_insert AFTER INSERT ON {table} BEGIN {note} END")
        db.execute(f"CREATE TRIGGER guard_{table}_update AFTER UPDATE OF {columns} ON {table} BEGIN {drop} {note} END")
        db.execute(f"CREATE TRIGGER guard_{table}_delete AFTER DELETE ON {table} BEGIN {drop} END")
        db.execute(f"INSERT INTO guard_dirty SELECT '{table}', rowid FROM {table}")


@migration
def m009_referral_officer_text(db):
    # The officer-written parts of a draft (a summary; an appeal's grounds), kept so that the next version
    # starts from them, and the sha256 of the draft's rendered texts, so that a version identical to the
    # one QA returned is refused (stages/refer/drafting.py).
    db["referrals"].add_column("summary", str)
    db["referrals"].add_column("grounds", str)
    db["referrals"].add_column("basis_sha256", str)


@migration
def m010_exhibits(db):
    # Exhibit references as officers give them (SO/1, SO/2 …): the producing officer's initials and a running
    # number, given to an item of a capture (its first original is item 1) when it is first exhibited.
    # A reference is never reused or renumbered: rows are never updated or deleted (a purge leaves them,
    # so a spent number stays spent), and (initials, number) is unique.
    db["exhibits"].create(
        {"reference": str, "capture_id": str, "item": int, "initials": str, "number": int, "officer": str,
         "exhibited_at": str, "exhibited_by": str},
        pk="reference",
        not_null={"capture_id", "item", "initials", "number", "officer", "exhibited_at"},
        foreign_keys=[("capture_id", "captures", "id")],
    )
    db["exhibits"].create_index(["capture_id", "item"], unique=True)
    db["exhibits"].create_index(["initials", "number"], unique=True)
    for event in ("UPDATE", "DELETE"):
        db.execute(f"CREATE TRIGGER exhibits_no_{event.lower()} BEFORE {event} ON exhibits "
                   "BEGIN SELECT RAISE(ABORT, 'an exhibit reference is never changed or reused'); END")


@migration
def m011_anchors(db):
    # Trusted time (stages/anchor.py): one row per RFC 3161 request, online or carried offline, whose
    # imprint is the Merkle root of its items; each item (a capture's manifest, a package's seal, the
    # audit chain's head) keeps its digest and its path to the root. Only digests: no personal data.
    db["anchors"].create({
        "id": str, "made_at": str, "officer": str, "mode": str, "url": str, "root": str, "nonce": str,
        "status": str, "error": str, "answered_at": str, "gen_time": str, "tsa": str, "serial": str,
        "folder": str,
    }, pk="id", not_null={"made_at", "mode", "root", "status", "folder"})
    db["anchor_items"].create({
        "anchor_id": str, "position": int, "kind": str, "object_id": str, "digest": str, "proof": str,
    }, pk=("anchor_id", "position"), foreign_keys=[("anchor_id", "anchors", "id")])
    db["anchor_items"].create_index(["kind", "object_id"])
    db["anchor_items"].create_index(["digest"])


@migration
def m012_observations(db):
    # `ohrt refer check` (SOP 10.6 follow-up): one row per run, and one per URL looked at in it. An
    # observation is not a decision: the officer records the platform's decision, and may point at the
    # observation that saw the content gone (referrals.outcome_observation). A run's rows are written in
    # batches as it goes; its audit entry (one per run) is written at its end, or by the next run for a
    # run cut short (state 'running' while no check holds the lock).
    db["check_runs"].create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "by": str,
            "state": str,        # running | done | interrupted
            "targets": int,
            "detail": str,       # JSON: counts, limits, skipped
            "audit_seq": int,
        },
        pk="id",
    )
    db["observations"].create(
        {
            "id": int,
            "run_id": int,
            "observed_at": str,
            "url": str,
            "host": str,
            "platform": str,
            "purpose": str,      # awaiting (a sent referral) | removed (a removal, for reinstatement) | reupload
            "task_id": str,
            "referral_id": str,
            "item_id": str,
            "result": str,       # available | gone | unreachable
            "http_status": int,
            "message": str,      # the platform's words when gone; the failure when unreachable
            "evidence": str,     # JSON: via, final_url, content_type, matched, extractor, title, error…
            "reinstated": int,   # 1: available again after a removal
        },
        pk="id",
        foreign_keys=[("run_id", "check_runs", "id")],
    )
    db["observations"].create_index(["task_id", "id"])
    db["observations"].create_index(["referral_id", "id"])
    db["observations"].create_index(["url", "id"])
    db["observations"].create_index(["run_id"])
    db["referrals"].add_column("outcome_observation", int)


@migration
def m013_capture_items(db):
    # A post of several items (a carousel, a page with two videos, a slideshow's photos and sound) is one
    # capture with several originals: `item` is each original's place in the post (1, 2, …) and names the
    # item of each derived file too; `source_url` is where an original's bytes came from, `kind` and
    # `duration` what it is (a page's files: which page file). Captures made before hold one item.
    # Fingerprints are kept per item, so a match can say which item matched.
    db["capture_files"].add_column("item", int)
    db["capture_files"].add_column("source_url", str)
    db["capture_files"].add_column("kind", str)
    db["capture_files"].add_column("duration", float)
    db.execute("UPDATE capture_files SET item = 1 WHERE role = 'original' OR parent_sha256 IN "
               "(SELECT o.sha256 FROM capture_files o WHERE o.capture_id = capture_files.capture_id "
               "AND o.role = 'original')")
    db.execute("UPDATE capture_files SET source_url = (SELECT COALESCE(c.final_url, c.requested_url) FROM captures c "
               "WHERE c.id = capture_files.capture_id) WHERE role = 'original'")
    db.execute("UPDATE capture_files SET (kind, duration) = (SELECT c.media_kind, c.duration FROM captures c "
               "WHERE c.id = capture_files.capture_id) WHERE role = 'original' AND capture_id IN "
               "(SELECT id FROM captures WHERE media_kind != 'page')")
    db["fingerprints"].add_column("item", int)
    db.execute("UPDATE fingerprints SET item = 1 WHERE capture_id IS NOT NULL")
    db.execute("DROP INDEX IF EXISTS idx_fingerprints_capture_id")
    db.execute("CREATE UNIQUE INDEX idx_fingerprints_capture_item ON fingerprints (capture_id, item)")


@migration
def m014_audit_signatures(db):
    # The signature over the hash of each audit entry by who wrote it: the acting officer's personal
    # Ed25519 key ('officer' their number), or the home's key for a scheduled job ('officer' = 'home').
    # Kept beside the chain, not in it, because it signs the entry's hash. `key` is the fingerprint of the
    # key that signed; `signature` is base64.
    db.execute("CREATE TABLE audit_signatures (seq INTEGER PRIMARY KEY REFERENCES audit(seq), "
               "officer TEXT NOT NULL, key TEXT NOT NULL, signature TEXT NOT NULL)")


@migration
def m015_standard_hashes(db):
    # The standard hashes other hash-sharing tools read, beside ohrt's own fingerprints: a photo's PDQ as
    # Meta's pdq-photo-hasher makes it, a video's vPDQ frames (number, time, quality, 32-byte PDQ each);
    # for an imported item, also the MD5 and SHA-256 a hash list gives. One row per original of a capture
    # (capture_id, item), or per imported library item (item_id); deleted with them.
    db.execute("CREATE TABLE standard_hashes (id INTEGER PRIMARY KEY, capture_id TEXT REFERENCES captures(id), "
               "item INTEGER, item_id TEXT REFERENCES library_items(id), pdq TEXT, pdq_quality INTEGER, "
               "vpdq_frames INTEGER, vpdq_numbers BLOB, vpdq_times BLOB, vpdq_quality BLOB, vpdq BLOB, md5 TEXT, "
               "sha256 TEXT, tools TEXT, created_at TEXT NOT NULL)")
    db.execute("CREATE UNIQUE INDEX idx_standard_hashes_capture_item ON standard_hashes (capture_id, item)")
    db.execute("CREATE UNIQUE INDEX idx_standard_hashes_item_id ON standard_hashes (item_id)")
    db.execute("CREATE INDEX idx_standard_hashes_md5 ON standard_hashes (md5)")
    db.execute("CREATE INDEX idx_standard_hashes_sha256 ON standard_hashes (sha256)")
    db.execute("CREATE INDEX idx_capture_files_md5 ON capture_files (md5)")
    # A hash list imported in another tool's format (ThreatExchange's signal file, a CSV of MD5, SHA-256
    # and PDQ hashes with labels): who gave it (name), its provenance (what the officer recorded, the file,
    # its SHA-256, its format) and the expiry its items take when a row gives none. Each of its items is an
    # imported library item (source 'import', hash_source naming the list, title its label).
    db.execute("CREATE TABLE hash_sources (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, format TEXT NOT NULL, "
               "provenance TEXT, expires_on TEXT, file_name TEXT, file_sha256 TEXT, imported_at TEXT NOT NULL, "
               "imported_by TEXT NOT NULL)")
    db["library_items"].add_column("hash_source", int)


@migration
def m016_anchor_ots(db):
    # OpenTimestamps, the second anchor (stages/ots.py): at most one proof per anchor request, over the
    # file holding its Merkle root (anchors/A-…/root.txt.ots). `state` is 'pending' (calendar attestations
    # only, until confirmed) or 'bitcoin' (a Bitcoin block attestation, `bitcoin_block` its height, which
    # `ots verify` confirms); an upgraded proof replaces the pending one. Only digests and calendar URLs.
    db.execute("CREATE TABLE anchor_ots (anchor_id TEXT PRIMARY KEY REFERENCES anchors(id), state TEXT NOT NULL, "
               "bitcoin_block INTEGER, calendars TEXT NOT NULL, proof_sha256 TEXT NOT NULL, source TEXT NOT NULL, "
               "kept_at TEXT NOT NULL, officer TEXT)")
