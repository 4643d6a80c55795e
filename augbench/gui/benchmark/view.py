"""Benchmark tab: choose data, models, arms and seeds; run; watch the table and charts fill in.

The tab builds a ``classify.compare`` job and hands it to the shared JobPanel
worker. Every time a run finishes (``stage == "run_done"``) the tab re-reads the
run JSONs from the results folder and redraws the table, the bar chart (macro-F1
mean with std error bars per arm) and the confusion matrices; epoch reports
feed the live validation curve. Results persist on disk: "Open results…"
re-opens a finished or half-finished experiment, "Export report" rebuilds the
Markdown/HTML report, CSVs and PNG figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from augbench.classify.report import (
    build_report,
    job_arm_order,
    leak_guard_summary,
    load_runs,
    plot_confusions,
    summarize,
)
from augbench.core.dataset import DatasetInfo
from augbench.core.errors import AugbenchError
from augbench.core.progress import Progress
from augbench.gui.benchmark.widgets import BenchForm, ResultsTable, png_to_qimage
from augbench.gui.widgets import BarChart, ImageView, JobPanel, LineChart

TAB_TITLE = "Benchmark"


class BenchmarkTab(QWidget):
    def __init__(self, shell: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.form = BenchForm()
        self.run_button = QPushButton("Run benchmark")
        self.run_button.clicked.connect(self.start)
        self.open_button = QPushButton("Open results…")
        self.open_button.clicked.connect(self._choose_results)
        self.export_button = QPushButton("Export report")
        self.export_button.clicked.connect(self.export_report)
        self.panel = JobPanel(show_errors=shell is not None)
        self.run_bar = QProgressBar()
        self.run_bar.setRange(0, 1000)
        self.run_bar.setFormat("this run: %p%")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.leak = QLabel("")  # what the leak guard left out (issue 15): shown, never silent
        self.leak.setWordWrap(True)
        self.leak.setToolTip("Synthetic images made from val/test/oracle images, or by a generator that saw "
                             "images outside the seed's training subset, are left out of training")
        self.table = ResultsTable()
        self.table.itemSelectionChanged.connect(self._show_confusion)
        # Chart titles sit in labels above the charts: the bar values would otherwise run into them.
        self.bars = BarChart()
        self.curve = LineChart()
        self.confusion = ImageView(min_size=120)
        self.summary: dict[str, Any] = {}
        self.results_dir: Path | None = None

        self.run_button.setToolTip("Train every model × arm × seed in the background; a re-run resumes")
        self.open_button.setToolTip("Show a finished or half-finished experiment's results folder")
        self.export_button.setToolTip("Write report.md/html, CSV tables and PNG figures into the results folder")
        self.run_bar.setToolTip("progress of the run being trained now")
        # The form scrolls; buttons, progress and Cancel stay below it, always in view while a job runs.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(360)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        for b in (self.run_button, self.open_button, self.export_button):
            buttons.addWidget(b)
        ll.addLayout(buttons)
        ll.addWidget(self.panel)
        ll.addWidget(self.run_bar)
        ll.addWidget(self.message)
        ll.addWidget(self.leak)
        self.message.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.table)
        charts = QSplitter(Qt.Horizontal)
        for title, chart in (("test macro-F1 per arm (mean ± std over seeds)", self.bars),
                             ("validation macro-F1 per epoch (live)", self.curve)):
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            label = QLabel(title)
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
            bl.addWidget(label)
            bl.addWidget(chart, 1)
            charts.addWidget(box)
        right.addWidget(charts)
        right.addWidget(self.confusion)
        right.setSizes([220, 220, 200])
        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([430, 700])
        lay = QVBoxLayout(self)
        lay.addWidget(split)
        self.panel.progressed.connect(self._on_progress)
        self.panel.finished.connect(self._on_finished)
        self.panel.failed.connect(lambda m: self.message.setText(f"error: {m}"))

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        try:
            cfg = self.form.config()
        except AugbenchError as exc:
            self.message.setText(str(exc))
            return
        self.results_dir = Path(cfg.out_dir)
        self.curve.clear()
        self.message.setText(f"results go to {cfg.out_dir}")
        self.run_button.setEnabled(False)
        self.panel.run(job=cfg)

    def cancel(self) -> None:
        self.panel.cancel()

    def _on_progress(self, p: Progress) -> None:
        frac = p.metrics.get("run_fraction")
        if frac is not None:
            self.run_bar.setValue(int(frac * 1000))
        if p.stage == "epoch" and "val_macro_f1" in p.metrics:
            self.curve.add_point(f"run {int(p.metrics.get('run', 0)) + 1}", p.metrics["epoch"] + 1,
                                 p.metrics["val_macro_f1"])
        elif p.stage == "run_done":
            self.run_bar.setValue(1000)
            self.refresh()

    def _on_finished(self) -> None:
        self.run_button.setEnabled(True)
        self.refresh()

    # ------------------------------------------------------------------ results
    def refresh(self) -> None:
        """Re-read the run JSONs of the results folder and redraw the table and charts."""
        if self.results_dir is None:
            return
        runs = load_runs(self.results_dir)
        if not runs:
            return
        self.summary = summarize(runs, job_arm_order(self.results_dir))
        self.leak.setText(leak_guard_summary(self.results_dir))
        rows = self.summary["rows"]
        self.table.set_rows(rows)
        self.bars.set_data([f"{r['arm']}" if len({x['model'] for x in rows}) == 1 else f"{r['model']}\n{r['arm']}"
                            for r in rows], [r["macro_f1_mean"] for r in rows], [r["macro_f1_std"] for r in rows])
        self._show_confusion()

    def _show_confusion(self) -> None:
        rows = self.summary.get("rows", [])
        if not rows:
            return
        sel = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        model = rows[sel[0].row()]["model"] if sel else rows[0]["model"]
        self.confusion.set_pixmap(None)
        from PyQt5.QtGui import QPixmap

        self.confusion.set_pixmap(QPixmap.fromImage(png_to_qimage(plot_confusions(rows, model))))

    def open_results(self, path: str | Path) -> None:
        self.results_dir = Path(path)
        self.form.out.setText(str(path))
        self.refresh()
        n = self.summary.get("n_runs", 0) if self.summary else 0
        self.message.setText(f"{n} finished runs in {path}")

    def _choose_results(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open benchmark results")
        if path:
            self.open_results(path)

    def export_report(self) -> Path | None:
        """Write report.md/html, CSVs and figures into the results folder; returns the HTML path."""
        if self.results_dir is None:
            self.message.setText("no results folder yet")
            return None
        try:
            build_report(self.results_dir)
        except AugbenchError as exc:
            self.message.setText(str(exc))
            return None
        out = self.results_dir / "report.html"
        self.message.setText(f"report written: {out}")
        return out

    # ------------------------------------------------------------------ shell hooks
    def open_path(self, path: Path) -> None:
        if (Path(path) / "runs").is_dir():
            self.open_results(path)
        else:
            self.form.data.setText(str(path))

    def on_dataset_changed(self, info: DatasetInfo | None) -> None:
        if info is not None and info.layout in ("imagefolder", "split-imagefolder") and not self.form.data.text():
            self.form.data.setText(str(info.root))

    def shutdown(self) -> None:
        """Cancel a running job; wait briefly (the window must close within two seconds)."""
        self.panel.stop(1500)


def create_tab(shell: Any) -> QWidget:
    return BenchmarkTab(shell)
