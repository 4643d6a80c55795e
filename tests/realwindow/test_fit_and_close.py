"""The window fits a 1366x768 screen, and closing it during a job in any tab cancels the job and goes.

Closing waits for the jobs' safe points at most ``CLOSE_BUDGET_S`` (1.5 s); a job that does
not stop by then keeps the process alive with the window already hidden, and the application
quits when it stops. Asserted here: the window is gone when close() returns, the job stops,
and what it wrote is complete. The times are printed (and written to $AUGBENCH_CLOSE_TIMES as
JSON when set) for docs/benchmarks.md; they are not asserted (timings belong in benchmarks).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication
from rw_helpers import SCREEN, classification_data, click, grab_screen, on_screen, open_window, sample_copy, train_cyclegan

pytestmark = pytest.mark.gui

CLOSE_TIMES: dict[str, dict[str, float]] = {}

# What must be in view at 1366x768 in each tab (the rest may scroll).
MUST_SHOW = {
    "augment": ("export_btn", "views", "panel.cancel_button"),
    "label": ("canvas", "save_button", "draw_button", "file_list"),
    "crawl": ("start_button", "panel.cancel_button", "keywords"),
    "synthesize": ("run_button", "panel.cancel_button"),
    "benchmark": ("run_button", "panel.cancel_button", "panel.bar"),
}


def _get(obj, dotted: str):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_tab_fits_1366x768(qtbot, qsettings, tmp_path: Path, shots: Path) -> None:
    win = open_window(qtbot, qsettings, SCREEN)
    win.open_dataset(sample_copy(tmp_path))  # boxes of 7 classes and a long path: the side panel must not widen
    assert (win.width(), win.height()) == SCREEN, "the window cannot shrink to the screen"
    assert win.panel.width() <= 320
    assert win.minimumSizeHint().width() <= SCREEN[0] and win.minimumSizeHint().height() <= SCREEN[1]
    for name in win.tab_widgets:
        tab = win.show_tab(name)
        qtbot.wait(150)
        for dotted in MUST_SHOW.get(name, ()):
            widgets = _get(tab, dotted)
            for w in widgets if isinstance(widgets, list) else [widgets]:
                assert on_screen(win, w), f"{name}: {dotted} is not wholly visible at 1366x768"
        grab_screen(shots / f"{name}_1366x768.png")


def _close_and_time(qtbot, win, name: str) -> float:
    """Close the window mid-job: it disappears at once; the job stops at its next safe point."""
    t0 = time.perf_counter()
    win.close()
    closed = time.perf_counter() - t0
    assert not win.isVisible()
    qtbot.waitUntil(lambda: not win.running_panels(), timeout=60000)
    stopped = time.perf_counter() - t0
    CLOSE_TIMES[name] = {"window_gone_s": round(closed, 3), "job_stopped_s": round(stopped, 3)}
    print(f"close during a {name} job: window gone after {closed:.3f} s, job stopped after {stopped:.3f} s")
    if os.environ.get("AUGBENCH_CLOSE_TIMES"):
        Path(os.environ["AUGBENCH_CLOSE_TIMES"]).write_text(json.dumps(CLOSE_TIMES, indent=1))
    QApplication.processEvents()
    return closed


def test_close_during_augment_export(qtbot, qsettings, tmp_path: Path) -> None:
    from badinput import save_jpeg, yolo_line
    from imgfactory import make_photo

    src = tmp_path / "many"
    for i in range(40):
        save_jpeg(src / f"{i:02d}.jpg", make_photo(320, 240, i))
        (src / f"{i:02d}.txt").write_text(yolo_line(0, (10, 10, 60, 60), 320, 240))
    win = open_window(qtbot, qsettings)
    win.open_dataset(src)
    tab = win.show_tab("augment")
    tab.set_enabled("ElasticTransform", True)
    out = tmp_path / "out"
    tab.out_edit.setText(str(out))
    tab.copies_spin.setValue(3)
    seen: list[int] = []
    tab.panel.progressed.connect(lambda p: seen.append(p.done))
    click(qtbot, tab.export_btn)
    qtbot.waitUntil(lambda: any(d >= 2 for d in seen), timeout=60000)
    _close_and_time(qtbot, win, "augment")
    images = list(out.glob("*.jpg"))
    assert 0 < len(images) < 120
    assert all(p.with_suffix(".txt").exists() for p in images)  # what was written is complete


def test_close_in_label_saves_the_drawn_box(qtbot, qsettings, tmp_path: Path) -> None:
    import label_helpers as lh

    folder = lh.make_folder(tmp_path, n=2)
    (folder / "classes.txt").write_text("blob\n")
    win = open_window(qtbot, qsettings)
    win.open_in_tab("label", folder)
    tab = win.tab("label")
    qtbot.waitUntil(lambda: tab.canvas._pix is not None and not tab.stats_panel.busy, timeout=5000)
    qtbot.keyClick(tab.canvas, Qt.Key_W)
    lh.drag(qtbot, tab.canvas, lh.at(tab.canvas, 30, 20), lh.at(tab.canvas, 90, 60))
    assert not (folder / "00.txt").exists()
    tab.actions.refresh_stats()  # a job is running when the window closes
    _close_and_time(qtbot, win, "label")
    assert (folder / "00.txt").read_text().startswith("0 ")


def test_close_during_crawl(qtbot, qsettings, tmp_path: Path) -> None:
    from augbench.testing.fixture_site import FixtureSite

    with FixtureSite(items_per_query=200, page_size=50, latency_s=0.2) as site:
        win = open_window(qtbot, qsettings)
        tab = win.show_tab("crawl")
        tab.panel.show_errors = False
        tab.engine.setCurrentIndex(tab.engine.findData("naver_api"))
        qtbot.keyClicks(tab.keywords, "tulip")
        tab.count.setValue(200)
        tab.delay.setValue(0.0)
        tab.api_url.setText(site.api_url)
        from augbench.testing.fixture_site import CLIENT_ID, CLIENT_SECRET

        tab.api_id.setText(CLIENT_ID)
        tab.api_secret.setText(CLIENT_SECRET)
        tab.out_dir.setText(str(tmp_path / "crawled"))
        seen: list[int] = []
        tab.panel.progressed.connect(lambda p: seen.append(p.done))
        click(qtbot, tab.start_button)
        qtbot.waitUntil(lambda: len(seen) >= 3, timeout=60000)
        _close_and_time(qtbot, win, "crawl")
        kept = list((tmp_path / "crawled" / "tulip").glob("*.jpg"))
        assert len(kept) < 200
        assert not list((tmp_path / "crawled").rglob("*.tmp"))


def test_close_during_style_batch(qtbot, qsettings, tmp_path: Path) -> None:
    from augbench.core.imageio import read_image, write_image
    from augbench.core.paths import sample_dataset_dir

    data = tmp_path / "data"
    for cls, names in (("a", ("chelsea", "coffee")), ("b", ("astronaut",))):
        for n in names:
            write_image(data / cls / f"{n}.png", read_image(sample_dataset_dir() / f"{n}.jpg"))
    style = tmp_path / "style.png"
    write_image(style, read_image(sample_dataset_dir() / "coffee.jpg"))
    win = open_window(qtbot, qsettings)
    win.open_dataset(data)
    tab = win.show_tab("style")
    tab.add_styles([style])
    for i in range(tab.classes_list.count()):
        tab.classes_list.item(i).setCheckState(Qt.Checked)
    tab.output_edit.setText(str(tmp_path / "styled"))
    tab.copies_spin.setValue(30)
    seen: list[int] = []
    tab.batch_panel.progressed.connect(lambda p: seen.append(p.done))
    click(qtbot, tab.run_button)
    qtbot.waitUntil(lambda: any(d >= 1 for d in seen), timeout=120000)
    _close_and_time(qtbot, win, "style")


def test_close_during_synthesize_training(qtbot, qsettings, tmp_path: Path) -> None:
    from gan_helpers import write_tiny_imagefolder
    from test_synth_tab import _tiny

    data = write_tiny_imagefolder(tmp_path / "cells", {"normal": 6, "crack": 3})
    win = open_window(qtbot, qsettings)
    win.open_dataset(data)
    tab = win.show_tab("synthesize")
    _tiny(tab)
    train_cyclegan(tab)
    tab.form.epochs.setValue(50)
    tab.form.out_dir.setText(str(tmp_path / "balanced"))
    seen: list[object] = []
    tab.panel.progressed.connect(seen.append)
    click(qtbot, tab.run_button)
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=120000)
    _close_and_time(qtbot, win, "synthesize")
    assert (tmp_path / "balanced_gan" / "crack").is_dir()  # the run folder (and its checkpoints) stay


def test_close_during_benchmark(qtbot, qsettings, tmp_path: Path) -> None:
    win = open_window(qtbot, qsettings)
    tab = win.show_tab("benchmark")
    tab.form.data.setText(str(classification_data(tmp_path / "data")))
    tab.form.out.setText(str(tmp_path / "results"))
    tab.form.seeds.setText("0, 1, 2")
    tab.form.set_checked("arms", ["baseline", "oversample"])
    tab.form.epochs.setValue(30)
    tab.form.size.setValue(32)
    tab.form.batch.setValue(4)
    seen: list[object] = []
    tab.panel.progressed.connect(seen.append)
    click(qtbot, tab.run_button)
    assert on_screen(win, tab.panel.cancel_button) and on_screen(win, tab.panel.bar)  # visible while it runs
    qtbot.waitUntil(lambda: any(getattr(p, "stage", "") == "epoch" for p in seen), timeout=120000)
    _close_and_time(qtbot, win, "benchmark")
