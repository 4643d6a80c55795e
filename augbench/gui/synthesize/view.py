"""The Synthesize tab: one button from an imbalanced ImageFolder to a balanced copy with synthetic defects.

Class counts as a bar chart, the balancing plan as the user edits, the engine
(transplant or CycleGAN), a Preview of a few outputs with their masks before
the full run, one button that runs the ``balance`` job in the shared worker,
live curves (losses; KID, pixels changed and diversity on their own axes),
the sample grid, Cancel and Resume. Settings that no longer match a run's
folders are explained in the tab, with "start fresh" as the way out, instead
of an error dialog; after a restart an unfinished run's curves come back and
the button says "Resume". Outputs that fail the realism gate are written only
after the user confirms.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from augbench.core.dataset import DatasetInfo, scan_dataset
from augbench.core.errors import AugbenchError
from augbench.core.imageio import read_image
from augbench.gan.balance import BalanceConfig, training_items
from augbench.gan.runstate import prepare_fresh, resume_conflicts, run_state
from augbench.gan.whiten import foreground, preview
from augbench.gui.latest_only import LatestOnly
from augbench.gui.synthesize.form import SynthForm
from augbench.gui.synthesize.monitor import SynthMonitor
from augbench.gui.widgets import BarChart, JobPanel

TAB_TITLE = "Synthesize"
GATE_WORDS = "realism gate"


def whitening_strip(request: tuple[Path, Path | None, str]) -> tuple[Any, str]:
    """Original | kept foreground | whitened, for one image (what the preview thread computes)."""
    image, mask_file, mode = request
    img = read_image(image, mode="rgb")
    mask = read_image(mask_file, mode="gray") if mask_file else None
    return preview(img, foreground(img, mode if mode != "none" else "otsu", mask=mask)), mode


class SynthesizeTab(QWidget):
    def __init__(self, shell: Any = None) -> None:
        super().__init__()
        self.shell = shell
        self.info: DatasetInfo | None = None
        self.chart = BarChart(title="images per class (training data)")
        self.chart.setMinimumHeight(150)
        self.form = SynthForm()
        self.run_button = QPushButton("Balance")
        self.run_button.setMinimumHeight(34)
        self.run_button.setToolTip("run the balancing job; after a cancel or a restart it resumes the same run")
        self.run_button.clicked.connect(self.start)
        self.preview_button = QPushButton("Preview outputs")
        self.preview_button.setToolTip("a few outputs of the chosen engine with their masks, before the full run "
                                       "(nothing is written)")
        self.preview_button.clicked.connect(self.preview_outputs)
        self.whiten_button = QPushButton("Preview whitening")
        self.whiten_button.setToolTip("what background whitening keeps on the first normal image")
        self.whiten_button.clicked.connect(self.preview_whitening)
        self.browse_button = QPushButton("Output…")
        self.browse_button.setToolTip("choose the output folder for the balanced copy")
        self.browse_button.clicked.connect(self._browse_out)
        self.show_run_button = QPushButton("Show a run…")
        self.show_run_button.setToolTip("show the curves and samples of a translator folder (<out>_gan/<class>)")
        self.show_run_button.clicked.connect(self._choose_run)
        self.panel = JobPanel(show_errors=False)  # errors are explained here, the gate asks for consent
        self.show_errors = shell is not None
        self.monitor = SynthMonitor()
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.last_config: BalanceConfig | None = None
        self._mode = "idle"  # idle | run | preview
        self._whitener = LatestOnly(whitening_strip, self, name="augbench-whiten")
        self._whitener.ready.connect(self._show_whitening)
        self._whitener.failed.connect(lambda _t, m: self._say_error(f"whitening preview failed: {m}"))

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(self.chart)
        ll.addWidget(self.form)
        buttons = QHBoxLayout()
        for b in (self.preview_button, self.whiten_button, self.browse_button, self.show_run_button):
            buttons.addWidget(b)
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
        self.panel.failed.connect(self._on_failed)
        self.form.changed.connect(self._refresh_button)
        self.panel.finished.connect(self._refresh_button)
        self.panel.finished.connect(self._after_finished)
        self._consented = False
        self._refresh_button()

    # ------------------------------------------------------------------ data set
    def on_dataset_changed(self, info: DatasetInfo | None) -> None:
        self.info = info
        counts: dict[str, int] = {}
        if info is not None and info.layout in ("imagefolder", "split-imagefolder"):
            counts = info.class_counts("train" if info.layout == "split-imagefolder" else None)
        self.chart.set_data(list(counts), list(counts.values()))
        self.form.set_counts(counts)
        self.restore_run()

    def open_path(self, path: str | Path) -> None:
        if self.shell is not None:
            self.shell.open_dataset(path)
        else:
            self.on_dataset_changed(scan_dataset(path))

    def _idle_text(self) -> str:
        engine = "transplant" if self.form.engine.currentData() == "transplant" else "CycleGAN"
        try:
            state = run_state(self.config())
        except AugbenchError:
            return f"Balance with {engine}"
        return "Resume" if state.resumable and not self.form.fresh.isChecked() else f"Balance with {engine}"

    def _refresh_button(self) -> None:
        ok = bool(self.info is not None and self.form.checked_defects() and self.form.counts)
        busy = self.panel.busy
        self.run_button.setEnabled(ok and not busy)
        self.preview_button.setEnabled(ok and not busy)
        if not busy:
            self.run_button.setText(self._idle_text())

    def _browse_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Output folder")
        if path:
            self.form.out_dir.setText(path)

    def _choose_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Translator folder (contains history.json)")
        if path and not self.open_run(path):
            self.result_label.setText(f"no history.json in {path}")

    def restore_run(self) -> bool:
        """After a restart: redraw an unfinished run's curves from its history; the button says Resume."""
        self._refresh_button()
        try:
            state = run_state(self.config())
        except AugbenchError:
            return False
        if not state.resumable or not state.histories:
            return False
        cls, hist = next(iter(state.histories.items()))
        self.open_run(hist.parent)
        self.result_label.setText(f"an unfinished run of {cls!r} is in {hist.parent}: press Resume to continue, "
                                  "or tick 'start fresh'")
        return True

    # ------------------------------------------------------------------ actions
    def preview_whitening(self) -> int:
        """Show what background whitening keeps on the first normal image (before training on it).

        Reading the image and thresholding it run in the preview thread, never on the GUI thread;
        returns the request's ticket (-1 when there is no normal image to show).
        """
        if self.info is None:
            return -1
        mode = self.form.whiten.currentData()
        normal = self.form.normal.currentText()
        items = [i for i in self.info.items if i.label_class == normal]
        if not items:
            return -1
        return self._whitener.request((items[0].image, items[0].mask_file, mode))

    def _show_whitening(self, ticket: int, out: tuple[Any, str]) -> None:
        strip, mode = out
        self.monitor.preview.set_array(strip)
        self.result_label.setText(f"whitening preview ({mode}): original | kept foreground | whitened")

    def config(self) -> BalanceConfig:
        if self.info is None:
            raise AugbenchError("open a data set first")
        return self.form.to_config(self.info.root)

    def preview_outputs(self) -> None:
        """A few outputs with their masks, computed in the worker (nothing is written)."""
        try:
            cfg = self.config()
        except AugbenchError as exc:
            self._say_error(str(exc))
            return
        from augbench.gan.preview import preview_outputs

        self._mode = "preview"
        self.preview_button.setEnabled(False)
        self.run_button.setEnabled(False)
        self.result_label.setText("computing a preview…")
        self.panel.run(fn=lambda progress, cancel: preview_outputs(cfg, progress=progress, cancel=cancel))

    def start(self, allow_failed_quality: bool = False) -> None:
        """Start, or resume after a cancel or a restart (the job picks up ``last.pt`` and the manifest)."""
        try:
            cfg = self.config()
            training_items(cfg)
        except AugbenchError as exc:
            self._say_error(str(exc))
            return
        fresh = self.form.fresh.isChecked()
        if not fresh:
            conflicts = resume_conflicts(cfg)
            if conflicts:
                self._say_error("the settings differ from the run in these folders:<br>"
                                + "<br>".join(c.replace("\n", "<br>") for c in conflicts)
                                + "<br>Restore them to resume, choose another output folder, or tick "
                                  "<b>start fresh</b> (the old folders are moved aside, not deleted).")
                return
        if allow_failed_quality:
            cfg = dataclasses.replace(cfg, allow_failed_quality=True)
        if self.last_config is None or self.last_config.out_dir != cfg.out_dir or fresh:
            self.monitor.reset()
        self.last_config = cfg
        self._mode = "run"
        self.run_button.setEnabled(False)
        self.preview_button.setEnabled(False)
        self.run_button.setText("Running…")
        self.result_label.setText(f"checkpoints and samples in {cfg.resolved_work_dir}")

        def job(progress: Any, cancel: Any) -> Any:
            from augbench.core.jobs import run_job

            notes = prepare_fresh(cfg) if fresh else []
            result = run_job(cfg, progress=progress, cancel=cancel, fresh=fresh)
            if notes:
                result.message = "; ".join([*notes, result.message])
            return result

        self.panel.run(fn=job)
        if fresh:
            self.form.fresh.setChecked(False)  # once: the next press resumes this new run

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
        best = int((data.get("best") or {}).get("epoch") or 0)
        grid = work / "samples" / f"epoch_{best:04d}.png"
        self.monitor.load_history(work.name, data.get("history", []),
                                  read_image(grid, mode="rgb") if grid.exists() else None)
        self.result_label.setText(f"run {work}: {len(data.get('history', []))} epochs recorded, "
                                  f"chosen epoch {best} (lowest KID)")
        return True

    # ------------------------------------------------------------------ results
    def _say_error(self, message: str) -> None:
        self.result_label.setText(f"<span style='color:#b00'>{message}</span>")

    def confirm_write_failed(self, message: str) -> bool:
        """Ask before writing outputs that failed the realism gate (tests replace this)."""
        box = QMessageBox(QMessageBox.Warning, "Realism gate failed",
                          "The generated images do not pass the realism gate:\n\n" + message
                          + "\n\nLook at the preview first. Write them into the balanced data set anyway?",
                          QMessageBox.Yes | QMessageBox.No, self)
        box.setDefaultButton(QMessageBox.No)
        return box.exec_() == QMessageBox.Yes

    def _on_failed(self, message: str) -> None:
        mode, self._mode = self._mode, "idle"
        self._refresh_button()
        if mode == "run" and GATE_WORDS in message:
            self._say_error(message)
            self._consented = self.confirm_write_failed(message)  # restarted once the worker has finished
            return
        self._say_error(message)
        if self.show_errors and mode == "run" and "differ" not in message:
            QMessageBox(QMessageBox.Warning, "augbench", message, QMessageBox.Ok, self).open()

    def _after_finished(self) -> None:
        if self._consented and not self.panel.busy:
            self._consented = False
            self.start(allow_failed_quality=True)

    def _on_done(self, result: Any) -> None:
        mode, self._mode = self._mode, "idle"
        if mode == "preview":
            if result.get("grid") is not None:
                self.monitor.preview.set_array(result["grid"])
            self.result_label.setText(result["message"])
            self._refresh_button()
            return
        m = result.metrics
        gates = ", ".join(f"{k[5:]}: {v}" for k, v in m.items() if k.startswith("gate_"))
        self.result_label.setText(
            f"done ({m.get('engine')}): {m.get('counts_before')} → {m.get('counts_after')}<br>"
            f"balanced copy: {result.out_dir}<br>leak guard: {m.get('leak_guard_rows', 0)} generated images checked "
            f"against val/test, 0 leaks" + (f"<br>realism gate: {gates}" if gates else "")
            + (f"<br>{m.get('unreadable_skipped')} unreadable image(s) skipped" if m.get("unreadable_skipped") else "")
            + f"<br>report: {m.get('report')}")
        self._refresh_button()

    def _on_stopped(self, partial: Any) -> None:
        self._mode = "idle"
        self.result_label.setText("cancelled: what was saved is kept; press Resume to continue")
        self._refresh_button()

    def shutdown(self) -> None:
        self._whitener.close()
        if self.panel.busy and self.panel.worker is not None:
            self.panel.stop(1500)


def create_tab(shell: Any) -> SynthesizeTab:
    tab = SynthesizeTab(shell)
    info = getattr(getattr(shell, "dataset", None), "info", None)
    if info is not None:
        tab.on_dataset_changed(info)
    return tab
