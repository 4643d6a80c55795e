"""Frozen-backbone features with a content-addressed disk cache.

Issue 15 asks for 10+ seeds x many arms on ELPV at 224 px on a 2-core CPU. A
frozen EfficientNet-Lite0 costs ~30-60 ms per image; a logistic regression on
its 1280-d features costs milliseconds. So every image (real, augmented copy or
synthetic) is embedded once and the vector is stored under the SHA-256 of its
decoded pixels (plus the extractor's id and input size): an augmented copy made
again with the same (image, seed, copy) has the same pixels and hits the cache;
an image that changed on disk misses it. Nothing is keyed by path, so a
renamed or moved file costs nothing and a replaced file is never served stale.

The cache is append-only: each :meth:`FeatureCache.flush` writes one new
``part-*.npz`` atomically, so a killed run loses at most the unflushed batch
and two runs never rewrite each other's files.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from augbench.core.atomic import atomic_write_bytes


def pixel_key(img: np.ndarray, tag: str) -> str:
    """SHA-256 of the pixels, shape and dtype, salted with ``tag`` (extractor id + size)."""
    h = hashlib.sha256(tag.encode())
    h.update(repr((img.shape, str(img.dtype))).encode())
    h.update(np.ascontiguousarray(img).tobytes())
    return h.hexdigest()


class FeatureCache:
    """Vectors by key, loaded from ``root/part-*.npz`` and appended by :meth:`flush`."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._vec: dict[str, np.ndarray] = {}
        self._new: dict[str, np.ndarray] = {}
        for part in sorted(self.root.glob("part-*.npz")):
            try:
                with np.load(part, allow_pickle=False) as z:
                    for k, v in zip(z["keys"], z["vectors"]):
                        self._vec[str(k)] = v
            except (OSError, ValueError, KeyError):
                continue  # a damaged part only costs a recomputation

    def __len__(self) -> int:
        return len(self._vec)

    def __contains__(self, key: str) -> bool:
        return key in self._vec

    def get(self, key: str) -> np.ndarray | None:
        return self._vec.get(key)

    def put(self, key: str, vec: np.ndarray) -> None:
        v = np.asarray(vec, dtype=np.float32)
        self._vec[key] = v
        self._new[key] = v

    def flush(self) -> Path | None:
        """Write the vectors added since the last flush as one new part file (None when nothing is new)."""
        if not self._new:
            return None
        import io

        buf = io.BytesIO()
        keys = np.array(list(self._new), dtype="<U64")
        np.savez(buf, keys=keys, vectors=np.stack(list(self._new.values())))
        path = self.root / f"part-{len(list(self.root.glob('part-*.npz'))):05d}-{uuid.uuid4().hex[:8]}.npz"
        atomic_write_bytes(path, buf.getvalue())
        self._new.clear()
        return path


class Lite0Features:
    """Frozen ImageNet EfficientNet-Lite0 at ``size`` px: uint8 images (grey or RGB) -> 1280-d vectors."""

    def __init__(self, size: int = 224, batch_size: int = 32) -> None:
        from augbench.classify.models import build_model

        self.size = size
        self.batch_size = batch_size
        self.tag = f"efficientnet_lite0-imagenet-{size}"
        net = build_model("efficientnet_lite0", 2, pretrained="imagenet", freeze_backbone=True)
        net.eval()
        self.features = net.features
        self.mean, self.std = net.mean, net.std

    def prepare(self, img: np.ndarray) -> np.ndarray:
        """Resize (area filter when shrinking) and make 3 channels: the exact pixels that get embedded."""
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[..., 0]
        if img.shape[0] != self.size or img.shape[1] != self.size:
            interp = cv2.INTER_AREA if img.shape[0] > self.size else cv2.INTER_LINEAR
            img = cv2.resize(img, (self.size, self.size), interpolation=interp)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        return np.ascontiguousarray(img[..., :3], dtype=np.uint8)

    @torch.no_grad()
    def embed(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        """Prepared HxWx3 uint8 images -> (n, 1280) float32, no cache."""
        x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float().div_(255.0)
        x = (x - self.mean) / self.std
        return self.features(x).numpy().astype(np.float32)


def extract(images: Sequence[np.ndarray], extractor: Lite0Features, cache: FeatureCache,
            flush_every: int = 256) -> np.ndarray:
    """Feature rows for ``images`` in order, computing only those the cache lacks."""
    prepared = [extractor.prepare(im) for im in images]
    keys = [pixel_key(p, extractor.tag) for p in prepared]
    todo = [i for i, k in enumerate(keys) if k not in cache]
    seen: set[str] = set()
    todo = [i for i in todo if not (keys[i] in seen or seen.add(keys[i]))]  # type: ignore[func-returns-value]
    since_flush = 0
    for start in range(0, len(todo), extractor.batch_size):
        idx = todo[start:start + extractor.batch_size]
        for i, v in zip(idx, extractor.embed([prepared[i] for i in idx])):
            cache.put(keys[i], v)
        since_flush += len(idx)
        if since_flush >= flush_every:
            cache.flush()
            since_flush = 0
    cache.flush()
    if not keys:
        return np.zeros((0, 1280), np.float32)
    return np.stack([cache.get(k) for k in keys])  # type: ignore[misc]


__all__ = ["FeatureCache", "Lite0Features", "extract", "pixel_key"]
