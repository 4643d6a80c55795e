"""Live view of a balancing run: loss curves, detector values per epoch, and the sample grid."""

from __future__ import annotations

import math

from PyQt5.QtWidgets import QGridLayout, QLabel, QWidget

from augbench.core.progress import Progress
from augbench.gan.detectors import COLLAPSE_THRESHOLD, COPY_THRESHOLD
from augbench.gui.widgets import ImageView, LineChart

LOSS_SERIES = ("G", "cycle", "D_A", "D_B")


class SynthMonitor(QWidget):
    """Feeds on :class:`Progress` reports of the ``balance`` job (stages ``train:<cls>``, ``epoch:<cls>``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.losses = LineChart(title="losses (per step)")
        self.detect = LineChart(title="detectors per epoch: KID x100, copy, diversity")
        self.preview = ImageView(min_size=160)
        self.preview.setToolTip("rows: held-out normal | generated defect | reconstruction")
        self.detector_label = QLabel("detectors: —")
        self.detector_label.setWordWrap(True)
        self.n_previews = 0
        lay = QGridLayout(self)
        lay.addWidget(self.losses, 0, 0)
        lay.addWidget(self.detect, 1, 0)
        lay.addWidget(self.preview, 0, 1, 2, 1)
        lay.addWidget(self.detector_label, 2, 0, 1, 2)
        lay.setColumnStretch(0, 3)
        lay.setColumnStretch(1, 2)
        lay.setRowStretch(0, 1)
        lay.setRowStretch(1, 1)
        self._offset = 0  # steps of previously trained classes, so curves keep going right
        self._cls = ""

    def reset(self) -> None:
        self.losses.clear()
        self.detect.clear()
        self._offset = 0
        self._cls = ""

    def on_progress(self, p: Progress) -> None:
        stage, _, cls = p.stage.partition(":")
        if p.preview is not None:
            self.preview.set_array(p.preview)
            self.n_previews += 1
        if stage == "train":
            for k in LOSS_SERIES:
                if k in p.metrics:
                    self.losses.add_point(f"{cls} {k}" if self._multi else k, p.done, p.metrics[k])
        elif stage == "epoch":
            m = p.metrics
            ep = m.get("epoch", 0)
            if "kid" in m:
                self.detect.add_point("KID x100", ep, 100 * m["kid"])
                self.detect.add_point("copy", ep, m.get("copy", math.nan))
                self.detect.add_point("diversity", ep, m.get("diversity", math.nan))
                self.detector_label.setText(self.describe(cls, m))

    _multi = False

    def load_history(self, cls: str, history: list[dict], preview: object = None) -> None:
        """Show a finished (or interrupted) run's recorded epochs, e.g. after reopening the program."""
        self.reset()
        for row in history:
            step = float(row.get("global_step", row.get("epoch", 0)))
            for k in LOSS_SERIES:
                if k in row:
                    self.losses.add_point(k, step, float(row[k]))
            metrics = {k: v for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            self.on_progress(Progress(0, 0, "", metrics=metrics, stage=f"epoch:{cls}"))
        if preview is not None:
            self.preview.set_array(preview)  # type: ignore[arg-type]

    @staticmethod
    def describe(cls: str, m: dict) -> str:
        flags = []
        if m.get("copy", 1) < COPY_THRESHOLD:
            flags.append("<b style='color:#b00'>copies its input</b>")
        if m.get("diversity", 1) < COLLAPSE_THRESHOLD:
            flags.append("<b style='color:#b00'>collapse</b>")
        return (f"{cls} epoch {int(m.get('epoch', 0))}: KID {m.get('kid', math.nan):.4f}, "
                f"copy {m.get('copy', math.nan):.3f}, diversity {m.get('diversity', math.nan):.2f} "
                + (" — " + ", ".join(flags) if flags else "— no failure detected"))
