"""Controls that cannot lie: odd-only sliders, min/max pairs that never cross, tooltips from the library,
previews computed off the GUI thread with stale requests dropped, and a worker that stops while the
GUI thread is blocked waiting for it."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QSlider,
    QTreeWidget,
)

from augbench.core.paths import sample_dataset_dir
from augbench.gui.app import MainWindow
from augbench.gui.augment.params import allowed_integers, param_docs
from augbench.gui.latest_only import LatestOnly
from augbench.gui.worker import JobWorker

pytestmark = pytest.mark.gui
INPUTS = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QPlainTextEdit, QSlider, QTreeWidget, QListWidget)


@pytest.fixture
def window(qtbot, qsettings, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_dataset_dir(), data)
    win = MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    win.open_dataset(data)
    return win


def _untipped(root) -> list[str]:
    out = []
    for cls in INPUTS:
        for w in root.findChildren(cls):
            if not w.isVisibleTo(root) or w.toolTip().strip():
                continue
            if isinstance(w, QAbstractButton) and w.parent() is not None and "QScrollBar" in type(w.parent()).__name__:
                continue
            if type(w).__name__ in ("QToolButton",) and w.objectName().startswith("qt_"):
                continue  # Qt's own toolbar extension button
            if isinstance(w, QLineEdit) and isinstance(w.parent(), (QAbstractSpinBox, QComboBox)):
                continue  # the editor inside a spin box: the spin box carries the tooltip
            out.append(f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}")
    return out


def test_odd_only_kernel_sizes_are_all_the_slider_offers(qtbot, window) -> None:
    tab = window.show_tab("augment")
    tab.set_enabled("MotionBlur", True)
    tab.pipeline_list.setCurrentRow(tab.order.index("MotionBlur"))
    lo, hi = tab.editor.pair_for("blur_limit")
    assert lo.allowed and all(v % 2 == 1 for v in lo.allowed)
    seen = set()
    hi.slider.setFocus()
    for _ in range(12):
        qtbot.keyClick(hi.slider, Qt.Key_Right)
        seen.add(int(hi.value()))
        a, b = tab.steps["MotionBlur"].params["blur_limit"]
        assert a % 2 == 1 and b % 2 == 1 and a <= b  # the value used is the value shown
        assert hi.label.text() == str(b)
    assert len(seen) > 2


def test_min_max_pair_pushes_instead_of_crossing(qtbot, window) -> None:
    tab = window.show_tab("augment")
    tab.set_enabled("CLAHE", True)
    tab.pipeline_list.setCurrentRow(tab.order.index("CLAHE"))
    lo, hi = tab.editor.pair_for("clip_limit")
    lo.slider.setFocus()
    for _ in range(30):
        qtbot.keyClick(lo.slider, Qt.Key_PageUp)
        a, b = tab.steps["CLAHE"].params["clip_limit"]
        assert a <= b and lo.value() <= hi.value()
    assert hi.value() == lo.value()  # the max was pushed up along with the min
    hi.slider.setFocus()
    for _ in range(40):
        qtbot.keyClick(hi.slider, Qt.Key_PageDown)
    a, b = tab.steps["CLAHE"].params["clip_limit"]
    assert a <= b and lo.value() == hi.value() == b


def test_probe_reads_the_library_validator() -> None:
    assert allowed_integers("MotionBlur", "blur_limit", 0, 14, True) == (3, 5, 7, 9, 11, 13)
    assert allowed_integers("RandomBrightnessContrast", "brightness_by_max", 0, 1, False) is None
    assert "kernel" in param_docs("MotionBlur")["blur_limit"].lower()


def test_every_input_control_has_a_tooltip(qtbot, window) -> None:
    for name in ("augment", "label", "crawl", "benchmark"):
        tab = window.show_tab(name)
        if name == "augment":
            for t in ("MotionBlur", "CLAHE", "ElasticTransform"):
                tab.set_enabled(t, True)
                tab.pipeline_list.setCurrentRow(tab.order.index(t))
                assert not _untipped(tab.editor), (t, _untipped(tab.editor))
        if name == "crawl":
            for i in range(tab.engine.count()):
                tab.engine.setCurrentIndex(i)
                assert not _untipped(tab), (name, i, _untipped(tab))
        assert not _untipped(tab), (name, _untipped(tab))
    aug = window.tab("augment")
    aug.pipeline_list.setCurrentRow(aug.order.index("MotionBlur"))
    assert "Maximum kernel size for blurring" in aug.editor.pair_for("blur_limit")[1].slider.toolTip()


def test_preview_is_computed_off_the_gui_thread(qtbot, window) -> None:
    tab = window.show_tab("augment")
    threads = []
    inner = tab._previewer._fn
    tab._previewer._fn = lambda req: (threads.append(threading.current_thread()), inner(req))[1]
    gen = tab.preview_generation
    tab.shuffle()
    qtbot.waitUntil(lambda: tab.preview_generation > gen and not tab.preview_busy, timeout=10000)
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert all(v.has_image() for v in tab.views)


def test_latest_only_computes_the_first_and_the_newest(qtbot) -> None:
    def slow(x: int) -> int:
        time.sleep(0.2)
        return x * 10

    lo = LatestOnly(slow)
    got: list[tuple[int, int]] = []
    lo.ready.connect(lambda ticket, result: got.append((ticket, result)))
    tickets = [lo.request(i) for i in range(5)]
    assert tickets == [1, 2, 3, 4, 5]
    qtbot.waitUntil(lambda: not lo.busy and len(got) == 2, timeout=5000)
    assert got == [(1, 0), (5, 40)]  # requests 2-4 were replaced before they started
    assert lo.computed == 2 and lo.dropped == 3
    fails: list[str] = []
    lo.failed.connect(lambda _t, msg: fails.append(msg))
    lo._fn = lambda x: 1 / 0
    lo.request(1)
    qtbot.waitUntil(lambda: bool(fails), timeout=5000)
    assert "division" in fails[0]
    lo.close()
    assert lo.request(2) == -1


def test_worker_stops_while_the_gui_thread_is_blocked(qtbot) -> None:
    """The stop reaches QThread.quit directly: wait() returns without the GUI thread processing events."""
    started = threading.Event()

    def job(progress, cancel):
        started.set()
        while True:
            cancel.check()
            time.sleep(0.01)

    w = JobWorker(fn=job)
    w.start()
    assert started.wait(10)
    w.cancel()
    assert w.wait(5000)  # no processEvents() here: a quit queued to this thread would never run
    assert not w.thread_alive and w.is_running  # ended; "finished" arrives with the next event loop turn
    qtbot.waitUntil(lambda: not w.is_running, timeout=5000)


def test_crawl_offline_fields_reach_the_job(qtbot, window, tmp_path) -> None:
    """Offline users point the browser engine at a local page and their own selector table."""
    tab = window.show_tab("crawl")
    tab.engine.setCurrentIndex(tab.engine.findData("naver_browser"))
    assert tab.search_url.isVisible() and tab.selectors_file.isVisible()
    sel = tmp_path / "my_selectors.yaml"
    sel.write_text("x: 1\n")
    qtbot.keyClicks(tab.keywords, "tulip")
    qtbot.keyClicks(tab.search_url, "http://127.0.0.1:8000/search?q={query}{safe}")
    qtbot.keyClicks(tab.selectors_file, str(sel))
    tab.out_dir.setText(str(tmp_path / "out"))
    cfg = tab.config()
    assert cfg.search_url == "http://127.0.0.1:8000/search?q={query}{safe}"
    assert cfg.selectors_file == str(sel)
    tab.engine.setCurrentIndex(tab.engine.findData("naver_api"))
    assert not tab.search_url.isVisible()  # only the browser engine reads them
