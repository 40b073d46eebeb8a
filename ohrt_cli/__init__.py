"""ohrt — the Online Harm Referral Team toolkit.

One piece of online content, from a colleague's referral to the platform's decision and its deletion
twelve months later, with the record a court, an auditor or the Information Commissioner may ask for.

No SOP paragraph of its own: `stages/` carries the SOP's flow, one stage each — tasking and records (8),
capture and review (9), referral (10), the library (10.8, 2.2), governance (7.2, 7.5, 6.5) and evidence for
the officer in the case (6.3) — and each module names its paragraphs.
"""

__version__ = "0.1.0"
