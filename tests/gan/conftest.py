"""Fixtures for the GAN tests: 32 px grey images, ngf 8, one residual block, a few steps."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from gan_helpers import write_tiny_imagefolder


@pytest.fixture(autouse=True)
def _one_thread():
    """Same thread count in every test: bitwise resume equality depends on it, and CPU is shared."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    return write_tiny_imagefolder(tmp_path / "ds", {"normal": 10, "defect": 4})
