"""Weight files: the pytorch-AdaIN layout loads, wrong files fail clearly, pickles are refused."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from augbench.core.errors import WeightsError
from augbench.style import weights as W
from augbench.style.engine import AdaINEngine
from augbench.style.networks import adain_decoder_sequential, build_decoder, vgg19_normalised_sequential


@pytest.fixture
def adain_files(tmp_path: Path) -> tuple[Path, Path]:
    """Files with the structure of pytorch-AdaIN's release (random weights)."""
    torch.manual_seed(0)
    vgg, dec = vgg19_normalised_sequential(), adain_decoder_sequential()
    assert len(vgg) == 53  # the full VGG-19 normalised Sequential
    v, d = tmp_path / "vgg_normalised.pth", tmp_path / "decoder.pth"
    torch.save(vgg.state_dict(), v)
    torch.save(dec.state_dict(), d)
    return v, d


def test_standard_adain_files_load_and_run(adain_files, photo) -> None:
    v, d = adain_files
    eng = AdaINEngine(encoder="vgg19", encoder_weights=v, decoder_weights=d, device="cpu", max_side=64,
                      precision="fp32")
    out = eng.stylize(photo, [photo[::-1]], alpha=0.5)
    assert out.shape == photo.shape and out.dtype == np.uint8
    # the loaded weights are the file's, not random ones
    ref = torch.load(v, weights_only=True)
    assert torch.equal(eng.encoder.body[2].weight, ref["2.weight"])
    assert eng.weights_sha256 == W.sha256_file(d)


def test_wrong_shape_names_the_layer(tmp_path: Path) -> None:
    sd = adain_decoder_sequential().state_dict()
    sd["1.weight"] = torch.zeros(256, 512, 5, 5)
    bad = tmp_path / "decoder.pth"
    torch.save(sd, bad)
    with pytest.raises(WeightsError, match=r"layer 1\.weight has shape \(256, 512, 5, 5\)"):
        W.load_module_weights(adain_decoder_sequential(), bad)


def test_missing_layer_is_named(tmp_path: Path) -> None:
    sd = adain_decoder_sequential().state_dict()
    del sd["5.bias"]
    bad = tmp_path / "decoder.pth"
    torch.save(sd, bad)
    with pytest.raises(WeightsError, match=r"layer 5\.bias is missing"):
        W.load_module_weights(adain_decoder_sequential(), bad)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/augbench_pwned",))


def test_code_running_pickle_is_refused(tmp_path: Path) -> None:
    evil = tmp_path / "decoder.pth"
    with open(evil, "wb") as fh:
        pickle.dump({"state_dict": _Evil()}, fh, protocol=2)
    marker = Path("/tmp/augbench_pwned")
    marker.unlink(missing_ok=True)
    with pytest.raises(WeightsError, match="refused"):
        W.safe_load(evil)
    assert not marker.exists()


def test_garbage_file_is_a_weights_error(tmp_path: Path) -> None:
    junk = tmp_path / "decoder.pth"
    junk.write_bytes(b"not a weights file at all")
    with pytest.raises(WeightsError):
        W.load_module_weights(build_decoder("vgg16"), junk)


def test_resolution_order_explicit_then_cache_then_shipped(tmp_path: Path, monkeypatch) -> None:
    cache, res = tmp_path / "cache", tmp_path / "res"
    (cache / "style").mkdir(parents=True)
    (res / "style").mkdir(parents=True)
    monkeypatch.setenv("AUGBENCH_CACHE", str(cache))
    monkeypatch.setenv("AUGBENCH_RESOURCES", str(res))
    with pytest.raises(WeightsError, match="looked in"):
        W.resolve("decoder_vgg16.pt")
    (res / "style" / "decoder_vgg16.pt").write_bytes(b"x")
    assert W.resolve("decoder_vgg16.pt") == res / "style" / "decoder_vgg16.pt"
    (cache / "style" / "decoder_vgg16.pt").write_bytes(b"y")
    assert W.resolve("decoder_vgg16.pt") == cache / "style" / "decoder_vgg16.pt"
    explicit = tmp_path / "mine.pt"
    explicit.write_bytes(b"z")
    assert W.resolve("decoder_vgg16.pt", explicit) == explicit
    with pytest.raises(WeightsError, match="does not exist"):
        W.resolve("decoder_vgg16.pt", tmp_path / "nope.pt")


def test_decoder_arch_mismatch_is_explained(adain_files) -> None:
    _, d = adain_files
    eng = AdaINEngine(encoder="vgg16", decoder_weights=d, device="cpu")
    with pytest.raises(WeightsError, match="adain decoder but the vgg16 encoder needs vgg16"):
        _ = eng.decoder


def test_vgg19_without_encoder_file_is_explained() -> None:
    with pytest.raises(WeightsError, match="vgg_normalised.pth"):
        _ = AdaINEngine(encoder="vgg19", device="cpu").encoder


def test_pick_device_auto_is_cpu_or_cuda() -> None:
    assert W.pick_device("auto").type in ("cpu", "cuda")
    assert W.pick_device("cpu").type == "cpu"


def test_shipped_decoder_is_small_fp16_and_self_describing() -> None:
    path = W.shipped_dir() / W.DEFAULT_DECODER
    assert path.is_file(), "augbench/resources/style/decoder_vgg16.pt must ship with augbench"
    assert path.stat().st_size < 8 * 1024 * 1024
    obj = W.safe_load(path)
    assert obj["format"] == W.DECODER_FORMAT and obj["arch"] == "vgg16-skip3"
    assert {t.dtype for t in obj["state_dict"].values()} == {torch.float16}
    meta = obj["meta"]
    assert meta["heldout_style"]  # the held-out pairs are recorded for the quality benchmark
    assert meta["bottleneck"] == "skip3" and meta["crop_size"] >= 192 and meta["steps"] > 0
    assert meta["minutes"] > 0 and meta["n_content"] > 0 and meta["benchmark"]["alpha0_psnr_mean"] >= 22
    assert meta["phases"] and "data" in meta  # what it was trained on and how (issue 11)
    W.load_module_weights(build_decoder("vgg16-skip3"), path)  # shapes match the network


def test_shipped_figures_are_this_files_and_meet_the_issue_11_targets() -> None:
    """The figures in the file and in benchmarks/results/style_quality.json belong to the shipped weights."""
    import json

    path = W.shipped_dir() / W.DEFAULT_DECODER
    q = json.loads((Path(__file__).resolve().parents[2] / "benchmarks/results/style_quality.json").read_text())
    assert q["shipped_sha256"] == W.sha256_file(path)
    bench = W.safe_load(path)["meta"]["benchmark"]
    assert bench["engine_settings"] == q["engine"] == {"color_match": True, "feedback": 1}
    assert bench["alpha0_psnr_mean"] >= 22.0
    for judge, ratios in bench["adain_vs_magenta"].items():
        assert ratios["content"] <= 1.25 and ratios["style"] <= 1.25, judge
        assert abs(ratios["style"] - q["ratios"][judge]["style"]) < 1e-3


PSNR_FLOOR = 22.0  # shipped skip3 file (step 2471): 23.6 dB here (coffee, 160 px); step 609: 24.8; relu3_1: 20.1; relu4_1: ~14


def test_shipped_decoder_gives_the_content_back_at_alpha_0() -> None:
    """Issue 11: alpha 0 must reproduce the content (the old relu4_1 decoder: 14 dB on the held-out photos)."""
    from augbench.style.data import load_named

    img = load_named("coffee")
    if img is None:
        pytest.skip("scikit-image sample photos not installed")
    from augbench.style.engine import fit_side

    img = fit_side(img, 160)  # held out of training; at the engine's own size, so nothing is resized
    eng = AdaINEngine(device="cpu", max_side=160, precision="fp32")
    out = eng.stylize(img, [img[::-1]], alpha=0.0)
    mse = float(np.mean((out.astype(np.float64) - img.astype(np.float64)) ** 2))
    assert 10 * np.log10(255.0**2 / mse) >= PSNR_FLOOR
