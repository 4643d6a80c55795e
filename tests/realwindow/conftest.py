"""The real-window suite: augbench's main window on Qt's **xcb** platform under Xvfb, not offscreen.

Offscreen hides real-window failures (a segfault when triton is imported after Qt's xcb
GL integration loaded Mesa). These tests run only when ``QT_QPA_PLATFORM=xcb`` is set
(``scripts/test.sh`` runs them after the offscreen suite, in their own pytest process,
because a process has one Qt platform). Without a ``DISPLAY`` the fixture starts its own
Xvfb at 1366x768 (the smallest laptop screen the window must fit) on a free display.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCREEN = (1366, 768)
REAL = os.environ.get("QT_QPA_PLATFORM") == "xcb"


def _die_with_parent() -> None:
    """Linux: Xvfb gets SIGTERM when the test process dies, even when atexit handlers never run."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _start_xvfb() -> subprocess.Popen[bytes]:
    """Xvfb on the first free display (it writes the number it took to ``-displayfd``)."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
    )
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    if not number:
        proc.kill()
        raise RuntimeError("Xvfb did not start (is the xvfb package installed? run scripts/setup.sh)")
    os.environ["DISPLAY"] = f":{number}"
    atexit.register(proc.terminate)
    return proc


if REAL:
    if not os.environ.get("DISPLAY"):
        if shutil.which("Xvfb") is None:
            raise RuntimeError("QT_QPA_PLATFORM=xcb needs a DISPLAY or Xvfb (scripts/setup.sh installs it)")
        _start_xvfb()
    from augbench.gui.app import configure_qt_environment

    configure_qt_environment()  # exactly what `augbench-gui` does before its QApplication


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if REAL:
        return
    skip = pytest.mark.skip(reason="real-window suite: run with QT_QPA_PLATFORM=xcb (scripts/test.sh does)")
    for item in items:
        if "realwindow" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: docs/screenshots when AUGBENCH_SCREENSHOTS=1, else the test's tmp folder."""
    if os.environ.get("AUGBENCH_SCREENSHOTS"):
        out = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    else:
        out = tmp_path / "shots"
    out.mkdir(parents=True, exist_ok=True)
    return out
