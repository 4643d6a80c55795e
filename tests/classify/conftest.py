"""Tiny image-classification data for the benchmark tests (32 px, learnable in one epoch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from augbench.core.imageio import write_image


def make_tiny_imagefolder(root: Path, n_normal: int = 24, n_defect: int = 12, size: int = 32, seed: int = 0) -> Path:
    """'normal' = dark noise, 'defect' = dark noise with a bright square (grey PNGs)."""
    rng = np.random.default_rng(seed)
    for cls, n in (("normal", n_normal), ("defect", n_defect)):
        for i in range(n):
            img = rng.integers(0, 80, (size, size), dtype=np.uint8)
            if cls == "defect":
                x, y = rng.integers(2, size // 2, 2)
                img[y:y + size // 3, x:x + size // 3] = 230
            write_image(root / cls / f"{cls}_{i:03d}.png", img)
    return root


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    return make_tiny_imagefolder(tmp_path / "data")


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
