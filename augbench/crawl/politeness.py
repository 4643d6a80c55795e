"""Per-host politeness: a minimum delay between request starts and a cap on requests in flight.

Every download (and retry) to a host passes through :meth:`HostLimiter.slot`.
A 429/Retry-After or a server error pushes that host's next start time back,
so the other threads wait too instead of hammering a host that asked us to stop.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Iterator

from augbench.core.progress import CancelToken


def sleep_cancellable(seconds: float, cancel: CancelToken, step: float = 0.05) -> None:
    """Sleep ``seconds`` but wake up to honour a cancel within ``step`` seconds."""
    end = time.monotonic() + max(0.0, seconds)
    while True:
        cancel.check()
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(step, left))


class HostLimiter:
    """Thread-safe per-host pacing (``delay_s`` between starts) and concurrency (``max_in_flight``)."""

    def __init__(self, delay_s: float = 0.2, max_in_flight: int = 2) -> None:
        self.delay_s = max(0.0, delay_s)
        self.max_in_flight = max(1, max_in_flight)
        self._lock = threading.Lock()
        self._sems: dict[str, threading.BoundedSemaphore] = {}
        self._next: dict[str, float] = {}
        self.peak_in_flight: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}

    def _sem(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            sem = self._sems.get(host)
            if sem is None:
                sem = self._sems[host] = threading.BoundedSemaphore(self.max_in_flight)
            return sem

    @contextlib.contextmanager
    def slot(self, host: str, cancel: CancelToken) -> Iterator[None]:
        """Hold one of ``host``'s in-flight slots, starting no earlier than its pacing allows."""
        sem = self._sem(host)
        while not sem.acquire(timeout=0.05):
            cancel.check()
        try:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next.get(host, 0.0))
                self._next[host] = start + self.delay_s
            sleep_cancellable(start - now, cancel)
            with self._lock:
                n = self._in_flight.get(host, 0) + 1
                self._in_flight[host] = n
                self.peak_in_flight[host] = max(self.peak_in_flight.get(host, 0), n)
            try:
                yield
            finally:
                with self._lock:
                    self._in_flight[host] -= 1
        finally:
            sem.release()

    def back_off(self, host: str, seconds: float) -> None:
        """Make every thread wait ``seconds`` before the next request to ``host``."""
        with self._lock:
            self._next[host] = max(self._next.get(host, 0.0), time.monotonic() + seconds)
