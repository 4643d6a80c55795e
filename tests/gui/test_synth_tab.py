"""The Synthesize tab driven like a user: pick classes and engine, preview, press Balance, watch, cancel,
resume, change a setting, restart, consent to a failed gate."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from PyQt5.QtCore import Qt

from augbench.core.runfolder import iter_manifest
from augbench.gui.app import MainWindow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gan"))
from gan_helpers import write_cells, write_tiny_imagefolder  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def data(tmp_path):
    import torch

    torch.set_num_threads(1)  # the shared CPU: a tiny network gains nothing from more threads
    return write_tiny_imagefolder(tmp_path / "cells", {"normal": 8, "crack": 3, "spot": 12})


@pytest.fixture
def tab(qtbot, data):
    """The tab on its own (no other tab's import can break it); the shell wiring is tested below."""
    from augbench.gui.synthesize.view import SynthesizeTab

    widget = SynthesizeTab(shell=None)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    widget.open_path(data)
    return widget


def test_tab_is_discovered_by_the_main_window(qtbot, qsettings, data):
    win = MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    titles = [win.tabs.tabText(i) for i in range(win.tabs.count())]
    assert "Synthesize" in titles
    win.open_dataset(data)
    assert win.tab("synthesize").form.counts == {"crack": 3, "normal": 8, "spot": 12}


def _tiny(tab) -> None:
    f = tab.form
    f.engine.setCurrentIndex(1)  # CycleGAN
    f.gate.setChecked(False)  # two epochs on noise squares are not meant to look real
    f.resolution.setCurrentIndex(0)  # 32 px
    f.ngf.setValue(4)
    f.blocks.setValue(1)
    f.steps.setValue(2)
    f.epochs.setValue(2)
    f.budget_min.setValue(0)
    f.precision.setCurrentText("fp32")
    f.kid_features.setCurrentIndex(1)  # pixels: fast
    f.d_steps.setValue(1)


def test_counts_plan_start_preview_cancel_resume(tab, qtbot, tmp_path):
    assert tab.chart.labels == ["crack", "normal", "spot"]
    assert tab.form.normal.currentText() == "normal"
    assert set(tab.form.checked_defects()) == {"crack", "spot"}
    assert "spot</b>: 12 → 12 (+0)" in tab.form.plan_label.text()  # already above target
    tab.form.set_defect_checked("spot", False)
    assert tab.form.checked_defects() == ("crack",)
    assert "crack</b>: 3 → 8 (+5)" in tab.form.plan_label.text()
    _tiny(tab)
    tab.form.out_dir.setText(str(tmp_path / "out"))
    tab.monitor.preview.set_array(None)
    assert not tab.monitor.preview.has_image()

    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    assert tab.panel.busy and not tab.run_button.isEnabled()
    qtbot.waitUntil(lambda: tab.monitor.preview.has_image(), timeout=60000)  # the sample grid refreshed
    qtbot.waitUntil(lambda: "KID" in tab.monitor.detector_label.text(), timeout=60000)  # epoch 1 detectors
    qtbot.mouseClick(tab.panel.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=60000)
    assert tab.run_button.text() == "Resume" and tab.run_button.isEnabled()
    work = tmp_path / "out_gan" / "crack"
    assert (work / "last.pt").exists()
    assert tab.monitor.losses.series  # live loss curves were drawn
    epochs_done = len(json.loads((work / "history.json").read_text())["history"])
    assert epochs_done < 2

    n_previews = tab.monitor.n_previews
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=120000)
    assert tab.panel.last_result.status == "completed"
    assert tab.monitor.n_previews > n_previews
    hist = json.loads((work / "history.json").read_text())["history"]
    assert [h["epoch"] for h in hist] == [1, 2]  # resumed, not restarted
    gen = [r for r in iter_manifest(tmp_path / "out" / "manifest.jsonl") if r["origin"] == "cyclegan"]
    assert len(gen) == 5 and all(r["class"] == "crack" for r in gen)
    assert "balanced copy" in tab.result_label.text()
    # AUGBENCH_SCREENSHOTS=1 refreshes docs/screenshots/synthesize.png; otherwise only check it renders.
    shots = Path(__file__).resolve().parents[2] / "docs" / "screenshots" if os.environ.get("AUGBENCH_SCREENSHOTS") \
        else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    assert tab.grab().save(str(shots / "synthesize.png"))


def test_whitening_preview_button(tab, qtbot):
    import threading

    threads = []
    inner = tab._whitener._fn
    tab._whitener._fn = lambda req: (threads.append(threading.current_thread()), inner(req))[1]
    tab.form.whiten.setCurrentIndex(1)  # Otsu
    qtbot.mouseClick(tab.whiten_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.monitor.preview.has_image(), timeout=10000)
    assert tab.monitor.preview.has_image()
    assert "whitening preview (otsu)" in tab.result_label.text()
    assert threads and all(t is not threading.main_thread() for t in threads)  # computed off the GUI thread


def test_open_run_replays_recorded_history(tab, tmp_path):
    work = tmp_path / "w" / "crack"
    (work / "samples").mkdir(parents=True)
    import json

    import numpy as np

    from augbench.core.imageio import write_image

    rows = [{"epoch": e, "global_step": 10 * e, "G": 5.0 - e, "cycle": 0.5, "D_A": 0.3, "D_B": 0.3, "kid": 0.1 / e,
             "copy": 0.1, "diversity": 0.6} for e in (1, 2)]
    (work / "history.json").write_text(json.dumps({"history": rows, "best": {"epoch": 2, "kid": 0.05}}))
    write_image(work / "samples" / "epoch_0002.png", np.zeros((8, 24, 3), np.uint8))
    assert tab.open_run(work)
    assert all(len(next(iter(c.series.values()))) == 2 for c in tab.monitor.detector_charts.values())
    assert tab.monitor.preview.has_image()
    assert "epoch 2" in tab.monitor.detector_label.text() and "gate" in tab.monitor.detector_label.text()
    assert not tab.open_run(tmp_path / "nothing")


@pytest.fixture
def cells(tmp_path):
    return write_cells(tmp_path / "solar", {"normal": 10, "crack": 4})


@pytest.fixture
def ctab(qtbot, cells):
    from augbench.gui.synthesize.view import SynthesizeTab

    widget = SynthesizeTab(shell=None)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    widget.open_path(cells)
    widget.form.kid_features.setCurrentIndex(1)  # pixels: fast
    widget.form.gate_n.setValue(6)
    return widget


def test_transplant_preview_with_masks_then_full_run(ctab, qtbot, tmp_path):
    assert ctab.form.engine.currentData() == "transplant" and ctab.form.transplant_group.isVisible()
    assert not ctab.form.cyclegan_group.isVisible()
    assert ctab.run_button.text() == "Balance with transplant"
    ctab.form.out_dir.setText(str(tmp_path / "bal"))
    qtbot.mouseClick(ctab.preview_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not ctab.panel.busy, timeout=60000)
    assert "transplant preview" in ctab.result_label.text() and ctab.monitor.preview.has_image()
    assert not (tmp_path / "bal").exists()  # a preview writes nothing
    qtbot.mouseClick(ctab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not ctab.panel.busy, timeout=60000)
    assert ctab.panel.last_result.status == "completed"
    assert "leak guard: 6 generated images checked" in ctab.result_label.text()
    assert "crack: passed" in ctab.result_label.text()
    assert len(list((tmp_path / "bal" / "crack" / "masks").glob("*.png"))) == 6


def test_failed_gate_asks_before_writing(ctab, qtbot, tmp_path, monkeypatch):
    import numpy as np

    import augbench.gan.transplant as tp

    def noise(normals, defects, n, *, seed, start=0, **_kw):
        r = np.random.default_rng([seed, start])
        return [(r.integers(0, 256, (120, 120), dtype=np.uint8), np.full((120, 120), 255, np.uint8),
                 {"normal": 0, "defect": 0, "index": start + i, "blend": "ratio", "patches": []}) for i in range(n)]

    monkeypatch.setattr(tp, "synthesize", noise)
    asked = []
    monkeypatch.setattr(ctab, "confirm_write_failed", lambda msg: asked.append(msg) or False)
    ctab.form.out_dir.setText(str(tmp_path / "bal"))
    qtbot.mouseClick(ctab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not ctab.panel.busy and bool(asked), timeout=60000)
    assert "realism gate" in asked[0] and not list((tmp_path / "bal").rglob("gen_*"))
    monkeypatch.setattr(ctab, "confirm_write_failed", lambda msg: asked.append(msg) or True)
    qtbot.mouseClick(ctab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=60000)
    qtbot.waitUntil(lambda: not ctab.panel.busy and ctab.panel.last_result is not None, timeout=60000)
    assert len(list((tmp_path / "bal" / "crack").glob("gen_*"))) == 6  # written after consent


def test_changed_setting_then_resume_explains_and_start_fresh_works(tab, qtbot, tmp_path, monkeypatch):
    _tiny(tab)
    tab.form.set_defect_checked("spot", False)
    tab.form.out_dir.setText(str(tmp_path / "out"))
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=120000)
    assert tab.panel.last_result.status == "completed"
    dialogs = []
    monkeypatch.setattr("augbench.gui.synthesize.view.QMessageBox.open", lambda self: dialogs.append(self.text()))
    tab.form.ngf.setValue(6)  # a different network: the old run cannot continue
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    assert not tab.panel.busy and not dialogs
    assert "differ" in tab.result_label.text() and "start fresh" in tab.result_label.text()
    assert "ngf" in tab.result_label.text()
    tab.form.fresh.setChecked(True)
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=120000)
    assert tab.panel.last_result.status == "completed" and not dialogs
    assert any(p.name.startswith("out.old-") for p in tmp_path.iterdir())  # moved aside, not deleted
    assert any(p.name.startswith("out_gan.old-") for p in tmp_path.iterdir())


def test_restart_restores_curves_and_offers_resume(tab, qtbot, tmp_path, data):
    from augbench.gui.synthesize.view import SynthesizeTab

    _tiny(tab)
    tab.form.set_defect_checked("spot", False)
    tab.form.out_dir.setText(str(tmp_path / "out"))
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "KID" in tab.monitor.detector_label.text(), timeout=60000)
    tab.cancel()
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=60000)
    again = SynthesizeTab(shell=None)  # the program was closed and opened again
    qtbot.addWidget(again)
    again.open_path(data)
    _tiny(again)
    again.form.set_defect_checked("spot", False)
    again.form.out_dir.setText(str(tmp_path / "out"))
    assert again.restore_run()
    assert again.run_button.text() == "Resume"
    assert again.monitor.losses.series and again.monitor.kid.series


def test_every_input_has_a_tooltip_and_each_detector_its_axis(tab):
    missing = [type(w).__name__ for w in tab.form.input_widgets() if not w.toolTip()]
    assert not missing and len(tab.form.input_widgets()) >= 25
    for b in (tab.run_button, tab.preview_button, tab.whiten_button, tab.browse_button, tab.show_run_button):
        assert b.toolTip()
    charts = tab.monitor.detector_charts
    assert len({id(c) for c in charts.values()}) == 3  # KID, pixels changed, diversity: three axes


def test_line_chart_legend_wraps_instead_of_running_off_the_edge(qtbot):
    from PyQt5.QtGui import QColor

    from augbench.gui.widgets import PALETTE, LineChart

    chart = LineChart(title="losses")
    qtbot.addWidget(chart)
    chart.resize(300, 220)
    names = ["crack G", "crack cycle", "crack D_A", "crack D_B", "spot G", "spot cycle"]
    for i, n in enumerate(names):
        for x in range(3):
            chart.add_point(n, x, i + x * 0.1)
    img = chart.grab().toImage()
    target = QColor(PALETTE[len(names) - 1])

    def near(c: QColor) -> bool:
        return abs(c.red() - target.red()) + abs(c.green() - target.green()) + abs(c.blue() - target.blue()) < 90

    legend_rows = range(img.height() - 40, img.height())
    assert any(near(img.pixelColor(x, y)) for y in legend_rows for x in range(img.width()))
