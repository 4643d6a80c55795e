"""The one place that imports Albumentations (after switching off its update check).

Albumentations imports PyTorch at import time only to offer ``ToTensorV2``, which augbench never
uses; that import is ~2 of the ~3 s a fresh ``augbench augment`` process spent starting (and each
spawned export worker paid it again). So when nothing has imported torch yet, Albumentations is
imported with torch hidden: its optional ``albumentations.pytorch`` import fails quietly, and the
hiding is undone at once, so a later ``import torch`` (the GUI, a classifier) works as usual.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")


def _import_without_torch() -> None:
    """Import albumentations with ``import torch`` failing, unless torch is already loaded."""
    if "torch" in sys.modules or "albumentations" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        import albumentations  # noqa: F401
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]


_import_without_torch()

import albumentations as A  # noqa: E402
from albumentations.core.transforms_interface import DualTransform, ImageOnlyTransform  # noqa: E402

__all__ = ["A", "DualTransform", "ImageOnlyTransform"]
