"""The Benchmark tab shows what the leak guard left out, and runs the issue-15 protocol (linear probe, transplant)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PyQt5.QtCore import Qt

from augbench.core.imageio import write_image
from augbench.gui.benchmark.view import BenchmarkTab

pytestmark = pytest.mark.gui


def _protocol(tmp: Path) -> tuple[Path, Path, Path]:
    """Tiny data, a protocol split over it, and a transplant manifest with one row made from a test image."""
    from protocol_data import build_protocol_data

    split = build_protocol_data(tmp, 30, 24, seeds=[0], n_test=5, n_val=4, n_oracle=6, n_major=16, n_minor=6)
    rows = []
    for k in range(5):
        img = np.full((32, 32), 40, np.uint8)
        img[4 + k:14 + k, 4:14] = 220
        write_image(tmp / "syn" / "defect" / f"t{k}.png", img)
        defect = split["test"]["defect"][0] if k == 0 else split["subsets"]["0"]["defect"][k]
        rows.append({"file": f"defect/t{k}.png", "origin": "transplant", "class": "defect", "subset_seed": 0,
                     "source": split["subsets"]["0"]["normal"][k], "defect_source": defect})
    (tmp / "syn" / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp / "data", tmp / "split.json", tmp / "syn" / "manifest.jsonl"


def test_leak_guard_is_shown_after_a_protocol_run(qtbot, tmp_path: Path) -> None:
    import torch

    torch.set_num_threads(1)
    data, split, manifest = _protocol(tmp_path)
    tab = BenchmarkTab()
    qtbot.addWidget(tab)
    qtbot.keyClicks(tab.form.data.edit, str(data))
    qtbot.keyClicks(tab.form.out.edit, str(tmp_path / "results"))
    qtbot.keyClicks(tab.form.protocol.edit, str(split))
    qtbot.keyClicks(tab.form.transplant.edit, str(manifest))
    tab.form.head.setCurrentText("linear_probe")
    tab.form.set_checked("models", ["efficientnet_lite0"])
    tab.form.set_checked("arms", ["baseline"])
    qtbot.keyClicks(tab.form.custom_arm, "transplant@4")
    qtbot.keyClick(tab.form.custom_arm, Qt.Key_Return)
    tab.form.seeds.clear()
    qtbot.keyClicks(tab.form.seeds, "0")
    tab.form.size.setValue(32)
    tab.form.channels.setCurrentIndex(1)
    tab.form.synth_class.setText("defect")
    cfg = tab.form.config()
    assert (cfg.head, cfg.protocol_split, cfg.transplant_manifest) == ("linear_probe", str(split), str(manifest))
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=120_000)
    qtbot.waitUntil(lambda: tab.run_button.isEnabled(), timeout=5000)
    assert tab.panel.last_result.status == "completed", tab.message.text()
    assert tab.table.rowCount() == 2
    text = tab.leak.text()
    assert text.startswith("Leak guard:") and "1 transplant images made from val/test/oracle" in text, text
    # Re-opening the results folder in a fresh tab shows the same line (it is read from disk).
    other = BenchmarkTab()
    qtbot.addWidget(other)
    other.open_results(tmp_path / "results")
    assert other.leak.text() == text


def test_clean_experiment_says_nothing_was_left_out(tmp_path: Path) -> None:
    from augbench.classify.report import leak_guard_summary

    (tmp_path / "result.json").write_text(json.dumps({"skipped": []}))
    assert "nothing left out" in leak_guard_summary(tmp_path)
    (tmp_path / "result.json").write_text(json.dumps({"skipped": [
        {"path": "a.png", "reason": "unreadable, left out before splitting: not an image"}]}))
    assert "1 unreadable image(s) dropped before splitting" in leak_guard_summary(tmp_path)
