"""The Synthesize tab's settings form: classes, target, resolution, time, advanced network options.

Builds a :class:`BalanceConfig` (the same object ``augbench balance JOB.yaml``
loads) and shows the balancing plan as the user edits, before anything trains.
"""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from augbench.core.errors import AugbenchError
from augbench.gan.balance import BalanceConfig
from augbench.gan.planner import plan_balance

TARGETS = [("fill each defect class to the normal count", "fill_to_normal"),
           ("fill each defect class to N images", "fill_to"),
           ("fill each defect class to x % of normal", "percent_of_normal")]


class SynthForm(QWidget):
    changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counts: dict[str, int] = {}
        self.normal = QComboBox()
        self.defects = QListWidget()
        self.defects.setMaximumHeight(110)
        self.target_mode = QComboBox()
        for text, key in TARGETS:
            self.target_mode.addItem(text, key)
        self.target_value = QDoubleSpinBox()
        self.target_value.setRange(0, 1_000_000)
        self.target_value.setDecimals(0)
        self.target_value.setValue(100)
        self.resolution = QComboBox()
        for s in (32, 64, 128, 256):
            self.resolution.addItem(f"{s} px", s)
        self.resolution.setCurrentIndex(1)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10000)
        self.epochs.setValue(20)
        self.budget_min = QDoubleSpinBox()
        self.budget_min.setRange(0, 100000)
        self.budget_min.setSuffix(" min per class (0 = none)")
        self.budget_min.setValue(60)
        self.out_dir = QLineEdit()
        self.out_dir.setPlaceholderText("output folder (default: <data set>_balanced)")
        self.plan_label = QLabel("open an ImageFolder data set")
        self.plan_label.setWordWrap(True)
        self.plan_label.setTextFormat(Qt.RichText)

        adv = QGroupBox("Network and training")
        self.ngf = QSpinBox()
        self.ngf.setRange(4, 256)
        self.ngf.setValue(32)
        self.blocks = QSpinBox()
        self.blocks.setRange(0, 32)
        self.blocks.setValue(6)
        self.steps = QSpinBox()
        self.steps.setRange(0, 1_000_000)
        self.steps.setSpecialValueText("one pass over the normals")
        self.d_steps = QSpinBox()
        self.d_steps.setRange(1, 10)
        self.d_steps.setValue(2)
        self.lr = QComboBox()
        self.lr.addItem("0.0003 (paper)", 3e-4)
        self.lr.addItem("0.0002 (reference code)", 2e-4)
        self.upsample = QComboBox()
        self.upsample.addItem("transposed conv (reference)", "deconv")
        self.upsample.addItem("resize + conv (no checkerboard)", "resize")
        self.precision = QComboBox()
        for p in ("auto", "fp32", "bf16", "fp16"):
            self.precision.addItem(p, p)
        self.whiten = QComboBox()
        for text, key in (("no", "none"), ("Otsu (automatic)", "otsu"), ("GrabCut (automatic)", "grabcut"),
                          ("masks from the Label tab", "mask")):
            self.whiten.addItem(text, key)
        self.diffaug = QCheckBox("DiffAugment on the discriminator (small data)")
        self.kid_features = QComboBox()
        self.kid_features.addItem("EfficientNet-Lite0 (ImageNet)", "lite0")
        self.kid_features.addItem("pixels (fast)", "pixels")
        af = QFormLayout(adv)
        for label, w in (("width (ngf)", self.ngf), ("residual blocks", self.blocks), ("steps per epoch", self.steps),
                         ("D steps per G step", self.d_steps), ("learning rate", self.lr),
                         ("upsampling", self.upsample), ("precision", self.precision),
                         ("whiten background", self.whiten), ("", self.diffaug), ("KID features", self.kid_features)):
            af.addRow(label, w)

        form = QFormLayout()
        form.addRow("normal class", self.normal)
        form.addRow("defect classes to fill", self.defects)
        form.addRow("target", self.target_mode)
        form.addRow("N / x %", self.target_value)
        form.addRow("resolution", self.resolution)
        form.addRow("epochs", self.epochs)
        form.addRow("time budget", self.budget_min)
        form.addRow("output", self.out_dir)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.plan_label)
        lay.addWidget(adv)
        lay.addStretch(1)
        for sig in (self.normal.currentIndexChanged, self.target_mode.currentIndexChanged,
                    self.target_value.valueChanged, self.defects.itemChanged):
            sig.connect(self._update_plan)
        self.normal.currentIndexChanged.connect(self._refill_defects)

    def set_counts(self, counts: dict[str, int]) -> None:
        """New data set: guess the normal class (the largest) and tick every other class."""
        self.counts = dict(counts)
        self.normal.blockSignals(True)
        self.normal.clear()
        self.normal.addItems(list(counts))
        if counts:
            guess = next((c for c in counts if c.lower() in ("normal", "ok", "good", "functional")),
                         max(counts, key=lambda c: counts[c]))
            self.normal.setCurrentText(guess)
        self.normal.blockSignals(False)
        self._refill_defects()

    def _refill_defects(self) -> None:
        self.defects.blockSignals(True)
        self.defects.clear()
        for cls, n in self.counts.items():
            if cls == self.normal.currentText():
                continue
            item = QListWidgetItem(f"{cls} ({n})")
            item.setData(Qt.UserRole, cls)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked)
            self.defects.addItem(item)
        self.defects.blockSignals(False)
        self._update_plan()

    def checked_defects(self) -> tuple[str, ...]:
        return tuple(self.defects.item(i).data(Qt.UserRole) for i in range(self.defects.count())
                     if self.defects.item(i).checkState() == Qt.Checked)

    def set_defect_checked(self, cls: str, checked: bool) -> None:
        for i in range(self.defects.count()):
            if self.defects.item(i).data(Qt.UserRole) == cls:
                self.defects.item(i).setCheckState(Qt.Checked if checked else Qt.Unchecked)

    def plan_text(self) -> str:
        if not self.counts or not self.normal.currentText():
            return "open an ImageFolder data set"
        try:
            plans = plan_balance(self.counts, self.normal.currentText(), list(self.checked_defects()),
                                 self.target_mode.currentData(), self.target_value.value())
        except AugbenchError as exc:
            return f"<span style='color:#b00'>{exc}</span>"
        if not plans:
            return "tick at least one defect class"
        rows = [f"<b>{p.name}</b>: {p.current} → {p.current + p.to_generate} (+{p.to_generate})"
                + (f" <i>{p.note}</i>" if p.note else "") for p in plans]
        return "<br>".join(rows)

    def _update_plan(self) -> None:
        self.target_value.setEnabled(self.target_mode.currentData() != "fill_to_normal")
        self.plan_label.setText(self.plan_text())
        self.changed.emit()

    def to_config(self, dataset: str | Path) -> BalanceConfig:
        out = self.out_dir.text().strip() or str(Path(dataset).with_name(Path(dataset).name + "_balanced"))
        return BalanceConfig(
            dataset=str(dataset), out_dir=out, normal_class=self.normal.currentText(),
            defect_classes=self.checked_defects(), target_mode=self.target_mode.currentData(),
            target_value=self.target_value.value(), size=self.resolution.currentData(), ngf=self.ngf.value(),
            n_blocks=self.blocks.value(), epochs=self.epochs.value(), steps_per_epoch=self.steps.value(),
            time_budget_s=self.budget_min.value() * 60.0, lr=self.lr.currentData(), d_steps=self.d_steps.value(),
            upsample=self.upsample.currentData(), precision=self.precision.currentData(),
            whiten=self.whiten.currentData(), diffaugment="color,translation,cutout" if self.diffaug.isChecked() else "",
            kid_features=self.kid_features.currentData(),
        )
