"""The style.apply job: outputs, carried labels and masks, manifest, bad inputs, resume, cancel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from augbench.core.errors import ConfigError
from augbench.core.imageio import read_image, write_image
from augbench.core.jobs import config_from_dict, load_job, run_job
from augbench.core.progress import CancelToken, ListProgress, Progress
from augbench.core.runfolder import iter_manifest
from augbench.style.apply import StyleApplyConfig, run_style_apply


@pytest.fixture
def dataset(tmp_path: Path, mkphoto) -> Path:
    """ImageFolder: defect (2 images, YOLO labels + one mask), normal (1 image)."""
    root = tmp_path / "data"
    (root / "defect" / "masks").mkdir(parents=True)
    (root / "normal").mkdir(parents=True)
    write_image(root / "defect" / "a.png", mkphoto(64, 48, 1))
    write_image(root / "defect" / "b.jpg", mkphoto(80, 64, 2))
    write_image(root / "normal" / "c.png", mkphoto(64, 64, 3))
    (root / "defect" / "a.txt").write_text("0 0.5 0.5 0.25 0.5\n")
    (root / "defect" / "b.txt").write_text("0 0.25 0.25 0.2 0.2\n")
    (root / "defect" / "classes.txt").write_text("crack\n")
    mask = np.zeros((48, 64), np.uint8)
    mask[10:30, 20:40] = 255
    write_image(root / "defect" / "masks" / "a.png", mask)
    return root


@pytest.fixture
def styles(tmp_path: Path, mkphoto) -> Path:
    d = tmp_path / "styles"
    d.mkdir()
    write_image(d / "s1.png", mkphoto(40, 40, 7))
    write_image(d / "gray16.png", mkphoto(16, 16, 8)[..., 0])  # grayscale 16x16
    (d / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    return d


def _cfg(dataset: Path, styles: Path, out: Path, **kw) -> StyleApplyConfig:
    return StyleApplyConfig(input_dir=str(dataset), out_dir=str(out), styles=[str(styles)], **kw)


def test_minority_class_is_stylized_with_labels_carried(dataset, styles, tmp_path, tiny_engine) -> None:
    out = tmp_path / "out"
    cfg = _cfg(dataset, styles, out, classes=["defect"], copies=2, alpha_min=0.3, alpha_max=0.8)
    lp = ListProgress()
    res = run_style_apply(cfg, progress=lp, cancel=CancelToken(), engine=tiny_engine)
    assert res.status == "completed"
    assert len(res.outputs) == 4  # 2 defect images x 2 copies; normal untouched
    assert not (out / "normal").exists()
    a0 = out / "defect" / "a_style00.png"
    assert read_image(a0).shape == (48, 64, 3)
    # labels unchanged (style transfer is not geometric), masks copied
    assert (out / "defect" / "a_style00.txt").read_text() == "0 0.5 0.5 0.25 0.5\n"
    assert (out / "defect" / "classes.txt").read_text() == "crack\n"
    assert (out / "defect" / "masks" / "a_style01.png").is_file()
    rows = list(iter_manifest(out / "manifest.jsonl"))
    assert len(rows) == 4
    for r in rows:
        assert {"content", "style", "alpha", "engine", "weights_sha256"} <= set(r)
        assert 0.3 <= r["alpha"] <= 0.8
        assert r["engine"] == "adain"
        assert not any("corrupt" in s for s in r["style"])
    # the corrupt style is reported, the grey 16x16 one is used
    assert any("corrupt.jpg" in s.path for s in res.skipped)
    assert lp.last is not None and lp.last.done == lp.last.total == 4
    assert isinstance(lp.last.preview, np.ndarray)
    assert json.loads((out / "result.json").read_text())["status"] == "completed"
    assert load_job(out / "job.yaml") == cfg


def test_rerun_resumes_without_recomputing(dataset, styles, tmp_path, tiny_engine) -> None:
    out = tmp_path / "out"
    cfg = _cfg(dataset, styles, out, copies=1)
    run_style_apply(cfg, progress=lambda p: None, cancel=CancelToken(), engine=tiny_engine)
    before = (out / "defect" / "a_style00.png").stat().st_mtime_ns
    res = run_style_apply(cfg, progress=lambda p: None, cancel=CancelToken(), engine=tiny_engine)
    assert len(res.outputs) == 3
    assert (out / "defect" / "a_style00.png").stat().st_mtime_ns == before
    assert len(list(iter_manifest(out / "manifest.jsonl"))) == 3


def test_foreground_mode_uses_masks_and_boxes(dataset, styles, tmp_path, tiny_engine) -> None:
    out = tmp_path / "out"
    cfg = _cfg(dataset, styles, out, mask_mode="foreground")
    res = run_style_apply(cfg, progress=lambda p: None, cancel=CancelToken(), engine=tiny_engine)
    # a (mask) and b (boxes) are stylized; c has neither and is skipped with a reason
    assert len(res.outputs) == 2
    assert any(s.path.endswith("c.png") and "no mask or boxes" in s.reason for s in res.skipped)


def test_cancel_stops_and_reports(dataset, styles, tmp_path, tiny_engine) -> None:
    cancel = CancelToken()

    def progress(p: Progress) -> None:
        if p.done >= 1:
            cancel.cancel()

    cfg = _cfg(dataset, styles, tmp_path / "out", copies=3)
    from augbench.core.errors import Cancelled

    with pytest.raises(Cancelled) as info:
        run_style_apply(cfg, progress=progress, cancel=cancel, engine=tiny_engine)
    partial = info.value.result  # type: ignore[attr-defined]
    assert partial.status == "cancelled" and 1 <= len(partial.outputs) < 9


def test_config_validation(dataset, styles, tmp_path) -> None:
    with pytest.raises(ConfigError, match="alpha_min"):
        _cfg(dataset, styles, tmp_path / "o", alpha_min=0.9, alpha_max=0.1)
    with pytest.raises(ConfigError, match="out_dir"):
        _cfg(dataset, styles, dataset / "inside")
    with pytest.raises(ConfigError, match="copies"):
        config_from_dict(StyleApplyConfig, {"input_dir": str(dataset), "out_dir": str(tmp_path / "o"),
                                            "styles": [str(styles)], "copies": 0})


def test_only_bad_styles_is_a_clear_error(dataset, tmp_path, tiny_engine) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"")
    cfg = StyleApplyConfig(input_dir=str(dataset), out_dir=str(tmp_path / "o"), styles=[str(bad)])
    with pytest.raises(ConfigError, match="no readable style image"):
        run_style_apply(cfg, progress=lambda p: None, cancel=CancelToken(), engine=tiny_engine)


def test_registered_job_runs_with_the_shipped_decoder(dataset, styles, tmp_path) -> None:
    """End to end through run_job with the real offline VGG-16 + shipped decoder, at a tiny size."""
    cfg = _cfg(dataset, styles, tmp_path / "out", classes=["normal"], max_side=64, style_side=64, device="cpu")
    res = run_job(cfg)
    assert res.status == "completed" and len(res.outputs) == 1
    row = next(iter_manifest(tmp_path / "out" / "manifest.jsonl"))
    assert len(row["weights_sha256"]) == 64
    img = read_image(res.outputs[0])
    assert img.shape == (64, 64, 3) and img.std() > 1.0  # not a flat image


def test_voc_labels_are_rewritten_with_the_new_file_name(tmp_path, mkphoto, styles, tiny_engine) -> None:
    from augbench.label.types import Box, ImageAnnotation
    from augbench.label.voc import read_voc, write_voc

    flat = tmp_path / "flat"
    flat.mkdir()
    write_image(flat / "p.jpg", mkphoto(80, 60, 4))
    write_voc(flat / "p.xml", ImageAnnotation(flat / "p.jpg", 80, 60, boxes=[Box(10, 12, 40, 50, "dent")]))
    out = tmp_path / "out"
    res = run_style_apply(_cfg(flat, styles, out, mask_mode="background"), progress=lambda p: None,
                          cancel=CancelToken(), engine=tiny_engine)
    assert [Path(o).name for o in res.outputs] == ["p_style00.jpg"]
    ann = read_voc(out / "p_style00.xml")
    assert ann.image_path.name == "p_style00.jpg"
    assert [(b.x1, b.y1, b.x2, b.y2, b.label) for b in ann.boxes] == [(10, 12, 40, 50, "dent")]


def test_a_1x300_image_is_skipped_and_the_batch_goes_on(dataset, styles, tmp_path, tiny_engine) -> None:
    """Issue 10: one degenerate image used to stop the whole batch with a traceback."""
    write_image(dataset / "normal" / "thin.png", np.full((1, 300, 3), 128, np.uint8))
    res = run_style_apply(_cfg(dataset, styles, tmp_path / "out"), progress=lambda p: None,
                          cancel=CancelToken(), engine=tiny_engine)
    assert res.status == "completed"
    assert len(res.outputs) == 3  # a, b, c all written
    thin = [s for s in res.skipped if s.path.endswith("thin.png")]
    assert len(thin) == 1 and "too thin" in thin[0].reason


def test_a_relative_out_folder_works(dataset, styles, tmp_path, monkeypatch, tiny_engine) -> None:
    """Issue 10: ``--out OUT`` relative to the working folder (the README's own example)."""
    monkeypatch.chdir(tmp_path)
    cfg = StyleApplyConfig(input_dir="data", out_dir="rel_out", styles=["styles"], classes=["normal"])
    res = run_style_apply(cfg, progress=lambda p: None, cancel=CancelToken(), engine=tiny_engine)
    assert res.status == "completed" and len(res.outputs) == 1
    assert (tmp_path / "rel_out" / "normal" / "c_style00.png").is_file()
    rows = list(iter_manifest(tmp_path / "rel_out" / "manifest.jsonl"))
    assert rows[0]["output"] == "normal/c_style00.png"


def test_relative_out_through_the_cli(dataset, styles, tmp_path, monkeypatch, tiny_engine) -> None:
    from augbench import cli
    from augbench.style import apply as apply_mod

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(apply_mod, "build_engine", lambda cfg: tiny_engine)
    rc = cli.main(["style", "apply", "data", "--classes", "normal", "--out", "cli_out", "--style", "styles"])
    assert rc == 0
    assert (tmp_path / "cli_out" / "normal" / "c_style00.png").is_file()
