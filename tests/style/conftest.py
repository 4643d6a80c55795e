"""Tiny random-weight AdaIN networks so style tests run in seconds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from augbench.style.engine import AdaINEngine
from augbench.style.networks import build_decoder, build_encoder


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture
def tiny_engine() -> AdaINEngine:
    """AdaIN engine with random VGG-16-shaped networks (no weights files needed)."""
    torch.manual_seed(0)
    dec = build_decoder("vgg16")
    with torch.no_grad():  # spread the random decoder's output over 0..1 so pixel comparisons mean something
        dec[-1].weight.mul_(60.0)
        dec[-1].bias.fill_(0.5)
    return AdaINEngine(_encoder=build_encoder("vgg16", weights=None), _decoder=dec,
                       device="cpu", max_side=96, style_side=64)


def _make_photo(w: int = 96, h: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth random colour image (same recipe as the root conftest's make_photo)."""
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        fx, fy, ph = r.uniform(0.02, 0.15), r.uniform(0.02, 0.15), r.uniform(0, 6)
        img[..., c] = 127 + 100 * np.sin(xx * fx + ph) * np.cos(yy * fy)
    cx, cy = r.integers(w // 4, 3 * w // 4), r.integers(h // 4, 3 * h // 4)
    img[(xx - cx) ** 2 + (yy - cy) ** 2 < (min(w, h) // 6) ** 2] = r.uniform(0, 255, 3)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture
def mkphoto():
    """``mkphoto(w, h, seed)`` -> HxWx3 uint8 test image."""
    return _make_photo
