"""Pieces of the Benchmark tab: the setup form, the results table, the confusion-matrix view.

The form turns widgets into an :class:`ExperimentConfig` (validated by the job
contract, so a bad value names its field); the table and charts are views of
``report.summarize(load_runs(out_dir))`` and are refreshed whenever a run's JSON
lands on disk — the files are the model, as everywhere else in augbench.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QImage
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from augbench.classify.experiment import BASE_COMPONENTS, ExperimentConfig
from augbench.classify.models import MODEL_NAMES
from augbench.core.errors import ConfigError

ARM_CHOICES = list(BASE_COMPONENTS) + ["style", "cyclegan@0.5", "cyclegan", "aug_oversample@150", "oracle@150",
                                      "transplant@150"]
DEFAULT_ARMS = ("baseline", "class_weights", "oversample", "classic_aug")


class PathField(QWidget):
    """A line edit with a Browse… button (folder or file)."""

    def __init__(self, placeholder: str, folder: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.folder = folder
        btn = QPushButton("Browse…")
        btn.setToolTip("Choose a folder" if folder else "Choose a file")
        btn.clicked.connect(self._browse)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.edit, 1)
        lay.addWidget(btn)

    def _browse(self) -> None:
        if self.folder:
            path = QFileDialog.getExistingDirectory(self, "Choose a folder", self.text())
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a file", self.text())
        if path:
            self.edit.setText(path)

    def text(self) -> str:
        return self.edit.text().strip()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt naming
        self.edit.setText(text)


def checklist(names: list[str], checked: set[str]) -> QListWidget:
    lw = QListWidget()
    lw.setSelectionMode(QAbstractItemView.NoSelection)
    for n in names:
        item = QListWidgetItem(n)
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(Qt.Checked if n in checked else Qt.Unchecked)
        lw.addItem(item)
    lw.setMaximumHeight(22 * min(len(names), 7) + 6)
    return lw


def checked_items(lw: QListWidget) -> list[str]:
    return [lw.item(i).text() for i in range(lw.count()) if lw.item(i).checkState() == Qt.Checked]


class BenchForm(QWidget):
    """Data, output, models, arms, seeds and training settings -> ExperimentConfig."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = PathField("ImageFolder or train/val/test folders")
        self.out = PathField("results folder (re-running resumes)")
        self.models = checklist(list(MODEL_NAMES), {"small_cnn"})
        self.arms = checklist(ARM_CHOICES, set(DEFAULT_ARMS))
        self.custom_arm = QLineEdit()
        self.custom_arm.setPlaceholderText("combination, e.g. oversample+classic_aug — Enter adds it")
        self.custom_arm.returnPressed.connect(self.add_custom_arm)
        self.seeds = QLineEdit("0, 1, 2")
        self.epochs = QSpinBox()
        self.epochs.setRange(0, 1000)
        self.epochs.setSpecialValueText("paper (60 ResNet / 80 EfficientNet)")
        self.epochs.setValue(10)
        self.batch = QSpinBox()
        self.batch.setRange(1, 1024)
        self.batch.setValue(4)
        self.size = QSpinBox()
        self.size.setRange(16, 1024)
        self.size.setValue(64)
        self.channels = QComboBox()
        self.channels.addItems(["3 (RGB)", "1 (grey)"])
        self.pretrained = QComboBox()
        self.pretrained.addItems(["none", "imagenet"])
        self.freeze = QCheckBox("frozen backbone (train the head only)")
        self.metric = QComboBox()
        self.metric.addItems(["accuracy", "macro_f1"])
        self.amp = QComboBox()
        self.amp.addItems(["off", "bf16", "fp16"])
        self.cyclegan = PathField("CycleGAN manifest.jsonl (Synthesize tab)", folder=False)
        self.style = PathField("style manifest.jsonl (Style tab)", folder=False)
        self.pipeline = PathField("Augment tab pipeline .json (empty = built-in)", folder=False)
        self.synth_class = QLineEdit()
        self.synth_class.setPlaceholderText("class of synthetic images without one (e.g. defect)")
        # Issue 15 protocol: per-seed subsets + oracle pool, transplant images, frozen-feature head.
        self.protocol = PathField("protocol split .json (optional)", folder=False)
        self.protocol.edit.setToolTip("A protocol split (experiments/elpv_split.py): fixed val/test, a "
                                      "training subset per seed and the oracle pool for oracle@N arms")
        self.transplant = PathField("transplant manifest.jsonl (Synthesize tab)", folder=False)
        self.transplant.edit.setToolTip("manifest.jsonl of transplant images: they feed the transplant@N arms")
        self.head = QComboBox()
        self.head.addItems(["finetune", "linear_probe"])
        self.head.setToolTip("linear_probe: logistic regression on cached frozen EfficientNet-Lite0 features "
                             "(minutes for 10 seeds); finetune: train the network")
        self._set_tooltips()
        form = QFormLayout(self)
        for label, w in (("Data", self.data), ("Results", self.out), ("Models", self.models), ("Arms", self.arms),
                         ("", self.custom_arm), ("Seeds", self.seeds), ("Epochs", self.epochs),
                         ("Batch", self.batch), ("Image size", self.size), ("Channels", self.channels),
                         ("Pretrained", self.pretrained), ("", self.freeze), ("Select best by", self.metric),
                         ("Autocast", self.amp), ("CycleGAN images", self.cyclegan), ("Style images", self.style),
                         ("Synthetic class", self.synth_class), ("Classic aug", self.pipeline)):
            form.addRow(label, w)
        for label, w in (("Protocol split", self.protocol), ("Transplant", self.transplant), ("Head", self.head)):
            form.addRow(label, w)

    def _set_tooltips(self) -> None:
        tips = {
            self.data.edit: "An ImageFolder (one sub-folder per class) or train/val/test folders of them",
            self.out.edit: "Where run JSONs, checkpoints and the report go; re-running the same folder resumes",
            self.models: "Classifiers to train (every arm is trained with each)",
            self.arms: "Ways of handling the imbalance to compare; 'baseline' is the plain reference",
            self.custom_arm: "Combine arms with '+', e.g. oversample+classic_aug, then press Enter",
            self.seeds: "Each seed is one repetition (different split of randomness); 3-5 give error bars",
            self.epochs: "Training epochs per run (0 = the paper's schedule)",
            self.batch: "Images per training step",
            self.size: "Images are resized to this square size",
            self.channels: "Train on colour or grey images",
            self.pretrained: "Start from ImageNet weights where the model has them (offline, shipped weights)",
            self.freeze: "Keep the pretrained backbone fixed and train only the classifier head",
            self.metric: "Which validation metric picks each run's best checkpoint",
            self.amp: "Mixed precision (bf16 is faster on recent CPUs; fp16 needs a GPU)",
            self.cyclegan.edit: "manifest.jsonl of a Synthesize-tab run: its generated images feed the cyclegan arms",
            self.style.edit: "manifest.jsonl of a Style-tab batch: its images feed the style arm",
            self.synth_class: "Class given to synthetic images whose manifest row has none",
            self.pipeline.edit: "An Augment-tab pipeline file for the classic_aug arm (empty: a built-in one)",
        }
        for w, text in tips.items():
            w.setToolTip(text)

    def add_custom_arm(self) -> None:
        from augbench.classify.experiment import parse_arm

        name = self.custom_arm.text().strip()
        if not name:
            return
        parse_arm(name)  # raises ConfigError with the bad part
        existing = [self.arms.item(i).text() for i in range(self.arms.count())]
        if name not in existing:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            self.arms.addItem(item)
        else:
            item = self.arms.item(existing.index(name))
        item.setCheckState(Qt.Checked)
        self.custom_arm.clear()

    def set_checked(self, which: str, names: list[str]) -> None:
        lw = self.models if which == "models" else self.arms
        for i in range(lw.count()):
            lw.item(i).setCheckState(Qt.Checked if lw.item(i).text() in names else Qt.Unchecked)

    def seeds_list(self) -> list[int]:
        try:
            return [int(s) for s in self.seeds.text().replace(",", " ").split()]
        except ValueError:
            raise ConfigError("seeds", "seeds are whole numbers separated by commas") from None

    def config(self) -> ExperimentConfig:
        if not self.data.text():
            raise ConfigError("data", "choose a data folder")
        out = self.out.text() or str(Path(self.data.text()).parent / f"{Path(self.data.text()).name}_bench")
        self.out.setText(out)
        return ExperimentConfig(
            data=self.data.text(), out_dir=out, models=checked_items(self.models), arms=checked_items(self.arms),
            seeds=self.seeds_list(), epochs=self.epochs.value(), batch_size=self.batch.value(),
            image_size=self.size.value(), channels=3 if self.channels.currentIndex() == 0 else 1,
            pretrained=self.pretrained.currentText(), freeze_backbone=self.freeze.isChecked(),
            select_metric=self.metric.currentText(),  # type: ignore[arg-type]
            amp=self.amp.currentText(),  # type: ignore[arg-type]
            cyclegan_manifest=self.cyclegan.text(), style_manifest=self.style.text(),
            synthetic_class=self.synth_class.text().strip(), aug_pipeline=self.pipeline.text(),
            protocol_split=self.protocol.text(), transplant_manifest=self.transplant.text(),
            head=self.head.currentText(),  # type: ignore[arg-type]
        )


TABLE_HEADERS = ["model", "arm", "seeds", "accuracy", "macro-F1", "Δ macro-F1 vs baseline", "p (t)", "per-class F1"]


class ResultsTable(QTableWidget):
    """One row per (model, arm): mean ± std, Δ vs baseline with the paired t-test p, per-class F1."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(TABLE_HEADERS), parent)
        self.setHorizontalHeaderLabels(TABLE_HEADERS)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().setVisible(False)
        self.rows: list[dict[str, Any]] = []

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.setRowCount(len(rows))
        for i, r in enumerate(rows):
            d = r.get("macro_f1_vs_baseline") or {}
            cells = [r["model"], r["arm"], str(r["n_seeds"]),
                     f"{r['accuracy_mean']:.3f} ± {r['accuracy_std']:.3f}",
                     f"{r['macro_f1_mean']:.3f} ± {r['macro_f1_std']:.3f}",
                     "—" if d.get("diff_mean") is None else f"{d['diff_mean']:+.3f}",
                     "—" if d.get("t_p") is None else f"{d['t_p']:.3f}",
                     ", ".join(f"{c} {v:.2f}" for c, v in r["per_class_f1"].items())]
            for j, text in enumerate(cells):
                self.setItem(i, j, QTableWidgetItem(text))
        self.resizeColumnsToContents()


def png_to_qimage(data: bytes) -> QImage:
    img = QImage()
    img.loadFromData(data, "PNG")
    return img


__all__ = ["BenchForm", "ResultsTable", "checked_items", "png_to_qimage"]
