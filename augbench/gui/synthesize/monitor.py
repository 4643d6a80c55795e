"""Live view of a balancing run: loss curves, KID / copy / diversity per epoch (each on its own axis:
their scales differ by orders of magnitude), the sample grid, and the realism gate's verdict."""

from __future__ import annotations

import math

from PyQt5.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QWidget

from augbench.core.progress import Progress
from augbench.gan.detectors import COLLAPSE_THRESHOLD, COPY_THRESHOLD
from augbench.gui.widgets import ImageView, LineChart

LOSS_SERIES = ("G", "cycle", "D_A", "D_B")


class SynthMonitor(QWidget):
    """Feeds on :class:`Progress` reports of the ``balance`` job (stages ``train:<cls>``, ``epoch:<cls>``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.losses = LineChart(title="losses (per step)")
        self.kid = LineChart(title="KID")
        self.copy = LineChart(title="pixels changed")
        self.diversity = LineChart(title="diversity")
        for chart, tip in ((self.kid, "KID per epoch between generated and real defects (lower: closer)"),
                           (self.copy, "fraction of pixels the generator changed per epoch (~0: copies its input)"),
                           (self.diversity, "pairwise distance of outputs / of inputs per epoch (~0: collapse)")):
            chart.setMinimumHeight(120)
            chart.setToolTip(tip)
        self.preview = ImageView(min_size=160)
        self.preview.setToolTip("training: held-out normal | generated defect | reconstruction; "
                                "preview: outputs, then the same outputs with their masks in red")
        self.detector_label = QLabel("detectors: —")
        self.detector_label.setWordWrap(True)
        self.gate_label = QLabel("")
        self.gate_label.setWordWrap(True)
        self.n_previews = 0
        lay = QGridLayout(self)
        lay.addWidget(self.losses, 0, 0)
        row = QHBoxLayout()
        for chart in (self.kid, self.copy, self.diversity):
            row.addWidget(chart)
        lay.addLayout(row, 1, 0)
        lay.addWidget(self.preview, 0, 1, 2, 1)
        lay.addWidget(self.detector_label, 2, 0, 1, 2)
        lay.addWidget(self.gate_label, 3, 0, 1, 2)
        lay.setColumnStretch(0, 3)
        lay.setColumnStretch(1, 2)
        lay.setRowStretch(0, 1)
        lay.setRowStretch(1, 1)
        self._offset = 0  # steps of previously trained classes, so curves keep going right
        self._cls = ""

    @property
    def detector_charts(self) -> dict[str, LineChart]:
        return {"kid": self.kid, "copy": self.copy, "diversity": self.diversity}

    def reset(self) -> None:
        self.losses.clear()
        for chart in self.detector_charts.values():
            chart.clear()
        self.gate_label.setText("")
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
            if any(k in m for k in self.detector_charts):
                for key, chart in self.detector_charts.items():
                    v = m.get(key)
                    chart.add_point(cls or key, ep, v if isinstance(v, (int, float)) else math.nan)
                self.detector_label.setText(self.describe(cls, m))
        elif stage == "gate":
            self.gate_label.setText(p.message)

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
            metrics.setdefault("epoch", row.get("epoch", 0))
            self.on_progress(Progress(0, 0, "", metrics=metrics, stage=f"epoch:{cls}"))
        if preview is not None:
            self.preview.set_array(preview)  # type: ignore[arg-type]

    @staticmethod
    def describe(cls: str, m: dict) -> str:
        def num(key: str) -> float:
            v = m.get(key)
            return float(v) if isinstance(v, (int, float)) else math.nan

        flags = []
        if num("copy") < COPY_THRESHOLD:
            flags.append("<b style='color:#b00'>copies its input</b>")
        if num("diversity") < COLLAPSE_THRESHOLD:
            flags.append("<b style='color:#b00'>collapse</b>")
        # "no failure detected" would overclaim: these detectors cannot see noise; the realism gate can.
        return (f"{cls} epoch {int(m.get('epoch', 0))}: KID {num('kid'):.4f}, "
                f"pixels changed {num('copy'):.3f}, diversity {num('diversity'):.2f}"
                + (" — " + ", ".join(flags) if flags else " — no copy or collapse; realism is judged by the gate "
                   "before writing"))
