"""The Label tab in its shell: suggestions from an ONNX detector, stats chart, hand-over to
Augment, main-window integration, a crash mid-edit, and the screenshot for the docs."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QMainWindow

from augbench.core.imageio import write_image
from augbench.gui.label.view import TAB_TITLE, LabelTab
from augbench.label.registry import read_classes_file
from augbench.label.types import Box
from augbench.label.yolo import read_yolo

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_h = _load("label_helpers", Path(__file__).with_name("label_helpers.py"))
_onnx = _load("onnx_fixture", ROOT / "tests" / "label" / "onnx_fixture.py")


class FakeShell(QMainWindow):
    """What the tab needs of the main window: settings, a status bar, open_in_tab."""

    def __init__(self, settings) -> None:
        super().__init__()
        self.settings = settings
        self.opened: list[tuple[str, Path]] = []

    def open_in_tab(self, name: str, path) -> None:
        self.opened.append((name, Path(path)))


@pytest.fixture
def shell_tab(qtbot, qsettings):
    shell = FakeShell(qsettings)
    tab = LabelTab(shell)
    shell.setCentralWidget(tab)
    qtbot.addWidget(shell)
    shell.resize(1200, 760)
    shell.show()
    qtbot.waitExposed(shell)
    yield shell, tab
    tab.shutdown()


def test_suggest_boxes_space_accepts_del_rejects(qtbot, shell_tab, tmp_path: Path) -> None:
    shell, tab = shell_tab
    folder = tmp_path / "bright"
    folder.mkdir()
    write_image(folder / "a.png", np.full((64, 128, 3), 250, np.uint8))
    tab.open_folder(folder)
    tab.actions.set_detector(_onnx.make_detector(tmp_path / "det.onnx"))
    tab.threshold.setValue(0.5)
    qtbot.mouseClick(tab.suggest_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.suggest_panel.busy, timeout=10000)
    c = tab.canvas
    assert [p.box.label for p in c.proposals] == ["cat", "dog"] and tab.session.boxes == []
    qtbot.keyClick(c, Qt.Key_Space)  # accept the best proposal
    assert [b.label for b in tab.session.boxes] == ["cat"] and len(c.proposals) == 1
    assert tab.session.boxes[0].xyxy() == (16.0, 8.0, 64.0, 32.0)
    qtbot.keyClick(c, Qt.Key_Delete)  # reject the other
    assert c.proposals == [] and len(tab.session.boxes) == 1
    qtbot.keyClick(c, Qt.Key_Z, Qt.ControlModifier)  # accepting is an ordinary, undoable edit
    assert tab.session.boxes == []
    assert shell.settings.value("label/detector") == str(tmp_path / "det.onnx")


def test_stats_chart_and_open_in_augment(qtbot, shell_tab, tmp_path: Path) -> None:
    shell, tab = shell_tab
    folder = _h.make_folder(tmp_path)
    tab.open_folder(folder)
    s = tab.session
    s.add_box(Box(1, 1, 20, 20, "cat"))
    s.add_box(Box(30, 30, 60, 60, "cat"))
    s.next()
    s.add_box(Box(1, 1, 20, 20, "dog"))
    qtbot.mouseClick(tab.stats_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.stats_panel.busy, timeout=10000)
    assert tab.chart.labels == ["cat", "dog"] and tab.chart.values == [2.0, 1.0]
    assert "imbalance 2.0×" in tab.stats_label.text() and tab.last_stats.missing == ["02.png"]
    tab.actions.convert_labels("coco")
    qtbot.waitUntil(lambda: not tab.stats_panel.busy, timeout=10000)
    assert (folder / "annotations.json").is_file() and "yolo -> coco" in tab.last_message
    qtbot.mouseClick(tab.augment_button, Qt.LeftButton)
    assert shell.opened == [("augment", folder)]
    assert (folder / "01.txt").is_file()  # saved before handing over


def test_format_setting_persists_and_drop_opens_images(qtbot, shell_tab, tmp_path: Path) -> None:
    shell, tab = shell_tab
    tab.format_box.setCurrentIndex(1)
    assert shell.settings.value("label/format") == "voc"
    folder = _h.make_folder(tmp_path)
    assert tab.accept_drop([folder / "02.png", folder / "01.png"])
    assert [e.path.name for e in tab.session.entries] == ["01.png", "02.png"]
    assert not tab.accept_drop([tmp_path / "notes.md"])
    tab2 = LabelTab(shell)
    qtbot.addWidget(tab2)
    assert tab2.session.fmt == "voc"


def test_main_window_loads_the_label_tab_and_hands_it_a_folder(qtbot, qsettings, tmp_path, monkeypatch) -> None:
    from augbench.gui import app

    monkeypatch.setattr(app, "TAB_MODULES", ("label",))
    win = app.MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    assert win.tabs.tabText(0) == TAB_TITLE == "Label"
    folder = _h.make_folder(tmp_path)
    win.open_in_tab("label", folder / "01.png")
    tab = win.tab("label")
    assert tab.session.folder == folder and tab.session.index == 1
    win.close()


CRASH_SCRIPT = r"""
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PyQt5.QtCore import Qt
from PyQt5.QtTest import QTest
from PyQt5.QtWidgets import QApplication
app = QApplication([])
from augbench.gui.label.view import LabelTab
from augbench.label.types import Box
tab = LabelTab(None)
tab.resize(800, 600)
tab.show()
tab.open_folder(sys.argv[1])
tab.session.add_box(Box(10, 10, 60, 50, "cat"))
QTest.keyClick(tab.canvas, Qt.Key_D)          # moving on saves image 0
tab.session.add_box(Box(5, 5, 30, 30, "dog"))  # image 1 edited, not saved
print("READY", flush=True)
time.sleep(120)
"""


def test_a_crash_loses_only_the_unsaved_current_image(tmp_path: Path) -> None:
    folder = _h.make_folder(tmp_path)
    (folder / "classes.txt").write_text("cat\n", encoding="utf-8")
    original = "0 0.500000 0.500000 0.200000 0.200000\n"
    (folder / "01.txt").write_text(original, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", CRASH_SCRIPT, str(folder)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "READY", proc.stderr.read() if proc.poll() is not None else line
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    classes = read_classes_file(folder / "classes.txt")
    assert classes == ["cat"]  # "dog" was only in the unsaved image
    saved = read_yolo(folder / "00.txt", 200, 100, classes)
    assert saved.labels == ["cat"] and saved.boxes[0].xyxy() == pytest.approx((10, 10, 60, 50), abs=1e-3)
    assert (folder / "01.txt").read_text(encoding="utf-8") == original
    assert not list(folder.glob(".*tmp*"))  # no half-written temp files


def test_screenshot_with_boxes(qtbot, shell_tab, tmp_path: Path) -> None:
    """Renders the tab offscreen; AUGBENCH_SCREENSHOTS=1 writes docs/screenshots/label.png."""
    import skimage.data

    shell, tab = shell_tab
    folder = tmp_path / "고양이 사진"
    folder.mkdir()
    write_image(folder / "chelsea.png", skimage.data.chelsea())
    write_image(folder / "coffee.png", skimage.data.coffee())
    write_image(folder / "astronaut.png", skimage.data.astronaut())
    tab.open_folder(folder)
    s = tab.session
    for name in ("고양이", "eye", "ear", "cup"):
        s.add_class(name)
    s.goto(1)  # chelsea
    for b in (Box(95, 5, 440, 298, "고양이"), Box(150, 85, 205, 140, "eye"), Box(290, 92, 345, 147, "eye"),
              Box(2, 2, 80, 110, "ear")):
        s.add_box(b)
    tab.canvas.select(1)
    s.set_verified(True)
    s.goto(0)
    s.add_box(Box(20, 20, 150, 180, "ear"))
    s.goto(2)
    s.add_box(Box(170, 150, 420, 400, "cup"))
    s.goto(1)
    tab.canvas.select(0)
    from augbench.label.suggest import Proposal

    tab.canvas.set_proposals([Proposal(Box(345, 2, 430, 70, "ear"), 0.81)])
    qtbot.mouseClick(tab.stats_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.stats_panel.busy, timeout=10000)
    from augbench.augment.clipcheck import BoxRisk

    tab.canvas.risks = {3: BoxRisk(3, "ear", 0.42, 0.25)}  # what "Check augmentation" shows for an edge box
    out_dir = ROOT / "docs" / "screenshots" if os.environ.get("AUGBENCH_SCREENSHOTS") else tmp_path
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "label.png"
    assert shell.grab().save(str(path))
    assert path.stat().st_size > 10_000


def test_check_augmentation_marks_boxes_at_risk_and_difficult_flag(qtbot, shell_tab, tmp_path: Path) -> None:
    pipeline = pytest.importorskip("augbench.augment.pipeline")

    shell, tab = shell_tab

    class FakeAugment:
        def current_steps(self):
            return [pipeline.Step("RandomCrop", {"height": 60, "width": 120}, p=1.0)]

    shell.tab_widgets = {"augment": FakeAugment()}
    tab.open_folder(_h.make_folder(tmp_path))
    s, c = tab.session, tab.canvas
    s.add_box(Box(2, 2, 30, 30, "edge"))
    s.add_box(Box(90, 40, 110, 60, "centre"))
    qtbot.mouseClick(tab.check_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.check_panel.busy, timeout=20000)
    assert list(c.risks) == [0] and "at risk" in tab.last_message
    c.grab()  # risk tags paint
    c.select(1)
    assert tab.difficult_button.isEnabled()
    qtbot.mouseClick(tab.difficult_button, Qt.LeftButton)
    assert s.boxes[1].difficult and c.risks == {}  # an edit invalidates the check
