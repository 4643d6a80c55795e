"""Background whitening: set everything outside the object to white (255).

The paper whitens the background so the GAN spends its capacity on the object
and its defect instead of the clutter around it. The foreground comes from a
mask PNG or boxes (the Label tab's output) when given, else automatically from
Otsu thresholding (fast; for objects darker or brighter than a plain background)
or GrabCut (slower; initialised with a centred rectangle). ``preview`` shows
what was kept, so a user can judge before training on it.
"""

from __future__ import annotations

from typing import Literal, Sequence

import cv2
import numpy as np

WhitenMode = Literal["none", "otsu", "grabcut", "mask"]


def _gray(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def otsu_foreground(img: np.ndarray) -> np.ndarray:
    """Boolean foreground: the Otsu class that does not touch most of the border, cleaned, largest blob."""
    g = cv2.GaussianBlur(_gray(img), (5, 5), 0)
    _, th = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    fg = th > 0
    border = np.concatenate([fg[0], fg[-1], fg[:, 0], fg[:, -1]])
    if border.mean() > 0.5:  # the bright class is the background
        fg = ~fg
    fg_u8 = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg_u8)
    if n <= 1:
        return np.ones(fg.shape, bool)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    out = lab == biggest
    # fill holes: the object's interior (a defect) must never be whitened
    filled = out.astype(np.uint8)
    contours, _ = cv2.findContours(filled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled.astype(bool)


def grabcut_foreground(img: np.ndarray, margin: float = 0.05, iters: int = 3) -> np.ndarray:
    """Boolean foreground from GrabCut started with a rectangle ``margin`` inside the border."""
    rgb = img if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    h, w = rgb.shape[:2]
    mx, my = max(1, int(w * margin)), max(1, int(h * margin))
    mask = np.zeros((h, w), np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(rgb, mask, (mx, my, w - 2 * mx, h - 2 * my), bgd, fgd, iters, cv2.GC_INIT_WITH_RECT)
    except cv2.error:
        return np.ones((h, w), bool)
    fg = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    return fg if fg.any() else np.ones((h, w), bool)


def boxes_foreground(shape: tuple[int, int], boxes: Sequence[Sequence[float]]) -> np.ndarray:
    """Boolean foreground: the union of pixel xyxy boxes."""
    fg = np.zeros(shape, bool)
    for x1, y1, x2, y2 in boxes:
        fg[max(0, int(y1)):max(0, int(round(y2))), max(0, int(x1)):max(0, int(round(x2)))] = True
    return fg


def whiten(img: np.ndarray, fg: np.ndarray) -> np.ndarray:
    """Copy of ``img`` with every background pixel set to 255."""
    out = img.copy()
    out[~fg] = 255
    return out


def foreground(img: np.ndarray, mode: WhitenMode, mask: np.ndarray | None = None,
               boxes: Sequence[Sequence[float]] | None = None) -> np.ndarray:
    """The foreground for ``mode``; ``mask`` mode uses the mask, else the boxes, else Otsu."""
    h, w = img.shape[:2]
    if mode == "none":
        return np.ones((h, w), bool)
    if mode == "mask":
        if mask is not None:
            m = mask if mask.ndim == 2 else mask[..., 0]
            if m.shape != (h, w):
                m = cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST)
            return m > 0
        if boxes:
            return boxes_foreground((h, w), boxes)
        return otsu_foreground(img)
    if mode == "otsu":
        return otsu_foreground(img)
    if mode == "grabcut":
        return grabcut_foreground(img)
    raise ValueError(f"unknown whitening mode {mode!r}")


def preview(img: np.ndarray, fg: np.ndarray) -> np.ndarray:
    """RGB strip: original | kept foreground tinted | whitened result (to check before training)."""
    rgb = img if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    tint = rgb.copy()
    tint[fg] = (0.6 * tint[fg] + 0.4 * np.array([0, 200, 0])).astype(np.uint8)
    sep = np.full((rgb.shape[0], 4, 3), 128, np.uint8)
    return np.concatenate([rgb, sep, tint, sep, whiten(rgb, fg)], axis=1)
