"""Fixtures of the label tests: a small labelled folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from augbench.core.imageio import write_image
from augbench.label.types import Box, ImageAnnotation
from augbench.label.voc import write_voc


@pytest.fixture
def voc_folder(tmp_path: Path) -> Path:
    """Three 60x40 images: two with VOC labels (Korean class name included), one unlabelled."""
    d = tmp_path / "데이터 셋"
    d.mkdir()
    for i in range(3):
        p = d / f"img{i}.png"
        write_image(p, np.full((40, 60, 3), 40 * i, np.uint8))
        if i < 2:
            write_voc(p.with_suffix(".xml"), ImageAnnotation(p, 60, 40, 3, [
                Box(3, 4, 30, 20, "고양이"), Box(10, 10, 59, 39, "dog", difficult=True)]))
    return d
