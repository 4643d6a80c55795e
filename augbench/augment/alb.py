"""The one place that imports Albumentations (after switching off its update check)."""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import albumentations as A  # noqa: E402
from albumentations.core.transforms_interface import DualTransform, ImageOnlyTransform  # noqa: E402

__all__ = ["A", "DualTransform", "ImageOnlyTransform"]
