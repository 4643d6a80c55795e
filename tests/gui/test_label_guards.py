"""Label tab guards and shell wiring: tiny boxes refused, pastes clipped, a class name asked for,
a dropped folder updates the data-set panel and the class chart, Edit > Undo/Redo, Help > shortcuts,
and closing the window cancels a running job."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import label_helpers as lh  # tests/gui is on sys.path (rootdir conftest)
import numpy as np
import pytest
from PyQt5.QtCore import QMimeData, Qt, QTimer, QUrl
from PyQt5.QtGui import QDragEnterEvent, QDropEvent
from PyQt5.QtWidgets import QApplication, QInputDialog, QLineEdit

from augbench.core.imageio import write_image
from augbench.gui.app import MainWindow
from augbench.gui.shortcuts import LABEL_KEYS, ShortcutsDialog
from augbench.label.model import MIN_BOX_PX

pytestmark = pytest.mark.gui


@pytest.fixture
def win(qtbot, qsettings):
    w = MainWindow(settings=qsettings)
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    qtbot.waitExposed(w)
    return w


def _open(qtbot, win, folder: Path):
    win.open_in_tab("label", folder)
    tab = win.tab("label")
    qtbot.waitUntil(lambda: tab.canvas._pix is not None and not tab.stats_panel.busy, timeout=10000)
    return tab


def _answer_dialog(text: str | None) -> None:
    """Type into the modal class-name dialog and press Enter (or Esc when text is None), with real keys."""
    def answer() -> None:
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, QInputDialog):
            QTimer.singleShot(20, answer)
            return
        from pytestqt.qtbot import QtBot

        if text is None:
            QtBot.keyClick(dlg, Qt.Key_Escape)
        else:
            edit = dlg.findChild(QLineEdit)
            QtBot.keyClicks(edit, text)
            QtBot.keyClick(edit, Qt.Key_Return)

    QTimer.singleShot(20, answer)


def test_boxes_under_two_pixels_are_refused_at_draw_time(qtbot, win, tmp_path) -> None:
    folder = lh.make_folder(tmp_path, n=1)
    (folder / "classes.txt").write_text("blob\n")
    tab = _open(qtbot, win, folder)
    c = tab.canvas
    assert c.scale > 2  # a 200x100 image fitted: several widget pixels per image pixel
    qtbot.keyClick(c, Qt.Key_W)
    lh.drag(qtbot, c, lh.at(c, 50, 40), lh.at(c, 51.2, 60))  # 1.2 px wide
    assert tab.session.boxes == []
    assert "too small" in tab.last_message and c.mode == "draw"  # still drawing: try again
    lh.drag(qtbot, c, lh.at(c, 50, 40), lh.at(c, 56, 60))  # 6 px: kept
    assert len(tab.session.boxes) == 1
    assert min(tab.session.boxes[0].width, tab.session.boxes[0].height) >= MIN_BOX_PX


def test_paste_onto_a_smaller_image_is_clipped_and_drops_slivers(qtbot, win, tmp_path) -> None:
    folder = tmp_path / "imgs"
    write_image(folder / "00.png", np.full((400, 400, 3), 90, np.uint8))
    write_image(folder / "01.png", np.full((40, 40, 3), 90, np.uint8))
    (folder / "classes.txt").write_text("a\n")
    (folder / "00.txt").write_text("0 0.5 0.5 0.5 0.5\n0 0.995 0.5 0.01 0.2\n")  # a 200 px box and a 4 px sliver
    tab = _open(qtbot, win, folder)
    qtbot.keyClick(tab.canvas, Qt.Key_D)  # next image
    assert tab.session.index == 1
    qtbot.keyClick(tab.canvas, Qt.Key_V, Qt.ControlModifier)
    boxes = tab.session.boxes
    assert len(boxes) == 1  # the sliver would be 0.4 px here: not pasted
    b = boxes[0]
    assert 0 <= b.x1 < b.x2 <= 40 and 0 <= b.y1 < b.y2 <= 40


def test_no_classes_asks_for_a_name_instead_of_object(qtbot, win, tmp_path) -> None:
    folder = lh.make_folder(tmp_path, n=1)
    tab = _open(qtbot, win, folder)
    assert tab.session.registry.names == []
    c = tab.canvas
    qtbot.keyClick(c, Qt.Key_W)
    _answer_dialog(None)  # Esc: no box
    lh.drag(qtbot, c, lh.at(c, 20, 20), lh.at(c, 80, 60))
    assert tab.session.boxes == [] and "no class" in tab.last_message and c.mode == "draw"
    _answer_dialog("crack")
    lh.drag(qtbot, c, lh.at(c, 20, 20), lh.at(c, 80, 60))
    assert [b.label for b in tab.session.boxes] == ["crack"]
    assert tab.session.registry.names == ["crack"] and c.current_class == "crack"
    assert "object" not in tab.session.registry.names


def test_edit_menu_undo_redo_and_shortcut_page(qtbot, win, tmp_path) -> None:
    folder = lh.make_folder(tmp_path, n=1)
    (folder / "classes.txt").write_text("blob\n")
    tab = _open(qtbot, win, folder)
    qtbot.keyClick(tab.canvas, Qt.Key_W)
    lh.drag(qtbot, tab.canvas, lh.at(tab.canvas, 20, 20), lh.at(tab.canvas, 80, 60))
    assert len(tab.session.boxes) == 1
    win._update_edit_actions()
    assert win.undo_action.isEnabled() and not win.redo_action.isEnabled()
    win.undo_action.trigger()
    assert tab.session.boxes == []
    win._update_edit_actions()
    assert win.redo_action.isEnabled()
    win.redo_action.trigger()
    assert len(tab.session.boxes) == 1
    win.show_tab("crawl")
    win._update_edit_actions()
    assert not win.undo_action.isEnabled()  # no history in the Crawl tab
    qtbot.keyClick(win, Qt.Key_F1)
    dlg = win.findChild(ShortcutsDialog)
    assert dlg is not None and dlg.isVisible()
    keys = [dlg.table.item(i, 1).text() for i in range(dlg.table.rowCount())]
    assert all(k in keys for k, _ in LABEL_KEYS) and "Ctrl+Q" in keys
    dlg.close()


def test_a_folder_dropped_on_the_label_tab_updates_panel_and_chart(qtbot, win, tmp_path) -> None:
    folder = lh.make_folder(tmp_path, n=2)
    (folder / "classes.txt").write_text("blob\nspot\n")
    (folder / "00.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.2 0.2 0.1 0.1\n")
    (folder / "01.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    win.show_tab("label")
    tab = win.tab("label")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    enter = QDragEnterEvent(tab.rect().center(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    assert QApplication.sendEvent(win, enter) and enter.isAccepted()
    drop = QDropEvent(tab.rect().center(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    assert QApplication.sendEvent(win, drop)
    assert tab.session.folder == folder
    assert folder.name in win.panel.path_label.text()  # the data-set panel followed
    assert win.panel.chart.labels == ["blob", "spot"]
    qtbot.waitUntil(lambda: tab.chart.values == [2.0, 1.0], timeout=10000)  # no Refresh press needed
    assert tab.chart.labels == ["blob", "spot"]


def test_closing_the_window_cancels_a_running_job(qtbot, qsettings) -> None:
    w = MainWindow(settings=qsettings)
    qtbot.addWidget(w)
    w.show()
    started = threading.Event()
    stopped = []

    def job(progress, cancel):
        started.set()
        try:
            while True:
                cancel.check()
                time.sleep(0.02)
        finally:
            stopped.append(True)

    panel = w.tab("benchmark").panel
    panel.run(fn=job)
    assert started.wait(10)
    w.close()
    assert not w.isVisible() and stopped == [True] and not w.running_panels()
