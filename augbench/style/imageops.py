"""Image helpers of the style engines: RGB conversion, network-size fitting, cache keys, box masks, compositing.

Kept apart from :mod:`augbench.style.engine` so the engines hold only network logic; every name here is also
importable from ``augbench.style.engine`` (the engine module imports them).
"""

from __future__ import annotations

import hashlib
from typing import Literal, Sequence

import cv2
import numpy as np

MaskMode = Literal["all", "foreground", "background"]

MIN_SIDE = 64  # below this relu4_1 is a few pixels: upscale first
MIN_NET_SIDE = 16  # a thinner image (e.g. 1x300) cannot be encoded: it is refused with a clear reason


def as_rgb(img: np.ndarray) -> np.ndarray:
    """Any uint8 image (grey HxW, HxWx1, RGB, RGBA) as contiguous HxWx3 RGB."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"not an image array: shape {a.shape}")
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    return np.ascontiguousarray(a[..., :3])


def fit_side(img: np.ndarray, max_side: int, min_side: int = MIN_SIDE) -> np.ndarray:
    """Scale so the longer side is <= max_side and the shorter >= min_side (when possible)."""
    h, w = img.shape[:2]
    scale = 1.0
    if max(h, w) > max_side:  # the cap wins (memory); thin images may end up below min_side
        scale = max_side / max(h, w)
    elif min(h, w) < min_side:
        scale = min(min_side / min(h, w), max_side / max(h, w))
    if abs(scale - 1.0) < 1e-6:
        return img
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(img, (nw, nh), interpolation=interp)


def image_key(img: np.ndarray) -> str:
    """Cheap content hash of an array (cache key)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(str(img.shape).encode())
    h.update(np.ascontiguousarray(img[::4, ::4]).tobytes())
    return h.hexdigest()


def boxes_to_mask(boxes: Sequence[Sequence[float]], height: int, width: int) -> np.ndarray:
    """Pixel xyxy boxes -> a uint8 HxW foreground mask (255 inside any box)."""
    m = np.zeros((height, width), np.uint8)
    for b in boxes:
        x0, y0, x1, y1 = (int(round(v)) for v in b[:4])
        x0, x1 = sorted((max(0, x0), min(width, x1)))
        y0, y1 = sorted((max(0, y0), min(height, y1)))
        m[y0:y1, x0:x1] = 255
    return m


def composite_region(content: np.ndarray, stylized: np.ndarray, mask: np.ndarray | None,
                     mask_mode: MaskMode, feather: int = 3) -> np.ndarray:
    """Paste the stylized pixels only inside the styled region; outside it the content stays exact.

    The feature-level masked AdaIN leaves the other region's *features*
    unchanged, but the decoder still redraws them (its reconstruction is not
    perfect and its receptive field crosses the mask edge), so "objects only"
    used to repaint the background too. The blend weight is the region mask
    blurred by ``feather`` px and then cut back to the region, so the seam is
    soft inside the region and the outside is untouched, bit for bit.
    """
    if mask is None or mask_mode == "all":
        return stylized
    m = np.asarray(mask)
    if m.ndim == 3:
        m = m[..., 0]
    h, w = stylized.shape[:2]
    region = (m > 0).astype(np.float32)
    if region.shape != (h, w):
        region = cv2.resize(region, (w, h), interpolation=cv2.INTER_NEAREST)
    if mask_mode == "background":
        region = 1.0 - region
    weight = region
    if feather > 0:
        k = 2 * feather + 1
        weight = cv2.GaussianBlur(region, (k, k), 0) * region
    weight = weight[..., None]
    out = stylized.astype(np.float32) * weight + as_rgb(content).astype(np.float32) * (1.0 - weight)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
