"""Content review and decision, SOP 9.2–9.4 and 10.3, with the closing fields of 8.6.

The officer reviews the captured content (9.1) and records:
  * findings (9.2): which harm factors of 9.2.1–9.2.7 are present, with a note and where in the media
    (time ranges checked against the capture's duration);
  * indices research (9.3): what police systems (Aware, or another named one) showed. It is police-only:
    it lives in the sensitive `indices_research` table, is returned by `research_for` alone, and never by
    `current_review`, from which everything bound for a platform is rendered;
  * the clauses of the content's own platform's terms of service it breaks (9.4, see `tos.py`);
then decides (10.3): refer (10.3.1, task → reviewed) or no further action (10.3.2, task → closed), with the
date of review, outcome, basis and format of the content that 8.6 asks for. A later review of the same
task supersedes the earlier one; both are kept. Teams also review in bulk (`batch_review`): the whole
file is checked first and applied in one transaction, or not at all.

`vocabulary.py` holds the factors, formats, decisions and media time ranges; `form.py` reads a review as
given (a flag, a CSV row or a JSON object) and checks its form; `checks.py` checks it against the record
(task, referrals, capture, the platform's terms, police references); `record.py` writes it and reads reviews
back; `batch.py` does a whole file at once; `opening.py` opens a task's material for the workspace
(`ohrt review open`); `tos.py` is the terms-of-service catalogue. Other stages and the CLI use the names
below, never those modules.
"""

from __future__ import annotations

from .batch import BatchResult, batch_review, read_batch
from .checks import check, load_facts
from .opening import consult, consult_capture
from .form import (FindingInput, ResearchInput, ReviewInput, finding_from_flag, parse_input, parse_research,
                   research_from_flag)
from .record import current_review, record_research, record_review, research_for, review_history, show_review
from .tos import Catalogue, Clause, list_clauses, load_catalogues, platform_name
from .vocabulary import (DECISIONS, FACTORS, FORMATS, MUSICAL_FORMATS, factor_code, factor_list, format_code,
                         parse_range, parse_time)

__all__ = ["BatchResult", "Catalogue", "Clause", "DECISIONS", "FACTORS", "FORMATS", "FindingInput",
           "MUSICAL_FORMATS", "ResearchInput", "ReviewInput", "batch_review", "check", "consult",
           "consult_capture", "current_review", "factor_code", "factor_list", "finding_from_flag", "format_code", "list_clauses", "load_catalogues",
           "load_facts", "parse_input", "parse_range", "parse_research", "parse_time", "platform_name",
           "read_batch", "record_research", "record_review", "research_for", "research_from_flag", "review_history",
           "show_review"]
