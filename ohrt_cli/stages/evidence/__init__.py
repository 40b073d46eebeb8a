"""Evidence packages for the officer in the case (SOP 6.3): `ohrt export`, and `ohrt verify --package` when
one comes back.

The West Midlands hub's practice (seeds/000) is that "all material is captured to an evidential standard
and a package prepared which is then shared with the officer in charge of the case", with guidance on
court presentation. The package is a BagIt bag (RFC 8493, made and validated with the Library of
Congress `bagit` package) that anyone can check with ordinary tools:

* every capture of the task is re-verified against its signed manifest before it is packaged — evidence
  that fails its own check is never packaged — and copied with its folder intact, so that
  `sha256sum -c SHA256SUMS` and `openssl pkeyutl -verify` work inside the bag as in the store (ACPO
  principles 1 and 3);
* beside the captures: the task's public facts, the review record (JSON and text), the referrals and the
  platform's decisions with every drafted file, the task's library items, the excerpt of the audit chain
  for the task and its objects (each entry with its hashes), the home's public key, and `report.html`;
* the bag is built in a hidden staging folder next to its destination, validated, and renamed into place
  in the transaction that logs the disclosure: nothing half-made is ever left, and no package exists
  that the audit chain does not record;
* disclosure is logged and minimal (DPA 2018 s.62; SOP 6.3): the audit entry `evidence.export` records
  recipient and reason; subjects (8.4.1), incident references (8.3.3) and indices research (9.3) go in
  only with `include_sensitive`, in `data/sensitive/` with handling instructions, and a guard refuses a
  package that would otherwise carry any of them (unless the content itself shows it).

* the bag is BagIt 1.0 and sealed: the home's signature over its tag manifest covers every file, and the
  key is named by its fingerprint, which the recipient pins (`seal.py`);

`gather.py` reads the task and verifies what it will package; `package.py` writes the payload, applies the
guard and publishes; `bag.py` makes the bag and its zip; `seal.py` seals it and checks the seal; `verify.py` checks one that comes back;
`contents.py` is what a package holds; `report.py` what it says. The CLI uses the names below.

The officer in the case's file, in the package and on its own: `exhibits.py` gives exhibit references (SO/1 …)
and prints labels; `statement.py` drafts the capturing officer's witness statement (MG11), `exhibit_list.py`
the exhibit list (MG12), both through `paper.py` (records, guard, DOCX and PDF); `provenance.py` writes the
package's CASE/UCO provenance.
"""

from __future__ import annotations

from .exhibit_list import write_exhibit_list
from .exhibits import list_exhibits, write_label
from .package import export_package
from .statement import write_statement
from .verify import verify_package

__all__ = ["export_package", "list_exhibits", "verify_package", "write_exhibit_list", "write_label",
           "write_statement"]
