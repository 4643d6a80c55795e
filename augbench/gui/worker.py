"""The one QThread worker that runs any job runner off the GUI thread.

It turns the runner's ``progress`` calls, its result, a cancel and an error
into Qt signals; ``finished`` is always emitted last (the superqt thread
worker contract), so a tab can re-enable its buttons in one place.

The runner stops its own thread (a direct connection to ``QThread.quit``):
the main window blocks in :meth:`JobWorker.wait` while it closes, and a quit
queued to that blocked thread would only run after the wait timed out.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any, Callable

from PyQt5.QtCore import QObject, Qt, QThread, pyqtSignal

from augbench.core.errors import Cancelled
from augbench.core.jobs import JobResult, run_job
from augbench.core.progress import CancelToken, Progress

# GUI job settings (benchmarks/event_loop_latency.py measures them against plain settings): while a
# job runs, Python hands the GIL over every 1 ms instead of 5 ms, so the GUI thread waits less for a
# job thread that runs Python code. (Leaving torch one core fewer cost training speed on 2 cores
# without a measurable gain, so torch keeps its threads.)
GUI_JOB_TUNING = True
SWITCH_INTERVAL_S = 0.001
_running_jobs = 0
_saved_switch_interval: float | None = None


def gui_job_settings(starting: bool) -> None:
    """Apply (first job starts) or undo (last job ends) the GUI job settings; GUI thread only."""
    global _running_jobs, _saved_switch_interval
    _running_jobs += 1 if starting else -1
    _running_jobs = max(0, _running_jobs)
    if starting and _running_jobs == 1 and GUI_JOB_TUNING:
        _saved_switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
    elif not starting and _running_jobs == 0 and _saved_switch_interval is not None:
        sys.setswitchinterval(_saved_switch_interval)
        _saved_switch_interval = None


class _Runner(QObject):
    progress = pyqtSignal(object)  # Progress
    result = pyqtSignal(object)  # JobResult or any return value
    error = pyqtSignal(str, str)  # message, traceback
    cancelled = pyqtSignal(object)  # partial JobResult or None
    done = pyqtSignal()

    def __init__(self, fn: Callable[..., Any], cancel: CancelToken) -> None:
        super().__init__()
        self._fn = fn
        self._cancel = cancel

    def run(self) -> None:
        try:
            out = self._fn(progress=self.progress.emit, cancel=self._cancel)
        except Cancelled as exc:
            self.cancelled.emit(getattr(exc, "result", None))
        except Exception as exc:  # noqa: BLE001 - every failure must reach the GUI as a message
            self.error.emit(str(exc) or type(exc).__name__, traceback.format_exc())
        else:
            if isinstance(out, JobResult) and out.status == "cancelled":
                self.cancelled.emit(out)
            else:
                self.result.emit(out)
        finally:
            self.done.emit()


class JobWorker(QObject):
    """Run a job config (or any ``fn(progress=, cancel=)``) in a QThread.

    Signals: ``progress(Progress)``, ``result(object)``, ``error(str, str)``,
    ``cancelled(object)``, ``finished()`` (always, after the others).
    """

    progress = pyqtSignal(object)
    result = pyqtSignal(object)
    error = pyqtSignal(str, str)
    cancelled = pyqtSignal(object)
    finished = pyqtSignal()

    def __init__(self, job: Any = None, fn: Callable[..., Any] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if (job is None) == (fn is None):
            raise ValueError("give either a job config or a function")
        self.cancel_token = CancelToken()
        if fn is None:
            cfg = job

            def fn(progress: Callable[[Progress], None], cancel: CancelToken) -> JobResult:
                return run_job(cfg, progress=progress, cancel=cancel)

        self._thread = QThread()
        self._runner = _Runner(fn, self.cancel_token)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self._runner.progress.connect(self.progress)
        self._runner.result.connect(self.result)
        self._runner.error.connect(self.error)
        self._runner.cancelled.connect(self.cancelled)
        # Direct: quit() is thread-safe, and a queued call would wait for the (maybe blocked) GUI thread.
        self._runner.done.connect(self._thread.quit, Qt.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)
        self._running = False

    def start(self) -> None:
        self._running = True
        gui_job_settings(True)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the runner to stop at its next safe point (never kills the thread)."""
        self.cancel_token.cancel()

    @property
    def is_running(self) -> bool:
        """True from :meth:`start` until ``finished`` has been delivered (results are in by then)."""
        return self._running

    @property
    def thread_alive(self) -> bool:
        """True while the job's thread still executes (it may end before ``finished`` is delivered)."""
        return self._running and not self._thread.isFinished()

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the thread ends or ``msecs`` pass; True if it ended."""
        return self._thread.wait(max(0, int(msecs)))

    def _on_thread_finished(self) -> None:
        if self._running:
            gui_job_settings(False)
        self._running = False
        self.finished.emit()
