"""Where the labels of a folder live, and reading them with the right ``classes.txt``.

Shared by the editor session, the stats and the converter so all three agree
on which file belongs to an image. Conventions (LabelImg's and YOLO's):
label files next to the images, or in ``labels/`` (YOLO) / ``Annotations/``
(VOC); a YOLO txt takes its names from the ``classes.txt`` in its own folder
(or the folder above, for ``labels/``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Sequence

from augbench.core.errors import LabelFormatError
from augbench.core.imageio import IMAGE_EXTS, image_size
from augbench.label.registry import CLASSES_TXT, read_classes_file
from augbench.label.types import ImageAnnotation
from augbench.label.voc import read_voc
from augbench.label.yolo import parse_yolo

Fmt = Literal["yolo", "voc"]
SUFFIX = {"yolo": ".txt", "voc": ".xml"}
SUBDIR = {"yolo": "labels", "voc": "Annotations"}


def list_images(folder: str | Path) -> list[Path]:
    """Images directly in ``folder`` (sorted by name; hidden files and ``*_mask.png`` left out)."""
    folder = Path(folder)
    out = []
    for p in folder.iterdir():
        if not p.is_file() or p.name.startswith(".") or p.suffix.lower() not in IMAGE_EXTS:
            continue
        if p.stem.endswith("_mask") and p.suffix.lower() == ".png":
            continue
        out.append(p)
    return sorted(out, key=lambda p: p.name)


def label_dir(image_folder: str | Path, fmt: Fmt) -> Path:
    """Where ``fmt`` labels of images in ``image_folder`` go: ``labels/``/``Annotations/`` if present, else beside."""
    image_folder = Path(image_folder)
    sub = image_folder / SUBDIR[fmt]
    return sub if sub.is_dir() else image_folder


def label_path(image: Path, fmt: Fmt) -> Path:
    """The file ``image``'s labels are saved to in format ``fmt``."""
    return label_dir(image.parent, fmt) / f"{image.stem}{SUFFIX[fmt]}"


def find_label(image: Path, prefer: Fmt = "yolo") -> Path | None:
    """The existing label file of ``image``, the preferred format first."""
    other: Fmt = "voc" if prefer == "yolo" else "yolo"
    for fmt in (prefer, other):
        for cand in (label_path(image, fmt), image.with_suffix(SUFFIX[fmt])):
            if cand.is_file() and cand.name != CLASSES_TXT:
                return cand
    return None


def classes_txt_for(label_file: Path) -> Path | None:
    """The ``classes.txt`` that names the ids of a YOLO txt (its folder, then the folder above)."""
    for cand in (label_file.parent / CLASSES_TXT, label_file.parent.parent / CLASSES_TXT):
        if cand.is_file():
            return cand
    return None


class LabelReader:
    """Reads label files of many images, caching each ``classes.txt`` once."""

    def __init__(self) -> None:
        self._classes: dict[Path, list[str]] = {}

    def classes_for(self, label_file: Path) -> list[str]:
        ct = classes_txt_for(label_file)
        if ct is None:
            return []
        if ct not in self._classes:
            self._classes[ct] = read_classes_file(ct)
        return self._classes[ct]

    def read(self, image: Path, label_file: Path, size: tuple[int, int] | None = None) -> ImageAnnotation:
        """Read ``label_file`` for ``image`` whose displayed (EXIF-applied) size is ``size``."""
        if size is None:
            size = image_size(image)
        if label_file.suffix.lower() == ".txt":
            try:
                text = label_file.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError:
                raise LabelFormatError(label_file, "not UTF-8 text") from None
            return parse_yolo(text, size[0], size[1], self.classes_for(label_file), path=label_file, image_path=image)
        if label_file.suffix.lower() == ".xml":
            return read_voc(label_file, image_path=image, image_size=size)
        raise LabelFormatError(label_file, "unknown label format (expected .txt or .xml)")


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
