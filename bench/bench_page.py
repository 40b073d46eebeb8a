"""Page capture figures (issue 12), against pages served on 127.0.0.1 by devtools.loopback:

* wall time of `ohrt capture URL` for a post page (text and three photos, no media), browser start
  included (target ≤ 4 s), and the browser's share of it (the page step's own seconds, from the manifest);
* a video page captured with its page and with `--no-page`: the page may cost at most what a page capture
  costs on its own (target: the difference ≤ the post page's time).

Each figure is the median of three captures, each into a fresh home, each a fresh `ohrt` process.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.loopback import Loopback  # noqa: E402

BIN = Path(sys.executable).parent
ROUNDS = 3
POST = """<!doctype html><html><head><title>Knives for sale</title></head><body>
<article><h1>@seller</h1><p id="words">…</p>
<img src="one.png" width="300"><img src="two.png" width="300"><img src="three.png" width="300"></article>
<script>addEventListener('load', () => { document.getElementById('words').textContent =
  'Three blades, DM for prices, collection only'; });</script></body></html>"""


def _png(shade: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (800, 600), (shade, 90, 255 - shade)).save(out, "PNG")
    return out.getvalue()


def _capture(work: Path, name: str, url: str, *extra: str) -> tuple[float, dict]:
    home = work / name
    env = {**os.environ, "OHRT_HOME": str(home), "OHRT_OFFICER": "2345"}
    subprocess.run([str(BIN / "ohrt"), "init", "--training", "--team", "Bench", "--mailbox", "bench@example.police.uk",
                    "--officer", "PS Bench", "--number", "2345"], env=env, check=True, capture_output=True)
    start = time.perf_counter()
    done = subprocess.run([str(BIN / "ohrt"), "capture", url, "--reason", "bench", "--json", *extra], env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"ohrt capture {url} exited {done.returncode}: {done.stderr.strip()}")
    result = json.loads(done.stdout)
    manifest = json.loads((Path(result["path"]) / "manifest.json").read_text())
    return seconds, manifest


def run(work: Path) -> list[dict]:
    site_root = work / "site"
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=640x360:rate=25:duration=5", "-f", "lavfi", "-i", "sine=frequency=440:duration=5",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                    str(work / "clip.mp4")], check=True)
    with Loopback(site_root) as site:
        for name, shade in (("one", 40), ("two", 130), ("three", 220)):
            site.put(f"post/{name}.png", _png(shade))
        post = site.put("post/index.html", POST)
        site.put("video/clip.mp4", work / "clip.mp4")
        video = site.page("video/watch.html", "clip.mp4", title="Drill at the park")
        post_times, browser_times = [], []
        with_page, without_page = [], []
        for i in range(ROUNDS):
            seconds, manifest = _capture(work, f"post-{i}", post)
            assert manifest["media_kind"] == "page", manifest["media_kind"]
            post_times.append(seconds)
            browser_times.append(manifest["page"]["seconds"])
            with_page.append(_capture(work, f"video-page-{i}", video)[0])
            without_page.append(_capture(work, f"video-nopage-{i}", video, "--no-page")[0])
    post_s = statistics.median(post_times)
    browser_s = statistics.median(browser_times)
    extra = statistics.median(with_page) - statistics.median(without_page)
    return [
        {"figure": "page capture of a post (text + 3 photos), s", "value": post_s, "unit": "s",
         "target": "<= 4", "ok": post_s <= 4},
        {"figure": "  of which the browser (start, load, snapshot, WACZ)", "value": browser_s, "unit": "s",
         "target": "", "ok": None},
        {"figure": "  browser's share of the page capture", "value": browser_s / post_s, "unit": "ratio",
         "target": "", "ok": None},
        {"figure": "video capture with its page, s", "value": statistics.median(with_page), "unit": "s",
         "target": "", "ok": None},
        {"figure": "video capture with --no-page, s", "value": statistics.median(without_page), "unit": "s",
         "target": "", "ok": None},
        {"figure": "  cost of the page beside the video, s", "value": extra, "unit": "s",
         "target": f"<= {post_s:.2f}", "ok": extra <= post_s},
    ]
