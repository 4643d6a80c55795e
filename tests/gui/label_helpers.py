"""Helpers of the Label tab GUI tests: real mouse drags on offscreen Qt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt5.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt5.QtGui import QMouseEvent
from PyQt5.QtWidgets import QApplication

from augbench.core.imageio import write_image


def make_folder(root: Path, n: int = 3, w: int = 200, h: int = 100, name: str = "라벨 폴더") -> Path:
    d = root / name
    d.mkdir()
    for i in range(n):
        img = np.zeros((h, w, 3), np.uint8)
        img[:, :, i % 3] = 60 + 40 * i
        img[h // 4: h // 2, w // 4: w // 2] = 230
        write_image(d / f"{i:02d}.png", img)
    return d


def at(canvas, x: float, y: float) -> QPoint:
    """The widget position (integers, as Qt wants) of image pixel (x, y)."""
    p = canvas.to_widget(x, y)
    return QPoint(int(round(p.x())), int(round(p.y())))


def drag(qtbot, widget, a: QPoint, b: QPoint, steps: int = 5, button=Qt.LeftButton) -> None:
    """Press at ``a``, move with the button held (explicit events: offscreen qtbot.mouseMove
    carries no buttons), release at ``b``."""
    qtbot.mousePress(widget, button, pos=a)
    for k in range(1, steps + 1):
        p = QPointF(a.x() + (b.x() - a.x()) * k / steps, a.y() + (b.y() - a.y()) * k / steps)
        QApplication.sendEvent(widget, QMouseEvent(QEvent.MouseMove, p, Qt.NoButton, button, Qt.NoModifier))
    qtbot.mouseRelease(widget, button, pos=b)
