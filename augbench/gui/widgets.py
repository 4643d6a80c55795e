"""Small reusable widgets: image view, bar chart, line chart, job panel.

Charts are painted with QPainter (no extra dependency, instant repaint); the
job panel owns one :class:`JobWorker` at a time with a progress bar and a
Cancel button so every tab runs long work the same way.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPixmap
from PyQt5.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from augbench.core.progress import Progress
from augbench.gui.worker import JobWorker

PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD"]


def array_to_qimage(arr: np.ndarray) -> QImage:
    """A deep-copied QImage of a uint8 RGB/RGBA/grey array (safe after arr dies)."""
    arr = np.ascontiguousarray(arr)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        img = QImage(arr.data, w, h, arr.strides[0], QImage.Format_Grayscale8)
    elif arr.shape[2] == 4:
        img = QImage(arr.data, w, h, arr.strides[0], QImage.Format_RGBA8888)
    else:
        img = QImage(arr.data, w, h, arr.strides[0], QImage.Format_RGB888)
    return img.copy()


class ImageView(QLabel):
    """Shows an array or pixmap scaled to fit, keeping its aspect ratio."""

    def __init__(self, parent: QWidget | None = None, min_size: int = 64) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignCenter)
        self.setMinimumSize(min_size, min_size)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self._pix: QPixmap | None = None
        self.setStyleSheet("background:#222; color:#aaa;")

    def set_array(self, arr: np.ndarray | None) -> None:
        self.set_pixmap(None if arr is None else QPixmap.fromImage(array_to_qimage(arr)))

    def set_pixmap(self, pix: QPixmap | None) -> None:
        self._pix = pix
        self._rescale()

    def has_image(self) -> bool:
        return self._pix is not None and not self._pix.isNull()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pix is None or self._pix.isNull():
            self.clear()
            return
        self.setPixmap(self._pix.scaled(self.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))


class BarChart(QWidget):
    """Horizontal-label bar chart with optional error bars (class counts, metrics)."""

    def __init__(self, parent: QWidget | None = None, title: str = "") -> None:
        super().__init__(parent)
        self.title = title
        self.labels: list[str] = []
        self.values: list[float] = []
        self.errors: list[float] | None = None
        self.setMinimumHeight(120)

    def set_data(self, labels: Sequence[str], values: Sequence[float], errors: Sequence[float] | None = None) -> None:
        self.labels = [str(x) for x in labels]
        self.values = [float(v) for v in values]
        self.errors = [float(e) for e in errors] if errors is not None else None
        self.update()

    def paintEvent(self, event: Any) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        w, h = self.width(), self.height()
        top = (22 if self.title else 8) + 16  # room for the value label above the tallest bar
        if self.title:
            f = QFont(p.font())
            f.setBold(True)
            p.setFont(f)
            p.drawText(QRectF(0, 2, w, 18), Qt.AlignCenter, self.title)
            p.setFont(QFont(self.font()))
        if not self.values:
            p.setPen(QColor("#888"))
            p.drawText(self.rect(), Qt.AlignCenter, "no data")
            return
        if (w - 44) / len(self.values) < 64:
            self._paint_horizontal(p, top)
            p.end()
            return
        bottom = 34
        left = 46
        vmax = max(v + (self.errors[i] if self.errors else 0) for i, v in enumerate(self.values)) or 1.0
        area_h = h - top - bottom
        n = len(self.values)
        slot = (w - left - 8) / n
        bw = max(4.0, slot * 0.7)
        p.setPen(QColor("#999"))
        p.drawLine(left, h - bottom, w - 4, h - bottom)
        p.drawText(QRectF(0, top - 7, left - 4, 14), Qt.AlignRight, _fmt(vmax))
        for i, v in enumerate(self.values):
            x = left + i * slot + (slot - bw) / 2
            bh = area_h * (v / vmax)
            p.fillRect(QRectF(x, h - bottom - bh, bw, bh), QColor(PALETTE[i % len(PALETTE)]))
            p.setPen(QColor("#222"))
            p.drawText(QRectF(x - 10, h - bottom - bh - 15, bw + 20, 14), Qt.AlignCenter, _fmt(v))
            if self.errors:
                e = area_h * (self.errors[i] / vmax)
                cx = x + bw / 2
                p.drawLine(QPointF(cx, h - bottom - bh - e), QPointF(cx, h - bottom - bh + e))
            label_w = bw + slot * 0.3
            text = p.fontMetrics().elidedText(self.labels[i], Qt.ElideMiddle, int(label_w))
            p.drawText(QRectF(x - slot * 0.15, h - bottom + 2, label_w, bottom - 2),
                       Qt.AlignHCenter | Qt.AlignTop, text)
        p.end()


    def _paint_horizontal(self, p: QPainter, top: int) -> None:
        """Many classes in a narrow panel: one row per class, label left, bar right."""
        w, h = self.width(), self.height()
        n = len(self.values)
        fm = p.fontMetrics()
        label_w = min(w // 2, max(fm.horizontalAdvance(lb) for lb in self.labels) + 6)
        row = max(10.0, (h - top - 4) / n)
        vmax = max(v + (self.errors[i] if self.errors else 0) for i, v in enumerate(self.values)) or 1.0
        bar_area = w - label_w - 34
        for i, v in enumerate(self.values):
            y = top + i * row
            p.setPen(QColor("#222"))
            p.drawText(QRectF(0, y, label_w - 4, row), Qt.AlignRight | Qt.AlignVCenter, fm.elidedText(
                self.labels[i], Qt.ElideRight, label_w - 4))
            bw = bar_area * v / vmax
            p.fillRect(QRectF(label_w, y + row * 0.15, bw, row * 0.7), QColor(PALETTE[i % len(PALETTE)]))
            if self.errors:
                e = bar_area * self.errors[i] / vmax
                p.drawLine(QPointF(label_w + bw - e, y + row / 2), QPointF(label_w + bw + e, y + row / 2))
            p.drawText(QRectF(label_w + bw + 3, y, 40, row), Qt.AlignLeft | Qt.AlignVCenter, _fmt(v))


def _fmt(v: float) -> str:
    if abs(v) >= 100 or float(v).is_integer():
        return f"{v:.0f}"
    return f"{v:.3g}"


class LineChart(QWidget):
    """Several named series over steps (loss curves, metrics per epoch).

    A series of up to :attr:`MARKER_MAX` points also gets a dot on each point: a single point draws
    no line, so a one-epoch run would otherwise leave the chart looking empty.
    """

    MARKER_MAX = 60  # longer series (GAN losses over many epochs) stay plain lines
    MARKER_RADIUS = 3.0

    def __init__(self, parent: QWidget | None = None, title: str = "") -> None:
        super().__init__(parent)
        self.title = title
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.markers_drawn = 0  # dots drawn by the last paint (what a test can check)
        self.setMinimumHeight(140)

    def clear(self) -> None:
        self.series.clear()
        self.update()

    def add_point(self, name: str, x: float, y: float) -> None:
        if math.isfinite(y):
            self.series.setdefault(name, []).append((float(x), float(y)))
            self.update()

    def paintEvent(self, event: Any) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        w, h = self.width(), self.height()
        if self.title:
            p.drawText(QRectF(0, 2, w, 16), Qt.AlignCenter, self.title)
        pts = [pt for s in self.series.values() for pt in s]
        if not pts:
            p.setPen(QColor("#888"))
            p.drawText(self.rect(), Qt.AlignCenter, "no data yet")
            return
        x0, x1 = min(x for x, _ in pts), max(x for x, _ in pts)
        y0, y1 = min(y for _, y in pts), max(y for _, y in pts)
        x1 = x1 if x1 > x0 else x0 + 1
        y1 = y1 if y1 > y0 else y0 + 1
        # Legend entries wrap into as many rows as they need and the plot shrinks to make room, and the
        # left margin fits the widest y label, so neither is cut off at the edges (issue 14).
        fm = p.fontMetrics()
        lh = fm.height() + 2
        left = max(54, max(fm.horizontalAdvance(_fmt(v)) for v in (y0, y1)) + 8)
        right, top = 8, 20
        legend: list[tuple[float, float, str]] = []
        lx, ly = float(left), 0.0
        for name in self.series:
            tw = fm.horizontalAdvance(name) + 14
            if lx + tw > w - right and lx > left:
                lx, ly = float(left), ly + lh
            legend.append((lx, ly, name))
            lx += tw
        bottom = int(ly + lh) + 6
        if h - top - bottom < 30:  # too little room: keep the plot, drop the legend
            legend, bottom = [], 8
        p.setPen(QColor("#999"))
        p.drawRect(left, top, w - left - right, h - top - bottom)
        p.drawText(QRectF(0, top - 6, left - 2, lh), Qt.AlignRight, _fmt(y1))
        p.drawText(QRectF(0, h - bottom - lh + 4, left - 2, lh), Qt.AlignRight, _fmt(y0))

        def to_px(x: float, y: float) -> QPointF:
            px = left + (x - x0) / (x1 - x0) * (w - left - right)
            return QPointF(px, top + (1 - (y - y0) / (y1 - y0)) * (h - top - bottom))

        self.markers_drawn = 0
        for i, s in enumerate(self.series.values()):
            color = QColor(PALETTE[i % len(PALETTE)])
            p.setPen(QPen(color, 1.5))
            path = QPainterPath(to_px(*s[0]))
            for pt in s[1:]:
                path.lineTo(to_px(*pt))
            p.drawPath(path)
            if len(s) <= self.MARKER_MAX:
                p.setBrush(color)
                for pt in s:
                    p.drawEllipse(to_px(*pt), self.MARKER_RADIUS, self.MARKER_RADIUS)
                p.setBrush(Qt.NoBrush)
                self.markers_drawn += len(s)
        for i, (lx, ly, name) in enumerate(legend):
            p.setPen(QPen(QColor(PALETTE[i % len(PALETTE)]), 1.5))
            p.drawText(QRectF(lx, h - bottom + 4 + ly, w - lx, lh), Qt.AlignLeft, name)
        p.end()


class JobPanel(QWidget):
    """Progress bar + status + Cancel button around one :class:`JobWorker`.

    ``run(job_or_fn)`` starts work; ``progressed``/``succeeded``/``failed``/
    ``stopped``/``finished`` re-emit what the worker reports. Only one job runs
    at a time per panel.
    """

    progressed = pyqtSignal(object)
    succeeded = pyqtSignal(object)
    failed = pyqtSignal(str)
    stopped = pyqtSignal(object)
    finished = pyqtSignal()

    def __init__(self, parent: QWidget | None = None, show_errors: bool = True) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.status = QLabel("idle")
        self.status.setWordWrap(True)  # a long result message wraps (two lines) instead of widening the tab
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Minimum)
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing() + 2)
        self.bar.setToolTip("progress of the running job")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("stop the job at its next safe point; finished files are kept and a "
                                      "re-run resumes")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.show_errors = show_errors
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        lay.addWidget(self.status)
        self.worker: JobWorker | None = None
        self.last_result: Any = None
        self.last_error: str | None = None

    @property
    def busy(self) -> bool:
        """A job was started and its ``finished`` has not been handled yet."""
        return self.worker is not None and self.worker.is_running

    @property
    def executing(self) -> bool:
        """The job's thread is still running (closing the window waits for this, not for signals)."""
        return self.worker is not None and self.worker.thread_alive

    def run(self, job: Any = None, fn: Callable[..., Any] | None = None) -> JobWorker:
        if self.busy:
            raise RuntimeError("a job is already running in this panel")
        self.last_result = None
        self.last_error = None
        self.worker = JobWorker(job=job, fn=fn, parent=self)
        self.worker.progress.connect(self._on_progress)
        self.worker.result.connect(self._on_result)
        self.worker.error.connect(self._on_error)
        self.worker.cancelled.connect(self._on_cancelled)
        worker = self.worker
        self.worker.finished.connect(lambda: self._on_finished() if self.worker is worker else None)
        self.bar.setRange(0, 0)
        self.status.setText("starting…")
        self.cancel_button.setEnabled(True)
        self.worker.start()
        return self.worker

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText("cancelling at the next safe point…")
            self.cancel_button.setEnabled(False)

    def stop(self, timeout_ms: int = 1500) -> bool:
        """Cancel the job and wait up to ``timeout_ms`` for its thread to end; True when nothing runs."""
        if not self.executing or self.worker is None:
            return True
        self.cancel()
        return self.worker.wait(timeout_ms)

    def _on_progress(self, p: Progress) -> None:
        if p.total > 0:
            self.bar.setRange(0, p.total)
            self.bar.setValue(min(p.done, p.total))
        self.status.setText(p.message or f"{p.done}/{p.total}")
        self.progressed.emit(p)

    def _on_result(self, result: Any) -> None:
        self.last_result = result
        if self.bar.maximum() == 0:
            self.bar.setRange(0, 1)
        self.bar.setValue(self.bar.maximum())
        msg = getattr(result, "message", "") or "done"
        skipped = getattr(result, "skipped", None)
        if skipped:
            msg += f" — {len(skipped)} skipped (see result.json)"
        self.status.setText(msg)
        self.succeeded.emit(result)

    def _on_error(self, message: str, tb: str) -> None:
        self.last_error = message
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.status.setText(f"error: {message}")
        if self.show_errors:
            box = QMessageBox(QMessageBox.Warning, "augbench", message, QMessageBox.Ok, self)
            box.setDetailedText(tb)
            box.open()
        self.failed.emit(message)

    def _on_cancelled(self, partial: Any) -> None:
        self.last_result = partial
        self.status.setText("cancelled")
        self.stopped.emit(partial)

    def _on_finished(self) -> None:
        self.cancel_button.setEnabled(False)
        self.finished.emit()
