"""A post of several items is one capture of several originals, in the post's order (issue 13, points 1, 6):
a page with two videos, a carousel of photos, a slideshow of photos with its sound. Real yt-dlp, ffmpeg and
Chromium against the loopback server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from support.home import rows

REASON = ["--reason", "Goads a rival group after a stabbing"]


def manifest_of(ohrt, capture: dict) -> dict:
    return json.loads((ohrt.home / capture["folder"] / "manifest.json").read_text())


def sha256sum_passes(folder: Path) -> bool:
    return subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, capture_output=True).returncode == 0


def two_videos(site, make_clip) -> str:
    site.put("clips/one.mp4", make_clip("one", seconds=2))
    site.put("clips/two.webm", make_clip("two", seconds=3, freq=880, fmt="webm"))
    return site.put("pages/two.html", '<html><head><title>Two</title></head><body><video src="../clips/one.mp4">'
                    '</video><video src="../clips/two.webm"></video></body></html>')


def test_a_page_with_two_videos_is_one_capture_of_two_items_in_order(ohrt, site, make_clip):
    url = two_videos(site, make_clip)
    capture = ohrt.json("capture", url, *REASON, "--no-page")
    assert capture["status"] == "complete" and capture["media_kind"] == "video"
    assert capture["duration"] == pytest.approx(3, abs=0.2)  # the longest item
    items = capture["items"]
    assert [(i["item"], i["kind"]) for i in items] == [(1, "video"), (2, "video")]
    assert items[0]["source_url"].endswith("/clips/one.mp4") and items[1]["source_url"].endswith("/clips/two.webm")
    assert items[0]["duration"] == pytest.approx(2, abs=0.2) and items[1]["duration"] == pytest.approx(3, abs=0.2)
    folder = ohrt.home / capture["folder"]
    served = [(site.root / "clips" / name).read_bytes() for name in ("one.mp4", "two.webm")]
    assert [(folder / i["path"]).read_bytes() for i in items] == served
    # each item has its own derivatives, naming it and its original
    manifest = manifest_of(ohrt, capture)
    assert [(i["item"], i["source_url"]) for i in manifest["items"]] == [(1, items[0]["source_url"]),
                                                                          (2, items[1]["source_url"])]
    by_item = {}
    for entry in manifest["files"]:
        if entry["role"] not in ("original", "info", "thumbnail", "subtitle"):
            by_item.setdefault(entry["item"], set()).add(entry["role"])
            original = next(o for o in manifest["files"] if o["role"] == "original" and o["item"] == entry["item"])
            assert entry["parent_sha256"] == original["sha256"]
            assert entry["path"].startswith(f"derived/item-{entry['item']}/")
    assert by_item[1] == {"audio", "keyframes", "contact-sheet"}  # an H.264/AAC MP4 needs no review copy
    assert by_item[2] == {"review", "audio", "keyframes", "contact-sheet"}
    assert items[0]["review_copy"] == items[0]["path"] and items[1]["review_copy"] == "derived/item-2/review.mp4"
    # the database keeps the order and the addresses too
    kept = rows(ohrt, "SELECT item, source_url, kind FROM capture_files WHERE capture_id = ? AND role = 'original' "
                      "ORDER BY item", [capture["id"]])
    assert [(r["item"], r["kind"]) for r in kept] == [(1, "video"), (2, "video")]
    assert sha256sum_passes(folder)
    assert ohrt.ok("verify", capture["id"]).stdout.startswith("store intact")
    shown = ohrt.ok("capture", "show", capture["id"]).stdout
    assert "2 items, in the post's order" in shown


def test_a_post_of_several_items_made_without_derivatives_is_finished_item_by_item(ohrt, site, make_clip):
    url = two_videos(site, make_clip)
    capture = ohrt.json("capture", url, *REASON, "--no-page", "--no-derivatives")
    assert capture["status"] == "incomplete"
    finished = ohrt.json("capture", "finish", capture["id"])
    assert finished["still_failed"] == [] and finished["capture"]["status"] == "complete"
    paths = {f["path"] for f in finished["capture"]["files"] if f["status"] == "ok"}
    assert {"derived/item-1/contact-sheet.jpg", "derived/item-2/review.mp4", "derived/item-2/contact-sheet.jpg"} <= paths
    assert ohrt.ok("verify", capture["id"]).stdout.startswith("store intact")


def test_review_findings_name_the_item_and_are_checked_against_it(ohrt, site, make_clip):
    url = two_videos(site, make_clip)
    capture = ohrt.json("capture", url, *REASON, "--no-page")
    task = capture["task_id"]
    base = ["review", task, "--decision", "refer", "--format", "video", "--clause", "web-generic"]
    # a time range alone does not say which video it is in
    plain = ohrt(*base, "--finding", "provocative-language|Mocks a rival's death|00:01-00:02")
    assert plain.exit_code == 2 and "holds 2 items" in plain.stderr and "item 2 at 00:01-00:02" in plain.stderr
    # an item the capture does not have, and a range past the end of the item named
    missing = ohrt(*base, "--finding", "provocative-language|Mocks a rival's death|item 3 at 00:01-00:02")
    assert missing.exit_code == 2 and "holds 2" in missing.stderr
    late = ohrt(*base, "--finding", "provocative-language|Mocks a rival's death|item 1 at 00:01-00:03")
    assert late.exit_code == 2 and "item 1 of capture" in late.stderr and "runs past the end" in late.stderr
    review = ohrt.json("review", task, "--decision", "nfa", "--format", "video", "--reason", "no harm on review",
                       "--finding", "provocative-language|Mocks a rival's death|item 2 at 00:01-00:03;item 1")
    finding = review["review"]["findings"][0]
    assert finding["at"] == ["item 2 at 00:01-00:03", "item 1"]
    shown = ohrt.ok("review", "show", task).stdout
    assert "provocative-language in item 2 at 00:01-00:03, item 1: Mocks a rival's death" in shown
    assert "violence in item 2 at 00:01-00:03, item 1: Mocks a rival's death" in review["review"]["basis"]
    # the evidence package names the item too: its report and its review
    out = ohrt.home.parent / "out"
    out.mkdir()
    package = Path(ohrt.json("export", task, "--to", str(out), "--recipient", "DC Jo Bloggs, Trident Central",
                             "--reason", "Evidence for the CPS charging decision")["package"])
    report = (package / "data" / "report.html").read_text()
    assert "item 2 at 00:01-00:03, item 1" in report
    assert "Items (the post&#39;s order)" in report or "Items (the post's order)" in report
    assert "review of item 2" in report
    assert "item 2 at 00:01-00:03, item 1" in (package / "data" / "review" / "review.txt").read_text()
    assert (package / "data" / "captures" / capture["id"] / "derived" / "item-2" / "review.mp4").is_file()


# ------------------------------------------------------------------------------- photos, slideshows

SOURCES = {"one": "testsrc2", "two": "mandelbrot", "three": "smptehdbars"}


def photo(media_dir: Path, name: str, size: str = "480x360") -> Path:
    out = media_dir / f"photo-{name}-{size}.png"
    if not out.exists():
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        f"{SOURCES[name]}=size={size}:rate=1", "-frames:v", "1", str(out)], check=True)
    return out


def post_page(title: str, photos: list[str], *, audio: str | None = None, og: bool = True) -> str:
    """A public post page as the platforms serve it: the photos in JSON-LD, the first (or all) in og:image."""
    ld = {"@context": "https://schema.org", "@type": "SocialMediaPosting", "headline": title,
          "author": {"@type": "Person", "name": "seller", "image": "/img/avatar.png"},
          "image": [{"@type": "ImageObject", "contentUrl": p} for p in photos]}
    metas = "".join(f'<meta property="og:image" content="{p}">' for p in photos) if og else ""
    sound = f'<audio controls src="{audio}"></audio>' if audio else ""
    return (f'<!doctype html><html><head><title>{title}</title><meta property="og:title" content="{title}">{metas}'
            f'<script type="application/ld+json">{json.dumps(ld)}</script></head><body><h1>{title}</h1>'
            f'<div class="carousel">{"".join(f"<img src={p!r} width=160>" for p in photos)}</div>{sound}</body></html>')


def test_a_carousel_of_three_photos_declared_in_its_markup_is_one_capture_of_three_items(ohrt, site, media_dir):
    names = ["one", "two", "three"]
    urls = [site.put(f"carousel/{n}.png", photo(media_dir, n)) for n in names]
    page = site.put("carousel/post.html", post_page("Three photos", urls))
    capture = ohrt.json("capture", page, *REASON)
    assert capture["status"] == "complete" and capture["media_kind"] == "image"
    assert [(i["item"], i["kind"], i["source_url"]) for i in capture["items"]] == \
        [(1, "image", urls[0]), (2, "image", urls[1]), (3, "image", urls[2])]
    folder = ohrt.home / capture["folder"]
    assert [(folder / i["path"]).read_bytes() for i in capture["items"]] == \
        [photo(media_dir, n).read_bytes() for n in names]
    manifest = manifest_of(ohrt, capture)
    assert manifest["photos"]["source"] == "page markup" and manifest["photos"]["markup"] == "JSON-LD"
    import importlib.metadata

    assert manifest["tools"]["gallery_dl"] == importlib.metadata.version("gallery-dl")
    # the page is kept beside the photos, and the avatar in the author's JSON-LD is not a photo of the post
    assert {f["kind"] for f in manifest["files"] if f["role"] == "page"} >= {"wacz", "screenshot", "dom"}
    assert len(capture["items"]) == 3 and capture["title"] == "Three photos"
    assert ohrt.ok("verify", capture["id"]).stdout.startswith("store intact")


def test_a_slideshow_of_photos_with_its_sound_keeps_the_photos_first_and_the_sound_last(ohrt, site, media_dir):
    names = ["one", "two", "three"]
    for n in names:
        site.put(f"show/{n}.png", photo(media_dir, n))
    sound = media_dir / "slideshow.m4a"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=500:duration=4", "-c:a", "aac", str(sound)], check=True)
    site.put("show/sound.m4a", sound)
    page = site.put("show/post.html", post_page("Slideshow", [site.url(f"show/{n}.png") for n in names],
                                                audio=site.url("show/sound.m4a")))
    capture = ohrt.json("capture", page, *REASON)
    assert capture["status"] == "complete" and capture["media_kind"] == "mixed"
    assert [(i["item"], i["kind"]) for i in capture["items"]] == [(1, "image"), (2, "image"), (3, "image"),
                                                                   (4, "audio")]
    assert capture["items"][3]["source_url"].endswith("/show/sound.m4a")
    assert capture["duration"] == pytest.approx(4, abs=0.2)
    assert manifest_of(ohrt, capture)["photos"]["slideshow"] is True
    # a photo has no time ranges: the finding names it alone; the sound is timed
    base = ["review", capture["task_id"], "--decision", "nfa", "--format", "music", "--reason", "no harm"]
    timed = ohrt(*base, "--finding", "illegal-sales|Prices on the photo|item 2 at 00:00-00:01")
    assert timed.exit_code == 2 and "is a photo" in timed.stderr and "'item 2'" in timed.stderr
    review = ohrt.json(*base, "--finding", "illegal-sales|Prices on the photo, sung in the track|item 2;item 4 at 00:01-00:03")
    assert review["review"]["findings"][0]["at"] == ["item 2", "item 4 at 00:01-00:03"]


def test_a_slideshow_whose_photos_cannot_be_obtained_is_incomplete_never_a_complete_sound(ohrt, site, media_dir):
    sound = media_dir / "lost.m4a"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=600:duration=3", "-c:a", "aac", str(sound)], check=True)
    site.put("lost/sound.m4a", sound)
    page = site.put("lost/post.html", post_page("Lost slideshow", [site.url("lost/gone-1.jpg"),
                                                                   site.url("lost/gone-2.jpg")],
                                                audio=site.url("lost/sound.m4a")))
    capture = ohrt.json("capture", page, *REASON)
    assert capture["status"] == "incomplete" and capture["media_kind"] == "audio"
    failed = [f for f in capture["files"] if f["role"] == "photos"]
    assert failed and failed[0]["status"] == "failed"
    assert "slideshow" in failed[0]["error"] and "could not be obtained" in failed[0]["error"]
    shown = ohrt("capture", "show", capture["id"])
    assert "photos" in shown.stdout and "could not be obtained" in shown.stdout
    result = ohrt("capture", "finish", capture["id"], "--json")
    finished = json.loads(result.stdout)
    assert result.exit_code == 1 and finished["capture"]["status"] == "incomplete"
    assert [f["role"] for f in finished["still_failed"]] == ["photos"]
    assert "capture the URL again" in finished["still_failed"][0]["error"]


# ------------------------------------------------------------------------------ photos in the library

def test_a_photo_reposted_smaller_cropped_and_mirrored_matches_its_item_in_the_library(ohrt, site, media_dir, tmp_path):
    names = ["one", "two", "three"]
    for n in names:
        site.put(f"lib/{n}.png", photo(media_dir, n, "960x720"))
    sound = media_dir / "lib.m4a"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=700:duration=3", "-c:a", "aac", str(sound)], check=True)
    site.put("lib/sound.m4a", sound)
    page = site.put("lib/post.html", post_page("Drill slideshow", [site.url(f"lib/{n}.png") for n in names],
                                               audio=site.url("lib/sound.m4a")))
    original = ohrt.json("capture", page, *REASON)
    assert [i["kind"] for i in original["items"]] == ["image", "image", "image", "audio"]
    fingerprinted = rows(ohrt, "SELECT item, frames FROM fingerprints WHERE capture_id = ? ORDER BY item",
                         [original["id"]])
    assert [(r["item"], r["frames"]) for r in fingerprinted] == [(1, 1), (2, 1), (3, 1), (4, 0)]
    item = ohrt.json("library", "add", original["task_id"], "--removed-on", "2026-01-05",
                     "--reason", "slideshow removed as drill music")["id"]
    # the second photo posted again: 60 % of its size, 3 % cropped off its edges, mirrored, as a JPEG
    repost = tmp_path / "repost.jpg"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(photo(media_dir, "two", "960x720")),
                    "-vf", "crop=iw*0.94:ih*0.94:iw*0.03:ih*0.03,scale=iw*0.6:-2,hflip", "-q:v", "6", str(repost)],
                   check=True)
    again = ohrt.json("capture", "--file", repost, "--url", "https://www.instagram.com/p/Repost1/",
                      "--reason", "the photo posted again")
    [match] = again["matches"]
    assert match["item_id"] == item and match["kind"] == "same visuals"
    assert (match["capture_item"], match["library_item_item"]) == (1, 2)
    assert match["segments"][0]["mirrored"] is True and match["pdq_distance"] <= 31
    said = ohrt.ok("library", "match", again["id"]).stdout
    assert f"item 1 of the capture matches item 2 of {item}" in said and "mirrored" in said
    # an unrelated photo matches nothing
    other = tmp_path / "other.jpg"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "cellauto=size=640x480:rate=1", "-frames:v", "1", str(other)], check=True)
    unrelated = ohrt.json("capture", "--file", other, "--url", "https://www.instagram.com/p/Other1/",
                          "--reason", "another photo")
    assert unrelated["matches"] == []
