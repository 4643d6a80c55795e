"""Export the ELPV solar-cell data set (package ``elpv-dataset``) as an ImageFolder.

2,624 real 300x300 grey electroluminescence images of solar cells, each with a
defect probability (0, 1/3, 2/3, 1) from experts. ``normal`` = probability 0,
``defect`` = probability >= ``defect_threshold``; the ambiguous middle values
can be excluded. Data licence: CC BY-NC-SA 4.0 (Buerhop-Lutz et al., Deitsch
et al.); anything synthesized from it inherits that licence.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from augbench.core.atomic import atomic_write_text
from augbench.core.errors import DependencyError
from augbench.core.imageio import write_image

LICENSE = "ELPV data set: CC BY-NC-SA 4.0 (Buerhop-Lutz et al. 2018; Deitsch et al. 2019); derived images inherit it."


def elpv_root() -> Path:
    try:
        import elpv_dataset
    except ImportError:
        raise DependencyError("the ELPV data needs `pip install elpv-dataset`") from None
    return Path(elpv_dataset.__file__).parent / "data"


def read_elpv_labels() -> list[tuple[Path, float, str]]:
    """(image path, defect probability, cell type 'mono'/'poly') for every cell."""
    root = elpv_root()
    rows = []
    with open(root / "labels.csv", encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3:
                rows.append((root / parts[0], float(parts[1]), parts[2]))
    return rows


def export_elpv(
    out_dir: str | os.PathLike[str],
    size: int = 128,
    defect_threshold: float = 0.5,
    include_ambiguous: bool = False,
    cell_type: str | None = None,
    limit_per_class: int | None = None,
) -> dict[str, int]:
    """Write ``out_dir/normal`` and ``out_dir/defect`` PNGs at ``size`` px; returns counts.

    Re-running skips files that exist. ``include_ambiguous=False`` drops the
    probability-1/3 cells, which experts could not call either way.
    """
    out = Path(out_dir)
    counts: Counter[str] = Counter()
    index_rows = []
    for path, prob, ctype in read_elpv_labels():
        if cell_type and ctype != cell_type:
            continue
        if prob == 0:
            cls = "normal"
        elif prob >= defect_threshold:
            cls = "defect"
        elif include_ambiguous:
            cls = "defect"
        else:
            continue
        if limit_per_class is not None and counts[cls] >= limit_per_class:
            continue
        dest = out / cls / f"{path.stem}.png"
        if not dest.exists():
            with Image.open(path) as im:
                im = im.convert("L")
                if size != im.width:
                    im = im.resize((size, size), Image.BICUBIC)
                write_image(dest, np.asarray(im))
        counts[cls] += 1
        index_rows.append((f"{cls}/{dest.name}", prob, ctype, path.name))
    lines = ["file,defect_probability,cell_type,source"] + [",".join(map(str, r)) for r in index_rows]
    atomic_write_text(out / "elpv_index.csv", "\n".join(lines) + "\n")
    atomic_write_text(out / "LICENSE.txt", LICENSE + "\n")
    return dict(counts)


__all__ = ["LICENSE", "export_elpv", "read_elpv_labels", "csv"]
