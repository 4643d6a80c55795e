"""The Label tab driven like a user: mouse drags and key presses, asserting on the model and the files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from PyQt5.QtCore import QPoint, Qt

from augbench.gui.label.view import LabelTab
from augbench.label.registry import read_classes_file
from augbench.label.types import Box
from augbench.label.voc import read_voc
from augbench.label.yolo import read_yolo

_spec = importlib.util.spec_from_file_location("label_helpers", Path(__file__).with_name("label_helpers.py"))
_h = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_h)
at, drag, make_folder = _h.at, _h.drag, _h.make_folder

pytestmark = pytest.mark.gui


@pytest.fixture
def tab(qtbot):
    t = LabelTab(shell=None)
    qtbot.addWidget(t)
    t.resize(1100, 700)
    t.show()
    qtbot.waitExposed(t)
    yield t
    t.shutdown()


def _add_classes(qtbot, tab: LabelTab, *names: str) -> None:
    for n in names:
        tab.class_edit.setText(n)
        qtbot.mouseClick(tab.add_class_button, Qt.LeftButton)


def test_drag_draws_a_box_number_key_sets_class_and_d_saves(qtbot, tab: LabelTab, tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    tab.open_folder(folder)
    _add_classes(qtbot, tab, "고양이", "dog")
    c = tab.canvas
    qtbot.keyClick(c, Qt.Key_W)
    assert c.mode == "draw" and tab.draw_button.isChecked()
    drag(qtbot, c, at(c, 20, 20), at(c, 120, 80))
    boxes = tab.session.boxes
    assert len(boxes) == 1 and c.mode == "edit" and c.selected == 0
    tol = 1.0 / c.scale + 0.01
    assert boxes[0].xyxy() == pytest.approx((20, 20, 120, 80), abs=tol)
    assert boxes[0].label == "dog"  # the last class added is the current one
    qtbot.keyClick(c, Qt.Key_1)
    assert tab.session.boxes[0].label == "고양이"
    assert tab.file_list.item(0).text().startswith("● *")
    qtbot.keyClick(c, Qt.Key_D)
    assert tab.session.index == 1
    txt = folder / "00.txt"
    ann = read_yolo(txt, 200, 100, read_classes_file(folder / "classes.txt"))
    assert ann.labels == ["고양이"] and ann.boxes[0].xyxy() == pytest.approx((20, 20, 120, 80), abs=tol)
    assert read_classes_file(folder / "classes.txt") == ["고양이", "dog"]
    assert tab.file_list.item(0).text().startswith("●") and "*" not in tab.file_list.item(0).text()
    qtbot.keyClick(c, Qt.Key_A)
    assert tab.session.index == 0 and len(tab.session.boxes) == 1


def test_resize_by_handle_move_by_arrows_and_undo_redo(qtbot, tab: LabelTab, tmp_path: Path) -> None:
    tab.open_folder(make_folder(tmp_path))
    s, c = tab.session, tab.canvas
    s.add_box(Box(40, 20, 100, 60, "a"))
    qtbot.mouseClick(c, Qt.LeftButton, pos=at(c, 70, 40))  # select by clicking inside
    assert c.selected == 0
    drag(qtbot, c, at(c, 100, 60), at(c, 150, 90))  # bottom-right handle
    tol = 1.0 / c.scale + 0.01
    assert s.boxes[0].xyxy() == pytest.approx((40, 20, 150, 90), abs=tol)
    resized = s.boxes[0]
    for _ in range(3):
        qtbot.keyClick(c, Qt.Key_Right)
    qtbot.keyClick(c, Qt.Key_Up, Qt.ShiftModifier)
    assert s.boxes[0].x1 == pytest.approx(resized.x1 + 3) and s.boxes[0].y1 == pytest.approx(resized.y1 - 10)
    drag(qtbot, c, at(c, 60, 30), at(c, 70, 35))  # move by dragging the body
    moved = s.boxes[0]
    assert moved.x1 == pytest.approx(resized.x1 + 13, abs=tol)
    qtbot.keyClick(c, Qt.Key_Z, Qt.ControlModifier)
    qtbot.keyClick(c, Qt.Key_Z, Qt.ControlModifier)  # the arrow nudges undo as one step
    assert s.boxes[0] == resized
    qtbot.keyClick(c, Qt.Key_Z, Qt.ControlModifier)
    assert s.boxes[0].xyxy() == (40, 20, 100, 60)
    qtbot.keyClick(c, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert s.boxes[0] == resized
    qtbot.keyClick(c, Qt.Key_Y, Qt.ControlModifier)
    qtbot.keyClick(c, Qt.Key_Y, Qt.ControlModifier)
    assert s.boxes[0] == moved


def test_delete_duplicate_paste_verify_and_ctrl_s_in_voc(qtbot, tab: LabelTab, tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    tab.format_box.setCurrentIndex(1)  # Pascal VOC
    tab.open_folder(folder)
    s, c = tab.session, tab.canvas
    assert s.fmt == "voc"
    s.add_box(Box(10, 10, 50, 50, "a"))
    c.select(0)
    qtbot.keyClick(c, Qt.Key_D, Qt.ControlModifier)
    assert len(s.boxes) == 2 and c.selected == 1 and s.boxes[1].x1 == 20
    assert tab.box_list.count() == 2 and tab.box_list.currentRow() == 1
    qtbot.mouseClick(tab.box_list.viewport(), Qt.LeftButton, pos=tab.box_list.visualItemRect(
        tab.box_list.item(0)).center())
    assert c.selected == 0
    c.select(1)
    qtbot.keyClick(c, Qt.Key_Delete)
    assert len(s.boxes) == 1 and tab.box_list.count() == 1
    qtbot.keyClick(c, Qt.Key_D)
    qtbot.keyClick(c, Qt.Key_V, Qt.ControlModifier)
    assert [b.xyxy() for b in s.boxes] == [(10, 10, 50, 50)]
    qtbot.keyClick(c, Qt.Key_Space)
    assert tab.verify_button.isChecked()
    qtbot.keyClick(c, Qt.Key_S, Qt.ControlModifier)
    ann = read_voc(folder / "01.xml")
    assert ann.verified and ann.labels == ["a"]
    assert read_voc(folder / "00.xml").labels == ["a"]  # saved when D moved on
    assert tab.file_list.item(1).text().startswith("✔")


def test_unreadable_label_is_reported_and_never_overwritten(qtbot, tab: LabelTab, tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    bad = "<annotation><object><name>x</name>"
    (folder / "00.xml").write_text(bad, encoding="utf-8")
    tab.format_box.setCurrentIndex(1)
    tab.open_folder(folder)
    c = tab.canvas
    assert tab.file_list.item(0).text().startswith("✖") and "READ-ONLY" in tab.info_label.text()
    qtbot.keyClick(c, Qt.Key_W)
    drag(qtbot, c, at(c, 10, 10), at(c, 60, 60))
    assert tab.session.boxes == []
    qtbot.keyClick(c, Qt.Key_S, Qt.ControlModifier)
    qtbot.keyClick(c, Qt.Key_D)
    assert (folder / "00.xml").read_text(encoding="utf-8") == bad
    c.grab()  # the read-only banner paints without error


def test_zoom_fit_and_pan(qtbot, tab: LabelTab, tmp_path: Path) -> None:
    tab.open_folder(make_folder(tmp_path))
    c = tab.canvas
    fit_scale = c.scale
    qtbot.keyClick(c, Qt.Key_Equal, Qt.ControlModifier)
    assert c.scale == pytest.approx(fit_scale * 1.25)
    qtbot.keyClick(c, Qt.Key_Minus, Qt.ControlModifier)
    qtbot.keyClick(c, Qt.Key_Minus, Qt.ControlModifier)
    assert c.scale < fit_scale
    qtbot.keyClick(c, Qt.Key_F, Qt.ControlModifier)
    assert c.scale == pytest.approx(fit_scale)
    before = c.offset
    drag(qtbot, c, QPoint(5, 5), QPoint(45, 25))  # empty corner: pans
    assert (c.offset.x() - before.x(), c.offset.y() - before.y()) == pytest.approx((40, 20), abs=0.5)
    qtbot.keyClick(c, Qt.Key_H, Qt.ControlModifier)
    assert not c.show_boxes


def test_a_broken_classes_txt_is_reported_not_fatal(qtbot, tab: LabelTab, tmp_path: Path) -> None:
    good = make_folder(tmp_path)
    tab.open_folder(good)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "classes.txt").write_text("a\na\n", encoding="utf-8")
    (bad / "x.png").write_bytes((good / "00.png").read_bytes())
    tab.open_folder(bad)
    assert "duplicate" in tab.last_message
    assert tab.session.folder == good and len(tab.session.entries) == 3  # the open folder stays usable
    qtbot.keyClick(tab.canvas, Qt.Key_D)
    assert tab.session.index == 1


def test_wheel_zooms_around_the_cursor_and_exif_photo_shows_upright(qtbot, tab: LabelTab, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image
    from PyQt5.QtCore import QPointF
    from PyQt5.QtGui import QWheelEvent
    from PyQt5.QtWidgets import QApplication

    d = tmp_path / "폰"
    d.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 80x40, shown 40x80
    Image.fromarray(np.zeros((40, 80, 3), np.uint8)).save(d / "a.jpg", exif=exif.tobytes())
    tab.open_folder(d)
    c = tab.canvas
    assert (c._pix.width(), c._pix.height()) == (40, 80) == tuple(c.image_size)
    anchor = at(c, 10, 20)
    before = c.to_image(QPointF(anchor))
    ev = QWheelEvent(QPointF(anchor), QPointF(c.mapToGlobal(anchor)), QPoint(0, 0), QPoint(0, 240), Qt.NoButton,
                     Qt.NoModifier, Qt.NoScrollPhase, False)
    scale = c.scale
    QApplication.sendEvent(c, ev)
    assert c.scale == pytest.approx(scale * 1.15 ** 2)
    assert c.to_image(QPointF(anchor)) == pytest.approx(before)  # the pixel under the cursor stays put
