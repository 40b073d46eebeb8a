"""Referral to platforms, SOP 10.1–10.7: routes, drafting, sergeant QA, sending, outcomes and appeals,
and the Connect intelligence record (10.4).

A referral is drafted from a template (10.1) as files in the home — an email (`.eml`) for mailbox and
individual routes, portal text plus a checklist for the Trusted Flagger portal (10.5) — then checked by a
sergeant or above who did not draft it (10.2), marked sent, and given the platform's decision (10.6). A
refusal may be appealed (10.7): an appeal is a referral of kind "appeal" citing the original, and goes
through QA, sending and outcome the same way.

    drafted ──qa approve──▶ approved ──sent──▶ sent ──outcome──▶ removed | not-removed ──appeal──▶ …
       ▲  └──qa return──▶ returned
       └──── draft again ────┘

Every step is one transaction: the referral row, its audit entry and the task's status move together, and
a draft's files are renamed into place only inside that transaction (removed again if it fails). What a
platform is told is built by `disclosure.platform_context` (SOP 6.4).

`routes.py` says how each platform is reached; `drafting.py` drafts from the templates and reads referrals
back; `sending.py` carries a draft through QA, sending and the platform's decision; `intel.py` makes the
Connect record; `checking.py` looks at referred content on a schedule and records what it sees
(observations: not decisions). Other stages and the CLI use the names below.
"""

from __future__ import annotations

from .routes import EMAIL_ROUTES, KINDS, ROUTES, STATUSES, list_routes, route_for, shipped_routes
from .drafting import (draft_appeal, draft_referral, get_referral, list_referrals, officer_text, platform_renderer,
                       preview_referral, unowned_drafts)
from .sending import close_task, mark_sent, qa_referral, record_outcome
from .intel import intel_record, intel_renderer
from .checking import check, latest_observations, reinstatement, seen_text, suggestion, task_observations

__all__ = ["EMAIL_ROUTES", "KINDS", "ROUTES", "STATUSES", "check", "close_task", "draft_appeal", "draft_referral",
           "get_referral", "intel_record", "intel_renderer", "latest_observations", "list_referrals", "list_routes",
           "mark_sent", "officer_text", "platform_renderer", "preview_referral", "qa_referral", "record_outcome",
           "reinstatement", "route_for", "seen_text", "shipped_routes", "suggestion", "task_observations", "unowned_drafts"]
