"""What one evidence package holds, read from the home before anything is written (SOP 6.3; ACPO principle 3).

`gather.py` reads it from the home, `package.py` writes it; `report.py` renders its report.html from it.
"""

from __future__ import annotations

import dataclasses

from ...ground import signing

# The package's own layout, inside the bag's data/ folder.
PACKAGE_FORMAT = "ohrt-evidence/1"  # package.json's format
INDEX = "package.json"
TIMESTAMPS_DIR = "timestamps"  # each capture's RFC 3161 stamp, its proof and the authority's certificate
EXCERPT = "audit/audit-excerpt.jsonl"
CHECKPOINT = "audit/audit-checkpoint.jsonl"  # the signed checkpoint of the home's chain at export
SIGNATURES_DIR = "audit/signatures"  # SEQ.hash (the entry's hash) and SEQ.sig (its writer's signature)
OFFICERS_DIR = "officer-keys"  # NUMBER.pem: the public key of each officer who signed an act in the package
# The acts whose signatures the report shows, with how it names them.
SIGNED_ACTS = {"capture.add": "captured", "referral.qa": "checked (QA)", "library.hold": "held",
               "library.release": "released", "dip_sample.record": "dip-sampled"}
PUBLIC_KEY = signing.PUBLIC_NAME
SENSITIVE_DIR = "sensitive"
OFFICER_DIR = "officer"        # the witness statements (MG11) and the exhibit list (MG12), DOCX and PDF
PROVENANCE = "provenance.jsonld"  # CASE/UCO
CONTENT_DIRS = ("original", "source", "derived")  # what the content itself is, as captured


@dataclasses.dataclass
class Package:
    """Everything one package holds, read from the home before anything is written."""

    task: dict
    captures: list[dict]
    purged: list[dict]
    review: dict | None
    reviews: list[dict]
    referrals: list[dict]
    library: list[dict]
    audit: list[dict]
    chain: dict
    sensitive: dict
    public_pem: bytes
    officer: dict
    recipient: str
    reason: str
    include_sensitive: bool
    exported_at: str
    name: str = ""
    exhibits: list[dict] = dataclasses.field(default_factory=list)       # as they will be once published
    new_exhibits: list[dict] = dataclasses.field(default_factory=list)   # references given by this export
    timestamps: dict = dataclasses.field(default_factory=dict)  # written by `package.write_payload`

    @property
    def task_id(self) -> str:
        return self.task["id"]

    def object_ids(self) -> list[str]:
        ids = [self.task_id, *[c["id"] for c in self.captures + self.purged], *[r["id"] for r in self.reviews],
               *[r["id"] for r in self.referrals], *[i["id"] for i in self.library]]
        return list(dict.fromkeys(ids))
