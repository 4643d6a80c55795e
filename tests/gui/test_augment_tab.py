"""The Augment tab driven like a user: click a transform, move a slider, export, cancel."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from badinput import save_jpeg, yolo_line
from imgfactory import make_photo
from PyQt5.QtCore import QPoint, Qt

from augbench.core.paths import sample_dataset_dir
from augbench.core.runfolder import iter_manifest
from augbench.gui.app import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, qsettings, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_dataset_dir(), data)
    win = MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    win.open_dataset(data)
    return win


def click_check(qtbot, tree, item) -> None:
    """Click the item's check box with the mouse (offsets cover the styles' indicator positions)."""
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    before = item.checkState(0)
    for dx in range(4, 40, 3):
        qtbot.mouseClick(tree.viewport(), Qt.LeftButton, pos=QPoint(rect.x() + dx, rect.center().y()))
        if item.checkState(0) != before:
            return
    raise AssertionError("no click toggled the check box")


def wait_preview(qtbot, tab, generation: int) -> None:
    """Previews compute in a background thread: wait until a newer one is shown and none is pending."""
    qtbot.waitUntil(lambda: tab.preview_generation > generation and not tab.preview_busy, timeout=10000)


def test_tick_transform_and_move_slider_change_the_preview(qtbot, window) -> None:
    tab = window.tab("augment")
    assert tab.order == ["HorizontalFlip", "Affine", "RandomBrightnessContrast"]
    gen = tab.preview_generation
    click_check(qtbot, tab.tree, tab.tree_items["VerticalFlip"])
    assert tab.order[-1] == "VerticalFlip"
    wait_preview(qtbot, tab, gen)
    qtbot.mouseClick(tab.force_cb, Qt.LeftButton, pos=QPoint(8, tab.force_cb.height() // 2))
    assert tab.force_cb.isChecked()
    tab.tree.setCurrentItem(tab.tree_items["RandomBrightnessContrast"])
    assert tab.editor.spec.name == "RandomBrightnessContrast"
    gen = tab.preview_generation
    tab.refresh_preview_now()
    wait_preview(qtbot, tab, gen)
    before = [t.image.copy() for t in tab.last_tiles]
    gen = tab.preview_generation
    slider = tab.editor.slider_for("brightness_limit").slider
    slider.setFocus()
    for _ in range(3):
        qtbot.keyClick(slider, Qt.Key_PageUp)
    assert tab.steps["RandomBrightnessContrast"].params["brightness_limit"][1] > 0.2
    wait_preview(qtbot, tab, gen)
    after = [t.image for t in tab.last_tiles]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    assert all(v.has_image() for v in tab.views)
    # vertical flip forced on: every preview's face box (top of the photo) now sits in the lower half
    assert "boxes in" in tab.flags_label.text()
    for tile in tab.last_tiles:
        assert tile.n_boxes >= 1


def test_unticking_removes_the_step(qtbot, window) -> None:
    tab = window.tab("augment")
    click_check(qtbot, tab.tree, tab.tree_items["Affine"])
    assert "Affine" not in tab.order and tab.pipeline_list.count() == 2


def test_export_reaches_the_end_and_hands_over(qtbot, window, tmp_path) -> None:
    tab = window.tab("augment")
    out = tmp_path / "out"
    tab.out_edit.setText(str(out))
    tab.copies_spin.setValue(2)
    qtbot.mouseClick(tab.export_btn, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=60000)
    assert tab.panel.bar.value() == tab.panel.bar.maximum() > 0
    assert tab.panel.last_result.status == "completed"
    assert len(list(out.glob("*_aug00[01].jpg"))) == 8 and len(list(out.glob("*_aug00[01].txt"))) == 8
    assert tab.open_label_btn.isEnabled()


def test_cancel_mid_export_stops_cleanly(qtbot, window, tmp_path) -> None:
    src = tmp_path / "many"
    for i in range(60):
        save_jpeg(src / f"{i:02d}.jpg", make_photo(160, 120, i))
        (src / f"{i:02d}.txt").write_text(yolo_line(0, (10, 10, 60, 60), 160, 120))
    window.open_dataset(src)
    tab = window.tab("augment")
    click_check(qtbot, tab.tree, tab.tree_items["ElasticTransform"])  # slow enough to cancel mid-way
    out = tmp_path / "out"
    tab.out_edit.setText(str(out))
    tab.copies_spin.setValue(4)
    seen = []
    tab.panel.progressed.connect(lambda p: seen.append(p.done))
    qtbot.mouseClick(tab.export_btn, Qt.LeftButton)
    qtbot.waitUntil(lambda: any(d >= 2 for d in seen), timeout=60000)
    qtbot.mouseClick(tab.panel.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=60000)
    assert tab.panel.status.text() == "cancelled"
    images = list(out.glob("*.jpg"))
    assert 0 < len(images) < 240
    assert all(p.with_suffix(".txt").exists() for p in images)
    assert not [p for p in out.iterdir() if ".tmp" in p.name]
    rows = list(iter_manifest(out / "manifest.jsonl"))
    assert len(rows) == len(images)
    assert tab.export_btn.isEnabled()
