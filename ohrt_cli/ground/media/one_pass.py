"""Several derivatives of one original made by one ffmpeg process that decodes it once (`plan_pass`,
`run_pass`), with what else is read from the same decode (`Reading`: the fingerprints' frames and sound)
taken from its pipes. The same derivatives as `derivatives.py` (SOP 9.1), made faster.

This is ground: no tasks, captures or database here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import processes
from .derivatives import Step, _compile, plan_derivatives, step_outputs
from .failures import StepFailed, disk_full, ffmpeg_reason

@dataclass
class Pass:
    """Several derivatives of one original made by one ffmpeg process, which decodes it once: `command`
    (relative paths, run in the capture folder) makes every file of every step, and is what the manifest
    records for each of them (`made_together` names them all)."""

    source: str
    steps: list[Step]
    command: list[str]

    @property
    def outputs(self) -> list[str]:
        return [step.output for step in self.steps]


@dataclass
class Reading:
    """What a caller reads from the same decode, beside the derivatives (the fingerprints' frames and
    sound): filter chains added to the graph (`[0:N]` names the input's streams), outputs added to the
    command, and, when `frame_bytes` is set, `on_frame` called with each raw frame ffmpeg writes on
    stdout. A second stream of raw frames (`side`: frame size, what to call with each, and the outputs
    that write them to `pipe:FD`, given FD) goes through a pipe of its own, read on a thread. None of it
    makes a file of the capture, so none of it is in the recorded command."""

    graph: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    frame_bytes: int = 0
    on_frame: Callable[[bytes], None] | None = None
    seconds_per_frame: float = 1.0
    side: tuple[int, Callable[[bytes], None], Callable[[int], list[str]]] | None = None


def plan_pass(source: str, info: dict, kind: str, options: dict, folder: str = "derived",
              roles: set[str] | None = None) -> Pass:
    """The derivatives of one original (`plan_derivatives`, those in `roles` when given) as one command.
    A video's picture is decoded once and filtered into each derivative. Only pictures should be made this
    way: their bytes depend on the decoded frames alone, whereas an MP4's interleaving and a copied sound's
    timestamps follow what else the process reads and decodes. With no derivative to make, the command only
    reads `source` (for a `Reading`)."""
    import ffmpeg

    steps = [] if roles == set() else [step for step in plan_derivatives(source, info, kind, options, folder,
                                                                          one_pass=True)
                                       if roles is None or step.role in roles]
    if not steps:
        return Pass(source, [], ["ffmpeg", "-nostdin", "-hide_banner", "-i", source])
    if len(steps) == 1:
        return Pass(source, steps, steps[0].command)
    return Pass(source, steps, _compile(ffmpeg.merge_outputs(*[step.node for step in steps])))


def run_pass(plan: Pass, cwd: Path, *, reading: Reading | None = None,
             on_seconds: Callable[[float], None] | None = None) -> str:
    """Run `plan` in the capture folder `cwd`, with `reading`'s chains and outputs added, passing each
    raw frame to `reading.on_frame` as it comes; its stderr on success. Progress as `run_step` gives it
    (from the frames read, when there are any). Raises DiskFull, or StepFailed with ffmpeg's reason; on
    any failure the caller removes what the steps made (`step_outputs`)."""
    for step in plan.steps:
        target = cwd / step.output
        (target if step.role == "keyframes" else target.parent).mkdir(parents=True, exist_ok=True)
    command = _with_reading(plan.command, reading) if reading else list(plan.command)
    frames = reading is not None and reading.frame_bytes > 0 and reading.on_frame is not None
    if on_seconds is not None and not frames:
        command[1:1] = ["-progress", "pipe:1", "-nostats"]
    side = _SidePipe(*reading.side) if reading is not None and reading.side else None
    if side:
        command += side.outputs
    try:
        with contextlib.ExitStack() as stack:
            errors = stack.enter_context(tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace"))
            if side:
                stack.enter_context(side)
            process = stack.enter_context(processes.popen(
                command, cwd=cwd, stderr=errors, pass_fds=side.fds if side else (),
                stdout=subprocess.PIPE if frames or on_seconds else subprocess.DEVNULL))
            if side:
                side.start()
            if frames:
                count = 0
                while len(data := process.stdout.read(reading.frame_bytes)) == reading.frame_bytes:
                    reading.on_frame(data)
                    count += 1
                    if on_seconds is not None:
                        on_seconds(count * reading.seconds_per_frame)
                process.stdout.read()  # whatever is left, so that ffmpeg is never blocked writing
            elif on_seconds is not None:
                for raw in process.stdout:
                    line = raw.decode("ascii", "replace")
                    if line.startswith("out_time_us=") and line[12:].strip().isdigit():
                        on_seconds(int(line[12:].strip()) / 1_000_000)
            returncode = process.wait()
            if side:
                side.finish()
            errors.seek(0)
            stderr = errors.read()
    except OSError as exc:
        raise StepFailed(f"could not run ffmpeg ({exc.strerror})") from None
    if "No space left on device" in stderr:
        raise disk_full(cwd / (plan.outputs[0] if plan.steps else "."))
    if returncode != 0:
        raise StepFailed(ffmpeg_reason(stderr, returncode))
    empty = [step.role for step in plan.steps if not step_outputs(step, cwd)]
    if empty:
        raise StepFailed(f"ffmpeg wrote no {', '.join(empty)}")
    return stderr


class _SidePipe:
    """A pipe ffmpeg writes raw frames into (its write end passed to the child as `pipe:FD`), read on a
    thread of its own; an error of the reader's comes back from `finish`."""

    def __init__(self, frame_bytes: int, on_frame: Callable[[bytes], None], outputs: Callable[[int], list[str]]):
        self.frame_bytes, self.on_frame = frame_bytes, on_frame
        self.read_end, self.write_end = os.pipe()
        self.fds = (self.write_end,)
        self.outputs = outputs(self.write_end)
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def __enter__(self) -> "_SidePipe":
        return self

    def start(self) -> None:
        os.close(self.write_end)  # the child holds its own copy: its exit is our end of file
        self.write_end = -1
        self.thread = threading.Thread(target=self._read, name="ohrt-side-pipe", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with os.fdopen(self.read_end, "rb", closefd=False) as pipe:
            try:
                while len(data := pipe.read(self.frame_bytes)) == self.frame_bytes:
                    self.on_frame(data)
            except BaseException as exc:  # noqa: BLE001 — handed to the caller by finish()
                self.error = exc
            finally:
                while pipe.read(1 << 16):  # never leave ffmpeg blocked on a full pipe
                    pass

    def finish(self) -> None:
        if self.thread is not None:
            self.thread.join()
        if isinstance(self.error, Exception):
            raise StepFailed(f"reading the frames failed ({type(self.error).__name__}: {self.error})")
        if self.error is not None:
            raise self.error

    def __exit__(self, *exc) -> None:
        if self.write_end >= 0:
            os.close(self.write_end)
        if self.thread is not None:
            self.thread.join(timeout=10)
        os.close(self.read_end)


def _with_reading(command: list[str], reading: Reading) -> list[str]:
    """`command` with `reading`'s filter chains joined to its graph and its outputs after the others."""
    command = list(command)
    if reading.graph:
        if "-filter_complex" in command:
            at = command.index("-filter_complex") + 1
            command[at] = ";".join([command[at], *reading.graph])
        else:
            at = len(command) - command[::-1].index("-i") + 1  # after the (one) input
            command[at:at] = ["-filter_complex", ";".join(reading.graph)]
    return command + reading.outputs
