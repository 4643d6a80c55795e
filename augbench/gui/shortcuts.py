"""Help > Keyboard shortcuts: one table of every key the workbench answers to.

:data:`LABEL_KEYS` documents :func:`augbench.gui.label.keys.handle_key`;
it lives here, next to the window's keys, so the help page and the canvas docstring share one table.
"""

from __future__ import annotations

from PyQt5.QtWidgets import QDialog, QDialogButtonBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

LABEL_KEYS: tuple[tuple[str, str], ...] = (
    ("W", "draw mode on/off"),
    ("1-9", "pick class n (and give it to the selected box)"),
    ("arrows / Shift+arrows", "move the selected box by 1 / 10 px"),
    ("Del / Backspace", "delete the selected box (or reject the proposal)"),
    ("Ctrl+D", "duplicate the selected box"),
    ("Ctrl+V", "paste the previous image's boxes (clipped to this image)"),
    ("Ctrl+Z", "undo"),
    ("Ctrl+Shift+Z / Ctrl+Y", "redo"),
    ("D / A", "next / previous image (saves this one)"),
    ("Space", "verified on/off, or accept the highlighted proposal"),
    ("Tab", "next proposal"),
    ("Ctrl+S", "save"),
    ("Ctrl+F", "fit the image"),
    ("Ctrl+= / Ctrl+-", "zoom in / out (or the mouse wheel)"),
    ("Ctrl+H", "hide / show boxes"),
    ("Esc", "cancel the drag, leave draw mode, or clear the selection"),
    ("right or middle drag", "pan"),
)

WINDOW_KEYS: tuple[tuple[str, str], ...] = (
    ("Ctrl+O", "open a data set"),
    ("F5", "rescan the data set"),
    ("Ctrl+Z", "undo (Edit menu; Label tab)"),
    ("Ctrl+Shift+Z / Ctrl+Y", "redo (Edit menu; Label tab)"),
    ("F1", "this page"),
    ("Ctrl+Q", "quit (running jobs are cancelled; finished files stay)"),
    ("Ctrl+Tab / Ctrl+Shift+Tab", "next / previous tab"),
)


def shortcut_rows() -> list[tuple[str, str, str]]:
    """(where, keys, what) for every shortcut, window first."""
    return [("window", k, w) for k, w in WINDOW_KEYS] + [("Label canvas", k, w) for k, w in LABEL_KEYS]


class ShortcutsDialog(QDialog):
    """A read-only table of :func:`shortcut_rows`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows()
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["where", "keys", "does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addWidget(buttons)
        self.resize(620, 520)


def show_shortcuts(parent: QWidget | None = None) -> ShortcutsDialog:
    """Open the page without blocking (tests can read and close it)."""
    dlg = ShortcutsDialog(parent)
    dlg.open()
    return dlg
