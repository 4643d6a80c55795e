"""The label formats augbench reads and writes, in one table.

LabelImg picks a format with ``if``/``elif`` inside its window, and augbench
once repeated such a chain in five files. Here each format is one
:class:`LabelFormat` row — name, title, file extension, reader, writer and a
detection function — and callers look a row up instead of comparing names.
Adding a format means adding a row; ``tests/label/test_label_formats_table.py``
walks every row (write, detect, read back) and so fails for a row that does
not round-trip.

Two kinds of rows: *per-image* formats (YOLO txt, Pascal VOC xml) have one
file per image, found through :mod:`augbench.core.layout`; *collection*
formats (COCO json) hold a whole folder in one file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from augbench.core.atomic import atomic_write_text
from augbench.core.errors import LabelFormatError
from augbench.core.layout import CLASSES_TXT, LABEL_SUBDIR, LABEL_SUFFIX
from augbench.label.coco import read_coco, to_coco
from augbench.label.types import ImageAnnotation
from augbench.label.voc import format_voc, parse_voc
from augbench.label.yolo import format_yolo, parse_yolo

# (label file, image, displayed (w, h), class names) -> annotation
ReadOne = Callable[[Path, Path, tuple[int, int], Sequence[str]], ImageAnnotation]
DumpsOne = Callable[[ImageAnnotation, Sequence[str]], str]
ReadAll = Callable[[Path, Path], tuple[list[ImageAnnotation], list[str]]]  # (file, image root)
DumpsAll = Callable[[Sequence[ImageAnnotation], Sequence[str], Path], str]  # (annotations, classes, image root)


@dataclass(frozen=True)
class LabelFormat:
    """One row of the table. Per-image rows set ``read_one``/``dumps_one``; collection rows ``read_all``/``dumps_all``."""

    name: str
    title: str  # shown in menus and messages
    suffix: str
    subdir: str | None  # conventional sub-folder of the label files (per-image formats)
    uses_classes_txt: bool  # ids in the file need the folder's classes.txt to become names
    detect: Callable[[Path], bool]  # does this existing file hold this format? (reads at most a little of it)
    read_one: ReadOne | None = None
    dumps_one: DumpsOne | None = None
    read_all: ReadAll | None = None
    dumps_all: DumpsAll | None = None

    @property
    def per_image(self) -> bool:
        return self.read_one is not None

    def read(self, label_file: Path, image: Path, size: tuple[int, int], classes: Sequence[str]) -> ImageAnnotation:
        """Read one image's labels (per-image formats); ``size`` is the displayed (EXIF-applied) (w, h)."""
        if self.read_one is None:
            raise LabelFormatError(label_file, f"{self.title} holds a whole folder, not one image's labels")
        return self.read_one(label_file, image, size, classes)

    def dumps(self, ann: ImageAnnotation, classes: Sequence[str]) -> str:
        if self.dumps_one is None:
            raise LabelFormatError(ann.image_path, f"{self.title} holds a whole folder, not one image's labels")
        return self.dumps_one(ann, classes)

    def write(self, path: Path, ann: ImageAnnotation, classes: Sequence[str]) -> Path:
        """Write one image's labels atomically (a crash never leaves half a file)."""
        return atomic_write_text(path, self.dumps(ann, classes))

    def read_collection(self, path: Path, image_root: Path) -> tuple[list[ImageAnnotation], list[str]]:
        if self.read_all is None:
            raise LabelFormatError(path, f"{self.title} has one file per image; read them one by one")
        return self.read_all(path, image_root)

    def write_collection(self, path: Path, anns: Sequence[ImageAnnotation], classes: Sequence[str], root: Path) -> Path:
        if self.dumps_all is None:
            raise LabelFormatError(path, f"{self.title} has one file per image; write them one by one")
        return atomic_write_text(path, self.dumps_all(anns, classes, root))


# ---------------------------------------------------------------- readers with the table's signatures
def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LabelFormatError(path, "not UTF-8 text") from None


def _read_yolo(path: Path, image: Path, size: tuple[int, int], classes: Sequence[str]) -> ImageAnnotation:
    return parse_yolo(_text(path), size[0], size[1], classes, path=path, image_path=image)


def _read_voc(path: Path, image: Path, size: tuple[int, int], classes: Sequence[str]) -> ImageAnnotation:
    return parse_voc(path.read_bytes(), path=path, image_path=image, image_size=size)


def _dumps_coco(anns: Sequence[ImageAnnotation], classes: Sequence[str], root: Path) -> str:
    return json.dumps(to_coco(anns, classes, root), indent=2, ensure_ascii=False, default=str) + "\n"


# ---------------------------------------------------------------- detection (content, not only the extension)
_SNIFF_BYTES = 4096


def _head(path: Path) -> str:
    with open(path, "rb") as fh:
        return fh.read(_SNIFF_BYTES).decode("utf-8-sig", errors="replace")


def _is_yolo(path: Path) -> bool:
    if path.suffix.lower() != LABEL_SUFFIX["yolo"] or path.name == CLASSES_TXT:
        return False
    for line in _head(path).splitlines()[:50]:
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) != 5 or not parts[0].isdigit():
            return False
        try:
            [float(v) for v in parts[1:]]
        except ValueError:
            return False
    return True


def _is_voc(path: Path) -> bool:
    return path.suffix.lower() == LABEL_SUFFIX["voc"] and "<annotation" in _head(path)


def _is_coco(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    head = _head(path).lstrip()
    return head.startswith("{") and '"images"' in head


FORMATS: dict[str, LabelFormat] = {
    f.name: f
    for f in (
        LabelFormat("yolo", "YOLO (txt + classes.txt)", LABEL_SUFFIX["yolo"], LABEL_SUBDIR["yolo"], True, _is_yolo,
                    read_one=_read_yolo, dumps_one=format_yolo),
        LabelFormat("voc", "Pascal VOC (xml)", LABEL_SUFFIX["voc"], LABEL_SUBDIR["voc"], False, _is_voc,
                    read_one=_read_voc, dumps_one=lambda ann, classes: format_voc(ann)),
        LabelFormat("coco", "COCO (json)", ".json", None, False, _is_coco, read_all=read_coco, dumps_all=_dumps_coco),
    )
}
COCO_FILE = "annotations.json"  # a folder's COCO file when none is named


def get_format(name: str) -> LabelFormat:
    """The row called ``name``; an unknown name raises with the list of known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise LabelFormatError("<format>", f"unknown label format {name!r} (one of {', '.join(FORMATS)})") from None


def per_image_formats() -> list[LabelFormat]:
    return [f for f in FORMATS.values() if f.per_image]


def for_file(label_file: Path) -> LabelFormat:
    """The per-image format a label file's extension names (no disk access: the file may not exist yet)."""
    suffix = label_file.suffix.lower()
    for f in per_image_formats():
        if f.suffix == suffix:
            return f
    known = ", ".join(f.suffix for f in per_image_formats())
    raise LabelFormatError(label_file, f"unknown label format {suffix!r} (expected {known})")


def sniff(path: Path) -> LabelFormat | None:
    """The format whose detection accepts the existing file ``path`` (by content), or None."""
    return next((f for f in FORMATS.values() if f.detect(path)), None)


__all__ = ["COCO_FILE", "FORMATS", "LabelFormat", "for_file", "get_format", "per_image_formats", "sniff"]
