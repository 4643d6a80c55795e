"""The Augment tab's Export box: output folder, copies, seed, empty-label policy, and the export job.

An :class:`ExportBox` is composed into the tab: it is handed the tab's :class:`AugmentModel`
(which turns the box's :class:`ExportSettings` into an :class:`AugmentJob`) and the shell (to hand
the output to the Label tab). The export runs as an ``augment`` job in the shared
:class:`~augbench.gui.widgets.JobPanel` with progress and Cancel.
"""

from __future__ import annotations

import os
from typing import Any

from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

from augbench.augment.export import AugmentJob
from augbench.core.errors import AugbenchError
from augbench.core.jobs import save_job
from augbench.gui.augment.model import AugmentModel, ExportSettings
from augbench.gui.widgets import JobPanel


class ExportBox(QGroupBox):
    """The Export group: its fields are :class:`ExportSettings`; Export runs the model's job."""

    visibility_changed = pyqtSignal(float)  # the previews mark dropped boxes with the same threshold

    def __init__(self, model: AugmentModel, shell: Any = None) -> None:
        super().__init__("Export")
        self.model = model
        self.shell = shell
        form = QFormLayout(self)
        out_row = QHBoxLayout()
        self.out_edit = QLineEdit()
        self.out_edit.setToolTip("Where the augmented copies go (a new folder; never inside the input folder)")
        browse = QPushButton("…")
        browse.setToolTip("Choose the output folder")
        browse.clicked.connect(self._choose_output)
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(browse)
        form.addRow("output folder", out_row)
        self.copies_spin = QSpinBox()
        self.copies_spin.setRange(1, 10000)
        self.copies_spin.setValue(ExportSettings.copies)
        self.copies_spin.setToolTip("Augmented copies written per input image")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Random seed: the same seed gives the same outputs, with any number of workers")
        self.policy_combo = QComboBox()
        self.policy_combo.addItem("keep image, empty label", "keep")
        self.policy_combo.addItem("drop the image", "drop")
        self.policy_combo.setToolTip("What to do with a copy whose boxes were all cropped away")
        self.vis_spin = QDoubleSpinBox()
        self.vis_spin.setRange(0.0, 1.0)
        self.vis_spin.setSingleStep(0.05)
        self.vis_spin.setValue(ExportSettings.min_visibility)
        self.vis_spin.setToolTip("A box keeping less than this fraction of its area after a transform is dropped")
        self.vis_spin.valueChanged.connect(self.visibility_changed)
        self.orig_cb = QCheckBox("+ originals")
        self.orig_cb.setToolTip("Write the unaugmented images (with their labels) next to the copies")
        opts = QHBoxLayout()
        for label, w in (("copies", self.copies_spin), ("seed", self.seed_spin)):
            opts.addWidget(QLabel(label))
            opts.addWidget(w, 1)
        opts.addWidget(self.orig_cb)
        form.addRow(opts)
        form.addRow("min box visibility", self.vis_spin)
        form.addRow("if all boxes vanish", self.policy_combo)
        btns = QHBoxLayout()
        self.export_btn = QPushButton("Export")
        self.export_btn.setToolTip("Write the augmented copies with their labels (runs in the background; "
                                   "a re-run resumes)")
        self.export_btn.clicked.connect(self.export)
        self.save_job_btn = QPushButton("Save job…")
        self.save_job_btn.setToolTip("Save these settings as a job file for `augbench run JOB.yaml`")
        self.save_job_btn.clicked.connect(self._save_job_dialog)
        self.open_label_btn = QPushButton("Open in Label")
        self.open_label_btn.setToolTip("Check the exported copies and their boxes in the Label tab")
        self.open_label_btn.setEnabled(False)
        self.open_label_btn.clicked.connect(self._open_output_in_label)
        for b in (self.export_btn, self.save_job_btn, self.open_label_btn):
            btns.addWidget(b)
        form.addRow(btns)
        self.panel = JobPanel(show_errors=True)
        self.panel.succeeded.connect(self._on_export_done)
        self.panel.stopped.connect(self._on_export_done)
        self.panel.finished.connect(lambda: self.export_btn.setEnabled(True))
        form.addRow(self.panel)

    def settings(self) -> ExportSettings:
        return ExportSettings(
            out_dir=self.out_edit.text(), copies=self.copies_spin.value(), seed=self.seed_spin.value(),
            empty_policy=self.policy_combo.currentData(), min_visibility=self.vis_spin.value(),
            include_originals=self.orig_cb.isChecked(),
        )

    def follow_dataset(self) -> None:
        """A new data set: the output folder follows it unless the user chose one."""
        self.out_edit.setText(self.model.default_output(self.out_edit.text()))

    def build_job(self) -> AugmentJob:
        return self.model.build_job(self.settings())

    def export(self) -> None:
        try:
            job = self.build_job()
        except AugbenchError as exc:
            self.panel.status.setText(f"error: {exc}")
            return
        self.export_btn.setEnabled(False)
        self.open_label_btn.setEnabled(False)
        self.panel.run(job=job)

    def _on_export_done(self, result: Any) -> None:
        self.open_label_btn.setEnabled(result is not None and bool(getattr(result, "outputs", None)))

    def _open_output_in_label(self) -> None:
        if self.shell is not None:
            target = "label" if "label" in self.shell.tab_widgets else "augment"
            self.shell.open_in_tab(target, self.out_edit.text())

    def _choose_output(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Output folder", self.out_edit.text() or os.getcwd())
        if path:
            self.out_edit.setText(path)

    def _save_job_dialog(self) -> None:
        try:
            job = self.build_job()
        except AugbenchError as exc:
            self.panel.status.setText(f"error: {exc}")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save job", "augment_job.yaml", "YAML (*.yaml)")
        if path:
            save_job(job, path)
