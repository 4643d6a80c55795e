"""Run quick computations (previews) off the GUI thread, keeping only the newest request.

A dragged slider asks for a new preview on every event-loop turn. Computing each
one would queue up stale work; computing on the GUI thread would freeze it. A
:class:`LatestOnly` runs at most one computation at a time in one background
thread; a request that arrives meanwhile replaces any request still waiting,
so when the running one ends, only the newest is computed next.

It uses a plain Python thread (not a QThread): the computations are short and
own no Qt objects; the result comes back through a queued Qt signal, so slots
run on the GUI thread.
"""

from __future__ import annotations

import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from PyQt5.QtCore import QObject, pyqtSignal


class LatestOnly(QObject):
    """``request(payload)`` -> ``fn(payload)`` in the background -> ``ready(ticket, result)`` on the GUI thread.

    ``failed(ticket, message)`` replaces ``ready`` when ``fn`` raises. ``dropped`` counts
    requests that were replaced before they started.
    """

    ready = pyqtSignal(int, object)
    failed = pyqtSignal(int, str)

    def __init__(self, fn: Callable[[Any], Any], parent: QObject | None = None, name: str = "augbench-preview") -> None:
        super().__init__(parent)
        self._fn = fn
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._running = False
        self._pending: tuple[int, Any] | None = None
        self._ticket = 0
        self._closed = False
        self.dropped = 0
        self.computed = 0

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running or self._pending is not None

    def request(self, payload: Any) -> int:
        """Ask for ``fn(payload)``; returns its ticket (increasing). Never blocks."""
        with self._lock:
            if self._closed:
                return -1
            self._ticket += 1
            ticket = self._ticket
            if self._running:
                if self._pending is not None:
                    self.dropped += 1
                self._pending = (ticket, payload)
                return ticket
            self._running = True
        self._pool.submit(self._run, ticket, payload)
        return ticket

    def _run(self, ticket: int, payload: Any) -> None:
        while True:
            try:
                result = self._fn(payload)
            except Exception as exc:  # noqa: BLE001 - reported to the GUI, never lost in the thread
                self._emit(self.failed, ticket, str(exc) or traceback.format_exc(limit=1))
            else:
                self._emit(self.ready, ticket, result)
            with self._lock:
                self.computed += 1
                if self._pending is None or self._closed:
                    self._running = False
                    self._pending = None
                    return
                ticket, payload = self._pending
                self._pending = None

    @staticmethod
    def _emit(signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the receiving widget was deleted while we computed
            pass

    def close(self) -> None:
        """Drop waiting work; a computation in progress finishes in the background and is ignored."""
        with self._lock:
            self._closed = True
            self._pending = None
        self._pool.shutdown(wait=False, cancel_futures=True)
