"""Helpers for the library, purge and matching tests (issue 6): media made with ffmpeg for matching, and
library items made through the real CLI (task → capture → review → referral → removal)."""

from __future__ import annotations

import functools
from pathlib import Path

from .home import (CONSTABLE, INSPECTOR, OHRT_BIN, SERGEANT, TASK_ARGS, audit_entries, ffmpeg, rows,  # noqa: F401
                   run_ohrt)

FINDING = "provocative-language|Names a rival and mocks him|00:01-00:03"
CLAUSE = "youtube:violent-criminal-orgs"


# ------------------------------------------------------------------------------------------- media

def _shot(seed: int, x: str, y: str, label: int) -> str:
    """Four seconds panning slowly over a still of soft blobs (Conway's life, seeded, blurred): pictures
    that hold still long enough between cuts, as filmed video does, and differ from seed to seed."""
    return (f"life=s=16x12:seed={seed}:ratio=0.5:rate=25,scale=640:480:flags=bicubic,gblur=sigma=10,"
            f"trim=end_frame=1,loop=loop=-1:size=1,setpts=N/25/TB,crop=320:240:x='{x}':y='{y}',"
            f"trim=duration=4,setpts=PTS-STARTPTS[s{label}]")


def melody(seed: int, seconds: float) -> str:
    """A two-voice tune whose notes (a new one every 0.3 s and 0.48 s) follow the seed: sound that
    Chromaprint can tell from another seed's."""
    return (f"aevalsrc='0.4*sin(2*PI*110*pow(2,mod(floor(t*3.3)*{seed * 7919}+17,36)/12)*t)"
            f"+0.3*sin(2*PI*220*pow(2,mod(floor(t*2.1)*{seed * 104729}+5,24)/12)*t)':s=44100:d={seconds}")


def song_video(out: Path, seed: int) -> Path:
    """16 s: four shots (cuts every 4 s) of seeded pictures, with a seeded melody."""
    shots = [_shot(seed * 10, "40+6*t", "60+3*t", 0), _shot(seed * 10 + 1, "200-6*t", "100", 1),
             _shot(seed * 10 + 2, "100", "20+5*t", 2), _shot(seed * 10 + 3, "60+5*t", "180-4*t", 3)]
    graph = ";".join(shots) + ";[s0][s1][s2][s3]concat=n=4:v=1:a=0,format=yuv420p[v]"
    ffmpeg("-filter_complex", graph, "-f", "lavfi", "-i", melody(seed, 16), "-map", "[v]", "-map", "0:a", "-t", "16",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "128k", out)
    return out


# How each kind of re-upload is made from the original (ffmpeg arguments after -i ORIGINAL).
REUPLOADS = {
    "reencoded": ["-c:v", "libx264", "-crf", "36", "-preset", "veryfast", "-c:a", "aac", "-b:a", "48k"],
    "rescaled": ["-vf", "scale=640:480", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy"],
    "cropped": ["-vf", "crop=iw*0.94:ih*0.94:iw*0.03:ih*0.03", "-c:v", "libx264", "-preset", "ultrafast", "-c:a",
                "copy"],
    "letterboxed": ["-vf", "scale=360:-2,pad=360:640:(ow-iw)/2:(oh-ih)/2:black", "-c:v", "libx264", "-preset",
                    "ultrafast", "-c:a", "copy"],
    "mirrored": ["-vf", "hflip", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy"],
}


class Media:
    """Generated media, made once per session and cached by name."""

    def __init__(self, folder: Path):
        self.folder = folder

    @functools.lru_cache(maxsize=None)
    def song(self, seed: int) -> Path:
        return song_video(self.folder / f"song-{seed}.mp4", seed)

    @functools.lru_cache(maxsize=None)
    def reupload(self, how: str, seed: int = 1) -> Path:
        out = self.folder / f"song-{seed}-{how}.mp4"
        ffmpeg("-i", self.song(seed), *REUPLOADS[how], out)
        return out

    @functools.lru_cache(maxsize=None)
    def clipped(self, seed: int = 1, start: float = 3.37, seconds: float = 12) -> Path:
        """A stretch from the middle, cut at a moment that falls between sampled frames."""
        out = self.folder / f"song-{seed}-clip-{start}-{seconds}.mp4"
        ffmpeg("-ss", start, "-i", self.song(seed), "-t", seconds, "-c:v", "libx264", "-preset", "ultrafast", "-c:a",
               "aac", out)
        return out

    @functools.lru_cache(maxsize=None)
    def swapped(self, pictures: int, sound: int) -> Path:
        """The pictures of one song with the sound of another."""
        out = self.folder / f"pictures-{pictures}-sound-{sound}.mp4"
        ffmpeg("-i", self.song(pictures), "-i", self.song(sound), "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a",
               "aac", "-b:a", "96k", out)
        return out

    @functools.lru_cache(maxsize=None)
    def still(self, seed: int = 1) -> Path:
        """One frame of the song as a JPEG (a screenshot posted as an image)."""
        out = self.folder / f"song-{seed}-still.jpg"
        ffmpeg("-ss", "6", "-i", self.song(seed), "-frames:v", "1", out)
        return out

    @functools.lru_cache(maxsize=None)
    def sound_only(self, seed: int = 1) -> Path:
        out = self.folder / f"song-{seed}.m4a"
        ffmpeg("-i", self.song(seed), "-vn", "-c:a", "aac", "-b:a", "64k", out)
        return out


_SHARED: dict = {}


def fingerprint_of(path: Path):
    """Fingerprints, computed once per file for the whole session."""
    from ohrt_cli.ground.fingerprint import fingerprint_file

    key = ("fp", str(path))
    if key not in _SHARED:
        _SHARED[key] = fingerprint_file(path)
    return _SHARED[key]


# ---------------------------------------------------------------------------------- library items

def env(when: str | None = None, officer: str | None = None) -> dict:
    found = {}
    if when:
        found["OHRT_NOW"] = when if "T" in when else f"{when}T10:00:00+00:00"
    if officer:
        found["OHRT_OFFICER"] = officer
    return found


def youtube(n: int) -> str:
    return f"https://www.youtube.com/watch?v=Lib{n:08d}"


def secrets_of(n: int) -> dict:
    """The sensitive strings given with task `n` (youtube(n)): its subject, incident reference and indices
    research, each unique to it."""
    return {"subject": f"Jon Subject{n:03d}", "ref": f"CAD:{4000 + n}/01MAR26",
            "research": f"CRIMINT 77{n:05d}", "summary": f"Linked to stabbing number {n:03d} in 2025"}


def _number(url: str) -> int:
    return int(url[-8:]) if url[-8:].isdigit() else 0


def captured_task(ohrt, clip: Path, url: str, *, when: str, derivatives: bool = True) -> tuple[str, dict]:
    """A task (with a subject and an incident reference) and its capture of `clip`; (task, capture)."""
    secret = secrets_of(_number(url))
    task = ohrt.ok("task", "add", "--url", url, *TASK_ARGS, "--subject", secret["subject"], "--ref", secret["ref"],
                   env=env(when)).stdout.strip()
    capture = ohrt.json("capture", "--file", clip, "--url", url, "--reason", "library test", "--task", task,
                        *([] if derivatives else ["--no-derivatives"]), env=env(when, CONSTABLE))
    return task, capture


def review(ohrt, task: str, *, when: str, decision: str = "refer", fmt: str = "music-video") -> None:
    """Review as the constable, with indices research (police-only, purged with the task)."""
    url = ohrt.json("task", "show", task)["url"]
    secret = secrets_of(_number(url))
    args = ["review", task, "--decision", decision, "--format", fmt, "--finding", FINDING,
            "--research", f"Aware|{secret['research']}|{when[:10]}|{secret['summary']}"]
    if decision == "refer":
        args += ["--clause", CLAUSE]
    else:
        args += ["--reason", "not harmful on review"]
    ohrt.ok(*args, env=env(when, CONSTABLE))


def removed(ohrt, task: str, *, when: str, removed: bool = True) -> dict:
    """Draft, approve (a sergeant), send and record the platform's decision, all on `when`."""
    referral = ohrt.json("refer", "draft", task, env=env(when, CONSTABLE))["id"]
    ohrt.ok("refer", "qa", referral, "--approve", env=env(when, SERGEANT))
    ohrt.ok("refer", "sent", referral, env=env(when, CONSTABLE))
    return ohrt.json("refer", "outcome", referral, "--removed" if removed else "--not-removed",
                     env=env(when, CONSTABLE))


def library_item(ohrt, clip: Path, url: str, *, when: str, fmt: str = "music-video",
                 derivatives: bool = True) -> dict:
    """The whole flow to a removal; {task, capture, referral, item (or None), matches}."""
    task, capture = captured_task(ohrt, clip, url, when=when, derivatives=derivatives)
    review(ohrt, task, when=when, fmt=fmt)
    outcome = removed(ohrt, task, when=when)
    item = outcome.get("library_item")
    return {"task": task, "capture": capture["id"], "referral": outcome["id"], "item": item["id"] if item else None,
            "matches": capture.get("matches") or []}
