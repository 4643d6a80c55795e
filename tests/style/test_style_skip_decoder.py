"""The multi-level (skip3) decoder: relu3_1 bottleneck + AdaIN-ed relu2_1/relu1_1 skips, trained and used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from augbench.core.imageio import write_image
from augbench.core.progress import CancelToken, ListProgress
from augbench.style.engine import AdaINEngine, PreviewSession, boxes_to_mask
from augbench.style.networks import DECODER_INPUTS, SkipDecoder, build_encoder
from augbench.style.train_decoder import TrainJob, run_train_decoder
from augbench.style.weights import safe_load


def test_init_from_gives_unit_inputs_and_the_images_statistics() -> None:
    torch.manual_seed(0)
    enc, dec = build_encoder("vgg16", weights=None, levels=3), SkipDecoder()
    x = torch.rand(2, 3, 32, 32) * 0.5 + 0.2
    with torch.no_grad():
        feats = [f * 300.0 for f in enc(x)]  # caffe-scale features are large
        dec.init_from(feats, x)
        y = dec(*feats)
    assert all(abs(float((f * s).std()) - 1.0) < 1e-3 for f, s in zip(feats, dec.in_scale))
    assert torch.allclose(y.mean(dim=(0, 2, 3)), x.mean(dim=(0, 2, 3)), atol=1e-3)
    assert torch.allclose(y.std(dim=(0, 2, 3)), x.std(dim=(0, 2, 3)), rtol=1e-2)
    assert "in_scale" in dec.state_dict()  # saved with the weights, so a loaded decoder scales the same way


@pytest.fixture(scope="module")
def skip_run(tmp_path_factory) -> Path:
    from imgfactory import make_photo

    root = tmp_path_factory.mktemp("skip")
    c, s = root / "content", root / "style"
    c.mkdir()
    s.mkdir()
    for i in range(2):
        write_image(c / f"c{i}.png", make_photo(48, 40, i))
        write_image(s / f"s{i}.png", make_photo(40, 40, 10 + i))
    out = root / "run"
    cfg = TrainJob(out_dir=str(out), content_dirs=[str(c)], style_dirs=[str(s)], size=32, batch=1, steps=2,
                   recon_steps=2, bottleneck="skip3", style_levels=4, identity_weight=1.0, style_bank=1,
                   photos_as_styles=False, include_builtin=False, checkpoint_every_s=1e6, device="cpu")
    run_train_decoder(cfg, progress=lambda p: None, cancel=CancelToken())
    lp = ListProgress()
    res = run_train_decoder(TrainJob(**{**cfg.__dict__, "steps": 3}), progress=lp, cancel=CancelToken())
    assert res.metrics["steps"] == 3 and any(p.stage == "train" for p in lp.reports)  # resumed into AdaIN
    return out / "decoder_vgg16.pt"


def test_skip3_trains_resumes_and_describes_itself(skip_run: Path) -> None:
    dec = safe_load(skip_run)
    assert dec["arch"] == "vgg16-skip3" and dec["meta"]["bottleneck"] == "skip3" and dec["meta"]["steps"] == 3
    assert DECODER_INPUTS["vgg16-skip3"] == (0, 1, 2)


def test_engine_runs_a_skip3_decoder_at_every_level(skip_run: Path, mkphoto) -> None:
    eng = AdaINEngine(decoder_weights=skip_run, device="cpu", max_side=64, precision="fp32", feedback=0)
    content, style = mkphoto(64, 48, 5), mkphoto(40, 40, 6)
    assert eng.multi_level and len(eng.encoder.cuts) == 3  # relu4_1 is never computed
    state = eng.encode_content(content)
    assert [f.shape[1] for f in state.levels] == [64, 128, 256]
    stats = eng.style_stats(style)
    assert isinstance(stats, tuple) and len(stats) == 3
    t = eng.target(state, [stats], None, None, "all")
    for ti, si in zip(t, stats):  # every level carries the style's statistics
        m = ti.mean(dim=(2, 3), keepdim=True)
        assert torch.allclose(m, si.mean, rtol=1e-3, atol=1e-3)
    a0, a1 = eng.stylize(content, [style], alpha=0.0), eng.stylize(content, [style], alpha=1.0)
    assert a0.shape == content.shape and not np.array_equal(a0, a1)
    ps = PreviewSession(eng)
    ps.render(content, [style], alpha=1.0)
    assert np.array_equal(ps.render(content, [style], alpha=0.4), eng.stylize(content, [style], alpha=0.4))
    assert ps.last_stages == ["decode"]


def test_skip3_foreground_mask_keeps_the_background_at_every_level(skip_run: Path, mkphoto) -> None:
    eng = AdaINEngine(decoder_weights=skip_run, device="cpu", max_side=96, precision="fp32")
    content, style = mkphoto(96, 96, 10), mkphoto(64, 64, 11)
    state = eng.encode_content(content)
    mask = boxes_to_mask([(0, 0, 48, 96)], 96, 96)
    t = eng.target(state, [eng.style_stats(style)], None, mask, "foreground")
    for ti, f in zip(t, state.levels):
        w = f.shape[-1]
        assert torch.equal(ti[..., w // 2 + 1 :], f[..., w // 2 + 1 :])
        assert not torch.equal(ti[..., : w // 2], f[..., : w // 2])


def test_an_interrupted_training_resumes_through_the_guard(tmp_path: Path, mkphoto) -> None:
    """The trainer records job.yaml first, so the guard sees its own run folder (not foreign files) on resume."""
    from augbench.core.jobs import run_job

    c = tmp_path / "content"
    c.mkdir()
    write_image(c / "c0.png", mkphoto(48, 40, 1))
    cfg = TrainJob(out_dir=str(tmp_path / "run"), content_dirs=[str(c)], style_dirs=[str(c)], size=32, batch=1,
                   steps=1, recon_steps=5, bottleneck="relu3_1", style_levels=3, style_bank=1, photos_as_styles=False,
                   include_builtin=False, checkpoint_every_s=1e6, device="cpu")
    run_job(cfg)
    assert (tmp_path / "run" / "job.yaml").is_file()
    res = run_job(TrainJob(**{**cfg.__dict__, "steps": 2, "lr": 1e-4}))  # schedule changes are allowed
    assert res.metrics["steps"] == 2


def test_an_injected_skip_decoder_is_called_with_its_levels(mkphoto) -> None:
    """Engines that share networks (benchmarks, GUI previews) pass the decoder in; it says which levels it takes."""
    torch.manual_seed(0)
    eng = AdaINEngine(_encoder=build_encoder("vgg16", weights=None, levels=3), _decoder=SkipDecoder(),
                      device="cpu", max_side=64, style_side=64, precision="fp32")
    content = mkphoto(64, 48, 3)
    assert eng.multi_level
    assert eng.stylize(content, [mkphoto(32, 32, 4)], alpha=0.5).shape == content.shape
