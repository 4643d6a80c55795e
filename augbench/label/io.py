"""Format dispatch at the file edge: read/write whichever format a file is in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Sequence

from augbench.core.errors import LabelFormatError
from augbench.label.types import ImageAnnotation
from augbench.label.voc import read_voc, write_voc
from augbench.label.yolo import read_yolo, write_yolo

BoxFormat = Literal["yolo", "voc"]


def format_of(label_file: Path) -> BoxFormat:
    suffix = label_file.suffix.lower()
    if suffix == ".txt":
        return "yolo"
    if suffix == ".xml":
        return "voc"
    raise LabelFormatError(label_file, f"unknown label format {suffix!r} (expected .txt or .xml)")


def read_labels(
    label_file: Path, image_path: Path, image_size: tuple[int, int], classes: Sequence[str]
) -> ImageAnnotation:
    """Read a YOLO or VOC file for an image of ``image_size`` (w, h) as displayed."""
    fmt = format_of(label_file)
    if fmt == "yolo":
        return read_yolo(label_file, image_size[0], image_size[1], classes, image_path=image_path)
    return read_voc(label_file, image_path=image_path, image_size=image_size)


def write_labels(label_file: Path, ann: ImageAnnotation, classes: Sequence[str]) -> Path:
    if format_of(label_file) == "yolo":
        return write_yolo(label_file, ann, classes)
    return write_voc(label_file, ann)
