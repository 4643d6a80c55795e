"""The Synthesize tab's settings form: classes, target, engine, folders, and each engine's options.

Builds a :class:`BalanceConfig` (the same object ``augbench balance JOB.yaml``
loads) and shows the balancing plan as the user edits, before anything runs.
Only the chosen engine's group is shown; every input has a tooltip.
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

ENGINES = [("transplant (no training)", "transplant"), ("CycleGAN (trains first)", "cyclegan")]
BLENDS = [("ratio (darkening)", "ratio"), ("mixed gradients", "mixed"), ("normal gradients", "normal"),
          ("alpha (pixels)", "alpha")]
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
        self.engine = QComboBox()
        for text, key in ENGINES:
            self.engine.addItem(text, key)
        self.work_dir = QLineEdit()
        self.work_dir.setPlaceholderText("work folder (default: <output>_gan)")
        self.fresh = QCheckBox("start fresh")
        self.gate = QCheckBox("realism gate")
        self.gate.setChecked(True)
        self.gate_n = QSpinBox()
        self.gate_n.setRange(2, 1000)
        self.gate_n.setValue(32)
        tp = QGroupBox("Transplant")
        self.blend = QComboBox()
        for text, key in BLENDS:
            self.blend.addItem(text, key)
        self.polarity = QComboBox()
        for text, key in (("auto (decided from the data)", "auto"), ("dark defects", "dark"),
                          ("bright defects", "bright"), ("both", "both")):
            self.polarity.addItem(text, key)
        self.max_angle = QDoubleSpinBox()
        self.max_angle.setRange(0, 180)
        self.max_angle.setValue(10)
        self.max_angle.setSuffix(" °")
        self.rot90 = QCheckBox("90-degree turns")
        self.avoid_bars = QCheckBox("keep off bus bars")
        self.patches = QSpinBox()
        self.patches.setRange(1, 16)
        self.patches.setValue(2)
        tf = QFormLayout(tp)
        for label, w in (("blend", self.blend), ("defect polarity", self.polarity), ("rotation up to", self.max_angle),
                         ("", self.rot90), ("", self.avoid_bars), ("regions per image", self.patches)):
            tf.addRow(label, w)
        self.transplant_group = tp
        self.plan_label = QLabel("open an ImageFolder data set")
        self.plan_label.setWordWrap(True)
        self.plan_label.setTextFormat(Qt.RichText)

        self.native = QCheckBox("native resolution")
        self.generator = QComboBox()
        self.generator.addItem("attention (local change)", "attention")
        self.generator.addItem("ResNet (reference)", "resnet")
        adv = QGroupBox("CycleGAN: network and training")
        self.cyclegan_group = adv
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
        for p in ("fp32", "auto", "bf16", "fp16"):
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
        for label, w in (("resolution (crop)", self.resolution), ("", self.native), ("generator", self.generator),
                         ("epochs", self.epochs), ("time budget", self.budget_min), ("width (ngf)", self.ngf),
                         ("residual blocks", self.blocks), ("steps per epoch", self.steps),
                         ("D steps per G step", self.d_steps), ("learning rate", self.lr),
                         ("upsampling", self.upsample), ("precision", self.precision),
                         ("whiten background", self.whiten), ("", self.diffaug)):
            af.addRow(label, w)

        form = QFormLayout()
        form.addRow("normal class", self.normal)
        form.addRow("defect classes to fill", self.defects)
        form.addRow("target", self.target_mode)
        form.addRow("N / x %", self.target_value)
        form.addRow("engine", self.engine)
        form.addRow("output", self.out_dir)
        form.addRow("work folder", self.work_dir)
        form.addRow("", self.fresh)
        form.addRow("", self.gate)
        form.addRow("gate probe images", self.gate_n)
        form.addRow("KID features", self.kid_features)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.plan_label)
        lay.addWidget(tp)
        lay.addWidget(adv)
        lay.addStretch(1)
        self._tooltips()
        self.engine.currentIndexChanged.connect(self._engine_changed)
        for w in (self.engine, self.blend, self.polarity, self.generator, self.whiten, self.resolution):
            w.currentIndexChanged.connect(self.changed)
        for sig in (self.out_dir.textChanged, self.work_dir.textChanged, self.fresh.toggled, self.gate.toggled,
                    self.rot90.toggled, self.avoid_bars.toggled, self.native.toggled, self.epochs.valueChanged):
            sig.connect(self.changed)
        self._engine_changed()
        for sig in (self.normal.currentIndexChanged, self.target_mode.currentIndexChanged,
                    self.target_value.valueChanged, self.defects.itemChanged):
            sig.connect(self._update_plan)
        self.normal.currentIndexChanged.connect(self._refill_defects)

    def _engine_changed(self) -> None:
        transplant = self.engine.currentData() == "transplant"
        self.transplant_group.setVisible(transplant)
        self.cyclegan_group.setVisible(not transplant)
        self.changed.emit()

    def _tooltips(self) -> None:
        """Every input says what it does (issue 14: a form that cannot be understood cannot be trusted)."""
        tips = {
            self.normal: "the class whose images are turned into defects (the defect-free class)",
            self.defects: "tick the defect classes to fill up to the target",
            self.target_mode: "how many images each ticked defect class should have afterwards",
            self.target_value: "N images, or x % of the normal class (unused for 'fill to the normal count')",
            self.engine: "transplant cuts real defect regions (from masks, boxes or the difference to the normals) "
                         "and blends them into other normals; CycleGAN learns a translator first",
            self.out_dir: "where the balanced copy (originals + generated images, manifest) is written; "
                          "never inside the data set",
            self.work_dir: "where checkpoints, samples and history.json go (default: <output>_gan); "
                           "a re-run resumes from here",
            self.fresh: "start fresh: tick after changing settings; the previous output, report and work "
                        "folders are moved aside (never deleted) and the run starts from scratch",
            self.gate: "realism gate (recommended): before anything is written, a probe batch must look like "
                       "real defects (KID against real-vs-real and the untouched normals), have real-image texture "
                       "(not noise), differ from its source (not a copy) and not duplicate a training defect",
            self.gate_n: "how many outputs the realism gate judges before the full run",
            self.blend: "how a defect region is blended in: ratio multiplies the new image by the defect's "
                        "darkening (EL, X-ray); mixed/normal gradients are seamless clones (thin lines keep, large "
                        "dark areas fade); alpha pastes the defect's pixels with a feathered edge",
            self.polarity: "whether defects are darker or brighter than the object (auto decides from the data)",
            self.max_angle: "each pasted region is turned by a random angle up to this",
            self.rot90: "also turn regions by 90 degrees: only for round or square objects without bus bars "
                        "running one way",
            self.avoid_bars: "do not paste over the object's dark full-length lines (bus bars) when there is room",
            self.patches: "how many regions of one defect image are pasted into each output",
            self.resolution: "training crop size in pixels (whole images at this size unless native is ticked)",
            self.native: "native resolution: hold images at their own size, train on random crops and "
                         "translate whole images, so thin defects keep their width",
            self.generator: "attention: output = input + mask x change, with a sparsity penalty on the mask "
                            "(changes stay local); ResNet: the reference generator, may re-texture everything",
            self.epochs: "maximum epochs per defect class (the time budget may stop earlier)",
            self.budget_min: "training time per defect class; the epoch plan shrinks to fit",
            self.ngf: "generator width (more = slower, more capacity)",
            self.blocks: "residual blocks in the generator",
            self.steps: "generator steps per epoch (0 = one pass over the normal images)",
            self.d_steps: "discriminator updates per generator update (paper: 2)",
            self.lr: "Adam learning rate",
            self.upsample: "how the generator upsamples; resize + conv avoids checkerboard artefacts",
            self.precision: "number format: fp32 is the safe choice on CPU; bf16/fp16 help on some hardware",
            self.whiten: "set the background to white before training (and in the copied originals too)",
            self.diffaug: "differentiable augmentation of the discriminator's inputs; helps with few images",
            self.kid_features: "features for KID (checkpoint choice and the realism gate)",
        }
        for w, tip in tips.items():
            w.setToolTip(tip)

    def input_widgets(self) -> list[QWidget]:
        """Every input control of the form (the tooltip test walks these)."""
        kinds = (QComboBox, QSpinBox, QDoubleSpinBox, QLineEdit, QCheckBox, QListWidget)
        return [w for w in self.findChildren(QWidget) if isinstance(w, kinds) and w.parent() is not None
                and not isinstance(w.parent(), (QComboBox, QSpinBox, QDoubleSpinBox))]

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
            dataset=str(dataset), out_dir=out, work_dir=self.work_dir.text().strip(), engine=self.engine.currentData(),
            blend=self.blend.currentData(), polarity=self.polarity.currentData(), max_angle=self.max_angle.value(),
            rot90=self.rot90.isChecked(), avoid_bus_bars=self.avoid_bars.isChecked(),
            patches_per_image=self.patches.value(), quality_gate=self.gate.isChecked(), gate_n=self.gate_n.value(),
            native=self.native.isChecked(), generator=self.generator.currentData(),
            normal_class=self.normal.currentText(),
            defect_classes=self.checked_defects(), target_mode=self.target_mode.currentData(),
            target_value=self.target_value.value(), size=self.resolution.currentData(), ngf=self.ngf.value(),
            n_blocks=self.blocks.value(), epochs=self.epochs.value(), steps_per_epoch=self.steps.value(),
            time_budget_s=self.budget_min.value() * 60.0, lr=self.lr.currentData(), d_steps=self.d_steps.value(),
            upsample=self.upsample.currentData(), precision=self.precision.currentData(),
            whiten=self.whiten.currentData(), diffaugment="color,translation,cutout" if self.diffaug.isChecked() else "",
            kid_features=self.kid_features.currentData(),
        )
