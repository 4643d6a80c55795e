"""Progress reports and cancellation shared by every runner.

A runner receives ``progress`` (a callable taking :class:`Progress`) and
``cancel`` (a :class:`CancelToken`). The GUI worker turns the calls into Qt
signals, the CLI into a tqdm bar and tests into a list.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from augbench.core.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    """One progress report: ``done`` of ``total`` units, plus optional extras.

    ``preview`` is an RGB uint8 array a view may show (a thumbnail, a sample
    grid); ``metrics`` carries numbers such as losses for live curves.
    """

    done: int
    total: int
    message: str = ""
    preview: Any = None
    metrics: dict[str, float] = field(default_factory=dict)
    stage: str = ""

    @property
    def fraction(self) -> float:
        """Completed fraction in [0, 1] (0 when the total is unknown)."""
        if self.total <= 0:
            return 0.0
        return min(1.0, max(0.0, self.done / self.total))


ProgressFn = Callable[[Progress], None]


def null_progress(_: Progress) -> None:
    """A progress callback that ignores everything (the default)."""


class CancelToken:
    """Thread-safe cancel flag; ``check()`` raises :class:`Cancelled` once set."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the runner to stop at its next safe point."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if a cancel was requested."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


class ListProgress:
    """A progress callback that records every report (for tests and scripts)."""

    def __init__(self) -> None:
        self.reports: list[Progress] = []

    def __call__(self, p: Progress) -> None:
        self.reports.append(p)

    @property
    def last(self) -> Progress | None:
        return self.reports[-1] if self.reports else None
