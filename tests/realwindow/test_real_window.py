"""Each tab's main flow in the real main window on xcb (Xvfb), driven with real mouse and key events.

The process must survive every flow (two of them train networks, which imports triton:
the crash this suite exists to catch) and show the results. Screenshots are grabs of the
X screen itself; AUGBENCH_SCREENSHOTS=1 writes them to docs/screenshots/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QGuiApplication
from rw_helpers import classification_data, click, grab_screen, open_window, sample_copy, train_cyclegan

pytestmark = pytest.mark.gui

torch.set_num_threads(1)


def test_the_platform_is_real_xcb_without_gl_integration(qtbot, qsettings) -> None:
    win = open_window(qtbot, qsettings)
    assert QGuiApplication.platformName() == "xcb"
    assert os.environ["QT_XCB_GL_INTEGRATION"] == "none"
    assert win.isVisible() and win.windowHandle().isExposed()


ENTRY_SCRIPT = r"""
import json, sys
from pathlib import Path
from PyQt5.QtCore import QTimer
from augbench.gui import app as A

data, out, report = sys.argv[1], sys.argv[2], sys.argv[3]
shown = A.MainWindow.show

def drive(win):
    tab = win.show_tab("benchmark")
    tab.form.data.setText(data)
    tab.form.out.setText(out)
    tab.form.seeds.setText("0")
    tab.form.set_checked("arms", ["baseline"])
    tab.form.epochs.setValue(1)
    tab.form.size.setValue(32)
    tab.form.batch.setValue(8)

    def done():
        Path(report).write_text(json.dumps({"status": getattr(tab.panel.last_result, "status", None),
                                            "rows": tab.table.rowCount()}))
        win.close()

    tab.panel.finished.connect(done)
    tab.run_button.click()

def show(self):
    shown(self)
    QTimer.singleShot(0, lambda: drive(self))

A.MainWindow.show = show
sys.exit(A.main(["augbench-gui"]))
"""


def test_gui_entry_point_survives_a_training_job(tmp_path: Path) -> None:
    """`augbench-gui`'s own main(), in its own process, on xcb, with the user's environment as it is.

    Creating the optimiser imports triton; with Qt's GL integration loaded that was a segfault (139).
    """
    env = {k: v for k, v in os.environ.items() if k != "QT_XCB_GL_INTEGRATION"}
    env.update(QT_QPA_PLATFORM="xcb", OMP_NUM_THREADS="1", XDG_CONFIG_HOME=str(tmp_path / "config"))
    data = classification_data(tmp_path / "data", 8, 4)
    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-c", ENTRY_SCRIPT, str(data), str(tmp_path / "results"), str(report)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stderr[-3000:]}"
    assert json.loads(report.read_text()) == {"status": "completed", "rows": 1}


def test_augment_preview_and_export(qtbot, qsettings, tmp_path: Path, shots: Path) -> None:
    win = open_window(qtbot, qsettings)
    win.open_dataset(sample_copy(tmp_path))
    tab = win.show_tab("augment")
    gen = tab.preview_generation
    slider = tab.editor.slider_for("brightness_limit").slider if tab.editor.spec.name == "RandomBrightnessContrast" \
        else None
    if slider is None:
        tab.pipeline_list.setCurrentRow(tab.order.index("RandomBrightnessContrast"))
        slider = tab.editor.slider_for("brightness_limit").slider
    slider.setFocus()
    for _ in range(3):
        qtbot.keyClick(slider, Qt.Key_PageUp)
    qtbot.waitUntil(lambda: tab.preview_generation > gen and not tab.preview_busy, timeout=20000)
    assert all(v.has_image() for v in tab.views)
    out = tmp_path / "augmented"
    tab.out_edit.setText(str(out))
    tab.copies_spin.setValue(1)
    click(qtbot, tab.export_btn)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=120000)
    assert tab.panel.last_result.status == "completed"
    assert len(list(out.glob("*_aug000.jpg"))) == 4
    assert tab.open_label_btn.isEnabled()
    grab_screen(shots / "real_augment.png")


def test_label_draw_and_save(qtbot, qsettings, tmp_path: Path, shots: Path) -> None:
    import label_helpers as lh

    folder = lh.make_folder(tmp_path, n=2)
    (folder / "classes.txt").write_text("blob\n")
    win = open_window(qtbot, qsettings)
    win.open_in_tab("label", folder)
    tab = win.tab("label")
    qtbot.waitUntil(lambda: tab.canvas._pix is not None, timeout=5000)
    canvas = tab.canvas
    qtbot.keyClick(canvas, Qt.Key_W)
    assert canvas.mode == "draw"
    lh.drag(qtbot, canvas, lh.at(canvas, 40, 20), lh.at(canvas, 120, 70))
    assert len(tab.session.boxes) == 1 and tab.session.boxes[0].label == "blob"
    qtbot.keyClick(canvas, Qt.Key_S, Qt.ControlModifier)
    label = folder / "00.txt"
    assert label.is_file() and label.read_text().startswith("0 ")
    qtbot.waitUntil(lambda: tab.chart.values == [1.0], timeout=10000)  # the class chart followed the save
    grab_screen(shots / "real_label.png")


def test_crawl_on_a_local_page(qtbot, qsettings, tmp_path: Path, shots: Path) -> None:
    import shutil

    if shutil.which("chromedriver") is None and not os.path.exists("/usr/bin/chromedriver"):
        pytest.skip("needs chromium + chromium-driver")
    from augbench.testing.fixture_site import FixtureSite

    with FixtureSite(items_per_query=10, page_size=10) as site:
        win = open_window(qtbot, qsettings)
        tab = win.show_tab("crawl")
        tab.panel.show_errors = False
        qtbot.keyClicks(tab.keywords, "tulip")
        tab.count.setValue(3)
        tab.delay.setValue(0.0)
        tab.size_mode.setCurrentIndex(1)  # thumbnails: one page, no viewer
        assert tab.search_url.isVisible()  # the offline field of the browser engine
        qtbot.keyClicks(tab.search_url, site.search_url())
        qtbot.keyClicks(tab.out_dir, str(tmp_path / "crawled"))
        click(qtbot, tab.start_button)
        qtbot.waitUntil(lambda: not tab.panel.busy, timeout=120000)
        assert tab.panel.last_error is None, tab.panel.last_error
        assert tab.bars.values() == {"tulip": 3} and tab.strip.count() == 3
        assert len(list((tmp_path / "crawled" / "tulip").glob("*.jpg"))) == 3
        assert tab.open_label.isEnabled()
        grab_screen(shots / "real_crawl.png")


def test_style_preview(qtbot, qsettings, tmp_path: Path, shots: Path) -> None:
    from augbench.core.imageio import read_image, write_image
    from augbench.core.paths import sample_dataset_dir

    content = tmp_path / "content.png"
    write_image(content, read_image(sample_dataset_dir() / "chelsea.jpg"))
    style = tmp_path / "style.png"
    write_image(style, read_image(sample_dataset_dir() / "coffee.jpg"))
    win = open_window(qtbot, qsettings)
    tab = win.show_tab("style")
    assert tab.open_content(content)
    assert tab.add_styles([style]) == 1
    qtbot.waitUntil(lambda: tab.preview_array is not None and not tab.preview_panel.busy, timeout=120000)
    assert tab.last_error == ""
    assert tab.preview_view.has_image()
    grab_screen(shots / "real_style.png")


def test_synthesize_tiny_balance_to_the_end(qtbot, qsettings, tmp_path: Path, shots: Path) -> None:
    from gan_helpers import write_tiny_imagefolder
    from test_synth_tab import _tiny

    data = write_tiny_imagefolder(tmp_path / "cells", {"normal": 6, "crack": 3})
    win = open_window(qtbot, qsettings)
    win.open_dataset(data)
    tab = win.show_tab("synthesize")
    _tiny(tab)
    train_cyclegan(tab)
    tab.form.epochs.setValue(1)
    tab.form.out_dir.setText(str(tmp_path / "balanced"))
    click(qtbot, tab.run_button)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=300000)
    result = tab.panel.last_result
    assert result is not None and result.status == "completed", tab.result_label.text()
    assert (tmp_path / "balanced").is_dir()
    assert tab.result_label.text()
    grab_screen(shots / "real_synthesize.png")


def test_benchmark_tiny_run_to_the_end(qtbot, qsettings, tmp_path: Path, shots: Path) -> None:
    win = open_window(qtbot, qsettings)
    tab = win.show_tab("benchmark")
    qtbot.keyClicks(tab.form.data.edit, str(classification_data(tmp_path / "data")))
    qtbot.keyClicks(tab.form.out.edit, str(tmp_path / "results"))
    tab.form.seeds.clear()
    qtbot.keyClicks(tab.form.seeds, "0")
    tab.form.set_checked("arms", ["baseline", "oversample"])
    tab.form.epochs.setValue(1)
    tab.form.size.setValue(32)
    tab.form.batch.setValue(8)
    click(qtbot, tab.run_button)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=300000)
    assert tab.panel.last_result.status == "completed", tab.message.text()
    assert tab.table.rowCount() == 2 and len(tab.bars.values) == 2
    assert tab.confusion.has_image()
    grab_screen(shots / "real_benchmark.png")


SLOW_JOB_SCRIPT = r"""
import sys, time
from pathlib import Path
from PyQt5.QtCore import QTimer
from augbench.gui import app as A

marker = Path(sys.argv[1])
shown = A.MainWindow.show

def slow(progress, cancel):
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3.0:  # a step that ignores cancel for 3 s
        time.sleep(0.05)
    marker.write_text("job ended")
    cancel.check()

def drive(win):
    win.tab("augment").panel.run(fn=slow)
    QTimer.singleShot(300, win.close)

def show(self):
    shown(self)
    QTimer.singleShot(0, lambda: drive(self))

A.MainWindow.show = show
code = A.main(["augbench-gui"])
Path(sys.argv[2]).write_text(str(code))
"""


def test_a_job_slower_than_the_close_budget_hides_the_window_then_the_app_quits(tmp_path: Path) -> None:
    """The window goes at once; the process waits for the job's safe point, then exits cleanly (no abort)."""
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", XDG_CONFIG_HOME=str(tmp_path / "config"))
    marker, code = tmp_path / "marker", tmp_path / "code"
    proc = subprocess.run([sys.executable, "-c", SLOW_JOB_SCRIPT, str(marker), str(code)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert marker.read_text() == "job ended" and code.read_text() == "0"
    assert "Destroyed while thread" not in proc.stderr
