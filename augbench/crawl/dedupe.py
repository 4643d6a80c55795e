"""Exact (sha256) and near-duplicate (perceptual hash) detection across a whole crawl.

One index spans every keyword folder and engine of an output folder, so the
same photo found under two keywords, or re-encoded and resized by another
site, is kept once. ``claim`` checks and records in one locked step, so two
download threads can never both keep the same image.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image
from scipy.fft import dctn


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def phash(img: Image.Image) -> int:
    """64-bit DCT perceptual hash (the classic pHash): robust to resizing and JPEG re-encoding.

    Grey 32x32 -> 2-D DCT -> the 8x8 lowest frequencies (DC excluded from the
    median) -> one bit per coefficient above the median.
    """
    small = img.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    coeffs = dctn(np.asarray(small, dtype=np.float64), norm="ortho")[:8, :8]
    flat = coeffs.flatten()
    med = np.median(flat[1:])
    bits = flat > med
    value = 0
    for b in bits:
        value = (value << 1) | int(b)
    return value


def phash_hex(value: int) -> str:
    return f"{value:016x}"


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


@dataclass
class Verdict:
    """Result of :meth:`DedupeIndex.claim`: ``kind`` is ``new``, ``duplicate`` or ``near_duplicate``."""

    kind: str
    match: str = ""  # the file (or URL) that was kept first
    distance: int = 0


class DedupeIndex:
    """Thread-safe set of kept images (sha256 -> where, phash list)."""

    def __init__(self, near_threshold: int = 6) -> None:
        self.near_threshold = near_threshold
        self._sha: dict[str, str] = {}
        self._phashes: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sha)

    def add(self, sha: str, ph: int | None, where: str) -> None:
        """Record an image kept earlier (e.g. from a manifest on resume)."""
        with self._lock:
            self._sha.setdefault(sha, where)
            if ph is not None:
                self._phashes.append((ph, where))

    def claim(self, sha: str, ph: int | None, where: str | Callable[[], str]) -> Verdict:
        """Check ``sha``/``ph`` against the kept set and, if new, keep it under ``where``.

        ``where`` may be a callable, called only for a new image and inside the
        lock, so file numbers are handed out to kept images only (no gaps).
        """
        with self._lock:
            if sha in self._sha:
                return Verdict("duplicate", self._sha[sha], 0)
            if ph is not None and self.near_threshold >= 0:
                best: tuple[int, str] | None = None
                for other, other_where in self._phashes:
                    d = hamming(ph, other)
                    if d <= self.near_threshold and (best is None or d < best[0]):
                        best = (d, other_where)
                if best is not None:
                    return Verdict("near_duplicate", best[1], best[0])
            name = where() if callable(where) else where
            self._sha[sha] = name
            if ph is not None:
                self._phashes.append((ph, name))
            return Verdict("new", name)

    def release(self, sha: str, ph: int | None, where: str) -> None:
        """Undo a claim whose file could not be written (so a later copy may be kept)."""
        with self._lock:
            if self._sha.get(sha) == where:
                del self._sha[sha]
            if ph is not None:
                self._phashes = [(p, w) for p, w in self._phashes if not (p == ph and w == where)]
