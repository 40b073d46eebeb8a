"""Real footage re-edited the ways re-uploaders do, by ffmpeg: the variants of the re-upload recall
table (tests/test_match_real.py, bench/bench_reupload.py). The clips are in tests/fixtures/real (see its
README.md for where each came from and its licence)."""

from __future__ import annotations

from pathlib import Path

from .home import ffmpeg

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"
CLIPS = ("box", "cup", "tree", "vtest", "bikes", "carphone")   # real footage, 4–30 s each
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

_H264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]


def clip(name: str) -> Path:
    return REAL / f"{name}.mp4"


def _caption(text: str, band: float) -> str:
    """A band of `band` of the frame's height across the bottom, with white text on it."""
    draw = (f"drawbox=x=0:y=ih*{1 - band:.3f}:w=iw:h=ih*{band:.3f}:color=black@0.85:t=fill")
    if Path(FONT).is_file():
        draw += (f",drawtext=fontfile={FONT}:text='{text}':fontcolor=white:fontsize=h*{band * 0.5:.3f}:"
                 f"x=(w-tw)/2:y=h*{1 - band * 0.75:.3f}")
    return draw


def _logo(share: float) -> str:
    """A logo in the top-right corner covering `share` of the frame: a coloured tile with a letter."""
    side = share ** 0.5
    draw = (f"drawbox=x=iw*{1 - side - 0.02:.3f}:y=ih*0.02:w=iw*{side:.3f}:h=ih*{side:.3f}:color=0xE0301E@0.9:t=fill")
    if Path(FONT).is_file():
        draw += (f",drawtext=fontfile={FONT}:text='TV':fontcolor=white:fontsize=h*{side * 0.6:.3f}:"
                 f"x=w*{1 - side / 2 - 0.02:.3f}-tw/2:y=h*{0.02 + side / 2:.3f}-th/2")
    return draw


def _crop(side: float) -> str:
    """`side` of the width and of the height cut from every side, scaled back to the original size."""
    keep = 1 - 2 * side
    return f"crop=iw*{keep:.3f}:ih*{keep:.3f}:iw*{side:.3f}:ih*{side:.3f},scale=trunc(iw/{keep:.3f}/2)*2:trunc(ih/{keep:.3f}/2)*2,setsar=1"


# variant name → (ffmpeg arguments after -i CLIP, or a callable, and the class it belongs to in the table)
FILTERS = {
    "exact copy": None,
    "lower bitrate": ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "120k", "-pix_fmt", "yuv420p"],
    "360p": ["-vf", "scale=-2:360", *_H264],
    "mirrored": ["-vf", "hflip", *_H264],
    "letterboxed": ["-vf", "scale=360:-2,pad=360:640:(ow-iw)/2:(oh-ih)/2:black", *_H264],
    "new sound track": "sound",
    "crop 5 % every side": ["-vf", _crop(0.05), *_H264],
    "crop 10 % every side": ["-vf", _crop(0.10), *_H264],
    "caption band 15 %": ["-vf", _caption("WATCH TILL THE END", 0.15), *_H264],
    "logo 15 %": ["-vf", _logo(0.15), *_H264],
    "excerpt 3 s": "excerpt:3",
    "excerpt 5 s": "excerpt:5",
    "picture-in-picture 50 %": "pip:0.5",
}


def reedit(name: str, variant: str, out_dir: Path, background: str | None = None) -> Path:
    """The clip `name` re-edited as `variant` (a key of FILTERS), written under out_dir (cached)."""
    source = clip(name)
    out = out_dir / f"{name}--{variant.replace(' ', '-').replace('%', 'pc')}.mp4"
    if out.exists():
        return out
    how = FILTERS[variant]
    if how is None:
        out.write_bytes(source.read_bytes())
    elif isinstance(how, list):
        ffmpeg("-i", source, *how, "-c:a", "copy", out)
    elif how == "sound":
        ffmpeg("-i", source, "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.2:d=40:seed=7", "-map", "0:v", "-map", "1:a",
               "-shortest", "-c:v", "copy", "-c:a", "aac", out)
    elif how.startswith("excerpt:"):
        seconds = float(how.split(":")[1])
        length = _duration(source)
        start = max(0.0, (length - seconds) / 2 + 0.37)
        start = min(start, max(0.0, length - seconds))
        ffmpeg("-ss", f"{start:.2f}", "-i", source, "-t", f"{seconds}", *_H264, "-c:a", "aac", out)
    elif how.startswith("pip:"):
        size = float(how.split(":")[1])
        back = clip(background or "vtest")
        # the clip at `size` of the width, over another real clip scaled to 640x360, a little off centre
        graph = (f"[1:v]scale=640:360,setsar=1[bg];[0:v]scale=640*{size}:-2,setsar=1[fg];"
                 f"[bg][fg]overlay=x=W*0.08:y=H*0.12:shortest=1,format=yuv420p[v]")
        ffmpeg("-i", source, "-stream_loop", "-1", "-i", back, "-filter_complex", graph, "-map", "[v]",
               "-map", "0:a?", *_H264, "-c:a", "aac", out)
    return out


def _duration(path: Path) -> float:
    import json
    import subprocess

    done = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
                          capture_output=True, text=True, check=True)
    return float(json.loads(done.stdout)["format"]["duration"])
