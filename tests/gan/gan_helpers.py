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


CELL = 120
BARS = (40, 80)


def cell(seed: int, *, crack: bool = False, blob: bool = False, rgb: bool = False) -> np.ndarray:
    """An aligned grey 'solar cell': textured, two dark bus bars, dark surround; optional crack / dark blob."""
    r = np.random.default_rng(seed)
    img = np.full((CELL, CELL), 20, np.float32)
    img[6:-6, 6:-6] = 170 + r.normal(0, 4, (CELL - 12, CELL - 12))
    for y in BARS:
        img[y - 1:y + 2, 6:-6] = 70
    if crack:
        cv2.line(img, (25, 20 + seed % 5), (95, 100), 60, 2)
    if blob:
        cv2.ellipse(img, (60 + seed % 7, 60), (14, 8), 0, 0, 360, 50, -1)
    img = np.clip(img, 0, 255).astype(np.uint8)
    return (np.repeat(img[..., None], 3, axis=2) * np.array([1.0, 0.9, 0.8])).astype(np.uint8) if rgb else img


def write_cells(root: Path, counts: dict[str, int], split: str | None = None, ext: str = ".png",
                seed0: int = 0) -> Path:
    """An ImageFolder of :func:`cell` images: 'normal' clean, every other class with a crack (and a blob)."""
    base = root / split if split else root
    for k, (cls, n) in enumerate(counts.items()):
        (base / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            s = seed0 + 1000 * k + i
            img = cell(s) if cls == "normal" else cell(s, crack=True, blob=i % 2 == 0)
            cv2.imwrite(str(base / cls / f"{cls}_{s:04d}{ext}"), img)
    return root
