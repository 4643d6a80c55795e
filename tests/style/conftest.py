"""Tiny random-weight AdaIN networks so style tests run in seconds."""

from __future__ import annotations

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
    return AdaINEngine(_encoder=build_encoder("vgg16", weights=None), _decoder=build_decoder("vgg16"),
                       device="cpu", max_side=96, style_side=64)
