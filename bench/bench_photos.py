"""Photo figures (issue 13), measured on 127.0.0.1 and on synthetic libraries:

* wall time of `ohrt capture URL` for a post of three photos declared in its markup (JSON-LD, og:image),
  the page (browser) included, each a fresh `ohrt` process into a fresh home (target ≤ 5 s, median of 3);
* `library match` of one photo — a real one re-posted at 60 % of its size, 3 % cropped off each edge,
  mirrored and re-compressed — against a library of 100,000 photos (one PDQ hash each, stored as the
  library stores them, one of them the original), with the look-up index built (target ≤ 0.5 s, median
  of 5); and the first match after the library changed, which rebuilds the index.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.loopback import Loopback  # noqa: E402
from ohrt_cli.ground import fingerprint as F  # noqa: E402

BIN = Path(sys.executable).parent
ROUNDS = 3
PHOTOS = 100_000
SOURCES = ("testsrc2", "mandelbrot", "smptehdbars")


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def _photo(out: Path, source: str, size: str = "1280x960") -> Path:
    _ffmpeg("-f", "lavfi", "-i", f"{source}=size={size}:rate=1", "-frames:v", "1", "-q:v", "3", str(out))
    return out


def _env(home: Path) -> dict:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}, "OHRT_HOME": str(home),
            "OHRT_OFFICER": "2345"}


def _init(home: Path) -> None:
    subprocess.run([str(BIN / "ohrt"), "init", "--team", "Bench", "--mailbox", "bench@example.police.uk",
                    "--officer", "PS Bench", "--number", "2345"], env=_env(home), check=True, capture_output=True)


def _page(urls: list[str]) -> str:
    ld = {"@context": "https://schema.org", "@type": "SocialMediaPosting", "headline": "Three blades",
          "image": [{"@type": "ImageObject", "contentUrl": u} for u in urls]}
    return ("<!doctype html><html><head><title>Three blades</title>"
            + "".join(f'<meta property="og:image" content="{u}">' for u in urls)
            + f'<script type="application/ld+json">{json.dumps(ld)}</script></head><body><h1>@seller</h1>'
            + "".join(f'<img src="{u}" width="300">' for u in urls) + "</body></html>")


def bench_capture(work: Path) -> list[dict]:
    site = Loopback(work / "site").start()
    try:
        urls = [site.put(f"p/{n}.jpg", _photo(work / f"{n}.jpg", source)) for n, source in enumerate(SOURCES, 1)]
        post = site.put("p/post.html", _page(urls))
        times, items = [], 0
        for n in range(ROUNDS):
            home = work / f"capture-{n}"
            _init(home)
            start = time.perf_counter()
            done = subprocess.run([str(BIN / "ohrt"), "capture", post, "--reason", "bench", "--json"], env=_env(home),
                                  capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                raise RuntimeError(f"ohrt capture {post} exited {done.returncode}: {done.stderr.strip()}")
            items = len(json.loads(done.stdout)["items"])
    finally:
        site.stop()
    seconds = statistics.median(times)
    print(f"  three-photo post: {items} items kept, runs {', '.join(f'{t:.2f}' for t in times)} s", file=sys.stderr)
    return [{"figure": "ohrt capture of a three-photo post, page included (median of 3)", "value": seconds,
             "unit": "s", "target": "≤ 5 s", "ok": seconds <= 5 and items == 3}]


def _library(home: Path, planted: F.Fingerprint, rng: np.random.Generator) -> str:
    """PHOTOS kept items of one photo each (random PDQ hashes, the planted real one among them)."""
    conn = sqlite3.connect(home / "ohrt.db")
    planted_at = PHOTOS // 2
    items, prints = [], []
    for n in range(1, PHOTOS + 1):
        if n == planted_at:
            fp = planted
        else:
            fp = F.Fingerprint(None, np.zeros(1, np.float32), np.full(1, 90, np.uint8),
                               rng.integers(0, 256, (1, len(F.VARIANTS), 32), dtype=np.uint8), np.zeros(0, np.uint32))
        item_id, capture_id = f"L-2026-{n:06d}", f"C-2026-{n:06d}"
        items.append((item_id, capture_id, "removal", "kept", "2026-03-01T09:00:00+00:00", "2345", "2026-03-01",
                      "2027-03-01", "music", f"Synthetic slideshow photo {n}"))
        prints.append({"capture_id": capture_id, "item": 1, "created_at": "2026-03-01T09:00:00+00:00",
                       **F.index_columns(fp), **fp.blobs()})
        if len(items) == 10_000 or n == PHOTOS:
            conn.executemany("INSERT INTO library_items (id, capture_id, source, status, created_at, created_by, "
                             "removed_on, expires_on, format, title) VALUES (?,?,?,?,?,?,?,?,?,?)", items)
            columns = list(prints[0])
            conn.executemany(f"INSERT INTO fingerprints ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                             [[p[c] for c in columns] for p in prints])
            conn.commit()
            items.clear()
            prints.clear()
    conn.execute("INSERT INTO library_generation (id, token, changed_at) VALUES (1, 'bench', '2026-03-01')")
    conn.commit()
    conn.close()
    return f"L-2026-{planted_at:06d}"


def bench_match(work: Path) -> list[dict]:
    from ohrt_cli.ground.context import open_context
    from ohrt_cli.stages.library import matching as library

    original = _photo(work / "original.jpg", "mandelbrot", "960x720")
    repost = work / "repost.jpg"
    _ffmpeg("-i", str(original), "-vf", "crop=iw*0.94:ih*0.94:iw*0.03:ih*0.03,scale=iw*0.6:-2,hflip", "-q:v", "6",
            str(repost))
    home = work / "match-home"
    _init(home)
    planted_id = _library(home, F.fingerprint_file(original), np.random.default_rng(13))
    query = F.fingerprint_file(repost)
    ctx = open_context(home, "2345")
    try:
        start = time.perf_counter()
        found = library.find_matches(ctx, [(1, query)])
        first_s = time.perf_counter() - start
        times = []
        for _ in range(5):
            start = time.perf_counter()
            found = library.find_matches(ctx, [(1, query)])
            times.append(time.perf_counter() - start)
    finally:
        ctx.close()
    match_s = statistics.median(times)
    right = [m["item_id"] for m in found] == [planted_id] and found[0]["segments"][0]["mirrored"]
    print(f"  re-posted photo found among {PHOTOS:,}: {right} (PDQ distance "
          f"{found[0]['pdq_distance'] if found else '-'})", file=sys.stderr)
    return [
        {"figure": f"library match of one photo against {PHOTOS:,} photos (median of 5)", "value": match_s,
         "unit": "s", "target": "≤ 0.5 s", "ok": match_s <= 0.5 and right},
        {"figure": f"… the first match after a change (index of {PHOTOS:,} rebuilt)", "value": first_s,
         "unit": "s", "target": "", "ok": None},
    ]


def run(work: Path) -> list[dict]:
    return bench_capture(work) + bench_match(work)


if __name__ == "__main__":
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="bench-photos-"))
    try:
        for row in run(folder):
            print(f"{row['figure']}: {row['value']:.3f} {row['unit']} (target {row['target']}, ok={row['ok']})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
