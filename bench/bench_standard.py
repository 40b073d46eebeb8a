"""The standard hashes made beside ohrt's fingerprints (ground/fingerprint/standard.py): what they cost per
minute of video — vPDQ decodes every frame and hashes one a second at its own size — at three frame sizes,
and a 12-megapixel photo's PDQ. Videos made by ffmpeg (moving test pictures, 30 frames a second)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ohrt_cli.ground import fingerprint as F  # noqa: E402
from ohrt_cli.ground import media  # noqa: E402

SIZES = ("640x360", "1280x720", "1920x1080")


def _video(path: Path, size: str, seconds: int = 60) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r=30",
                    "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
                   check=True)
    return path


def run(work: Path) -> list[dict]:
    rows = []
    for size in SIZES:
        video = _video(work / f"minute-{size}.mp4", size)
        info = media.probe(video)
        start = time.perf_counter()
        found = F.standard_hashes(video, info)
        seconds = time.perf_counter() - start
        print(f"  {size}: {found.frames} vPDQ frames", file=sys.stderr)
        rows.append({"figure": f"vPDQ hashes per minute of {size} video (30 fps)", "value": seconds, "unit": "s",
                     "target": "", "ok": None})
    photo = work / "photo.jpg"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=4000x3000",
                    "-frames:v", "1", str(photo)], check=True)
    start = time.perf_counter()
    F.standard_hashes(photo, media.probe(photo))
    rows.append({"figure": "PDQ hash of a 12-megapixel photo (4000×3000 JPEG)", "value": time.perf_counter() - start,
                 "unit": "s", "target": "", "ok": None})
    return rows
