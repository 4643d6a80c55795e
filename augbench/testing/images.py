"""Deterministic test images: smooth, photo-like, different per seed.

Array images (:func:`make_photo`) for augmentation and labelling tests, and
encoded files (:func:`make_image`, :func:`near_copy`) for the crawler's
download, validation and duplicate tests.

Real augmentations behave differently on flat or pure-noise images (a blur of
noise is flat, a flip of a flat image is itself), so tests draw gradients and a
blob: every geometric or colour change is visible in the pixels.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


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


def make_image(seed: int, size: tuple[int, int] = (160, 120), fmt: str = "JPEG", quality: int = 90) -> bytes:
    """A distinct natural-looking image per seed (smooth colour blocks + discs), encoded as ``fmt``."""
    w, h = size
    r = np.random.default_rng(seed)
    grid = r.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    img = Image.fromarray(grid).resize((w, h), Image.Resampling.BICUBIC)
    arr = np.asarray(img).copy()
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(3):
        cx, cy, rad = r.integers(0, w), r.integers(0, h), r.integers(min(w, h) // 8, min(w, h) // 3)
        arr[(xx - cx) ** 2 + (yy - cy) ** 2 < rad**2] = r.integers(0, 256, 3)
    return encode(arr, fmt, quality)


def encode(arr: np.ndarray | Image.Image, fmt: str = "JPEG", quality: int = 90) -> bytes:
    """``arr`` encoded as a ``fmt`` file in memory (what a web server would send)."""
    img = arr if isinstance(arr, Image.Image) else Image.fromarray(arr)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buf.getvalue()


def near_copy(data: bytes, scale: float = 0.8, quality: int = 70) -> bytes:
    """A resized, re-encoded copy (what another site re-hosting the photo serves)."""
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        w, h = img.size
        small = img.resize((max(8, int(w * scale)), max(8, int(h * scale))), Image.Resampling.LANCZOS)
    return encode(small, "JPEG", quality)
