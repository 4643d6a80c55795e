"""The Label tab's lists as views of the session: classes, boxes of this image, images with their marks.

A :class:`LabelLists` object is composed into the tab: it owns the three list widgets, is handed
the session (the Qt-free model), the canvas and a ``say`` callback, brings the lists up to date
when the session reports an event, and turns a row clicked in a list into a session call.
"""

from __future__ import annotations

from typing import Callable

from PyQt5.QtCore import QObject, Qt
from PyQt5.QtWidgets import QHBoxLayout, QInputDialog, QLineEdit, QListWidget, QListWidgetItem, QPushButton, QWidget

from augbench.core.errors import AugbenchError
from augbench.gui.label.canvas import LabelCanvas
from augbench.label.model import LabelSession

MARKS = {"verified": "✔", "labelled": "●", "none": "○", "error": "✖"}


def _no_focus(w: QWidget, tip: str) -> QWidget:
    w.setFocusPolicy(Qt.NoFocus)  # keys stay with the canvas
    w.setToolTip(tip)
    return w


class LabelLists(QObject):
    """Session events -> list widgets, and list rows -> session calls."""

    def __init__(self, session: LabelSession, canvas: LabelCanvas, say: Callable[[str], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.canvas = canvas
        self.say = say
        self.class_list = _no_focus(QListWidget(), "Click a class to draw with it (and give it to the selected box)")
        self.class_list.itemClicked.connect(self._class_clicked)
        self.box_list = _no_focus(QListWidget(), "Boxes of this image: click one to select it on the canvas")
        self.box_list.currentRowChanged.connect(self._box_row_changed)
        self.file_list = _no_focus(QListWidget(), "Images of the folder: click one to open it (the current one is "
                                                  "saved)")
        self.file_list.currentRowChanged.connect(self._file_row_changed)
        self.class_edit = QLineEdit()
        self.class_edit.setPlaceholderText("new class name")
        self.class_edit.setToolTip("Type a class name and press Enter (or Add); ids follow the order of the list")
        self.class_edit.returnPressed.connect(self.add_class)
        self.add_class_button = _no_focus(QPushButton("Add"), "Add the typed class to classes.txt (existing ids "
                                                              "never change)")
        self.add_class_button.clicked.connect(self.add_class)
        self.rename_button = _no_focus(QPushButton("Rename…"), "Rename the selected class in every label file (its "
                                                               "id stays)")
        self.rename_button.clicked.connect(lambda: self.rename_class())
        canvas.class_chosen.connect(self.select_class_row)
        canvas.selection_changed.connect(self.sync_box_row)

    def class_row(self) -> QHBoxLayout:
        """The row under the class list: a name field, Add and Rename…."""
        row = QHBoxLayout()
        for w in (self.class_edit, self.add_class_button, self.rename_button):
            row.addWidget(w)
        return row

    def add_class(self) -> None:
        name = self.class_edit.text().strip()
        if not name:
            return
        try:
            self.session.add_class(name)
        except AugbenchError as exc:
            self.say(str(exc))
            return
        self.class_edit.clear()
        self.canvas.current_class = name
        self.refresh_classes()
        self.canvas.setFocus()

    def rename_class(self, new: str | None = None) -> None:
        """Rename the selected class everywhere (asks for the name unless ``new`` is given)."""
        item = self.class_list.currentItem()
        if item is None:
            return
        old = item.data(Qt.UserRole)
        if new is None:
            new, ok = QInputDialog.getText(self.class_list, "Rename class", f"New name for {old!r} (its id stays):",
                                           text=old)
            if not ok:
                return
        try:
            self.session.rename_class(old, new)
        except (AugbenchError, OSError) as exc:
            self.say(str(exc))
            return
        if self.canvas.current_class == old:
            self.canvas.current_class = new

    def refresh(self, event: str = "opened") -> None:
        """Bring the lists up to date after session ``event`` (rebuilding them for a new folder)."""
        if event in ("opened", "classes", "format"):
            self.refresh_boxes()
            self.refresh_classes()
            self.refresh_files(rebuild=True)
        elif event in ("image", "boxes", "saved"):
            self.refresh_files()
            self.refresh_boxes()
            if event == "boxes":
                self.refresh_classes()

    def refresh_classes(self) -> None:
        names = self.session.registry.names
        if [self.class_list.item(i).data(Qt.UserRole) for i in range(self.class_list.count())] == names:
            return
        self.class_list.clear()
        for i, n in enumerate(names):
            item = QListWidgetItem(f"{i + 1 if i < 9 else ' '}  {n}   (id {i})")
            item.setData(Qt.UserRole, n)
            item.setForeground(self.canvas.color_of(n))
            self.class_list.addItem(item)
        if self.canvas.current_class in names:
            self.class_list.setCurrentRow(names.index(self.canvas.current_class))

    def refresh_files(self, rebuild: bool = False) -> None:
        entries = self.session.entries
        if rebuild or self.file_list.count() != len(entries):
            self.file_list.blockSignals(True)
            self.file_list.clear()
            for _ in entries:
                self.file_list.addItem(QListWidgetItem(""))
            self.file_list.blockSignals(False)
        for i, e in enumerate(entries):
            text = f"{MARKS[e.status]} {'*' if e.dirty else ''}{e.path.name}"
            item = self.file_list.item(i)
            if item.text() != text:
                item.setText(text)
                if e.error:
                    item.setToolTip(e.error)
        if 0 <= self.session.index < self.file_list.count() and self.file_list.currentRow() != self.session.index:
            self.file_list.blockSignals(True)
            self.file_list.setCurrentRow(self.session.index)
            self.file_list.blockSignals(False)

    def refresh_boxes(self) -> None:
        rows = [f"{b.label}  ({b.x1:.0f}, {b.y1:.0f}) – ({b.x2:.0f}, {b.y2:.0f})" + ("  difficult" if b.difficult else "")
                for b in self.session.boxes]
        if [self.box_list.item(i).text() for i in range(self.box_list.count())] != rows:
            self.box_list.blockSignals(True)
            self.box_list.clear()
            for text, b in zip(rows, self.session.boxes, strict=True):
                item = QListWidgetItem(text)
                item.setForeground(self.canvas.color_of(b.label))
                self.box_list.addItem(item)
            self.box_list.blockSignals(False)
        self.sync_box_row(self.canvas.selected)

    def sync_box_row(self, i: int) -> None:
        if self.box_list.currentRow() != i:
            self.box_list.blockSignals(True)
            self.box_list.setCurrentRow(i)
            self.box_list.blockSignals(False)

    def select_class_row(self, name: str) -> None:
        names = self.session.registry.names
        if name in names:
            self.class_list.setCurrentRow(names.index(name))

    def _class_clicked(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.UserRole)
        self.canvas.current_class = name
        if self.canvas.selected >= 0:
            self.session.set_label([self.canvas.selected], name)
        self.canvas.setFocus()

    def _box_row_changed(self, row: int) -> None:
        self.canvas.select(row)
        self.canvas.setFocus()

    def _file_row_changed(self, row: int) -> None:
        if row >= 0 and row != self.session.index:
            try:
                self.session.goto(row)
            except (AugbenchError, OSError) as exc:
                self.say(str(exc))
            self.canvas.setFocus()
