"""The Style tab driven like a user: load images, move alpha, see the preview, run and cancel a batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PyQt5.QtCore import Qt

from augbench.core.imageio import write_image
from augbench.core.runfolder import iter_manifest
from augbench.gui.style.model import StyleModel
from augbench.gui.style.view import StyleTab
from augbench.style.engine import AdaINEngine
from augbench.style.networks import build_decoder, build_encoder

pytestmark = pytest.mark.gui


def _img(w: int, h: int, seed: int) -> np.ndarray:
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([np.sin(xx * r.uniform(0.05, 0.2)) * 100 + 127, np.cos(yy * 0.1) * 100 + 127,
                     np.full((h, w), r.uniform(0, 255))], axis=2)
    return np.clip(base, 0, 255).astype(np.uint8)


def _tiny_engine(name: str, side: int) -> AdaINEngine:
    torch.manual_seed(0)
    dec = build_decoder("vgg16")
    with torch.no_grad():
        dec[-1].weight.mul_(60.0)
        dec[-1].bias.fill_(0.5)
    return AdaINEngine(_encoder=build_encoder("vgg16", weights=None), _decoder=dec, device="cpu", max_side=side)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    data = tmp_path / "data"
    (data / "defect").mkdir(parents=True)
    (data / "normal").mkdir()
    for i in range(3):
        write_image(data / "defect" / f"d{i}.png", _img(64, 48, i))
        write_image(data / "normal" / f"n{i}.png", _img(64, 48, 10 + i))
    (data / "defect" / "d0.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    style = tmp_path / "style.png"
    write_image(style, _img(48, 48, 99))
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG broken")
    return {"data": data, "content": data / "defect" / "d0.png", "style": style, "corrupt": corrupt,
            "out": tmp_path / "out"}


@pytest.fixture
def tab(qtbot) -> StyleTab:
    t = StyleTab(shell=None, model=StyleModel(engine_factory=_tiny_engine, preview_side=96))
    t.preview_side.setValue(96)
    qtbot.addWidget(t)
    t.resize(1000, 700)
    t.show()
    yield t
    t.shutdown()


def _wait_preview(qtbot, tab: StyleTab, renders: int) -> None:
    qtbot.waitUntil(lambda: tab.model.renders >= renders and not tab.preview_panel.busy, timeout=20000)


def test_load_images_and_move_alpha_updates_the_preview(qtbot, tab, files) -> None:
    assert tab.open_content(files["content"])
    assert tab.model.mask is not None  # the YOLO box became a mask
    assert tab.add_styles([files["style"], files["corrupt"]]) == 1
    assert "corrupt.png" in tab.preview_status.text()
    _wait_preview(qtbot, tab, 1)
    first = tab.preview_array.copy()
    assert first.shape[2] == 3 and max(first.shape[:2]) <= 96  # preview size cap

    tab.alpha_slider.setFocus()
    n = tab.model.renders
    qtbot.keyClick(tab.alpha_slider, Qt.Key_PageDown)  # 1.00 -> 0.90
    qtbot.keyClick(tab.alpha_slider, Qt.Key_PageDown)  # -> 0.80
    assert tab.model.alpha == pytest.approx(0.8)
    assert tab.alpha_label.text() == "0.80"
    qtbot.waitUntil(lambda: tab.model.renders > n and not tab.preview_panel.busy and not tab._dirty, timeout=20000)
    assert tab.model.last_stages == ["decode"]  # only the decoder re-ran
    assert not np.array_equal(tab.preview_array, first)
    assert "ms" in tab.preview_status.text()


def test_preview_size_arrows_apply_without_leaving_the_box(qtbot, tab, files, tmp_path) -> None:
    """The size box used to apply only on Enter or focus loss, so arrow clicks changed nothing visible."""
    big = tmp_path / "big.png"
    write_image(big, _img(240, 180, 5))
    tab.open_content(big)
    tab.add_styles([files["style"]])
    _wait_preview(qtbot, tab, 1)
    assert max(tab.preview_array.shape[:2]) == 96
    n = tab.model.renders
    tab.preview_side.setFocus()
    qtbot.keyClick(tab.preview_side, Qt.Key_Up)  # 96 -> 160 with the arrow key; the focus stays in the box
    assert tab.model.preview_side == tab.preview_side.value() == 160
    qtbot.waitUntil(lambda: tab.model.renders > n and not tab.preview_panel.busy and not tab._dirty, timeout=20000)
    assert max(tab.preview_array.shape[:2]) == 160 and tab.last_error == ""


def test_options_and_blend_rerun_the_target(qtbot, tab, files) -> None:
    tab.open_content(files["content"])
    tab.add_styles([files["style"], files["content"]])
    _wait_preview(qtbot, tab, 1)
    qtbot.waitUntil(lambda: not tab.preview_panel.busy and not tab._dirty, timeout=20000)
    tab.style_list.setCurrentRow(1)
    tab.weight_spin.setValue(0.5)
    assert tab.model.styles[1].weight == 0.5
    assert "×0.50" in tab.style_list.item(1).text()
    qtbot.waitUntil(lambda: not tab.preview_panel.busy and not tab._dirty, timeout=20000)
    tab.region_combo.setCurrentIndex(2)  # background only
    qtbot.waitUntil(lambda: tab.model.mask_mode == "background" and not tab.preview_panel.busy
                    and not tab._dirty, timeout=20000)
    assert "adain" in tab.model.last_stages
    tab.keep_colors.click()
    assert tab.model.preserve_color is True
    qtbot.waitUntil(lambda: not tab.preview_panel.busy and not tab._dirty, timeout=20000)
    assert tab.last_error == ""


def test_batch_runs_with_progress_then_cancel(qtbot, tab, files) -> None:
    from augbench.core.dataset import scan_dataset

    tab.batch_engine = _tiny_engine("adain", 64)
    tab.on_dataset_changed(scan_dataset(files["data"]))
    assert tab.input_edit.text() == str(files["data"])
    assert tab.classes_list.count() == 2
    tab.classes_list.item(0).setCheckState(Qt.Checked)  # "defect", the minority class
    tab.add_styles([files["style"]])
    tab.output_edit.setText(str(files["out"]))
    tab.copies_spin.setValue(2)
    progressed = []
    tab.batch_panel.progressed.connect(lambda p: progressed.append(p.done))
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.batch_panel.busy, timeout=60000)
    res = tab.batch_panel.last_result
    assert res is not None and res.status == "completed" and len(res.outputs) == 6
    assert progressed and max(progressed) == 6
    assert (files["out"] / "defect" / "d0_style01.txt").is_file()  # label carried over
    assert len(list(iter_manifest(files["out"] / "manifest.jsonl"))) == 6

    # a big batch, cancelled after the first image
    tab.copies_spin.setValue(50)
    tab.output_edit.setText(str(files["out"]) + "_2")

    def cancel_soon(p) -> None:
        if p.done >= 1:
            qtbot.mouseClick(tab.batch_panel.cancel_button, Qt.LeftButton)

    tab.batch_panel.progressed.connect(cancel_soon)
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.batch_panel.busy, timeout=60000)
    assert tab.batch_panel.status.text() == "cancelled"
    partial = tab.batch_panel.last_result
    assert partial.status == "cancelled" and 1 <= len(partial.outputs) < 150
    assert tab.run_button.isEnabled()


def test_bad_batch_config_is_reported(qtbot, tab, files) -> None:
    tab.input_edit.setText(str(files["data"]))
    tab.output_edit.setText(str(files["out"]))
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)  # no style image yet
    assert "styles" in tab.last_error
    assert not tab.batch_panel.busy


def test_drop_images_content_then_styles(qtbot, tab, files) -> None:
    assert tab.accept_drop([files["content"], files["style"]])
    assert tab.model.content_path == str(files["content"])
    assert [Path(s.path).name for s in tab.model.styles] == ["style.png"]
    assert not tab.accept_drop([files["data"]])  # a folder is for the shell
    _wait_preview(qtbot, tab, 1)


def test_tab_in_main_window(qtbot, qsettings) -> None:
    from augbench.gui.app import MainWindow

    win = MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    titles = [win.tabs.tabText(i) for i in range(win.tabs.count())]
    assert "Style" in titles
    assert isinstance(win.tab("style"), StyleTab)
    win.close()


def test_every_input_control_has_a_tooltip(tab) -> None:
    """Issue 14: Style had tooltips on 2 of 18 input controls."""
    from PyQt5.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QListWidget, QSlider

    kinds = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QListWidget, QSlider)
    controls = [w for w in tab.findChildren(kinds) if not isinstance(w.parent(), QAbstractSpinBox)]
    assert len(controls) >= 18
    missing = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}" for w in controls if not w.toolTip()]
    assert missing == []


def test_engine_default_is_the_benchmark_winner_with_the_reason(tab) -> None:
    from augbench.gui.style.model import DEFAULT_ENGINE

    assert tab.engine_combo.currentData() == DEFAULT_ENGINE == tab.model.engine_name
    assert "benchmark" in tab.engine_combo.toolTip() and "dB" in tab.engine_combo.toolTip()
    # the default and the tooltip's figures are the measured ones (benchmarks/results/style_quality.json)
    import json
    from pathlib import Path

    q = json.loads((Path(__file__).resolve().parents[2] / "benchmarks/results/style_quality.json").read_text())
    assert DEFAULT_ENGINE == q["ranking"][0]
    tip = tab.engine_combo.toolTip()
    assert f"{q['adain_vs_magenta_geomean']:.2f}" in tip and f"{q['alpha0_psnr_mean']:.1f} dB" in tip
    assert f"{q['ratios']['VGG-16']['style']:.2f}x" in tip


def test_batch_end_says_what_was_written(qtbot, tab, files) -> None:
    """Issue 14: the batch used to end with a bare "done"."""
    write_image(files["data"] / "normal" / "thin.png", np.full((1, 300, 3), 90, np.uint8))
    tab.batch_engine = _tiny_engine("adain", 64)
    tab.input_edit.setText(str(files["data"]))
    tab.add_styles([files["style"]])
    tab.output_edit.setText(str(files["out"]))
    tab.copies_spin.setValue(1)
    qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.batch_panel.busy, timeout=60000)
    res = tab.batch_panel.last_result
    assert res.status == "completed" and len(res.outputs) == 6
    status, summary = tab.batch_panel.status.text(), tab.batch_summary.text()
    assert status != "done" and "wrote 6" in status
    assert "wrote 6" in summary and str(files["out"]) in summary
    assert "skipped 1" in summary and "thin.png" in summary and "too thin" in summary
