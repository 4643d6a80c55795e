"""The workbench shell: current data set, side panel, recent folders, drag and drop, tab hand-over."""

from __future__ import annotations

import shutil

import pytest
from badinput import save_jpeg
from imgfactory import make_photo
from PyQt5.QtCore import QMimeData, QPoint, Qt, QUrl
from PyQt5.QtGui import QDropEvent

from augbench.core.paths import sample_dataset_dir
from augbench.gui.app import MainWindow

pytestmark = pytest.mark.gui


def test_open_dataset_updates_panel_and_recent(qtbot, qsettings, tmp_path) -> None:
    for cls, n in (("normal", 4), ("defect", 1)):
        for i in range(n):
            save_jpeg(tmp_path / "ds" / cls / f"{i}.jpg", make_photo(32, 32, i))
    win = MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    win.open_dataset(tmp_path / "ds")
    assert win.panel.chart.labels == ["defect", "normal"] and win.panel.chart.values == [1.0, 4.0]
    assert str((tmp_path / "ds").resolve()) == win.recent_folders()[0]
    assert win.recent_menu.actions()[0].text() == str((tmp_path / "ds").resolve())
    # settings persist: a new window sees the same recent folder
    win2 = MainWindow(settings=qsettings)
    qtbot.addWidget(win2)
    assert win2.recent_folders()[0] == str((tmp_path / "ds").resolve())


def test_box_counts_for_detection_folders(qtbot, qsettings) -> None:
    win = MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    win.open_dataset(sample_dataset_dir())
    assert win.panel.chart.title == "boxes per class"
    assert dict(zip(win.panel.chart.labels, win.panel.chart.values))["rocket"] == 2


def test_drop_a_folder_anywhere_opens_it(qtbot, qsettings, tmp_path) -> None:
    shutil.copytree(sample_dataset_dir(), tmp_path / "drop me")
    win = MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    win.show()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "drop me"))])
    event = QDropEvent(QPoint(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    win.dropEvent(event)
    assert win.dataset.path == tmp_path / "drop me"
    assert win.tab("augment").info.root == tmp_path / "drop me"


def test_open_in_tab_switches_and_hands_over(qtbot, qsettings, tmp_path) -> None:
    shutil.copytree(sample_dataset_dir(), tmp_path / "x")
    win = MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    win.open_in_tab("augment", tmp_path / "x")
    assert win.current_tab() is win.tab("augment")
    assert win.dataset.path == tmp_path / "x"


def test_bad_folder_is_reported_not_fatal(qtbot, qsettings, tmp_path) -> None:
    win = MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    assert win.open_dataset(tmp_path) is None  # empty folder
    assert "no images" in win.statusBar().currentMessage()
