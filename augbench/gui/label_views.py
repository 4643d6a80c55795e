"""The Label tab's lists as views of the session: classes, boxes of this image, images with their marks.

A mixin of :class:`augbench.gui.tab_label.LabelTab`: the session emits events ("opened", "image",
"boxes", "saved", "classes", "format") and these methods bring the lists, the info line and the
buttons' states up to date; a row clicked in a list becomes a session call.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QListWidgetItem

from augbench.core.errors import AugbenchError

MARKS = {"verified": "✔", "labelled": "●", "none": "○", "error": "✖"}


class LabelViewsMixin:
    """Session events -> list widgets, and list rows -> session calls."""

    def _on_session(self, event: str) -> None:
        if event in ("opened", "classes", "format"):
            self._refresh_all()
        elif event in ("image", "boxes", "saved"):
            if event == "saved":
                self._stats_timer.start()
            self._refresh_files()
            self._refresh_state()
            self._refresh_boxes()
            if event == "boxes":
                self._refresh_classes()

    def _refresh_all(self) -> None:
        self._refresh_boxes()
        self._refresh_classes()
        self._refresh_files(rebuild=True)
        self._refresh_state()

    def _refresh_classes(self) -> None:
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

    def _refresh_files(self, rebuild: bool = False) -> None:
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

    def _refresh_state(self) -> None:
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

    def _refresh_boxes(self) -> None:
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
        self._sync_box_row(self.canvas.selected)

    def _sync_box_row(self, i: int) -> None:
        if self.box_list.currentRow() != i:
            self.box_list.blockSignals(True)
            self.box_list.setCurrentRow(i)
            self.box_list.blockSignals(False)

    def _box_row_changed(self, row: int) -> None:
        self.canvas.select(row)
        self.canvas.setFocus()

    def _file_row_changed(self, row: int) -> None:
        if row >= 0 and row != self.session.index:
            try:
                self.session.goto(row)
            except (AugbenchError, OSError) as exc:
                self.show_message(str(exc))
            self.canvas.setFocus()

