"""The Label tab: a LabelImg-grade box editor around a Qt-free :class:`LabelSession`.

Left: the canvas. Right: classes (number keys 1-9 pick them), the file list
with a mark per image (✔ verified, ● labelled, ○ not yet, ✖ unreadable), and
a bar chart of boxes per class so imbalance shows before augmenting. The tool
row holds open/save/format, draw, verify, undo/redo, "Suggest boxes" (an ONNX
detector the user picks) and "Open in Augment".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from augbench.core.errors import AugbenchError
from augbench.core.imageio import IMAGE_EXTS
from augbench.gui.label_actions import LabelActionsMixin
from augbench.gui.label_canvas import LabelCanvas
from augbench.gui.label_views import LabelViewsMixin
from augbench.gui.widgets import BarChart, JobPanel
from augbench.label.formats import per_image_formats
from augbench.label.model import LabelSession
from augbench.label.stats import LabelStats

TAB_TITLE = "Label"
FORMATS = [(f.title, f.name) for f in per_image_formats()]  # the label-format table's per-image rows


class LabelTab(LabelViewsMixin, LabelActionsMixin, QWidget):
    """The Label tab widget; ``shell`` is the main window (or None when used alone)."""

    def __init__(self, shell: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        settings = getattr(shell, "settings", None)
        fmt = str(settings.value("label/format", "yolo")) if settings is not None else "yolo"
        self.session = LabelSession(fmt if fmt in ("yolo", "voc") else "yolo")  # type: ignore[arg-type]
        self.detector_path: Path | None = None
        self._detector: Any = None
        self.last_stats: LabelStats | None = None
        self.canvas = LabelCanvas(self.session)
        self._stats_timer = QTimer(self)  # saves refresh the class chart, at most once a second
        self._stats_timer.setSingleShot(True)
        self._stats_timer.setInterval(1000)
        self._stats_timer.timeout.connect(self.refresh_stats)
        self._build()
        self.session.subscribe(self._on_session)
        self.canvas.message.connect(self.show_message)
        self.canvas.mode_changed.connect(lambda m: self.draw_button.setChecked(m == "draw"))
        self.canvas.class_chosen.connect(self._select_class_row)
        self.canvas.proposals_changed.connect(self._on_proposals)
        self.canvas.selection_changed.connect(lambda _: self._refresh_state())
        self.canvas.selection_changed.connect(self._sync_box_row)
        self._refresh_all()

    # ------------------------------------------------------------------ layout
    def _button(self, text: str, tip: str, slot: Any, checkable: bool = False) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setCheckable(checkable)
        b.setFocusPolicy(Qt.NoFocus)  # keys stay with the canvas
        b.clicked.connect(slot)
        return b

    @staticmethod
    def _toolbar() -> QToolBar:
        """A tool row that folds what does not fit into its » menu (the tab must fit 1366×768)."""
        bar = QToolBar()
        bar.setFloatable(False)
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        bar.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        return bar

    def _build(self) -> None:
        tools = self._toolbar()
        self.open_button = self._button("Open folder…", "Open a folder of images (or drop one on the window)",
                                        self._choose_folder)
        self.save_button = self._button("Save", "Save the current image (Ctrl+S); moving to another image saves too",
                                        self._save)
        self.format_box = QComboBox()
        for text, key in FORMATS:
            self.format_box.addItem(text, key)
        self.format_box.setCurrentIndex([k for _, k in FORMATS].index(self.session.fmt))
        self.format_box.setFocusPolicy(Qt.NoFocus)
        self.format_box.setToolTip("Label format written on save (YOLO keeps classes.txt; VOC writes one xml per "
                                   "image)")
        self.format_box.currentIndexChanged.connect(self._format_changed)
        self.draw_button = self._button("Draw box (W)", "Drag on the image to draw a box", self._toggle_draw, True)
        self.verify_button = self._button("Verified (Space)", "Mark this image as checked", self._toggle_verified,
                                          True)
        self.hide_button = self._button("Hide boxes", "Hide/show boxes (Ctrl+H)", self._toggle_hide, True)
        self.undo_button = self._button("Undo", "Ctrl+Z", lambda: self.session.undo())
        self.redo_button = self._button("Redo", "Ctrl+Shift+Z / Ctrl+Y", lambda: self.session.redo())
        self.prev_button = self._button("◀ Prev (A)", "Previous image (saves this one)",
                                        lambda: self._guard(self.session.prev))
        self.next_button = self._button("Next (D) ▶", "Next image (saves this one)",
                                        lambda: self._guard(self.session.next))
        self.fit_button = self._button("Fit", "Fit the image (Ctrl+F)", self._fit)
        for w in (self.open_button, self.save_button, self.format_box, self.draw_button, self.verify_button,
                  self.hide_button, self.undo_button, self.redo_button, self.prev_button, self.next_button,
                  self.fit_button):
            tools.addWidget(w)
        self.augment_button = QPushButton("Open in Augment ▶")
        self.augment_button.setFocusPolicy(Qt.NoFocus)
        self.augment_button.setToolTip("Save, then open this labelled folder in the Augment tab (boxes travel along)")
        self.augment_button.clicked.connect(self.open_in_augment)
        tools.addWidget(self.augment_button)

        suggest = self._toolbar()
        self.suggest_button = self._button("Suggest boxes…", "Run an ONNX detector on this image and show its boxes "
                                           "as proposals (Space accepts, Del rejects, Tab next)", self.suggest)
        self.detector_button = self._button("Detector…", "Choose the ONNX detector file", self._choose_detector)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.01, 0.99)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(0.25)
        self.threshold.setPrefix("score ≥ ")
        self.threshold.setFocusPolicy(Qt.ClickFocus)
        self.threshold.setToolTip("Proposals scoring below this are not shown")
        self.accept_all_button = self._button("Accept all", "Add every proposal as a box",
                                              lambda: self.canvas.accept_all_proposals())
        self.reject_all_button = self._button("Reject all", "Drop every proposal", self.canvas.clear_proposals)
        self.detector_label = QLabel("no detector")
        self.difficult_button = self._button("Difficult", "Mark the selected box difficult (VOC flag)",
                                             self._toggle_difficult, True)
        self.check_button = self._button("Check augmentation", "Run the Augment tab's pipeline a few times and "
                                         "mark boxes it would clip or drop", self.check_augmentation)
        for w in (self.suggest_button, self.detector_button, self.threshold, self.accept_all_button,
                  self.reject_all_button, self.detector_label, self.difficult_button, self.check_button):
            suggest.addWidget(w)
        jobs = QHBoxLayout()  # job panels sit under the tool rows, only while a job runs
        self.suggest_panel = JobPanel(show_errors=False)
        self.suggest_panel.succeeded.connect(self._on_suggestions)
        self.suggest_panel.failed.connect(lambda m: self.show_message(f"suggest boxes failed: {m}"))
        self.suggest_panel.finished.connect(lambda: self.suggest_panel.setVisible(False))
        self.suggest_panel.setVisible(False)  # only while a detector runs
        jobs.addWidget(self.suggest_panel)
        self.check_panel = JobPanel(show_errors=False)
        self.check_panel.succeeded.connect(self._on_risks)
        self.check_panel.failed.connect(lambda m: self.show_message(f"augmentation check failed: {m}"))
        self.check_panel.finished.connect(lambda: self.check_panel.setVisible(False))
        self.check_panel.setVisible(False)
        jobs.addWidget(self.check_panel)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(tools)
        lv.addWidget(suggest)
        lv.addLayout(jobs)
        lv.addWidget(self.canvas, 1)
        self.info_label = QLabel("")
        lv.addWidget(self.info_label)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(QLabel("<b>Classes</b> (keys 1–9)"))
        self.class_list = QListWidget()
        self.class_list.setFocusPolicy(Qt.NoFocus)
        self.class_list.setToolTip("Click a class to draw with it (and give it to the selected box)")
        self.class_list.itemClicked.connect(self._class_clicked)
        rv.addWidget(self.class_list, 2)
        row = QHBoxLayout()
        self.class_edit = QLineEdit()
        self.class_edit.setPlaceholderText("new class name")
        self.class_edit.setToolTip("Type a class name and press Enter (or Add); ids follow the order of the list")
        self.class_edit.returnPressed.connect(self._add_class)
        self.add_class_button = QPushButton("Add")
        self.add_class_button.setFocusPolicy(Qt.NoFocus)
        self.add_class_button.setToolTip("Add the typed class to classes.txt (existing ids never change)")
        self.add_class_button.clicked.connect(self._add_class)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.setFocusPolicy(Qt.NoFocus)
        self.rename_button.setToolTip("Rename the selected class in every label file (its id stays)")
        self.rename_button.clicked.connect(self._rename_class)
        for w in (self.class_edit, self.add_class_button, self.rename_button):
            row.addWidget(w)
        rv.addLayout(row)
        rv.addWidget(QLabel("<b>Boxes</b> of this image"))
        self.box_list = QListWidget()
        self.box_list.setFocusPolicy(Qt.NoFocus)
        self.box_list.setToolTip("Boxes of this image: click one to select it on the canvas")
        self.box_list.currentRowChanged.connect(self._box_row_changed)
        rv.addWidget(self.box_list, 2)
        rv.addWidget(QLabel("<b>Images</b>  ✔ verified · ● labelled · ○ none · ✖ unreadable"))
        self.file_list = QListWidget()
        self.file_list.setFocusPolicy(Qt.NoFocus)
        self.file_list.setToolTip("Images of the folder: click one to open it (the current one is saved)")
        self.file_list.currentRowChanged.connect(self._file_row_changed)
        rv.addWidget(self.file_list, 3)
        srow = QHBoxLayout()
        self.stats_button = QPushButton("Refresh stats")
        self.stats_button.setFocusPolicy(Qt.NoFocus)
        self.stats_button.setToolTip("Recount boxes per class over the whole folder (also done on open and save)")
        self.stats_button.clicked.connect(self.refresh_stats)
        self.convert_button = QPushButton("Convert / export…")
        self.convert_button.setFocusPolicy(Qt.NoFocus)
        self.convert_button.setToolTip("Write every label of the folder in another format (YOLO, VOC, COCO json)")
        self.convert_button.clicked.connect(lambda: self.convert_labels())
        srow.addWidget(self.convert_button)
        srow.addStretch(1)
        srow.addWidget(self.stats_button)
        rv.addLayout(srow)
        self.chart = BarChart(title="boxes per class")
        self.chart.setMinimumHeight(170)
        rv.addWidget(self.chart, 2)
        self.stats_label = QLabel("")
        self.stats_label.setWordWrap(True)
        rv.addWidget(self.stats_label)
        self.stats_panel = JobPanel(show_errors=False)
        self.stats_panel.succeeded.connect(self._on_stats)
        self.stats_panel.failed.connect(lambda m: self.show_message(f"stats failed: {m}"))
        self.stats_panel.finished.connect(self._stats_finished)
        self.stats_panel.setVisible(False)  # only while a job runs
        rv.addWidget(self.stats_panel)

        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        split.setSizes([900, 300])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        """Keys go to the canvas as soon as the tab is shown (not to the tab bar)."""
        super().showEvent(event)
        self.canvas.setFocus()

    # ------------------------------------------------------------------ shell hooks
    def open_path(self, path: str | Path) -> None:
        """Open a folder, or an image's folder at that image (another tab hands us a path)."""
        path = Path(path)
        try:
            if path.is_dir():
                self.open_folder(path)
            elif path.is_file():
                self.open_folder(path.parent)
                for i, e in enumerate(self.session.entries):
                    if e.path == path:
                        self.session.goto(i)
        except AugbenchError as exc:
            self.show_message(str(exc))

    def accept_drop(self, paths: list[Path]) -> bool:
        """Folders open (and become the window's data set); image files open as a list."""
        dirs = [p for p in paths if p.is_dir()]
        if dirs:
            if self.shell is not None and hasattr(self.shell, "open_dataset"):
                self.shell.open_dataset(dirs[0])  # the data-set panel and its chart follow the drop
            self.open_path(dirs[0])
            return True
        images = [p for p in paths if p.is_file() and p.suffix.lower() in IMAGE_EXTS]
        if images:
            self._save_quietly()
            self.session.open_files(sorted(images))
            return True
        return False

    def on_dataset_changed(self, info: Any) -> None:
        if info is not None and self.session.folder is None and getattr(info, "layout", "") == "flat":
            self.open_folder(info.root)

    def shutdown(self) -> None:
        """Save, then stop the helper jobs (the window has already cancelled them; this only waits briefly)."""
        self._stats_timer.stop()
        self._save_quietly()
        for panel in (self.stats_panel, self.suggest_panel, self.check_panel):
            panel.stop(1000)

    # ------------------------------------------------------------------ Edit menu
    def undo(self) -> bool:
        return bool(self._guard(self.session.undo))

    def redo(self) -> bool:
        return bool(self._guard(self.session.redo))

    def can_undo(self) -> bool:
        e = self.session.current
        return bool(e and e.stack.can_undo)

    def can_redo(self) -> bool:
        e = self.session.current
        return bool(e and e.stack.can_redo)

    # ------------------------------------------------------------------ actions
    def _guard(self, fn: Any, *args: Any) -> Any:
        """Run a model call from a slot; an error becomes a message (an exception in a slot aborts PyQt)."""
        try:
            return fn(*args)
        except (AugbenchError, OSError) as exc:
            self.show_message(str(exc))
            return None

    def open_folder(self, folder: str | Path) -> None:
        self._save_quietly()
        if self._guard(self.session.open_folder, folder) is None and self.session.folder != Path(folder):
            return
        self.canvas.setFocus()
        n = len(self.session.entries)
        self.show_message(f"{n} images in {Path(folder).name}" if n else f"no images in {folder}")
        for m in self.session.messages[:3]:
            self.show_message(m)
        if n:
            self.refresh_stats()  # the class chart fills without a press on Refresh

    def _choose_folder(self) -> None:
        start = str(self.session.folder or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open image folder", start)
        if folder:
            self.open_folder(folder)

    def _save(self) -> None:
        try:
            path = self.session.save()
        except (AugbenchError, OSError) as exc:
            self.show_message(str(exc))
            return
        self.show_message(f"saved {path.name}" if path else "nothing to save")
        self.canvas.setFocus()

    def _save_quietly(self) -> None:
        try:
            self.session.save_all()
        except (AugbenchError, OSError) as exc:
            self.show_message(str(exc))

    def _format_changed(self, _: int) -> None:
        fmt = self.format_box.currentData()
        self._guard(self.session.set_format, fmt)
        settings = getattr(self.shell, "settings", None)
        if settings is not None:
            settings.setValue("label/format", fmt)

    def _toggle_draw(self) -> None:
        self.canvas.set_mode("draw" if self.draw_button.isChecked() else "edit")
        self.canvas.setFocus()

    def _toggle_verified(self) -> None:
        self._guard(self.session.toggle_verified)
        self.canvas.setFocus()

    def _toggle_hide(self) -> None:
        self.canvas.show_boxes = not self.hide_button.isChecked()
        self.canvas.update()

    def _fit(self) -> None:
        self.canvas._user_zoom = False
        self.canvas.fit()

    def open_in_augment(self) -> None:
        """Save everything and hand the folder to the Augment tab."""
        if self.session.folder is None:
            self.show_message("open a folder first")
            return
        self._save_quietly()
        if self.shell is None or not hasattr(self.shell, "open_in_tab"):
            self.show_message("no Augment tab in this window")
            return
        try:
            self.shell.open_in_tab("augment", self.session.folder)
        except AugbenchError as exc:
            self.show_message(str(exc))

    # ------------------------------------------------------------------ classes
    def _add_class(self) -> None:
        name = self.class_edit.text().strip()
        if not name:
            return
        try:
            self.session.add_class(name)
        except AugbenchError as exc:
            self.show_message(str(exc))
            return
        self.class_edit.clear()
        self.canvas.current_class = name
        self._refresh_classes()
        self.canvas.setFocus()

    def _rename_class(self, _: bool = False, new: str | None = None) -> None:
        item = self.class_list.currentItem()
        if item is None:
            return
        old = item.data(Qt.UserRole)
        if new is None:
            new, ok = QInputDialog.getText(self, "Rename class", f"New name for {old!r} (its id stays):", text=old)
            if not ok:
                return
        try:
            self.session.rename_class(old, new)
        except (AugbenchError, OSError) as exc:
            self.show_message(str(exc))
            return
        if self.canvas.current_class == old:
            self.canvas.current_class = new

    def _class_clicked(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.UserRole)
        self.canvas.current_class = name
        if self.canvas.selected >= 0:
            self.session.set_label([self.canvas.selected], name)
        self.canvas.setFocus()

    def _select_class_row(self, name: str) -> None:
        names = self.session.registry.names
        if name in names:
            self.class_list.setCurrentRow(names.index(name))

    def show_message(self, text: str) -> None:
        bar = self.shell.statusBar() if self.shell is not None and hasattr(self.shell, "statusBar") else None
        if bar is not None:
            bar.showMessage(text, 6000)
        self.info_label.setToolTip(text)
        self.last_message = text

    last_message = ""


def create_tab(shell: Any) -> QWidget:
    return LabelTab(shell)

