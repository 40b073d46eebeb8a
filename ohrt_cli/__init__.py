"""ohrt — the Online Harm Referral Team toolkit.

One piece of online content, from a colleague's referral to the platform's decision and its deletion
twelve months later, with the record a court, an auditor or the Information Commissioner may ask for.
"""

__version__ = "0.1.0"
