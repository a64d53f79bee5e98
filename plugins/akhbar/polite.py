"""Polite concurrency: many hosts at once, at most N connections and a minimum delay per host."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

R = TypeVar("R")


def host_key(url: str) -> str:
    """The politeness key of a URL: its lower-case host name (ports of one host share the budget)."""
    return (urlsplit(url).hostname or "").lower()


class Outcome(Generic[R]):
    """A job's result, or the exception it raised."""

    __slots__ = ("error", "value")

    def __init__(self, value: R | None = None, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error


class HostScheduler:
    """Runs jobs on a thread pool so that each host gets at most per_host concurrent jobs, started at least delay_s apart.

    A dispatcher hands a job to a worker only when its host has a free connection and its delay has passed,
    so workers never sleep on politeness and a slow host holds at most per_host workers. With a fetcher attached,
    each host starts with a job of its own that reads robots.txt, whose Crawl-delay then paces the rest; until a
    host's first job is done, it has only that one in flight.
    """

    def __init__(self, workers: int, per_host: int, delay_s: float, delay_for: Callable[[str], float | None] | None = None) -> None:
        self.workers = max(1, workers)
        self.per_host = max(1, per_host)
        self.delay_s = max(0.0, delay_s)
        self.delay_for = delay_for
        self.hooked = False
        self.prepare: Callable[[str], None] | None = None
        self._cond = threading.Condition()
        self._next_start: dict[str, float] = {}

    @classmethod
    def from_tunables(cls, tunables: dict[str, Any], fetcher: Any = None) -> HostScheduler:
        """A scheduler configured by the `polite` section of tunables.yaml, paced by the fetcher's sends if given."""
        polite = tunables.get("polite", {})
        scheduler = cls(int(polite.get("workers", 16)), int(polite.get("connections_per_host", 2)), float(polite.get("host_delay_s", 1.0)))
        if fetcher is not None:
            scheduler.attach(fetcher)
        return scheduler

    def attach(self, fetcher: Any) -> None:
        """Pace hosts by when the fetcher really sends (robots.txt and redirect hops included), and use its Crawl-delay."""
        self.delay_for = fetcher.crawl_delay
        self.prepare = fetcher.prepare
        fetcher.on_send = self.sent
        self.hooked = True

    def sent(self, url: str, when: float) -> None:
        """A request to url's host went out at `when` (monotonic): the host's next request waits for its delay."""
        with self._cond:
            self._next_start[host_key(url)] = when + self._delay(url)
            self._cond.notify_all()

    def _delay(self, url: str) -> float:
        """Seconds between request starts on url's host: the configured delay, or robots.txt's Crawl-delay if longer."""
        extra = self.delay_for(url) if self.delay_for else None
        return max(self.delay_s, extra or 0.0)

    def map(self, jobs: Sequence[tuple[str, Callable[[], R]]]) -> list[Outcome[R]]:
        """Run (url, job) pairs politely; return their outcomes in input order. One failing job never stops the others."""
        outcomes: list[Outcome[R]] = [Outcome() for _ in jobs]
        queues: dict[str, deque[int]] = {}
        for i, (url, _job) in enumerate(jobs):
            queues.setdefault(host_key(url), deque()).append(i)
        # Negative indices are the per-host preparation jobs (robots.txt), run before the host's first real job.
        prepares: list[str] = []
        if self.prepare is not None:
            for queue in queues.values():
                prepares.append(jobs[queue[0]][0])
                queue.appendleft(-len(prepares))
        active: Counter[str] = Counter()
        completed: Counter[str] = Counter()
        next_start = self._next_start
        cond = self._cond
        state = {"in_flight": 0, "remaining": len(jobs) + len(prepares)}

        def started(host: str, url: str, job: Callable[[], R]) -> R:
            if not self.hooked:
                with cond:
                    next_start[host] = time.monotonic() + self._delay(url)
                    cond.notify_all()
            return job()

        def finished(i: int, host: str, fut: Future[R]) -> None:
            with cond:
                error = fut.exception()
                if i >= 0:
                    outcomes[i] = Outcome(error=error) if error is not None else Outcome(fut.result())
                active[host] -= 1
                completed[host] += 1
                if next_start.get(host) == float("inf"):
                    next_start[host] = time.monotonic()  # the job sent nothing (refused before connecting)
                state["in_flight"] -= 1
                state["remaining"] -= 1
                cond.notify_all()

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="polite") as pool, cond:
            while state["remaining"]:
                now = time.monotonic()
                wait: float | None = None
                dispatched = False
                for host in list(queues):
                    if state["in_flight"] >= self.workers:
                        break
                    queue = queues[host]
                    if active[host] >= (self.per_host if completed[host] else 1):
                        continue
                    ready_at = next_start.get(host, 0.0)
                    if ready_at > now:
                        if ready_at != float("inf"):
                            wait = ready_at - now if wait is None else min(wait, ready_at - now)
                        continue
                    if not completed[host] and active[host]:
                        continue
                    i = queue.popleft()
                    if not queue:
                        del queues[host]
                    url, job = jobs[i] if i >= 0 else (prepares[-i - 1], partial(self.prepare, prepares[-i - 1]))
                    active[host] += 1
                    state["in_flight"] += 1
                    # Until the job really sends (or starts, without a fetcher attached), the host waits.
                    next_start[host] = float("inf")
                    pool.submit(started, host, url, job).add_done_callback(lambda fut, i=i, host=host: finished(i, host, fut))
                    dispatched = True
                if state["remaining"] and not dispatched:
                    cond.wait(timeout=wait)
        return outcomes
