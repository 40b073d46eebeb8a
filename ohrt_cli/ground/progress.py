"""Progress of long work, told the same way by every stage and shown by one display (no SOP paragraph).

A stage reports progress as events to a callable it is given (`Report`; None when nobody watches):

    {"event": "progress", "key": "verify", "label": "re-hashing captures", "done": 3, "total": 40,
     "unit": "items" | "bytes" | "seconds" | "step", "finished": False}

`Meter` makes those events (throttled, so a tight loop costs nothing) and `Display` shows them on a
terminal with rich: bytes with percentage, speed and time left for hashing and copying, seconds of media
for ffmpeg's derivatives, items for verify, purge, import and export, and a step (a spinner and its label) for
work that cannot be counted, such as one transaction. The CLI opens a Display only on a
terminal and never with --json, so scripts and pipes see the result alone.
"""

from __future__ import annotations

import time
from typing import Any, Callable

Report = Callable[[dict], None]
UNITS = ("items", "bytes", "seconds", "step")


class Meter:
    """One piece of long work's progress: `update(done)` or `advance(n)`, then `finish()`. With no
    report it does nothing; events are sent at most ten times a second, and always at the end."""

    def __init__(self, report: Report | None, label: str, total: float | None = None, unit: str = "items",
                 key: str | None = None):
        self.report, self.label, self.total, self.unit = report, label, total, unit
        self.key = key or label
        self.done: float = 0
        self._sent = 0.0

    def __enter__(self) -> "Meter":
        self._send(force=True)
        return self

    def __exit__(self, *exc) -> None:
        self.finish()

    def update(self, done: float, total: float | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        self._send()

    def advance(self, amount: float = 1) -> None:
        self.update(self.done + amount)

    def finish(self) -> None:
        self._send(force=True, finished=True)

    def _send(self, *, force: bool = False, finished: bool = False) -> None:
        if self.report is None:
            return
        now = time.monotonic()
        if not force and now - self._sent < 0.1:
            return
        self._sent = now
        self.report({"event": "progress", "key": self.key, "label": self.label, "done": self.done,
                     "total": self.total, "unit": self.unit, "finished": finished})


def meter(report: Report | None, label: str, total: float | None = None, unit: str = "items",
          key: str | None = None) -> Meter:
    return Meter(report, label, total, unit, key)


def bar():
    """A rich Progress whose rows show what their `unit` field calls for: bytes (bar, %, size, speed, time
    left), items (bar, n/N, time left), seconds of media (bar, %, s/S, time left), or a step (spinner only)."""
    from rich.progress import (BarColumn, DownloadColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn,
                               TimeRemainingColumn, TransferSpeedColumn)
    from rich.table import Table
    from rich.text import Text

    bars, remaining, size, speed = BarColumn(bar_width=24), TimeRemainingColumn(), DownloadColumn(), \
        TransferSpeedColumn()

    class ByUnit(ProgressColumn):
        def render(self, task) -> Any:
            unit = task.fields.get("unit", "step")
            if unit == "step":
                return Text("")
            parts: list = [bars.render(task)]
            if unit == "bytes":
                if task.total:
                    parts.append(Text(f"{task.percentage:>3.0f}%"))
                parts += [size.render(task), speed.render(task)]
            elif unit == "seconds":
                if task.total:
                    parts.append(Text(f"{task.percentage:>3.0f}%"))
                parts.append(Text(f"{task.completed:.0f}/{task.total:.0f} s of media" if task.total
                                  else f"{task.completed:.0f} s of media"))
            else:
                parts.append(Text(f"{task.completed:.0f}/{task.total:.0f}" if task.total is not None
                                  else f"{task.completed:.0f}"))
            parts.append(remaining.render(task))
            grid = Table.grid(padding=(0, 1))
            grid.add_row(*parts)
            return grid

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), ByUnit(), transient=True)


class Display:
    """Shows progress events on the terminal while open; with enabled=False (no terminal, --json) it
    shows nothing. `event` is the Report to hand to a stage."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.progress = None
        self.rows: dict[str, Any] = {}

    def __enter__(self) -> "Display":
        if self.enabled:
            self.progress = bar()
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def event(self, event: dict) -> None:
        if self.progress is None or event.get("event") != "progress":
            return
        key = event["key"]
        new = key not in self.rows
        if new:
            self.rows[key] = self.progress.add_task(event["label"][:50], total=event["total"], unit=event["unit"])
        row = self.rows[key]
        self.progress.update(row, completed=event["done"], total=event["total"], description=event["label"][:50])
        if new:  # said as the work starts, however soon it ends, rather than at the next refresh
            self.progress.refresh()
        if event["finished"]:
            self.progress.remove_task(self.rows.pop(key))
