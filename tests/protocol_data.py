"""A tiny two-class folder and an issue-15 protocol split over it, shared by the classify and GUI tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def build_protocol_data(root: Path, n_normal: int, n_defect: int, *, seeds: list[int], **split_kw: Any) -> dict:
    """Write ``root/data/{normal,defect}/*.png`` (dark noise; defects with a bright square) and ``root/split.json``.

    ``split_kw`` goes to :func:`make_protocol_split` (n_test, n_val, n_oracle, n_major, n_minor); returns the split.
    """
    from augbench.classify.protocol import Item, make_protocol_split
    from augbench.core.imageio import write_image

    rng = np.random.default_rng(0)
    items = []
    for cls, n in (("normal", n_normal), ("defect", n_defect)):
        for i in range(n):
            img = rng.integers(0, 80, (32, 32), dtype=np.uint8)
            if cls == "defect":
                img[8:20, 8:20] = 230
            write_image(root / "data" / cls / f"{cls}{i:02d}.png", img)
            items.append(Item(f"{cls}/{cls}{i:02d}.png", cls))
    split = make_protocol_split(items, minority="defect", seeds=seeds, **split_kw)
    (root / "split.json").write_text(json.dumps(split))
    return split
