"""Helpers of the real-window suite: the main window at laptop size, data sets, screenshots."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QPoint, Qt
from PyQt5.QtWidgets import QApplication, QWidget

from augbench.core.imageio import write_image
from augbench.core.paths import sample_dataset_dir

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "gan"))
sys.path.insert(0, str(TESTS / "gui"))

SCREEN = (1366, 768)


def open_window(qtbot, qsettings, size: tuple[int, int] = SCREEN):
    """The real main window, shown at ``size`` and exposed on the X server."""
    from augbench.gui.app import MainWindow

    win = MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    win.resize(*size)
    win.move(0, 0)
    with qtbot.waitExposed(win, timeout=10000):
        win.show()
    return win


def grab_screen(path: Path) -> Path:
    """What the X server shows (the root window), not a widget's own rendering."""
    QApplication.processEvents()
    pix = QApplication.primaryScreen().grabWindow(0)
    assert not pix.isNull() and pix.width() >= 640
    assert pix.save(str(path)), path
    return path


def on_screen(win: QWidget, w: QWidget) -> bool:
    """True when ``w`` is shown and lies wholly inside the window (which lies inside the screen)."""
    if not w.isVisible():
        return False
    tl = w.mapTo(win, QPoint(0, 0))
    br = w.mapTo(win, QPoint(w.width() - 1, w.height() - 1))
    inside_window = win.rect().contains(tl) and win.rect().contains(br)
    geo = win.frameGeometry()
    return inside_window and geo.right() < SCREEN[0] + 1 and geo.bottom() < SCREEN[1] + 1 and _unclipped(w)


def _unclipped(w: QWidget) -> bool:
    """Not scrolled out of view: its visible region covers the whole widget."""
    return w.visibleRegion().boundingRect().size() == w.rect().size()


def click(qtbot, w: QWidget) -> None:
    assert w.isEnabled(), f"{w.text() if hasattr(w, 'text') else w} is disabled"
    qtbot.mouseClick(w, Qt.LeftButton)


def sample_copy(root: Path) -> Path:
    dst = root / "sample"
    shutil.copytree(sample_dataset_dir(), dst)
    return dst


def classification_data(root: Path, n_normal: int = 16, n_defect: int = 8) -> Path:
    rng = np.random.default_rng(0)
    for cls, n in (("normal", n_normal), ("defect", n_defect)):
        for i in range(n):
            img = rng.integers(0, 80, (32, 32), dtype=np.uint8)
            if cls == "defect":
                img[8:18, 8:18] = 230
            write_image(root / cls / f"{cls}_{i:03d}.png", img)
    return root


def train_cyclegan(tab) -> None:
    """Make the Synthesize tab's button train a CycleGAN (the job that imports triton), whatever its default engine."""
    import dataclasses

    make = tab.config

    def config():
        cfg = make()
        return dataclasses.replace(cfg, engine="cyclegan") if getattr(cfg, "engine", "cyclegan") != "cyclegan" else cfg

    tab.config = config
