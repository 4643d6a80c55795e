"""Format dispatch at the file edge: read/write a per-image label file in whatever format its extension names.

The formats themselves (reader, writer, extension, detection) live in one
table, :data:`augbench.label.formats.FORMATS`; this module only looks rows up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from augbench.core.layout import PerImageFormat
from augbench.label.formats import for_file
from augbench.label.types import ImageAnnotation

BoxFormat = PerImageFormat


def format_of(label_file: Path) -> BoxFormat:
    """``"yolo"`` or ``"voc"`` from the extension; raises LabelFormatError for any other."""
    return for_file(label_file).name  # type: ignore[return-value]


def read_labels(
    label_file: Path, image_path: Path, image_size: tuple[int, int], classes: Sequence[str]
) -> ImageAnnotation:
    """Read a YOLO or VOC file for an image of ``image_size`` (w, h) as displayed."""
    return for_file(label_file).read(label_file, image_path, image_size, classes)


def write_labels(label_file: Path, ann: ImageAnnotation, classes: Sequence[str]) -> Path:
    """Write ``ann`` atomically in the format ``label_file``'s extension names."""
    return for_file(label_file).write(label_file, ann, classes)
