"""Many looks at many hosts, politely: a rate limit per host, a time budget for the whole run, a few
hosts at once, and one host's failures kept from the others (SOP 10.6 follow-up; `ohrt refer check`).

The jobs are grouped by host (`status_check.host_of`). A worker takes one host at a time and does its
jobs in order, waiting before every request until `interval` seconds have passed since the previous
request to that host ended (`Pacer`), so a host never sees two requests begin closer than that; `workers` hosts are looked at together. When `host_failures` jobs of a host in a row
are unreachable, the host's other jobs are left for the next run (`skipped`, reason "host"). When the
budget is spent, no new job starts and what is left is `skipped` (reason "budget"); a job under way is
bounded by the request timeout. Results are handed to `on_result` in the calling thread as they come
(the workers only look), so the caller can write them down in batches on its own database connection.

This is ground: it knows URLs and hosts, not tasks or referrals.
"""

from __future__ import annotations

import heapq
import queue as queues_
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Generic, Iterable, TypeVar

from .status_check import UNREACHABLE, host_of

J = TypeVar("J")
R = TypeVar("R")


@dataclass(frozen=True)
class Limits:
    interval: float = 1.0        # seconds between the starts of two requests to one host
    budget: float = 3600.0       # seconds for the whole run
    workers: int = 4             # hosts looked at together
    host_failures: int = 3       # unreachable answers in a row before a host is left for the next run


class Pacer:
    """One host's pace: `wait()` returns once `interval` has passed since the previous request to the host
    ended (`done()`), so the starts of two requests are always at least `interval` apart, however long
    the first took to be sent."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval, self.clock, self.sleep = interval, clock, sleep
        self.last: float | None = None
        self.requests = 0

    def wait(self) -> None:
        if self.last is not None:
            delay = self.last + self.interval - self.clock()
            if delay > 0:
                self.sleep(delay)
        self.last = self.clock()
        self.requests += 1

    def done(self) -> None:
        self.last = self.clock()


@dataclass
class Outcome(Generic[J]):
    done: int = 0
    skipped: list[tuple[J, str]] = field(default_factory=list)   # (job, "budget" | "host")
    hosts: int = 0
    requests: int = 0
    budget_spent: bool = False
    seconds: float = 0.0


def run(jobs: Iterable[J], url_of: Callable[[J], str], work: Callable[[J, Pacer], R],
        on_result: Callable[[J, R], None], limits: Limits, *,
        result_of: Callable[[R], str] = lambda r: getattr(r, "result", ""),
        on_error: Callable[[J, Exception], R] | None = None,
        stop: threading.Event | None = None) -> Outcome[J]:
    """Do `work(job, pacer)` for every job (see the module's docstring); returns what was done and skipped.
    A job whose work raises gets `on_error(job, exc)` as its result (without it, the error is raised
    once every worker has stopped), so one bad job stops neither its host nor the others."""
    started = time.monotonic()
    deadline = started + limits.budget
    queues: dict[str, list[J]] = {}
    for job in jobs:
        queues.setdefault(host_of(url_of(job)), []).append(job)
    # the hosts with most to do first, so that the longest queue does not start last
    order = [(-len(q), host) for host, q in queues.items()]
    heapq.heapify(order)
    lock = threading.Lock()
    outcome: Outcome[J] = Outcome(hosts=len(queues))
    stop = stop or threading.Event()
    results: "queues_.Queue[tuple[J, R]]" = queues_.Queue()
    errors: list[Exception] = []

    def next_host() -> str | None:
        with lock:
            return heapq.heappop(order)[1] if order else None

    def worker() -> None:
        while (host := next_host()) is not None:
            pacer = Pacer(limits.interval)
            failures = 0
            queue = queues[host]
            for at, job in enumerate(queue):
                if stop.is_set() or time.monotonic() >= deadline:
                    with lock:
                        outcome.budget_spent = outcome.budget_spent or not stop.is_set()
                        outcome.skipped.extend((j, "budget") for j in queue[at:])
                    break
                if failures >= limits.host_failures:
                    with lock:
                        outcome.skipped.extend((j, "host") for j in queue[at:])
                    break
                try:
                    result = work(job, pacer)
                except Exception as exc:
                    if on_error is None:
                        errors.append(exc)
                        stop.set()
                        break
                    result = on_error(job, exc)
                failures = failures + 1 if result_of(result) == UNREACHABLE else 0
                results.put((job, result))
            with lock:
                outcome.requests += pacer.requests
            queues[host] = []   # let the finished host's jobs go

    threads = [threading.Thread(target=worker, name=f"check-{n}", daemon=True)
               for n in range(max(1, min(limits.workers, len(queues))))]
    for thread in threads:
        thread.start()

    def deliver() -> None:
        while True:
            try:
                job, result = results.get_nowait()
            except queues_.Empty:
                return
            outcome.done += 1
            on_result(job, result)

    try:
        while any(thread.is_alive() for thread in threads):
            try:
                job, result = results.get(timeout=0.2)
            except queues_.Empty:
                continue
            outcome.done += 1
            on_result(job, result)
            deliver()
        deliver()
    except BaseException:
        stop.set()
        for thread in threads:
            thread.join()
        raise
    outcome.seconds = time.monotonic() - started
    if errors:
        raise errors[0]
    return outcome
