"""The Label tab: a LabelImg-grade box editor around a Qt-free :class:`LabelSession`.

Left: the canvas. Right: classes (number keys 1-9 pick them), the file list
with a mark per image (✔ verified, ● labelled, ○ not yet, ✖ unreadable), and
a bar chart of boxes per class so imbalance shows before augmenting. The tool
row holds open/save/format, draw, verify, undo/redo, "Suggest boxes" (an ONNX
detector the user picks) and "Open in Augment".

The tab is composed, not mixed in: the session (:mod:`augbench.label.model`, Qt-free) holds the
state, :class:`~augbench.gui.label.views.LabelLists` keeps the lists in step with it and
:class:`~augbench.gui.label.actions.LabelActions` runs the jobs; this module builds the view from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
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
from augbench.gui.label.actions import LabelActions
from augbench.gui.label.canvas import LabelCanvas
from augbench.gui.label.views import LabelLists
from augbench.gui.widgets import BarChart
from augbench.label.formats import per_image_formats
from augbench.label.model import LabelSession
from augbench.label.stats import LabelStats

TAB_TITLE = "Label"
FORMATS = [(f.title, f.name) for f in per_image_formats()]  # the label-format table's per-image rows


class LabelTab(QWidget):
    """The Label tab widget; ``shell`` is the main window (or None when used alone)."""

    def __init__(self, shell: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        settings = getattr(shell, "settings", None)
        fmt = str(settings.value("label/format", "yolo")) if settings is not None else "yolo"
        self.session = LabelSession(fmt if fmt in ("yolo", "voc") else "yolo")  # type: ignore[arg-type]
        self.canvas = LabelCanvas(self.session)
        self.lists = LabelLists(self.session, self.canvas, self.show_message, self)
        self.class_list, self.box_list, self.file_list = self.lists.class_list, self.lists.box_list, self.lists.file_list
        self.class_edit, self.add_class_button = self.lists.class_edit, self.lists.add_class_button
        self.actions = LabelActions(self.session, self.canvas, self.show_message, shell, self)
        self.stats_panel, self.suggest_panel, self.check_panel = self.actions.panels
        self.actions.stats_ready.connect(self._show_stats)
        self._build()
        self.actions.detector_changed.connect(self.detector_label.setText)
        self.session.subscribe(self._on_session)
        self.canvas.message.connect(self.show_message)
        self.canvas.mode_changed.connect(lambda m: self.draw_button.setChecked(m == "draw"))
        self.canvas.proposals_changed.connect(self._on_proposals)
        self.canvas.selection_changed.connect(lambda _: self._refresh_state())
        self._on_session("opened")

    @property
    def last_stats(self) -> LabelStats | None:
        return self.actions.last_stats

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
        a = self.actions
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
                                           "as proposals (Space accepts, Del rejects, Tab next)",
                                           lambda: a.suggest(self.threshold.value()))
        self.detector_button = self._button("Detector…", "Choose the ONNX detector file", a.choose_detector)
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
                                         "mark boxes it would clip or drop", lambda: a.check_augmentation())
        for w in (self.suggest_button, self.detector_button, self.threshold, self.accept_all_button,
                  self.reject_all_button, self.detector_label, self.difficult_button, self.check_button):
            suggest.addWidget(w)
        jobs = QHBoxLayout()  # job panels sit under the tool rows, only while a job runs
        jobs.addWidget(self.suggest_panel)
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
        rv.addWidget(self.class_list, 2)
        rv.addLayout(self.lists.class_row())
        rv.addWidget(QLabel("<b>Boxes</b> of this image"))
        rv.addWidget(self.box_list, 2)
        rv.addWidget(QLabel("<b>Images</b>  ✔ verified · ● labelled · ○ none · ✖ unreadable"))
        rv.addWidget(self.file_list, 3)
        srow = QHBoxLayout()
        self.stats_button = QPushButton("Refresh stats")
        self.stats_button.setFocusPolicy(Qt.NoFocus)
        self.stats_button.setToolTip("Recount boxes per class over the whole folder (also done on open and save)")
        self.stats_button.clicked.connect(a.refresh_stats)
        self.convert_button = QPushButton("Convert / export…")
        self.convert_button.setFocusPolicy(Qt.NoFocus)
        self.convert_button.setToolTip("Write every label of the folder in another format (YOLO, VOC, COCO json)")
        self.convert_button.clicked.connect(lambda: a.convert_labels())
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
            self.actions.save_quietly()
            self.session.open_files(sorted(images))
            return True
        return False

    def on_dataset_changed(self, info: Any) -> None:
        if info is not None and self.session.folder is None and getattr(info, "layout", "") == "flat":
            self.open_folder(info.root)

    def shutdown(self) -> None:
        """Save, then stop the helper jobs (the window has already cancelled them; this only waits briefly)."""
        self.actions.shutdown()

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

    # ------------------------------------------------------------------ session -> view
    def _on_session(self, event: str) -> None:
        if event == "saved":
            self.actions.stats_timer.start()
        self.lists.refresh(event)
        self._refresh_state()

    def _refresh_state(self) -> None:
        """Buttons' states and the info line, from the session and the canvas selection."""
        e = self.session.current
        self.verify_button.setChecked(bool(e and e.ann and e.ann.verified))
        sel = self.canvas.selected
        boxes = self.session.boxes
        self.difficult_button.setEnabled(0 <= sel < len(boxes))
        self.difficult_button.setChecked(0 <= sel < len(boxes) and boxes[sel].difficult)
        self.undo_button.setEnabled(bool(e and e.stack.can_undo))
        self.redo_button.setEnabled(bool(e and e.stack.can_redo))
        if e is None:
            self.info_label.setText("")
            return
        size = f"{e.ann.width}×{e.ann.height}" if e.ann else "?"
        self.info_label.setText(
            f"{self.session.index + 1}/{len(self.session.entries)}  {e.path.name}  {size}  "
            f"{len(self.session.boxes)} boxes  format: {self.session.fmt}"
            + (f"  — READ-ONLY: {e.error}" if e.error else "")
        )

    def _on_proposals(self, n: int) -> None:
        self.accept_all_button.setEnabled(n > 0)
        self.reject_all_button.setEnabled(n > 0)

    def _toggle_difficult(self) -> None:
        i = self.canvas.selected
        if i >= 0:
            self.session.set_flags([i], difficult=self.difficult_button.isChecked())
        self._refresh_state()
        self.canvas.setFocus()

    def _show_stats(self, st: LabelStats) -> None:
        self.chart.set_data(list(st.class_counts), list(st.class_counts.values()))
        imb = "∞" if st.imbalance == float("inf") else f"{st.imbalance:.1f}×"
        self.stats_label.setText(
            f"{st.n_images} images · {st.n_boxes} boxes · imbalance {imb}<br>"
            f"missing labels {len(st.missing)} · empty {len(st.empty)} · unreadable {len(st.unreadable)}"
        )

    # ------------------------------------------------------------------ actions
    def _guard(self, fn: Any, *args: Any) -> Any:
        """Run a model call from a slot; an error becomes a message (an exception in a slot aborts PyQt)."""
        try:
            return fn(*args)
        except (AugbenchError, OSError) as exc:
            self.show_message(str(exc))
            return None

    def open_folder(self, folder: str | Path) -> None:
        self.actions.save_quietly()
        if self._guard(self.session.open_folder, folder) is None and self.session.folder != Path(folder):
            return
        self.canvas.setFocus()
        n = len(self.session.entries)
        self.show_message(f"{n} images in {Path(folder).name}" if n else f"no images in {folder}")
        for m in self.session.messages[:3]:
            self.show_message(m)
        if n:
            self.actions.refresh_stats()  # the class chart fills without a press on Refresh

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
        self.canvas.refit()

    def open_in_augment(self) -> None:
        """Save everything and hand the folder to the Augment tab."""
        if self.session.folder is None:
            self.show_message("open a folder first")
            return
        self.actions.save_quietly()
        if self.shell is None or not hasattr(self.shell, "open_in_tab"):
            self.show_message("no Augment tab in this window")
            return
        try:
            self.shell.open_in_tab("augment", self.session.folder)
        except AugbenchError as exc:
            self.show_message(str(exc))

    def show_message(self, text: str) -> None:
        bar = self.shell.statusBar() if self.shell is not None and hasattr(self.shell, "statusBar") else None
        if bar is not None:
            bar.showMessage(text, 6000)
        self.info_label.setToolTip(text)
        self.last_message = text

    last_message = ""


def create_tab(shell: Any) -> QWidget:
    return LabelTab(shell)

