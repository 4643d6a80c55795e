"""The Synthesize tab: one button from an imbalanced ImageFolder to a GAN-balanced copy.

Class counts as a bar chart, the balancing plan as the user edits, one
"Balance" button that runs the ``balance`` job in the shared worker (train or
resume one CycleGAN per defect class, pick the checkpoint by KID, generate,
write the balanced copy), live loss curves, detector values and the sample
grid, Cancel, and Resume (the same job again: it continues from ``last.pt``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget

from augbench.core.dataset import DatasetInfo, scan_dataset
from augbench.core.errors import AugbenchError
from augbench.core.imageio import read_image
from augbench.gan.balance import BalanceConfig, training_items
from augbench.gan.whiten import foreground, preview
from augbench.gui.synth_form import SynthForm
from augbench.gui.synth_monitor import SynthMonitor
from augbench.gui.widgets import BarChart, JobPanel

TAB_TITLE = "Synthesize"


class SynthesizeTab(QWidget):
    def __init__(self, shell: Any = None) -> None:
        super().__init__()
        self.shell = shell
        self.info: DatasetInfo | None = None
        self.chart = BarChart(title="images per class (training data)")
        self.chart.setMinimumHeight(150)
        self.form = SynthForm()
        self.run_button = QPushButton("Balance with CycleGAN")
        self.run_button.setMinimumHeight(34)
        self.run_button.clicked.connect(self.start)
        self.whiten_button = QPushButton("Preview whitening")
        self.whiten_button.clicked.connect(self.preview_whitening)
        self.browse_button = QPushButton("Output…")
        self.browse_button.clicked.connect(self._browse_out)
        self.show_run_button = QPushButton("Show a run…")
        self.show_run_button.setToolTip("show the curves and samples of a translator folder (<out>_gan/<class>)")
        self.show_run_button.clicked.connect(self._choose_run)
        self.panel = JobPanel(show_errors=shell is not None)
        self.monitor = SynthMonitor()
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.last_config: BalanceConfig | None = None

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(self.chart)
        ll.addWidget(self.form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.whiten_button)
        buttons.addWidget(self.browse_button)
        buttons.addWidget(self.show_run_button)
        ll.addLayout(buttons)
        left.setMinimumWidth(430)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(450)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(left)
        left_pane = QWidget()
        lp = QVBoxLayout(left_pane)
        lp.setContentsMargins(0, 0, 0, 0)
        lp.addWidget(scroll, 1)
        lp.addWidget(self.run_button)  # always visible, whatever the form's scroll position
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.monitor, 1)
        rl.addWidget(self.panel)
        rl.addWidget(self.result_label)
        split = QSplitter()
        split.addWidget(left_pane)
        split.addWidget(right)
        split.setSizes([470, 730])
        lay = QVBoxLayout(self)
        lay.addWidget(split)
        self.panel.progressed.connect(self.monitor.on_progress)
        self.panel.succeeded.connect(self._on_done)
        self.panel.stopped.connect(self._on_stopped)
        self.panel.failed.connect(lambda msg: self._set_idle("Balance with CycleGAN"))
        self.form.changed.connect(self._refresh_button)
        self.panel.finished.connect(self._refresh_button)
        self._refresh_button()

    # ------------------------------------------------------------------ data set
    def on_dataset_changed(self, info: DatasetInfo | None) -> None:
        self.info = info
        counts: dict[str, int] = {}
        if info is not None and info.layout in ("imagefolder", "split-imagefolder"):
            counts = info.class_counts("train" if info.layout == "split-imagefolder" else None)
        self.chart.set_data(list(counts), list(counts.values()))
        self.form.set_counts(counts)
        self._refresh_button()

    def open_path(self, path: str | Path) -> None:
        if self.shell is not None:
            self.shell.open_dataset(path)
        else:
            self.on_dataset_changed(scan_dataset(path))

    def _refresh_button(self) -> None:
        ok = bool(self.info is not None and self.form.checked_defects() and self.form.counts)
        self.run_button.setEnabled(ok and not self.panel.busy)

    def _browse_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Output folder")
        if path:
            self.form.out_dir.setText(path)

    def _choose_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Translator folder (contains history.json)")
        if path and not self.open_run(path):
            self.result_label.setText(f"no history.json in {path}")

    # ------------------------------------------------------------------ actions
    def preview_whitening(self) -> None:
        """Show what background whitening keeps on the first normal image (before training on it)."""
        if self.info is None:
            return
        mode = self.form.whiten.currentData()
        normal = self.form.normal.currentText()
        items = [i for i in self.info.items if i.label_class == normal]
        if not items:
            return
        img = read_image(items[0].image, mode="rgb")
        mask = read_image(items[0].mask_file, mode="gray") if items[0].mask_file else None
        self.monitor.preview.set_array(preview(img, foreground(img, mode if mode != "none" else "otsu", mask=mask)))
        self.result_label.setText(f"whitening preview ({mode}): original | kept foreground | whitened")

    def config(self) -> BalanceConfig:
        if self.info is None:
            raise AugbenchError("open a data set first")
        return self.form.to_config(self.info.root)

    def start(self) -> None:
        """Start, or resume after a cancel (the job itself picks up ``last.pt`` and the manifest)."""
        try:
            cfg = self.config()
            training_items(cfg)
        except AugbenchError as exc:
            self.result_label.setText(f"<span style='color:#b00'>{exc}</span>")
            return
        if self.last_config is None or self.last_config.out_dir != cfg.out_dir:
            self.monitor.reset()
        self.last_config = cfg
        self.run_button.setEnabled(False)
        self.run_button.setText("Training…")
        self.result_label.setText(f"checkpoints in {cfg.resolved_work_dir}")
        self.panel.run(job=cfg)

    def cancel(self) -> None:
        self.panel.cancel()

    def open_run(self, work_dir: str | Path) -> bool:
        """Show a translator folder's recorded history and its chosen epoch's sample grid."""
        import json

        work = Path(work_dir)
        hist_file = work / "history.json"
        if not hist_file.exists():
            return False
        data = json.loads(hist_file.read_text(encoding="utf-8"))
        best = int(data.get("best", {}).get("epoch") or 0)
        grid = work / "samples" / f"epoch_{best:04d}.png"
        self.monitor.load_history(work.name, data.get("history", []),
                                  read_image(grid, mode="rgb") if grid.exists() else None)
        self.result_label.setText(f"run {work}: {len(data.get('history', []))} epochs recorded, "
                                  f"chosen epoch {best} (lowest KID)")
        return True

    def _set_idle(self, text: str) -> None:
        self.run_button.setText(text)
        self._refresh_button()

    def _on_done(self, result: Any) -> None:
        m = result.metrics
        self.result_label.setText(f"done: {m.get('counts_before')} → {m.get('counts_after')}<br>"
                                  f"balanced copy: {result.out_dir}<br>report: {m.get('report')}")
        self._set_idle("Balance with CycleGAN")

    def _on_stopped(self, partial: Any) -> None:
        self.result_label.setText("cancelled: the last checkpoint is kept; press Resume to continue")
        self._set_idle("Resume")

    def shutdown(self) -> None:
        if self.panel.busy and self.panel.worker is not None:
            self.panel.cancel()
            self.panel.worker.wait(60000)


def create_tab(shell: Any) -> SynthesizeTab:
    tab = SynthesizeTab(shell)
    info = getattr(getattr(shell, "dataset", None), "info", None)
    if info is not None:
        tab.on_dataset_changed(info)
    return tab
