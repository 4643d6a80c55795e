"""Pieces of the Crawl tab: per-keyword progress bars, counters, and a live thumbnail strip."""

from __future__ import annotations

import numpy as np
from PyQt5.QtCore import QSize, Qt
from PyQt5.QtGui import QIcon, QPixmap
from PyQt5.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QWidget,
)

from augbench.gui.widgets import array_to_qimage

COUNT_KEYS = (("downloaded", "#2e7d32"), ("duplicate", "#6d4c41"), ("invalid", "#ef6c00"), ("failed", "#c62828"))


class KeywordBars(QWidget):
    """One labelled progress bar per keyword (``set_progress(keyword, done, total)``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.bars: dict[str, QProgressBar] = {}

    def reset(self, keywords: list[str], total: int) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.bars = {}
        for row, kw in enumerate(keywords):
            label = QLabel(kw)
            label.setMinimumWidth(90)
            bar = QProgressBar()
            bar.setRange(0, max(1, total))
            bar.setValue(0)
            bar.setFormat(f"%v / {total}")
            self.grid.addWidget(label, row, 0)
            self.grid.addWidget(bar, row, 1)
            self.bars[kw] = bar

    def set_progress(self, keyword: str, done: int, total: int | None = None) -> None:
        bar = self.bars.get(keyword)
        if bar is None:
            return
        if total:
            bar.setRange(0, total)
        bar.setValue(min(done, bar.maximum()))

    def values(self) -> dict[str, int]:
        return {k: b.value() for k, b in self.bars.items()}


class CountsRow(QWidget):
    """downloaded / duplicate / invalid / failed as coloured numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.labels: dict[str, QLabel] = {}
        self.values: dict[str, int] = {}
        for key, color in COUNT_KEYS:
            lab = QLabel()
            lab.setStyleSheet(f"color:{color}; font-weight:bold;")
            lab.setObjectName(f"count-{key}")
            lay.addWidget(lab)
            self.labels[key] = lab
        lay.addStretch(1)
        self.set_counts({})

    def set_counts(self, counts: dict[str, float]) -> None:
        for key, lab in self.labels.items():
            n = int(counts.get(key, 0))
            self.values[key] = n
            lab.setText(f"{key}: {n}")


class ThumbStrip(QListWidget):
    """A horizontal strip of the newest thumbnails (capped so memory stays flat on long crawls)."""

    def __init__(self, parent: QWidget | None = None, icon: int = 72, cap: int = 300) -> None:
        super().__init__(parent)
        self.cap = cap
        self.setViewMode(QListView.IconMode)
        self.setFlow(QListView.LeftToRight)
        self.setWrapping(False)
        self.setIconSize(QSize(icon, icon))
        self.setFixedHeight(icon + 34)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.setMovement(QListView.Static)
        self.setSpacing(2)

    def add_array(self, arr: np.ndarray, tooltip: str = "") -> None:
        item = QListWidgetItem(QIcon(QPixmap.fromImage(array_to_qimage(arr))), "")
        item.setToolTip(tooltip)
        self.insertItem(0, item)  # newest first
        while self.count() > self.cap:
            self.takeItem(self.count() - 1)
