"""The Synthesize tab driven like a user: pick classes, press Balance, watch, cancel, resume."""

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
from gan_helpers import write_tiny_imagefolder  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def data(tmp_path):
    import torch

    torch.set_num_threads(1)  # the shared CPU: a tiny network gains nothing from more threads
    return write_tiny_imagefolder(tmp_path / "cells", {"normal": 8, "crack": 3, "spot": 12})


@pytest.fixture
def tab(qtbot, data):
    """The tab on its own (no other tab's import can break it); the shell wiring is tested below."""
    from augbench.gui.tab_synthesize import SynthesizeTab

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
    tab.form.whiten.setCurrentIndex(1)  # Otsu
    qtbot.mouseClick(tab.whiten_button, Qt.LeftButton)
    assert tab.monitor.preview.has_image()
    assert "whitening preview (otsu)" in tab.result_label.text()


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
    assert len(tab.monitor.detect.series["KID x100"]) == 2
    assert tab.monitor.preview.has_image()
    assert "epoch 2" in tab.monitor.detector_label.text() and "no failure" in tab.monitor.detector_label.text()
    assert not tab.open_run(tmp_path / "nothing")
