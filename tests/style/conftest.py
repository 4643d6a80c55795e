"""Tiny random-weight AdaIN networks so style tests run in seconds."""

from __future__ import annotations

import pytest
import torch
from imgfactory import make_photo

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


@pytest.fixture
def mkphoto():
    """``mkphoto(w, h, seed)`` -> HxWx3 uint8 test image."""
    return make_photo
