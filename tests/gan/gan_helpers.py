"""Helpers shared by the GAN tests (a module, not conftest, so tests can import it)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_tiny_imagefolder(root: Path, counts: dict[str, int], size: int = 36, split: str | None = None) -> Path:
    """Grey cells: 'normal' are noisy flat squares, other classes add a dark crack line."""
    base = root / split if split else root
    for k, (cls, n) in enumerate(counts.items()):
        (base / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            r = np.random.default_rng(1000 * k + i + (7 if split == "test" else 0))
            img = (110 + r.integers(0, 30, (size, size))).astype(np.uint8)
            if cls != "normal":
                cv2.line(img, (2, 3 + i % 20), (size - 3, size - 5 - i % 7), 15, 2)
            cv2.imwrite(str(base / cls / f"{split or 'img'}_{cls}_{i:03d}.png"), img)
    return root


TINY = dict(channels=1, size=32, ngf=8, n_blocks=1, ndf=8, n_layers_d=2, pool_size=4, sample_every=0,
            precision="fp32", device="cpu")
