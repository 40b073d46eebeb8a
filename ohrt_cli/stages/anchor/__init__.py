"""Trusted time for what the home holds: RFC 3161 stamps over captures' manifests, packages' seals and the
audit chain's head, online or carried offline (SOP 9.1 (standalone machine), 6.3; ACPO 3).

Every time ohrt writes comes from the machine's clock and is signed with the home's own key: that proves
integrity, not time. A stamp from a time-stamp authority proves that a digest existed no later than the
authority's time. Three ways to get one (`ground/timestamp.py` does the protocol, with OpenSSL):

* online, `[timestamp] url` set: each capture's manifest is stamped as soon as it is sealed (`on_capture`,
  run after the capture's other hooks); an authority that fails leaves the capture pending, never failed;
  `ohrt anchor stamp` stamps everything pending in one request;
* offline, the standalone case: `ohrt anchor request` writes one request (`.tsq`) over the Merkle root of
  everything pending; any authority answers it on a networked machine; `ohrt anchor import FILE.tsr` checks
  the reply against the request and the trusted certificate (`[timestamp] ca_file`) and keeps it with each
  item's path to the root, so one capture can be shown alone;
* `ohrt anchor list` says what is stamped, what is pending and since when;
* OpenTimestamps, the second anchor (`stages/ots.py`): each request's root is also written as `root.txt`,
  for `ots stamp`; `ohrt anchor import root.txt.ots` keeps the proof beside the request, pending until a
  Bitcoin block attests it.

The items: a capture's current `manifest.json` (digest = its sha256, which the capture row records), a
package's `tagmanifest-sha256.txt` (the seal's subject, whose sha256 the disclosure's audit entry records),
and the audit chain's head (digest = the head entry's hash). A request, its reply and the item list live in
HOME/anchors/A-…/; the rows (`anchors`, `anchor_items`) hold digests only.

`proven_times(ctx, capture_id)` is the public answer to "since when is this capture proven to exist".
Its modules: `stamping` (settings, pending items, requests, replies and proofs imported, the list) and
`proving` (proven times, `ohrt verify`'s check, the stamps of an evidence package).
"""

from __future__ import annotations

from .proving import (check_captures, check_package, package_stamps, proven_times, trusted_time, verify_commands,
                      verify_store)
from .stamping import (Item, check_stamp, import_file, import_reply, list_anchors, on_capture, on_package, pending,
                       request, seal_time, stamp, trusted_ca)

__all__ = ["Item", "check_captures", "check_package", "check_stamp", "import_file", "import_reply", "list_anchors",
           "on_capture", "on_package", "package_stamps", "pending", "proven_times", "request", "seal_time", "stamp",
           "trusted_ca", "trusted_time", "verify_commands", "verify_store"]
