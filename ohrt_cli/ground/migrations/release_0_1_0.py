"""The schema as release 0.1.0 shipped it: the foundation (tasks, officers, the audit chain), captures,
reviews, referrals, the library and governance: the records of SOP 8.2-8.6, 9.1-9.4, 10.6-10.8 and 7.5.
Shipped: never edited.
"""

from __future__ import annotations

from . import migration


@migration
def m001_foundation(db):
    db["counters"].create({"prefix": str, "year": int, "last": int}, pk=("prefix", "year"))
    db["audit"].create(
        {
            "seq": int,
            "at": str,
            "officer": str,
            "officer_name": str,
            "action": str,
            "object_type": str,
            "object_id": str,
            "reason": str,
            "detail": str,
            "prev_hash": str,
            "hash": str,
        },
        pk="seq",
        not_null={"at", "action", "prev_hash", "hash"},
    )
    db["audit"].create_index(["object_id"])
    # Append-only: ohrt itself never updates or deletes an audit row.
    db.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END"
    )
    # The chain's head, so that entries cut off the end are noticed too.
    db["audit_head"].create({"id": int, "seq": int, "hash": str}, pk="id")
    db["tasks"].create(
        {
            "id": str,
            "status": str,
            "received_at": str,
            "updated_at": str,
            "url": str,
            "canonical_url": str,
            "platform": str,
            "title": str,
            "applicant_name": str,
            "applicant_ocu": str,
            "applicant_unit": str,
            "upload_date": str,
            "rationale": str,
            "self_tasked": int,
            "intake": str,
            "import_key": str,
            "created_by": str,
        },
        pk="id",
        not_null={"status", "received_at", "url", "canonical_url", "platform"},
    )
    db["tasks"].create_index(["canonical_url"])
    db["tasks"].create_index(["status"])
    db["tasks"].create_index(["import_key"])
    db["incident_refs"].create(
        {"id": int, "task_id": str, "system": str, "reference": str},
        pk="id",
        foreign_keys=[("task_id", "tasks", "id")],
    )
    db["incident_refs"].create_index(["task_id"])
    db["subjects"].create(
        {"id": int, "task_id": str, "name": str}, pk="id", foreign_keys=[("task_id", "tasks", "id")]
    )
    db["subjects"].create_index(["task_id"])


@migration
def m002_capture(db):
    db["captures"].create(
        {
            "id": str,
            "task_id": str,
            "status": str,
            "method": str,
            "officer": str,
            "started_at": str,
            "finished_at": str,
            "requested_url": str,
            "final_url": str,
            "extractor": str,
            "platform_item_id": str,
            "channel": str,
            "upload_date": str,
            "title": str,
            "duration": float,
            "media_kind": str,
            "folder": str,
            "manifest_sha256": str,
            "derivatives_failed": int,
            "purged_at": str,
        },
        pk="id",
        foreign_keys=[("task_id", "tasks", "id")],
    )
    db["captures"].create_index(["task_id"])
    db["capture_files"].create(
        {
            "id": int,
            "capture_id": str,
            "path": str,
            "role": str,
            "sha256": str,
            "md5": str,
            "bytes": int,
            "parent_sha256": str,
            "status": str,
            "error": str,
        },
        pk="id",
        foreign_keys=[("capture_id", "captures", "id")],
    )
    db["capture_files"].create_index(["capture_id"])
    db["capture_files"].create_index(["sha256"])


@migration
def m003_review(db):
    db["reviews"].create(
        {
            "id": str,
            "task_id": str,
            "capture_id": str,
            "officer": str,
            "reviewed_at": str,
            "review_date": str,
            "decision": str,
            "format": str,
            "basis": str,
            "reason": str,
            "no_capture_reason": str,
            "superseded_by": str,
            "batch_key": str,
        },
        pk="id",
        foreign_keys=[("task_id", "tasks", "id")],
    )
    db["reviews"].create_index(["task_id"])
    db["findings"].create(
        {"id": int, "review_id": str, "factor": str, "note": str, "at": str},
        pk="id",
        foreign_keys=[("review_id", "reviews", "id")],
    )
    db["findings"].create_index(["review_id"])
    # A cited clause is kept as it read when cited, so the record stays true after the platform or the
    # team changes its catalogue.
    db["review_clauses"].create(
        {"id": int, "review_id": str, "clause_id": str, "platform": str, "title": str, "summary": str,
         "url": str, "as_of": str},
        pk="id",
        foreign_keys=[("review_id", "reviews", "id")],
    )
    db["review_clauses"].create_index(["review_id"])
    db["indices_research"].create(
        {
            "id": int,
            "task_id": str,
            "review_id": str,
            "system": str,
            "reference": str,
            "searched_on": str,
            "summary": str,
            "officer": str,
            "recorded_at": str,
        },
        pk="id",
        foreign_keys=[("task_id", "tasks", "id")],
    )
    db["indices_research"].create_index(["task_id"])


@migration
def m004_referral(db):
    db["referrals"].create(
        {
            "id": str,
            "task_id": str,
            "review_id": str,
            "kind": str,
            "appeal_of": str,
            "platform": str,
            "route": str,
            "status": str,
            "version": int,
            "drafted_by": str,
            "drafted_at": str,
            "draft_path": str,
            # The draft's main file as QA approves it: sending checks the file is still these bytes.
            "draft_sha256": str,
            "recipient": str,
            "message_id": str,
            "qa_by": str,
            "qa_at": str,
            "sent_by": str,
            "sent_at": str,
            "sent_on": str,
            "sent_via": str,
            "platform_ref": str,
            "outcome": str,
            "outcome_on": str,
            "outcome_note": str,
            "outcome_by": str,
            "outcome_at": str,
        },
        pk="id",
        foreign_keys=[("task_id", "tasks", "id")],
    )
    db["referrals"].create_index(["task_id"])
    db["referrals"].create_index(["status"])
    db["referral_qa"].create(
        {"id": int, "referral_id": str, "version": int, "officer": str, "at": str, "verdict": str, "note": str},
        pk="id",
        foreign_keys=[("referral_id", "referrals", "id")],
    )
    db["referral_qa"].create_index(["referral_id"])


@migration
def m005_library(db):
    db["library_items"].create(
        {
            "id": str,
            "task_id": str,
            "capture_id": str,
            "referral_id": str,
            "source": str,
            "status": str,
            "created_at": str,
            "created_by": str,
            "removed_on": str,
            "expires_on": str,
            "format": str,
            "title": str,
            "url": str,
            "platforms": str,
            "channel": str,
            "rationale": str,
            "summary": str,
            "breach": str,
            # the review summarised, and for imported items (source 'import') whose hashes they are
            "review_id": str,
            "source_name": str,
            "source_key": str,
            "source_ref": str,
            "duration": float,
        },
        pk="id",
        foreign_keys=[("task_id", "tasks", "id")],
    )
    db["library_items"].create_index(["expires_on"])
    db["library_items"].create_index(["task_id"])
    db["library_items"].create_index(["source_key", "source_ref"])
    db["holds"].create(
        {
            "id": int,
            "item_id": str,
            "investigation": str,
            "reason": str,
            "placed_by": str,
            "placed_at": str,
            "released_by": str,
            "released_at": str,
            "release_reason": str,
        },
        pk="id",
        foreign_keys=[("item_id", "library_items", "id")],
    )
    db["holds"].create_index(["item_id"])
    # One row per capture (or per imported item): the numbers of fingerprint.Fingerprint as little-endian
    # blobs. The index columns come first so that building the look-up index reads little else.
    db["fingerprints"].create(
        {
            "id": int,
            "capture_id": str,
            "item_id": str,
            "index_pdq": bytes,
            "index_audio": bytes,
            "created_at": str,
            "duration": float,
            "frames": int,
            "audio_values": int,
            "crop": str,
            "tools": str,
            "positions": bytes,
            "quality": bytes,
            "pdq": bytes,
            "audio": bytes,
        },
        pk="id",
    )
    db["fingerprints"].create_index(["capture_id"], unique=True)
    db["fingerprints"].create_index(["item_id"], unique=True)
    # Changes whenever the set of fingerprints the library matches against changes; names the index cache.
    db["library_generation"].create({"id": int, "token": str, "changed_at": str}, pk="id")
    db["tombstones"].create(
        {
            "id": int,
            "object_type": str,
            "object_id": str,
            "task_id": str,
            "rule": str,
            "purged_at": str,
            "purged_by": str,
            "detail": str,
            # 'purging' is committed before anything is deleted, 'done' after: a purge cut short is
            # finished by the next run (library.purge)
            "state": str,
            "started_at": str,
            "expired_on": str,
        },
        pk="id",
    )
    db["tombstones"].create_index(["object_id"])
    db["tombstones"].create_index(["state"])


@migration
def m006_governance(db):
    db["dip_samples"].create(
        {
            "quarter": str,
            "seed": str,
            "algorithm": str,
            "drawn_at": str,
            "drawn_by": str,
            "population": int,
            "size": int,
            "task_ids": str,
            # The population as drawn from (JSON list, sorted) and its digest, so that a later check can
            # say which tasks changed and a third party can reproduce the draw from this row alone.
            "population_ids": str,
            "population_sha256": str,
        },
        pk="quarter",
    )
    db["dip_sample_results"].create(
        {
            "id": int,
            "quarter": str,
            "task_id": str,
            "accurate": int,
            "quality": int,
            "compliant": int,
            "note": str,
            "officer": str,
            "recorded_at": str,
        },
        pk="id",
    )
    db["dip_sample_results"].create_index(["quarter"])
