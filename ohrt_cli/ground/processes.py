"""Every process ohrt starts (ffmpeg, ffprobe, fpcalc, yt-dlp's own ffmpeg) dies with ohrt (no SOP paragraph).

A child runs in a process group of its own, so that the group can be ended as one, and on Linux it asks
the kernel for SIGKILL when ohrt dies (PR_SET_PDEATHSIG), so that a `kill -9` of ohrt, or a crash,
leaves no ffmpeg writing into a staging folder that is about to be swept. When ohrt stops by an exception
(Ctrl-C included: the child, in its own group, does not see the terminal's SIGINT) the group is killed
before the exception goes on. `run` and `popen` are the only ways ohrt starts a process; a test holds that.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from typing import Iterator

PR_SET_PDEATHSIG = 1


def _libc():
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc() if sys.platform.startswith("linux") else None
_PARENT = os.getpid()


def _die_with_parent() -> None:  # runs in the child between fork and exec: no allocation-heavy work
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != _PARENT:  # ohrt died before the request was made: nothing would signal us
            os._exit(1)


def options() -> dict:
    """The keyword arguments of subprocess.Popen that bind a child's life to ohrt's."""
    global _PARENT
    _PARENT = os.getpid()
    if os.name != "posix":
        return {}
    found: dict = {"process_group": 0}
    if _LIBC is not None:
        found["preexec_fn"] = _die_with_parent
    return found


def kill_group(proc: subprocess.Popen) -> None:
    """End `proc` and everything it started in its group, and reap it."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    with contextlib.suppress(Exception):
        proc.wait(timeout=5)


@contextlib.contextmanager
def popen(command: list[str], **kwargs) -> Iterator[subprocess.Popen]:
    """subprocess.Popen bound to ohrt's life; the group is killed if the block ends by an exception."""
    with subprocess.Popen(command, **{**kwargs, **options()}) as proc:
        try:
            yield proc
        except BaseException:
            kill_group(proc)
            raise


def run(command: list[str], *, input: bytes | str | None = None, timeout: float | None = None,
        check: bool = False, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run bound to ohrt's life: on Ctrl-C, a timeout or any error the child's group is killed."""
    if input is not None:
        kwargs["stdin"] = subprocess.PIPE
    if kwargs.pop("capture_output", False):
        kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
    with popen(command, **kwargs) as proc:
        try:
            stdout, stderr = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            raise
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    if check:
        done.check_returncode()
    return done


def bind(popen_class: type) -> None:
    """Make a library's own Popen subclass (yt-dlp's, which starts ffmpeg for merges and fix-ups) start
    its children as ours are. Idempotent."""
    original = popen_class.__init__
    if getattr(original, "_bound_to_ohrt", False):
        return

    def __init__(self, args, *rest, **kwargs):
        for key, value in options().items():
            kwargs.setdefault(key, value)
        original(self, args, *rest, **kwargs)

    __init__._bound_to_ohrt = True
    popen_class.__init__ = __init__
