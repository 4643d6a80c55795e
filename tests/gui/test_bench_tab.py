"""The Benchmark tab driven like a user: pick data and arms, run a tiny small-CNN experiment, cancel, re-open."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PyQt5.QtCore import Qt

from augbench.core.imageio import write_image
from augbench.gui.benchmark.view import TAB_TITLE, BenchmarkTab, create_tab
from augbench.gui.benchmark.widgets import checked_items

pytestmark = pytest.mark.gui


def _data(root: Path, n_normal: int = 16, n_defect: int = 8) -> Path:
    rng = np.random.default_rng(0)
    for cls, n in (("normal", n_normal), ("defect", n_defect)):
        for i in range(n):
            img = rng.integers(0, 80, (32, 32), dtype=np.uint8)
            if cls == "defect":
                img[8:18, 8:18] = 230
            write_image(root / cls / f"{cls}_{i:03d}.png", img)
    return root


def _setup(qtbot, tmp_path: Path, seeds: str = "0", epochs: int = 1) -> BenchmarkTab:
    tab = BenchmarkTab()
    qtbot.addWidget(tab)
    qtbot.keyClicks(tab.form.data.edit, str(_data(tmp_path / "data")))
    qtbot.keyClicks(tab.form.out.edit, str(tmp_path / "results"))
    tab.form.seeds.clear()
    qtbot.keyClicks(tab.form.seeds, seeds)
    tab.form.set_checked("arms", ["baseline", "oversample"])
    tab.form.epochs.setValue(epochs)
    tab.form.size.setValue(32)
    tab.form.batch.setValue(8)
    return tab


def test_run_fills_table_and_charts(qtbot, tmp_path: Path) -> None:
    import torch

    torch.set_num_threads(1)
    tab = _setup(qtbot, tmp_path)
    qtbot.keyClicks(tab.form.custom_arm, "class_weights+classic_aug")
    qtbot.keyClick(tab.form.custom_arm, Qt.Key_Return)
    assert checked_items(tab.form.arms) == ["baseline", "oversample", "class_weights+classic_aug"]
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    assert tab.panel.busy and not tab.run_button.isEnabled()
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=120_000)
    qtbot.waitUntil(lambda: tab.run_button.isEnabled(), timeout=5000)
    assert tab.panel.last_result.status == "completed", tab.message.text()
    assert tab.table.rowCount() == 3
    assert [tab.table.item(i, 1).text() for i in range(3)] == ["baseline", "oversample", "class_weights+classic_aug"]
    assert len(tab.bars.values) == 3 and all(0 <= v <= 1 for v in tab.bars.values)
    assert sum(len(s) for s in tab.curve.series.values()) == 3  # one epoch per run
    tab.curve.grab()
    assert tab.curve.markers_drawn == 3  # a one-epoch run's single point shows as a dot, not an empty chart
    assert tab.confusion.has_image()
    assert tab.run_bar.value() == 1000
    run = json.loads((tmp_path / "results" / "runs" / "small_cnn" / "oversample" / "seed0.json").read_text())
    assert run["options"]["sampler"] == "weighted"
    (tmp_path / "results" / "report.html").unlink()
    qtbot.mouseClick(tab.export_button, Qt.LeftButton)
    assert (tmp_path / "results" / "report.html").is_file()
    # Re-open the results in a fresh tab: the table comes back from the JSON files.
    other = BenchmarkTab()
    qtbot.addWidget(other)
    other.open_path(tmp_path / "results")
    assert other.table.rowCount() == 3 and "3 finished runs" in other.message.text()
    if os.environ.get("AUGBENCH_SCREENSHOTS"):
        tab.resize(1280, 820)
        tab.grab().save(os.environ["AUGBENCH_SCREENSHOTS"])


def test_cancel_keeps_finished_runs(qtbot, tmp_path: Path) -> None:
    tab = _setup(qtbot, tmp_path, seeds="0, 1, 2", epochs=3)
    tab.panel.progressed.connect(lambda p: tab.cancel() if p.stage == "run_done" else None)
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=120_000)
    assert tab.panel.last_result.status == "cancelled"
    done = list((tmp_path / "results" / "runs").glob("*/*/seed*.json"))
    assert 1 <= len(done) < 6
    assert tab.table.rowCount() >= 1


def test_bad_settings_are_reported_not_run(qtbot, tmp_path: Path) -> None:
    tab = BenchmarkTab()
    qtbot.addWidget(tab)
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    assert "data" in tab.message.text() and not tab.panel.busy
    tab.form.data.setText(str(tmp_path))
    tab.form.seeds.setText("one")
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    assert "seeds" in tab.message.text()
    tab.form.seeds.setText("0")
    tab.form.set_checked("arms", ["cyclegan"])
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    assert "cyclegan_manifest" in tab.message.text()
    assert not tab.panel.busy


def test_tab_module_contract(qtbot) -> None:
    assert TAB_TITLE == "Benchmark"
    w = create_tab(None)
    qtbot.addWidget(w)
    assert isinstance(w, BenchmarkTab)


def test_a_one_point_series_is_visible(qtbot) -> None:
    """A single point draws no line; its marker must still put the series' colour on the chart."""
    from PyQt5.QtGui import QColor

    from augbench.gui.widgets import PALETTE, LineChart

    chart = LineChart()
    qtbot.addWidget(chart)
    chart.resize(300, 200)
    chart.add_point("", 1, 0.42)  # no name: no legend text in the series' colour, only what the plot draws
    img = chart.grab().toImage()
    target = QColor(PALETTE[0]).rgb()
    hits = sum(img.pixel(x, y) == target for x in range(img.width()) for y in range(img.height()))
    assert chart.markers_drawn == 1 and hits >= 4
