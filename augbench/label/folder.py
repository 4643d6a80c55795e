"""Reading the labels of many images, each with the right ``classes.txt``.

Where the files are (label file of an image, its ``classes.txt``) is decided
by :mod:`augbench.core.layout`; how a format is read, by the table in
:mod:`augbench.label.formats`. This module only caches ``classes.txt`` so a
folder of thousands of YOLO files reads it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from augbench.core.imageio import image_size
from augbench.core.layout import PerImageFormat, classes_file_for, read_classes
from augbench.label.formats import for_file
from augbench.label.types import ImageAnnotation

Fmt = PerImageFormat


class LabelReader:
    """Reads label files of many images, caching each ``classes.txt`` once."""

    def __init__(self) -> None:
        self._classes: dict[Path, list[str]] = {}

    def classes_for(self, label_file: Path) -> list[str]:
        """Names for the ids of a YOLO ``label_file`` ([] when no ``classes.txt`` applies: ids stay numbers)."""
        ct = classes_file_for(label_file)
        if ct is None:
            return []
        if ct not in self._classes:
            self._classes[ct] = read_classes(ct)
        return self._classes[ct]

    def read(self, image: Path, label_file: Path, size: tuple[int, int] | None = None) -> ImageAnnotation:
        """Read ``label_file`` for ``image`` whose displayed (EXIF-applied) size is ``size``."""
        fmt = for_file(label_file)
        if size is None:
            size = image_size(image)
        classes = self.classes_for(label_file) if fmt.uses_classes_txt else []
        return fmt.read(label_file, image, size, classes)


def yolo_ids_in(files: Sequence[Path]) -> int:
    """The largest class id used in YOLO ``files`` (-1 if none); unreadable lines are ignored here."""
    top = -1
    for f in files:
        try:
            for line in f.read_text(encoding="utf-8-sig").splitlines():
                parts = line.split()
                if parts and parts[0].isdigit():
                    top = max(top, int(parts[0]))
        except (OSError, UnicodeDecodeError):
            continue
    return top
