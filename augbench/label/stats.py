"""Label statistics of a folder: what to look at before augmenting.

Class counts (imbalance), boxes per image, images without labels, empty label
files, unreadable ones, and a histogram of box sizes relative to the image
(tiny boxes are the ones augmentation crops clip or drop first).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from augbench.core.errors import ImageReadError, LabelFormatError
from augbench.core.layout import find_label, label_dir, list_images
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.label.folder import Fmt, LabelReader
from augbench.label.formats import for_file
from augbench.label.registry import ClassRegistry

# Edges of sqrt(box area / image area), in percent.
SIZE_BINS = (0, 2, 5, 10, 20, 40, 70, 100)


def size_bin_labels() -> list[str]:
    return [f"{a}-{b}%" for a, b in zip(SIZE_BINS[:-1], SIZE_BINS[1:], strict=True)]


@dataclass
class LabelStats:
    """Counts for one folder; ``to_dict`` is what the job stores in ``result.metrics``."""

    folder: str
    n_images: int = 0
    n_labelled: int = 0
    n_boxes: int = 0
    class_counts: dict[str, int] = field(default_factory=dict)
    images_per_class: dict[str, int] = field(default_factory=dict)
    boxes_per_image: dict[int, int] = field(default_factory=dict)  # n boxes -> n images
    size_hist: dict[str, int] = field(default_factory=dict)  # relative size bin -> n boxes
    coco_sizes: dict[str, int] = field(default_factory=dict)  # small (<32^2 px) / medium / large (>96^2)
    missing: list[str] = field(default_factory=list)  # images without a label file
    empty: list[str] = field(default_factory=list)  # label files without boxes
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    formats: dict[str, int] = field(default_factory=dict)

    @property
    def imbalance(self) -> float:
        """Largest class count over the smallest (inf when a known class has no box)."""
        counts = list(self.class_counts.values())
        if not counts:
            return 1.0
        return math.inf if min(counts) == 0 else max(counts) / min(counts)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["boxes_per_image"] = {str(k): v for k, v in sorted(self.boxes_per_image.items())}
        d["imbalance"] = None if math.isinf(self.imbalance) else round(self.imbalance, 3)
        d["unreadable"] = [list(x) for x in self.unreadable]
        return d

    def to_text(self, width: int = 40) -> str:
        """A plain report with text bars (for the CLI)."""
        lines = [
            f"folder: {self.folder}",
            f"images: {self.n_images}   labelled: {self.n_labelled}   boxes: {self.n_boxes}   "
            f"missing labels: {len(self.missing)}   empty label files: {len(self.empty)}   "
            f"unreadable: {len(self.unreadable)}",
            "",
            "boxes per class:",
        ]
        lines += _bars(self.class_counts, width)
        imb = self.imbalance
        lines.append(f"  imbalance (max/min): {'inf' if math.isinf(imb) else f'{imb:.2f}'}")
        lines += ["", "boxes per image:"] + _bars({str(k): v for k, v in sorted(self.boxes_per_image.items())}, width)
        lines += ["", "box size (sqrt of area share of the image):"] + _bars(self.size_hist, width)
        lines += ["", "COCO size classes:"] + _bars(self.coco_sizes, width)
        for f, why in self.unreadable[:20]:
            lines.append(f"unreadable: {f}: {why}")
        return "\n".join(lines) + "\n"


def _bars(counts: dict[str, int], width: int) -> list[str]:
    if not counts:
        return ["  (none)"]
    top = max(counts.values()) or 1
    pad = max(len(k) for k in counts)
    return [f"  {k:<{pad}} {v:6d} {'#' * round(width * v / top)}" for k, v in counts.items()]


def compute_stats(
    folder: str | Path,
    prefer: Fmt = "yolo",
    *,
    progress: ProgressFn = null_progress,
    cancel: CancelToken | None = None,
) -> LabelStats:
    """Read every label file of ``folder`` (header-only image reads) and count."""
    folder = Path(folder)
    cancel = cancel or CancelToken()
    images = list_images(folder)
    reg = ClassRegistry.for_folder(label_dir(folder, "yolo"))
    st = LabelStats(str(folder), n_images=len(images))
    reader = LabelReader()
    counts: Counter[str] = Counter({n: 0 for n in reg.names})
    per_image: Counter[str] = Counter({n: 0 for n in reg.names})
    bpi: Counter[int] = Counter()
    sizes: Counter[str] = Counter({k: 0 for k in size_bin_labels()})
    coco: Counter[str] = Counter({"small": 0, "medium": 0, "large": 0})
    fmts: Counter[str] = Counter()
    bins = size_bin_labels()
    for i, img in enumerate(images):
        cancel.check()
        if i % 20 == 0:
            progress(Progress(i, len(images), f"reading labels of {img.name}"))
        lf = find_label(img, prefer)
        if lf is None:
            st.missing.append(img.name)
            continue
        try:
            ann = reader.read(img, lf)
        except (LabelFormatError, ImageReadError, OSError) as exc:
            st.unreadable.append((lf.name, str(exc)))
            continue
        fmts[for_file(lf).name] += 1
        st.n_labelled += 1
        if not ann.boxes:
            st.empty.append(lf.name)
        bpi[len(ann.boxes)] += 1
        for name in set(ann.labels):
            per_image[name] += 1
        for b in ann.boxes:
            counts[b.label] += 1
            rel = 100 * math.sqrt(b.area / max(1, ann.width * ann.height))
            k = next((j for j in range(len(bins)) if rel < SIZE_BINS[j + 1]), len(bins) - 1)
            sizes[bins[k]] += 1
            coco["small" if b.area < 32**2 else "medium" if b.area < 96**2 else "large"] += 1
    progress(Progress(len(images), len(images), "done"))
    st.n_boxes = sum(counts.values())
    order = reg.names + sorted(n for n in counts if n not in reg)
    st.class_counts = {n: counts[n] for n in order}
    st.images_per_class = {n: per_image[n] for n in order}
    st.boxes_per_image = dict(sorted(bpi.items()))
    st.size_hist = dict(sizes)
    st.coco_sizes = dict(coco)
    st.formats = dict(fmts)
    return st
