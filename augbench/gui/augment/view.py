"""The Augment tab: tick transforms, tune sliders, watch previews, export.

Previews are computed from a downscaled cached copy in one background thread
(:class:`~augbench.gui.latest_only.LatestOnly`): the GUI thread never runs a
transform, and while one preview computes, newer slider positions replace each
other so only the latest is computed next. Export runs as an ``augment`` job
in the shared worker with a progress bar and Cancel.

The state lives in a Qt-free :class:`~augbench.gui.augment.model.AugmentModel` (pipeline, data
set, previewed image, settings -> job); this view is built from it, and the Export box
(:class:`~augbench.gui.augment.export.ExportBox`) is composed in, handed the same model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from augbench.augment.catalog import catalog, get_spec
from augbench.augment.pipeline import Step, load_pipeline, save_pipeline
from augbench.augment.preview import PreviewSource, PreviewTile, compute_previews
from augbench.core.dataset import DatasetInfo, Item, scan_dataset
from augbench.core.errors import AugbenchError
from augbench.core.paths import sample_dataset_dir
from augbench.gui.augment.export import ExportBox
from augbench.gui.augment.model import AugmentModel
from augbench.gui.augment.params import ParamEditor
from augbench.gui.latest_only import LatestOnly
from augbench.gui.widgets import ImageView

TAB_TITLE = "Augment"
N_PREVIEWS = 6
STARTER = ("HorizontalFlip", "Affine", "RandomBrightnessContrast")


class AugmentTab(QWidget):
    """Pipeline builder + live preview grid + export, as a view of an :class:`AugmentModel`."""

    def __init__(self, shell: Any = None) -> None:
        super().__init__()
        self.shell = shell
        self.model = AugmentModel()
        self.preview_generation = 0  # previews shown so far
        self.last_tiles: list[PreviewTile] = []
        self._previewer = LatestOnly(compute_previews, self)
        self._previewer.ready.connect(self._show_previews)
        self._previewer.failed.connect(self._preview_failed)
        self._shown_ticket = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh_preview_now)
        self.export_box = ExportBox(self.model, shell)
        self.export_box.visibility_changed.connect(lambda _: self.schedule_preview())
        b = self.export_box  # its widgets, by the names the tests and scripts use
        self.out_edit, self.copies_spin, self.vis_spin, self.panel = b.out_edit, b.copies_spin, b.vis_spin, b.panel
        self.export_btn, self.open_label_btn = b.export_btn, b.open_label_btn
        self._build_ui()
        self._use_dataset(None)

    # The model's state, readable through the tab (scripts and tests name it so); it changes only in the model.
    @property
    def steps(self) -> dict[str, Step]:
        return self.model.steps

    @property
    def order(self) -> list[str]:
        return self.model.order

    @property
    def info(self) -> DatasetInfo | None:
        return self.model.info

    @property
    def source(self) -> PreviewSource | None:
        return self.model.source

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        left = QWidget()
        lv = QVBoxLayout(left)
        self.search = QLineEdit()
        self.search.setPlaceholderText("filter transforms…")
        self.search.setToolTip("Show only transforms whose name contains this text")
        self.search.textChanged.connect(self._filter_tree)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setToolTip("Tick a transform to add it to the pipeline; hover one for what it does")
        self.tree_items: dict[str, QTreeWidgetItem] = {}
        groups: dict[str, QTreeWidgetItem] = {}
        for name, spec in sorted(catalog().items(), key=lambda kv: (kv[1].group, kv[0])):
            parent = groups.get(spec.group)
            if parent is None:
                parent = QTreeWidgetItem(self.tree, [spec.group])
                parent.setFlags(Qt.ItemIsEnabled)
                groups[spec.group] = parent
            item = QTreeWidgetItem(parent, [name])
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsUserCheckable)
            item.setCheckState(0, Qt.Unchecked)
            item.setToolTip(0, spec.doc)
            self.tree_items[name] = item
        self.tree.expandAll()
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.currentItemChanged.connect(lambda cur, _prev: cur and self._select(cur.text(0)))
        title = QLabel(f"<b>Transforms</b> ({len(self.tree_items)} from Albumentations)")
        title.setWordWrap(True)
        title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        lv.addWidget(title)
        lv.addWidget(self.search)
        lv.addWidget(self.tree, 1)

        mid = QWidget()
        mv = QVBoxLayout(mid)
        ptitle = QLabel("<b>Pipeline</b> (applied top to bottom)")
        ptitle.setWordWrap(True)
        ptitle.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        mv.addWidget(ptitle)
        self.pipeline_list = QListWidget()
        self.pipeline_list.setMaximumHeight(150)
        self.pipeline_list.setToolTip("The pipeline, applied top to bottom; select a step to edit its parameters")
        self.pipeline_list.currentTextChanged.connect(lambda t: t and self._select(t))
        mv.addWidget(self.pipeline_list)
        row = QHBoxLayout()
        up, down = QPushButton("↑"), QPushButton("↓")
        up.setToolTip("Move the selected step earlier in the pipeline")
        down.setToolTip("Move the selected step later in the pipeline")
        up.clicked.connect(lambda: self._move(-1))
        down.clicked.connect(lambda: self._move(1))
        self.load_btn, self.save_btn = QPushButton("Load…"), QPushButton("Save…")
        self.load_btn.setToolTip("Load a pipeline saved by augbench or albumentations (A.save: json/yaml)")
        self.save_btn.setToolTip("Save the pipeline in albumentations' own format (A.save)")
        self.load_btn.clicked.connect(self._load_dialog)
        self.save_btn.clicked.connect(self._save_dialog)
        for b in (up, down, self.load_btn, self.save_btn):
            row.addWidget(b)
        mv.addLayout(row)
        self.editor_area = QScrollArea()
        self.editor_area.setWidgetResizable(True)
        self.editor: ParamEditor | None = None
        mv.addWidget(self.editor_area, 1)

        right = QWidget()
        rv = QVBoxLayout(right)
        top = QHBoxLayout()
        self.image_combo = QComboBox()
        self.image_combo.setToolTip("The image the previews are made from")
        self.image_combo.setMinimumContentsLength(12)
        self.image_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.image_combo.currentIndexChanged.connect(self._on_image_chosen)
        self.shuffle_btn = QPushButton("Shuffle")
        self.shuffle_btn.setToolTip("Draw six new random augmentations")
        self.shuffle_btn.clicked.connect(self.shuffle)
        self.force_cb = QCheckBox("every step (p=1)")
        self.force_cb.setToolTip("Preview with every step applied, whatever its probability (export still uses p)")
        self.force_cb.toggled.connect(lambda _: self.schedule_preview())
        top.addWidget(self.image_combo, 1)
        top.addWidget(self.force_cb)
        top.addWidget(self.shuffle_btn)
        rv.addLayout(top)
        grid = QGridLayout()
        self.views: list[ImageView] = []
        for i in range(N_PREVIEWS):
            v = ImageView(min_size=90)
            grid.addWidget(v, i // 3, i % 3)
            self.views.append(v)
        rv.addLayout(grid, 1)
        self.flags_label = QLabel("")
        self.flags_label.setWordWrap(True)
        self.flags_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        rv.addWidget(self.flags_label)
        rv.addWidget(self.export_box)

        split = QSplitter()
        for w, s in ((left, 1), (mid, 2), (right, 4)):
            split.addWidget(w)
            split.setStretchFactor(split.count() - 1, s)
        left.setMinimumWidth(170)  # transform names stay readable
        split.setSizes([230, 300, 640])
        lay = QVBoxLayout(self)
        self.source_label = QLabel("")
        self.source_label.setWordWrap(True)
        self.source_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        lay.addWidget(self.source_label)
        lay.addWidget(split, 1)

    # ------------------------------------------------------------------ pipeline model
    def current_steps(self) -> list[Step]:
        return self.model.current_steps()

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Tick/untick a transform as a click in the list does."""
        self.tree_items[name].setCheckState(0, Qt.Checked if enabled else Qt.Unchecked)

    def _on_item_changed(self, item: QTreeWidgetItem, _col: int) -> None:
        name = item.text(0)
        if name not in self.tree_items:
            return
        on = item.checkState(0) == Qt.Checked
        self.model.enable(name, on)
        self._sync_pipeline_list()
        if on:
            self._select(name)
        self.schedule_preview()

    def _sync_pipeline_list(self) -> None:
        self.pipeline_list.blockSignals(True)
        self.pipeline_list.clear()
        self.pipeline_list.addItems(self.order)
        self.pipeline_list.blockSignals(False)

    def _move(self, delta: int) -> None:
        row = self.pipeline_list.currentRow()
        if not self.model.move(row, delta):
            return
        self._sync_pipeline_list()
        self.pipeline_list.setCurrentRow(row + delta)
        self.schedule_preview()

    def _select(self, name: str) -> None:
        if name not in catalog():
            return
        if self.editor is not None and self.editor.spec.name == name:
            return
        self.editor = ParamEditor(get_spec(name), self.model.step(name))
        self.editor.changed.connect(self.schedule_preview)
        self.editor_area.setWidget(self.editor)

    def set_steps(self, steps: list[Step]) -> None:
        """Replace the pipeline (after loading a file)."""
        self.tree.blockSignals(True)
        for item in self.tree_items.values():
            item.setCheckState(0, Qt.Unchecked)
        self.model.set_steps(steps)
        for s in steps:
            self.tree_items[s.name].setCheckState(0, Qt.Checked)
        self.tree.blockSignals(False)
        self._sync_pipeline_list()
        self.editor = None
        if steps:
            self._select(steps[0].name)
        self.schedule_preview()

    def _filter_tree(self, text: str) -> None:
        t = text.lower().strip()
        for name, item in self.tree_items.items():
            item.setHidden(bool(t) and t not in name.lower())

    # ------------------------------------------------------------------ data
    def on_dataset_changed(self, info: DatasetInfo | None) -> None:
        self._use_dataset(info)

    def open_path(self, path: Path) -> None:
        if self.shell is not None:
            self.shell.open_dataset(path)
        else:
            self._use_dataset(scan_dataset(path))

    def accept_drop(self, paths: list[Path]) -> bool:
        """A dropped pipeline file loads; folders go to the shell (return False)."""
        if len(paths) == 1 and paths[0].suffix.lower() in (".json", ".yaml", ".yml"):
            self.load_pipeline_file(paths[0])
            return True
        return False

    def _use_dataset(self, info: DatasetInfo | None) -> None:
        if info is None:
            try:
                info = scan_dataset(sample_dataset_dir())
                self.source_label.setText("Previewing the bundled sample. Open your data set with File > Open "
                                          "or drop a folder anywhere.")
            except AugbenchError:
                return
        else:
            self.source_label.setText(f"Data set: <b>{info.root}</b> — {len(info.items)} images, "
                                      f"labels: {info.label_format}")
        self.model.use_dataset(info)
        self.export_box.follow_dataset()
        self.image_combo.blockSignals(True)
        self.image_combo.clear()
        for item in info.items[:500]:
            self.image_combo.addItem(str(item.image.relative_to(info.root)), item)
        self.image_combo.blockSignals(False)
        self._on_image_chosen(0)

    def _on_image_chosen(self, index: int) -> None:
        if self.info is None or index < 0 or index >= self.image_combo.count():
            return
        item: Item = self.image_combo.itemData(index)
        try:
            self.model.source = self.load_source(item)
            self.flags_label.setText("")
        except AugbenchError as exc:
            self.model.source = None
            self.flags_label.setText(f"<font color='#c00'>cannot preview: {exc}</font>")
        self.schedule_preview()

    def load_source(self, item: Item, max_side: int = 256) -> PreviewSource:
        return self.model.load_source(item, max_side)

    # ------------------------------------------------------------------ preview
    def schedule_preview(self) -> None:
        self._timer.start()

    def shuffle(self) -> None:
        self.model.preview_seed += 1
        self.schedule_preview()

    def refresh_preview_now(self) -> int:
        """Ask the background thread for previews of the current settings; returns the request's ticket."""
        req = self.model.preview_request(N_PREVIEWS, self.vis_spin.value(), self.force_cb.isChecked())
        return -1 if req is None else self._previewer.request(req)

    @property
    def preview_busy(self) -> bool:
        return self._previewer.busy

    def _preview_failed(self, ticket: int, message: str) -> None:
        if ticket > self._shown_ticket:
            self._shown_ticket = ticket
            self.flags_label.setText(f"<font color='#c00'>{message}</font>")

    def _show_previews(self, ticket: int, tiles: list[PreviewTile]) -> None:
        if ticket <= self._shown_ticket or self.source is None:
            return  # an older result than the one on screen
        self._shown_ticket = ticket
        for view, tile in zip(self.views, tiles):
            view.set_array(tile.image)
        self.last_tiles = tiles
        self.preview_generation += 1
        dropped = sum(len(t.dropped) for t in tiles)
        clipped = sum(len(t.clipped) for t in tiles)
        n_in = len(self.source.boxes)
        if n_in:
            msg = f"{n_in} boxes in; across {len(tiles)} previews: {clipped} clipped (orange), {dropped} dropped (red)"
            self.flags_label.setText(msg)

    def load_pipeline_file(self, path: Path) -> None:
        try:
            self.set_steps(load_pipeline(path))
        except AugbenchError as exc:
            self.flags_label.setText(f"<font color='#c00'>{exc}</font>")

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load pipeline", "", "Albumentations pipeline (*.json *.yaml *.yml)")
        if path:
            self.load_pipeline_file(Path(path))

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save pipeline", "pipeline.json", "JSON (*.json);;YAML (*.yaml)")
        if path:
            save_pipeline(self.current_steps(), path)

    def shutdown(self) -> None:
        """Cancel a running job; wait briefly (the window must close within two seconds)."""
        self._previewer.close()
        self.panel.stop(1500)


def create_tab(shell: Any) -> AugmentTab:
    """The tab starts with a useful pipeline (the demo's first three steps, with their settings)."""
    from augbench.augment.cli import DEFAULT_STEPS
    from augbench.augment.pipeline import steps_from_dicts

    tab = AugmentTab(shell)
    tab.set_steps([s for s in steps_from_dicts(DEFAULT_STEPS) if s.name in STARTER])
    return tab
