"""Scanning data set folders in the layouts every tab speaks.

* ImageFolder: ``root/<class>/*.jpg`` (optionally ``root/{train,val,test}/<class>/``)
* flat detection folders: ``root/*.jpg`` with YOLO ``.txt`` / VOC ``.xml``
  next to the images or under ``labels/`` / ``Annotations/``, masks as PNG
  under ``masks/`` or next to the image with a ``_mask`` suffix.

Scanning never decodes images; it only finds files and pairs them, through
:mod:`augbench.core.layout` (the same rules the Label tab uses).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from augbench.core.errors import DatasetError
from augbench.core.imageio import IMAGE_EXTS
from augbench.core.layout import NON_IMAGE_DIRS, classes_for_folder, find_label, find_mask, format_of_suffix, list_images

SPLITS = ("train", "val", "test")
LabelFormatName = Literal["yolo", "voc", "none"]  # a per-image row of label.formats.FORMATS, or none


@dataclass
class Item:
    """One image and what belongs to it."""

    image: Path
    label_class: str | None = None  # ImageFolder class (folder name), None for flat folders
    split: str | None = None
    label_file: Path | None = None  # YOLO txt or VOC xml
    mask_file: Path | None = None

    def rel(self, root: Path) -> Path:
        return self.image.relative_to(root)


@dataclass
class DatasetInfo:
    """What a folder contains: items, classes, label format, counts."""

    root: Path
    items: list[Item] = field(default_factory=list)
    layout: Literal["imagefolder", "split-imagefolder", "flat"] = "flat"
    label_format: LabelFormatName = "none"
    box_classes: list[str] = field(default_factory=list)  # from classes.txt (YOLO)

    @property
    def classes(self) -> list[str]:
        return sorted({i.label_class for i in self.items if i.label_class is not None})

    def class_counts(self, split: str | None = None) -> dict[str, int]:
        c = Counter(i.label_class for i in self.items if i.label_class is not None and (split is None or i.split == split))
        return {k: c[k] for k in sorted(c)}

    @property
    def n_masks(self) -> int:
        return sum(1 for i in self.items if i.mask_file is not None)

    @property
    def n_labels(self) -> int:
        return sum(1 for i in self.items if i.label_file is not None)


def scan_dataset(root: str | os.PathLike[str]) -> DatasetInfo:
    """Scan ``root`` and describe it; raises DatasetError if no image is found."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    subdirs = sorted(d for d in root.iterdir() if d.is_dir() and d.name.lower() not in NON_IMAGE_DIRS)
    info = DatasetInfo(root=root)
    split_dirs = [d for d in subdirs if d.name.lower() in SPLITS]
    if split_dirs and all(any(c.is_dir() for c in d.iterdir()) for d in split_dirs):
        info.layout = "split-imagefolder"
        for sd in split_dirs:
            for cd in sorted(c for c in sd.iterdir() if c.is_dir() and c.name.lower() not in NON_IMAGE_DIRS):
                for img in list_images(cd, recursive=True):
                    info.items.append(Item(img, cd.name, sd.name.lower()))
    else:
        flat = list_images(root)
        class_items = []
        for cd in subdirs:
            imgs = list_images(cd, recursive=True)
            class_items.extend(Item(img, cd.name) for img in imgs)
        if class_items and not flat:
            info.layout = "imagefolder"
            info.items = class_items
        else:
            info.layout = "flat"
            info.items = [Item(img) for img in flat]
            # Images in sub-folders of a flat detection set are still images.
            info.items += [Item(i.image) for i in class_items]
    if not info.items:
        raise DatasetError(f"no images found under {root} (looked for {', '.join(IMAGE_EXTS)})")
    fmt_counts: Counter[str] = Counter()
    for item in info.items:
        item.label_file = find_label(item.image)
        item.mask_file = find_mask(item.image)
        if item.label_file is not None:
            fmt_counts[format_of_suffix(item.label_file) or "none"] += 1
    if fmt_counts:
        info.label_format = fmt_counts.most_common(1)[0][0]  # type: ignore[assignment]
    info.box_classes = classes_for_folder(root)
    return info
