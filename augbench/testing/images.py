"""Deterministic test images: smooth, photo-like, different per seed.

Real augmentations behave differently on flat or pure-noise images (a blur of
noise is flat, a flip of a flat image is itself), so tests draw gradients and a
blob: every geometric or colour change is visible in the pixels.
"""

from __future__ import annotations

import numpy as np


def make_photo(w: int = 96, h: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth random colour image (gradients + a blob), ``h`` x ``w`` x 3 uint8, deterministic per seed."""
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        fx, fy, ph = r.uniform(0.02, 0.15), r.uniform(0.02, 0.15), r.uniform(0, 6)
        img[..., c] = 127 + 100 * np.sin(xx * fx + ph) * np.cos(yy * fy)
    cx, cy = r.integers(w // 4, 3 * w // 4), r.integers(h // 4, 3 * h // 4)
    img[(xx - cx) ** 2 + (yy - cy) ** 2 < (min(w, h) // 6) ** 2] = r.uniform(0, 255, 3)
    return np.clip(img, 0, 255).astype(np.uint8)
