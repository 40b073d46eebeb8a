"""`--comments`: the comments the platform shows, kept as `source/comments.json` beside the capture (SOP 9.1,
9.2.3). Found by yt-dlp where its extractor knows the site's comments, else in the page the browser kept
(`ground/comments.py` says where it looks and what it cannot find). The file is hashed, listed and signed
like every other (role `comments`); the manifest's `comments` key says where they were found and how many."""

from __future__ import annotations

import json

from ...ground import comments as found
from .draft import Draft, record

PATH = "source/comments.json"


def keep(draft: Draft) -> None:
    """Write `source/comments.json` into the draft: yt-dlp's comments when its extractor gave any, else the
    page's. An empty list, with where it was looked for, when none was found: never a silent absence."""
    looked = []
    extractor = draft.info.get("extractor")
    shown = found.from_ytdlp(draft.info)
    how = None
    if shown is not None:
        looked.append(f"yt-dlp's comment extraction ({extractor})")
        how = looked[-1] if shown else None
    else:
        looked.append(f"yt-dlp: {f'its {extractor} extractor' if extractor else 'no extractor'} gives no comments "
                      "for this site")
    page = draft.stage.path / "page"
    if not shown and page.is_dir():
        looked.append("the kept page: schema.org Comment JSON-LD and microdata, and JSON it fetched")
        shown, how = found.from_page(page)
    elif not shown:
        looked.append("no page was kept to look in")
    doc = found.document(shown or [], url=draft.requested_url, found_by=how, looked_in=looked)
    target = draft.stage.path / PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    draft.files.append(record(draft.stage.path, target, "comments"))
    draft.extra["comments"] = {"path": PATH, "count": doc["count"], "found_by": how, "looked_in": looked}


def comments_of(ctx, capture: dict) -> dict[int, dict]:
    """A committed capture's kept comments by number (empty when it kept none): what a finding's
    `comment N` cites."""
    from .reading import capture_path

    path = capture_path(ctx, capture) / PATH
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {c["n"]: c for c in doc.get("comments") or [] if isinstance(c, dict) and isinstance(c.get("n"), int)}


def citation(number: int, comment: dict | None) -> str:
    """'comment 2 (@rivalgang, 1 day ago)': a cited comment named as the platform shows it (its author's
    public handle and its time), so whoever reads a referral can find it under the post."""
    comment = comment or {}
    said = [str(part) for part in (comment.get("handle") or comment.get("author"), comment.get("time")) if part]
    return f"comment {number}" + (f" ({', '.join(said)})" if said else "")
