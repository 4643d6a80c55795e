"""The Synthesize tab driven like a user: pick classes, press Balance, watch, cancel, resume."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PyQt5.QtCore import Qt

from augbench.core.runfolder import iter_manifest
from augbench.gui.app import MainWindow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gan"))
from gan_helpers import write_tiny_imagefolder  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, qsettings, tmp_path):
    data = write_tiny_imagefolder(tmp_path / "cells", {"normal": 10, "crack": 3, "spot": 12})
    win = MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    win.open_dataset(data)
    win.tabs.setCurrentWidget(win.tab("synthesize"))
    return win


def _tiny(tab) -> None:
    f = tab.form
    f.resolution.setCurrentIndex(0)  # 32 px
    f.ngf.setValue(4)
    f.blocks.setValue(1)
    f.steps.setValue(3)
    f.epochs.setValue(3)
    f.budget_min.setValue(0)
    f.precision.setCurrentText("fp32")
    f.kid_features.setCurrentIndex(1)  # pixels: fast
    f.d_steps.setValue(1)


def test_counts_plan_start_preview_cancel_resume(window, qtbot, tmp_path):
    tab = window.tab("synthesize")
    assert tab.chart.labels == ["crack", "normal", "spot"] if hasattr(tab.chart, "labels") else True
    assert tab.form.normal.currentText() == "normal"
    assert set(tab.form.checked_defects()) == {"crack", "spot"}
    assert "spot</b>: 12 → 12 (+0)" in tab.form.plan_label.text()  # already above target
    tab.form.set_defect_checked("spot", False)
    assert tab.form.checked_defects() == ("crack",)
    assert "crack</b>: 3 → 10 (+7)" in tab.form.plan_label.text()
    _tiny(tab)
    tab.form.out_dir.setText(str(tmp_path / "out"))
    tab.monitor.preview.clear()
    assert not tab.monitor.preview.has_image

    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    assert tab.panel.busy and not tab.run_button.isEnabled()
    qtbot.waitUntil(lambda: tab.monitor.preview.has_image, timeout=60000)  # the sample grid refreshed
    qtbot.waitUntil(lambda: "KID" in tab.monitor.detector_label.text(), timeout=60000)  # epoch 1 detectors
    qtbot.mouseClick(tab.panel.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=60000)
    assert tab.run_button.text() == "Resume" and tab.run_button.isEnabled()
    work = tmp_path / "out_gan" / "crack"
    assert (work / "last.pt").exists()
    assert tab.monitor.losses.series  # live loss curves were drawn
    epochs_done = len(json.loads((work / "history.json").read_text())["history"])
    assert epochs_done < 3

    n_previews = tab.monitor.n_previews
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=120000)
    assert tab.panel.last_result.status == "completed"
    assert tab.monitor.n_previews > n_previews
    hist = json.loads((work / "history.json").read_text())["history"]
    assert [h["epoch"] for h in hist] == [1, 2, 3]  # resumed, not restarted
    gen = [r for r in iter_manifest(tmp_path / "out" / "manifest.jsonl") if r["origin"] == "cyclegan"]
    assert len(gen) == 7 and all(r["class"] == "crack" for r in gen)
    assert "balanced copy" in tab.result_label.text()
    shots = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(shots / "synthesize.png"))


def test_whitening_preview_button(window, qtbot):
    tab = window.tab("synthesize")
    tab.form.whiten.setCurrentIndex(1)  # Otsu
    qtbot.mouseClick(tab.whiten_button, Qt.LeftButton)
    assert tab.monitor.preview.has_image
    assert "whitening preview (otsu)" in tab.result_label.text()
