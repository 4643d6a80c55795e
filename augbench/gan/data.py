"""Unpaired image data for CycleGAN: two folders (domain A, domain B) held in memory.

Small defect data sets fit in memory easily at 64-256 px, and holding them
there makes every batch a pure function of (seed, epoch, step): the order,
the B partner, the crop and the flip are drawn from a NumPy generator seeded
with those numbers. A resumed run therefore sees exactly the batches an
uninterrupted one would, with no sampler state to save.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
import torch

from augbench.core.errors import DatasetError, ImageReadError
from augbench.core.imageio import read_image
from augbench.core.layout import find_mask
from augbench.core.layout import list_images as layout_images
from augbench.gan.whiten import WhitenMode, foreground, whiten


def list_images(folder: str | os.PathLike[str]) -> list[Path]:
    """Image files directly in ``folder`` (sorted, so runs are reproducible)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"image folder not found: {folder}")
    return layout_images(folder)


def load_image(path: Path, channels: int, size: int, whiten_mode: WhitenMode = "none") -> np.ndarray:
    """Read, optionally whiten, resize to ``size`` x ``size``; HxWxC uint8."""
    img = read_image(path, mode="gray" if channels == 1 else "rgb")
    if whiten_mode != "none":
        mask = None
        if whiten_mode == "mask":
            mp = find_mask(path)
            if mp is not None:
                mask = read_image(mp, mode="gray")
        img = whiten(img, foreground(img, whiten_mode, mask=mask))
    if img.shape[:2] != (size, size):
        interp = cv2.INTER_AREA if min(img.shape[:2]) > size else cv2.INTER_CUBIC
        img = cv2.resize(img, (size, size), interpolation=interp)
    if img.ndim == 2:
        img = img[..., None]
    return img


def load_folder(paths: Sequence[Path], channels: int, size: int, whiten_mode: WhitenMode = "none"
                ) -> tuple[np.ndarray, list[Path], list[tuple[str, str]]]:
    """Load many images; unreadable ones are returned as (path, reason) instead of raising."""
    arrays, kept, skipped = [], [], []
    for p in paths:
        try:
            arrays.append(load_image(p, channels, size, whiten_mode))
            kept.append(p)
        except ImageReadError as exc:
            skipped.append((str(p), str(exc)))
    if not arrays:
        return np.zeros((0, size, size, channels), np.uint8), kept, skipped
    return np.stack(arrays), kept, skipped


def to_tensor(batch: np.ndarray) -> torch.Tensor:
    """NxHxWxC uint8 -> NxCxHxW float in [-1, 1]."""
    t = torch.from_numpy(np.require(batch, requirements=["C", "W"])).permute(0, 3, 1, 2).float()  # PIL arrays are read-only
    return t / 127.5 - 1.0


def to_uint8(t: torch.Tensor) -> np.ndarray:
    """NxCxHxW in [-1, 1] -> NxHxWxC uint8."""
    arr = ((t.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    return arr


@dataclass
class UnpairedData:
    """Domain A and B images at ``load_size``; batches are random crops of ``crop_size`` with flips."""

    a: np.ndarray
    b: np.ndarray
    crop_size: int
    flip: bool = True
    seed: int = 0
    # Defect-aware crops: per B image, flat pixel indices (at the stored size) of its defect. A random
    # crop of a defect cell usually holds no defect, and a discriminator that cannot tell "defect crop"
    # from "normal crop" lets the generator settle on the identity (the ELPV run); with ``b_focus`` a
    # B crop is centred on a defect pixel with probability ``focus_p``.
    b_focus: list[np.ndarray] | None = None
    focus_p: float = 0.8

    def __post_init__(self) -> None:
        if len(self.a) == 0 or len(self.b) == 0:
            raise DatasetError("CycleGAN needs at least one image in each domain")

    def steps_per_epoch(self, batch_size: int) -> int:
        return max(1, math.ceil(len(self.a) / batch_size))

    def _augment(self, img: np.ndarray, rng: np.random.Generator, focus: np.ndarray | None = None) -> np.ndarray:
        h, w = img.shape[:2]
        c = self.crop_size
        if focus is not None and len(focus) and rng.random() < self.focus_p:
            cy, cx = divmod(int(focus[int(rng.integers(0, len(focus)))]), w)
            y, x = min(max(cy - c // 2, 0), max(h - c, 0)), min(max(cx - c // 2, 0), max(w - c, 0))
        else:
            y = int(rng.integers(0, h - c + 1)) if h > c else 0
            x = int(rng.integers(0, w - c + 1)) if w > c else 0
        img = img[y:y + c, x:x + c]
        if self.flip and rng.random() < 0.5:
            img = img[:, ::-1]
        return img

    def batch(self, epoch: int, step: int, batch_size: int, stream: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch ``step`` of ``epoch``; ``stream`` > 0 gives extra independent batches (extra D steps)."""
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.a))
        rng = np.random.default_rng([self.seed, epoch, step, stream, 7])
        if stream == 0:
            idx = [order[(step * batch_size + i) % len(order)] for i in range(batch_size)]
        else:
            idx = list(rng.integers(0, len(self.a), batch_size))
        jdx = list(rng.integers(0, len(self.b), batch_size))
        a = np.stack([self._augment(self.a[i], rng) for i in idx])
        focus = self.b_focus
        b = np.stack([self._augment(self.b[j], rng, focus[j] if focus is not None else None) for j in jdx])
        return to_tensor(a), to_tensor(b)


def focus_indices(masks: Sequence[np.ndarray | None], size: int) -> list[np.ndarray]:
    """Flat defect-pixel indices of each mask resized to ``size`` x ``size`` (empty where no mask)."""
    out = []
    for m in masks:
        if m is None or not np.any(m):
            out.append(np.zeros(0, np.int64))
            continue
        small = cv2.resize((m > 0).astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)
        out.append(np.flatnonzero(small).astype(np.int64))
    return out
