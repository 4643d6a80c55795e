"""train-decoder (a few steps, tiny crops) and the ``augbench style`` command line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from augbench.cli import main
from augbench.core.errors import ConfigError
from augbench.core.imageio import write_image
from augbench.core.progress import CancelToken, ListProgress
from augbench.style.train_decoder import TrainDecoderConfig, run_train_decoder
from augbench.style.weights import DECODER_FORMAT, safe_load


@pytest.fixture
def folders(tmp_path: Path, mkphoto) -> tuple[Path, Path]:
    c, s = tmp_path / "content", tmp_path / "style"
    c.mkdir()
    s.mkdir()
    for i in range(2):
        write_image(c / f"c{i}.png", mkphoto(48, 40, i))
        write_image(s / f"s{i}.png", mkphoto(40, 40, 10 + i))
    (s / "broken.png").write_bytes(b"garbage")
    return c, s


@pytest.mark.slow
def test_train_decoder_writes_checkpoints_and_resumes(folders, tmp_path) -> None:
    c, s = folders
    out = tmp_path / "run"
    cfg = TrainDecoderConfig(out_dir=str(out), content_dirs=[str(c)], style_dirs=[str(s)], size=32, batch=1,
                             steps=3, style_bank=1, photos_as_styles=False, include_builtin=False, device="cpu")
    lp = ListProgress()
    res = run_train_decoder(cfg, progress=lp, cancel=CancelToken())
    assert res.status == "completed" and res.metrics["steps"] == 3
    assert any(p.stage == "train" and "content" in p.metrics for p in lp.reports)
    dec = safe_load(out / "decoder_vgg16.pt")
    assert dec["format"] == DECODER_FORMAT and dec["arch"] == "vgg16"
    assert all(t.dtype == torch.float16 for t in dec["state_dict"].values())
    history = safe_load(out / "checkpoint.pt")["history"]
    assert history[0]["step"] == 1
    res2 = run_train_decoder(TrainDecoderConfig(**{**cfg.__dict__, "steps": 4}), progress=lambda p: None,
                             cancel=CancelToken())
    assert res2.metrics["steps"] == 4  # resumed at 3, one more step


@pytest.mark.slow
def test_relu3_1_decoder_warms_up_then_trains_and_describes_itself(folders, tmp_path, mkphoto) -> None:
    """The shallow-bottleneck option end to end: recon warm-up by steps, AdaIN phase, metadata, engine load."""
    from augbench.style.engine import AdaINEngine

    c, s = folders
    out = tmp_path / "r31"
    cfg = TrainDecoderConfig(out_dir=str(out), content_dirs=[str(c)], style_dirs=[str(s)], size=32, batch=1,
                             steps=2, recon_steps=2, bottleneck="relu3_1", style_levels=3, identity_weight=1.0,
                             style_bank=1, photos_as_styles=False, include_builtin=False, checkpoint_every_s=1e6,
                             device="cpu")
    lp = ListProgress()
    run_train_decoder(cfg, progress=lp, cancel=CancelToken())
    assert any(p.stage == "bank" for p in lp.reports) and (out / "style_bank.pt").is_file()
    lp2 = ListProgress()
    res = run_train_decoder(TrainDecoderConfig(**{**cfg.__dict__, "steps": 3}), progress=lp2, cancel=CancelToken())
    assert res.metrics["steps"] == 3
    assert not any(p.stage == "bank" for p in lp2.reports)  # the resumed run reuses the cached style bank
    assert any(p.stage == "train" for p in lp2.reports)  # step 3 is past the 2 warm-up steps
    dec = safe_load(out / "decoder_vgg16.pt")
    assert dec["arch"] == "vgg16-relu3_1"
    meta = dec["meta"]
    assert meta["bottleneck"] == "relu3_1" and meta["crop_size"] == 32 and meta["steps"] == 3
    assert meta["n_content"] == 2 and "minutes" in meta and meta["recon_steps"] == 2
    eng = AdaINEngine(decoder_weights=out / "decoder_vgg16.pt", device="cpu", max_side=64, precision="fp32")
    img = mkphoto(64, 48, 5)
    assert eng.stylize(img, [mkphoto(32, 32, 6)], alpha=0.5).shape == img.shape
    assert eng.decoder_arch == "vgg16-relu3_1" and len(eng.encoder.cuts) == 3  # relu4_1 is never computed


def test_data_init_matches_the_sample_images_statistics() -> None:
    from augbench.style.networks import build_decoder, build_encoder
    from augbench.style.train_decoder import data_init

    torch.manual_seed(0)
    enc, dec = build_encoder("vgg16", weights=None, levels=3), build_decoder("vgg16-relu3_1")
    x = torch.rand(2, 3, 32, 32) * 0.5 + 0.2
    with torch.no_grad():
        f = enc.encode(x) * 300.0  # caffe-scale features are large
        assert float(dec(f).std()) > 1.0  # default init: far too large outputs
        data_init(dec, f, x)
        y = dec(f)
    assert torch.allclose(y.mean(dim=(0, 2, 3)), x.mean(dim=(0, 2, 3)), atol=1e-3)
    assert torch.allclose(y.std(dim=(0, 2, 3)), x.std(dim=(0, 2, 3)), rtol=1e-2)


def test_train_decoder_rejects_a_missing_folder(tmp_path) -> None:
    cfg = TrainDecoderConfig(out_dir=str(tmp_path / "o"), content_dirs=[str(tmp_path / "nope")])
    with pytest.raises(ConfigError, match="content_dirs"):
        run_train_decoder(cfg, progress=lambda p: None, cancel=CancelToken())


def test_cli_style_apply_end_to_end(folders, tmp_path, capsys) -> None:
    c, s = folders
    out = tmp_path / "styled"
    code = main(["style", "apply", str(c), "--out", str(out), "--style", str(s), "-k", "1",
                 "--alpha", "0.5", "1.0", "--max-side", "64", "--device", "cpu"])
    assert code == 0
    assert len(list(out.glob("*_style00.png"))) == 2
    assert "skipped 1" in capsys.readouterr().out  # the broken style image


def test_cli_config_error_exit_code(folders, tmp_path, capsys) -> None:
    c, s = folders
    code = main(["style", "apply", str(c), "--out", str(tmp_path / "o"), "--style", str(s),
                 "--alpha", "0.9", "0.1"])
    assert code == 2
    assert "alpha_min" in capsys.readouterr().err
