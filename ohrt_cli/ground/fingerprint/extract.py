"""Fingerprinting a file: PDQ hashes of its frames and its Chromaprint sound, with ffmpeg (SOP 10.8)."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from .. import processes
from ..errors import Failure
from .base import FRAME_SIZE, MIN_QUALITY, PDQ_FPS, SHORT_FPS, SHORT_S, Fingerprint, empty_frames, sample_times


def fingerprint_file(path: Path, info: dict | None = None, *, sha256: str | None = None,
                     on_seconds: Callable[[float, float | None], None] | None = None) -> Fingerprint:
    """Hash the pictures and the sound of a media file (video, audio or image), both read from one decode
    (`Reader`). `info` is ffprobe's answer when the caller has it; `on_seconds(done, length)` is told the
    seconds of media decoded as the decode goes, for a progress display. With `sha256`, the fingerprint already
    read from these bytes in this process (`remember`, by the decode that made a capture's derivatives)
    is taken instead; otherwise the same decode reads a video's standard hashes too and keeps them for
    `standard_hashes(…, sha256=…)`. Failure (one line) when ffmpeg cannot read the file."""
    from .. import media
    from .standard import keep

    if sha256 and sha256 in _READ:
        return _READ.pop(sha256)
    path = Path(path)
    info = info or media.probe(path)
    with Reader(path, info, standard=bool(sha256)) as reader:
        try:
            media.run_pass(media.plan_pass(str(path), info, reader.kind, media.DEFAULTS, roles=set()), path.parent,
                           reading=reader.reading(), on_seconds=None if on_seconds is None else
                           lambda done: on_seconds(done, media.duration(info)))
        except media.StepFailed as exc:
            raise Failure(f"ffmpeg could not read {path.name} ({exc.reason}): check the file.") from None
        if sha256 and reader.standard_hashes() is not None:
            keep(sha256, reader.standard_hashes())
        return reader.fingerprint()


_READ: dict[str, Fingerprint] = {}


def remember(sha256: str, fp: Fingerprint, standard=None) -> None:
    """Keep, for this process, the fingerprint (and the standard hashes, when read) of the file with these
    bytes; `fingerprint_file` and `standard_hashes` hand each over once instead of decoding the file again."""
    from .standard import keep

    _READ[sha256] = fp
    if standard is not None:
        keep(sha256, standard)


class Reader:
    """The fingerprint of one file, read from a decode that may make other things too (`media.run_pass`):
    its frames for PDQ come raw on ffmpeg's stdout (cropped, `sampling_rate` a second, FRAME_SIZE² RGB) and are
    hashed as they come, on a thread of their own so that ffmpeg never waits for the hashing; its sound goes
    through ffmpeg's chromaprint muxer into a scratch file (or fpcalc afterwards, where ffmpeg lacks it).
    The border to crop is found first (`detect_crop`: the key frames only, as a rule). `kind` is the
    file's media kind; a file with none is a Failure here.

    With `standard`, a video's vPDQ frames (`standard.py`) come from the same decode too, whole and at
    their own size, through a second pipe; not for a video with a rotation tag, which vPDQ reads unturned
    and ohrt's own fingerprints turned (`standard_hashes()` is then None, for the caller to make them)."""

    BACKLOG = 16  # frames read but not yet hashed, at most (12 MB)

    def __init__(self, path: Path, info: dict, *, standard: bool = False):
        from .. import media

        self.path, self.info = Path(path), info
        self.kind = media.media_kind(info)
        if self.kind is None:
            raise Failure(f"{self.path.name} holds no pictures or sound to fingerprint: check the file.")
        self.sound = bool(media.streams(info, "audio"))
        # what ffmpeg can do and which versions it is are asked meanwhile (each is a process of its own)
        asking = threading.Thread(target=lambda: (chromaprint_muxer(), tool_versions()), daemon=True)
        asking.start()
        self.stream = self.crop = self.rate = video = None
        if self.kind in ("video", "image"):
            video = media.streams(info, "video")[0]  # the first picture stream that is not cover art
            self.stream = f"0:{video.get('index', 0)}"
            if self.kind == "video":
                self.crop = detect_crop(self.path, video, self.stream, media.duration(info))
                self.rate = _frame_rate(video)
        self.fps = sampling_rate(media.duration(info))
        self._scratch = tempfile.TemporaryDirectory(prefix="ohrt-fingerprint-")
        self._hashing = ThreadPoolExecutor(1, thread_name_prefix="ohrt-pdq")
        self._pending: list = []
        self._frames: list[tuple[int, tuple[np.ndarray, int]]] = []
        self._count = 0
        self._vpdq = self._vpdq_shape(video) if standard and self.kind == "video" else None
        self._vpdq_frames: list[tuple[np.ndarray, int]] = []
        asking.join()

    def _vpdq_shape(self, video: dict) -> tuple[int, int, int, float] | None:
        """(every, width, height, rate) of the vPDQ frames, or None when they are not read here."""
        from . import standard

        turned = video.get("tags", {}).get("rotate") not in (None, "0") or any(
            d.get("rotation") for d in video.get("side_data_list") or [])
        width, height = int(video.get("width") or 0), int(video.get("height") or 0)
        if self.rate is None or turned or width <= 0 or height <= 0:
            return None
        return max(1, int(standard.SECONDS_PER_HASH * self.rate)), width, height, self.rate

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for future in self._pending:
            future.cancel()
        self._hashing.shutdown(wait=True)
        self._scratch.cleanup()

    @property
    def _chromaprint(self) -> Path:
        return Path(self._scratch.name) / "sound.chromaprint"

    def reading(self):
        """What to add to the decode: the frames' chain and raw output, the sound's output."""
        from .. import media

        graph, outputs = [], []
        if self.stream is not None:
            still = self.kind == "image"
            chain = ([f"crop={self.crop}"] if self.crop else []) + ([] if still else [f"fps={self.fps:g}"])
            chain += [f"scale={FRAME_SIZE}:{FRAME_SIZE}:flags=area", "format=rgb24"]
            graph.append(f"[{self.stream}]{','.join(chain)}[fingerprint_frames]")
            outputs += ["-map", "[fingerprint_frames]", *(["-frames:v", "1"] if still else []), "-f", "rawvideo",
                        "pipe:1"]
        if self.sound and chromaprint_muxer():
            outputs += ["-map", "0:a:0", "-ac", "1", "-f", "chromaprint", "-fp_format", "raw", str(self._chromaprint)]
        side = None
        if self._vpdq:
            # as standard.vpdq_hashes reads them: every `every`-th decoded frame, none dropped or repeated,
            # converted to RGB at its own size by swscale's area
            every, width, height, _ = self._vpdq
            graph.append(f"[{self.stream}]select=not(mod(n\\,{every})),scale=flags=area,format=rgb24[vpdq_frames]")
            side = (width * height * 3, self._vpdq_frame,
                    lambda fd: ["-map", "[vpdq_frames]", "-fps_mode", "passthrough", "-f", "rawvideo", f"pipe:{fd}"])
        return media.Reading(graph=graph, outputs=outputs,
                             frame_bytes=FRAME_SIZE * FRAME_SIZE * 3 if self.stream is not None else 0,
                             on_frame=self._frame, seconds_per_frame=1 / self.fps, side=side)

    def _vpdq_frame(self, data: bytes) -> None:
        import pdqhash

        _, width, height, _ = self._vpdq
        bits, quality = pdqhash.compute(np.frombuffer(data, np.uint8).reshape(height, width, 3))
        self._vpdq_frames.append((np.packbits(bits.astype(np.uint8)), int(quality)))

    def standard_hashes(self):
        """The vPDQ frames read (a StandardHashes), or None when they were not read here."""
        from .standard import StandardHashes

        if not self._vpdq:
            return None
        every, _, _, rate = self._vpdq
        numbers = np.arange(len(self._vpdq_frames), dtype=np.uint32) * every
        return StandardHashes(frame_numbers=numbers, times=(numbers / np.float32(rate)).astype(np.float32),
                              qualities=np.asarray([q for _, q in self._vpdq_frames], np.uint8),
                              hashes=np.asarray([h for h, _ in self._vpdq_frames], np.uint8).reshape(-1, 32))

    def _frame(self, data: bytes) -> None:
        while len(self._pending) >= self.BACKLOG:
            self._collect(self._pending.pop(0))
        index = self._count
        self._count += 1
        frame = np.frombuffer(data, np.uint8).reshape(FRAME_SIZE, FRAME_SIZE, 3)
        self._pending.append(self._hashing.submit(lambda: (index, hash_frame(frame))))

    def _collect(self, future) -> None:
        self._frames.append(future.result())

    def fingerprint(self) -> Fingerprint:
        """The fingerprint read (once the decode has ended well)."""
        from .. import media

        while self._pending:
            self._collect(self._pending.pop(0))
        kept = [(index, hashed) for index, hashed in self._frames if hashed[1] >= MIN_QUALITY]
        positions, quality, pdq = empty_frames()
        if kept:
            positions = np.zeros(1, np.float32) if self.kind == "image" else \
                sample_times([index for index, _ in kept], self.fps, self.rate)
            quality = np.asarray([q for _, (_, q) in kept], np.uint8)
            pdq = np.stack([variants for _, (variants, _) in kept]).astype(np.uint8)
        audio = np.zeros(0, np.uint32)
        if self.sound:
            if chromaprint_muxer():
                raw = self._chromaprint.read_bytes() if self._chromaprint.is_file() else b""
                audio = np.frombuffer(raw[: len(raw) // 4 * 4], "<u4").astype(np.uint32)
            else:
                audio = audio_fingerprint(self.path)
        return Fingerprint(duration=media.duration(self.info), positions=positions, quality=quality, pdq=pdq,
                           audio=audio, crop=self.crop, tools=tool_versions())


@functools.lru_cache(maxsize=None)
def tool_versions() -> dict:
    from importlib.metadata import version

    from .. import media

    return {"ffmpeg": media._tool_version("ffmpeg"), "pdqhash": version("pdqhash"),
            "chromaprint": "ffmpeg muxer" if chromaprint_muxer() else "fpcalc " + media._tool_version("fpcalc")}


def _ffmpeg(*args: str) -> list[str]:
    return ["ffmpeg", "-nostdin", "-hide_banner", *args]


BORDER_STD = 3.0          # a row or column of a border is this even (standard deviation, of 255) ...
BORDER_DARK = 24          # ... and this dark (black is 16), in every frame looked at
BORDER_FRAMES = 40        # frames looked at, spread over the video (key frames where there are enough)


def detect_crop(path: Path, video: dict, stream: str = "0:v:0", duration: float | None = None) -> str | None:
    """The black border to cut off (w:h:x:y for ffmpeg's crop), or None when there is none or nearly
    all is black. A row or column is border only if it is even and dark in every frame looked at
    (BORDER_FRAMES, spread over the video), and one side is cut no more than its opposite (plus 1 %):
    a dark scene, a fade or a caption band on one side is not taken for a border. `video` is ffprobe's description of the stream."""
    rate = min(2.0, BORDER_FRAMES / duration) if duration else 2.0
    found = _border_rows(path, stream, ["-skip_frame", "nokey"], rate)
    if found is None or found[2] < 5:   # few key frames: look at decoded frames instead
        found = _border_rows(path, stream, [], rate)
    if found is None:
        return None
    rows, columns, _ = found
    top, bottom = _leading(rows), _leading(rows[::-1])
    left, right = _leading(columns), _leading(columns[::-1])
    height, width = len(rows), len(columns)
    # Bars come in pairs of (nearly) one size; an even dark band on one side only is part of the picture
    # (a caption band, a dark floor), so neither side is cut more than the other plus 1 %.
    top, bottom = min(top, bottom + height // 100), min(bottom, top + height // 100)
    left, right = min(left, right + width // 100), min(right, left + width // 100)
    w, h = width - left - right, height - top - bottom
    if w % 2 and w < width:   # an even size, by cutting a line less
        w, left = w + 1, left - (right == 0)
    if h % 2 and h < height:
        h, top = h + 1, top - (bottom == 0)
    if (w, h) == (width, height) or w <= 0 or h <= 0 or w * h < 0.1 * width * height:
        return None
    return f"{w}:{h}:{left}:{top}"


def _leading(border: np.ndarray) -> int:
    """How many of the first values are True."""
    return int(np.argmin(border)) if not border.all() else len(border)


def _border_rows(path: Path, stream: str, sample: list[str], rate: float) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Which rows and which columns are even and dark in every frame sampled, and how many frames were."""
    command = _ffmpeg("-v", "error", *sample, "-i", str(path), "-map", stream, "-vf", f"fps={rate:g},format=gray",
                      "-f", "image2pipe", "-c:v", "pgm", "-")
    rows = columns = None
    frames = 0
    with tempfile.TemporaryFile() as errors, processes.popen(command, stdout=subprocess.PIPE, stderr=errors) as proc:
        while (frame := _read_pgm(proc.stdout)) is not None:
            picture = frame.astype(np.float32)
            row_even = (picture.std(axis=1) <= BORDER_STD) & (picture.mean(axis=1) <= BORDER_DARK)
            column_even = (picture.std(axis=0) <= BORDER_STD) & (picture.mean(axis=0) <= BORDER_DARK)
            if rows is None or rows.shape != row_even.shape or columns.shape != column_even.shape:
                rows, columns = row_even, column_even
            else:
                rows, columns = rows & row_even, columns & column_even
            frames += 1
        proc.wait()
    return None if rows is None else (rows, columns, frames)


def _read_pgm(stream) -> np.ndarray | None:
    """One binary PGM picture from a pipe (ffmpeg's image2pipe), or None at the end."""
    fields: list[bytes] = []
    token = b""
    while len(fields) < 4:
        char = stream.read(1)
        if not char:
            return None
        if char.isspace():
            if token:
                fields.append(token)
                token = b""
        else:
            token += char
    width, height = int(fields[1]), int(fields[2])
    data = stream.read(width * height)
    if len(data) < width * height:
        return None
    return np.frombuffer(data, np.uint8).reshape(height, width)


def sampling_rate(duration: float | None) -> float:
    """Frames hashed a second: SHORT_FPS for a video shorter than SHORT_S (an excerpt needs frames
    enough to match), else PDQ_FPS."""
    return SHORT_FPS if duration is not None and duration < SHORT_S else PDQ_FPS


def frame_hashes(path: Path, *, crop: str | None = None, still: bool = False, stream: str = "0:v:0",
                 fps: float = PDQ_FPS, rate: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PDQ hashes of `fps` frames a second (or of the one picture of a still): positions (s: the time of
    each frame hashed, `sample_times` given the stream's frame `rate`), qualities, and the hashes of each
    frame's VARIANTS. Frames below MIN_QUALITY are dropped."""
    chain = ([f"crop={crop}"] if crop else []) + ([] if still else [f"fps={fps:g}"])
    chain += [f"scale={FRAME_SIZE}:{FRAME_SIZE}:flags=area", "format=rgb24"]
    command = _ffmpeg("-v", "error", "-i", str(path), "-map", stream, *(["-frames:v", "1"] if still else []),
                      "-vf", ",".join(chain), "-f", "rawvideo", "-")
    size = FRAME_SIZE * FRAME_SIZE * 3
    positions, qualities, hashes = [], [], []
    # ffmpeg's complaints go to a file, not a pipe, so that many of them cannot block it while we read frames
    with tempfile.TemporaryFile() as errors, processes.popen(command, stdout=subprocess.PIPE, stderr=errors) as proc:
        index = 0
        while len(data := proc.stdout.read(size)) == size:
            variants, quality = hash_frame(np.frombuffer(data, np.uint8).reshape(FRAME_SIZE, FRAME_SIZE, 3))
            if quality >= MIN_QUALITY:
                positions.append(index)
                qualities.append(quality)
                hashes.append(variants)
            index += 1
        proc.wait()
        errors.seek(0)
        error = errors.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise Failure(f"ffmpeg could not read the pictures of {path.name} ({_last_line(error)}): check the file.")
    if not hashes:
        return empty_frames()
    times = np.zeros(1, np.float32) if still else sample_times(positions, fps, rate)
    return times, np.asarray(qualities, np.uint8), np.stack(hashes).astype(np.uint8)


def _frame_rate(video: dict) -> float | None:
    """The stream's average frame rate (else its base rate), or None when it states neither."""
    from .standard import frame_rate

    try:
        return frame_rate(video)
    except Failure:
        return None


def hash_frame(frame: np.ndarray) -> tuple[np.ndarray, int]:
    """The PDQ hashes (VARIANTS × 32 bytes) of one RGB frame, and its quality."""
    from .variants import frame_variants

    return frame_variants(frame)


@functools.lru_cache(maxsize=None)
def chromaprint_muxer() -> bool:
    done = processes.run(_ffmpeg("-h", "muxer=chromaprint"), capture_output=True, text=True)
    return "Unknown format" not in done.stdout + done.stderr and done.returncode == 0


def audio_fingerprint(path: Path) -> np.ndarray:
    """The Chromaprint fingerprint of the first sound stream, as raw 32-bit values (empty when the sound
    is shorter than Chromaprint needs)."""
    if chromaprint_muxer():
        done = processes.run(_ffmpeg("-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-f",
                                      "chromaprint", "-fp_format", "raw", "-"), capture_output=True)
        if done.returncode != 0:
            raise Failure(f"ffmpeg could not fingerprint the sound of {path.name} "
                          f"({_last_line(done.stderr.decode('utf-8', 'replace'))}): check the file.")
        return np.frombuffer(done.stdout[: len(done.stdout) // 4 * 4], "<u4").astype(np.uint32)
    if shutil.which("fpcalc") is None:
        raise Failure("neither ffmpeg's chromaprint muxer nor fpcalc is installed: install libchromaprint-tools "
                      "(sudo apt-get install libchromaprint-tools) and run `ohrt capture finish`.")
    done = processes.run(["fpcalc", "-raw", "-length", "0", str(path)], capture_output=True, text=True)
    found = re.search(r"^FINGERPRINT=([\d,]*)$", done.stdout, re.M)
    if not found:
        raise Failure(f"fpcalc could not fingerprint the sound of {path.name} ({_last_line(done.stderr)}): "
                      "check the file.")
    return np.array([int(v) for v in found[1].split(",") if v], dtype=np.uint32)


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no reason given"


