"""Where things live in a data set folder: the ONE place that knows it.

Every job, tab and CLI command asks this module which files are images, which
label file belongs to an image, which ``classes.txt`` names a YOLO file's ids
and where an image's mask is. Before it existed the Augment export and the
Label tab each had their own rules and could pair an image with different
label files; now both call :func:`find_label`.

The rules (LabelImg's and YOLO's conventions):

* **Images**: files with an image extension, not hidden, not masks.
* **Masks**: ``masks/<stem>.png`` or ``<stem>_mask.png`` next to the image.
  A ``*_mask.png`` file is never an image of the set, and nothing under a
  ``masks/``, ``labels/`` or ``Annotations/`` folder is either.
* **Labels**: per-image formats (YOLO ``.txt``, Pascal VOC ``.xml``) are
  written to the format's sub-folder (``labels/``, ``Annotations/``) when it
  exists, else next to the image; they are read from the same place first,
  then from the other one. With both formats present, ``prefer`` decides.
* **classes.txt**: the one in the label file's own folder, else the folder
  above (so ``labels/x.txt`` may use ``<root>/classes.txt``). One reader,
  which refuses duplicate names; blank lines and a BOM are tolerated.

Pure path logic: nothing here decodes an image or parses a label.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from augbench.core.errors import LabelFormatError
from augbench.core.imageio import IMAGE_EXTS

PerImageFormat = Literal["yolo", "voc"]
CLASSES_TXT = "classes.txt"
LABEL_SUFFIX: dict[str, str] = {"yolo": ".txt", "voc": ".xml"}
LABEL_SUBDIR: dict[str, str] = {"yolo": "labels", "voc": "Annotations"}
MASK_SUBDIR = "masks"
MASK_SUFFIX = "_mask"
MASK_EXT = ".png"
# Folders that hold labels, masks or program state rather than images of a class (compared lower-case).
NON_IMAGE_DIRS = frozenset({"labels", "annotations", "masks", "mask", "__pycache__", ".augbench"})

PathLike = str | os.PathLike[str]


# ---------------------------------------------------------------- images and masks
def is_mask(path: Path) -> bool:
    """True for ``<stem>_mask.png`` files, which belong to the image ``<stem>`` and are never images themselves."""
    return path.stem.endswith(MASK_SUFFIX) and path.suffix.lower() == MASK_EXT


def is_image(path: Path) -> bool:
    """An image of the data set: an image extension, not hidden, not a mask (does not touch the disk)."""
    return path.suffix.lower() in IMAGE_EXTS and not path.name.startswith(".") and not is_mask(path)


def list_images(folder: PathLike, *, recursive: bool = False) -> list[Path]:
    """The images of ``folder``, sorted by path so every run sees the same order.

    ``recursive`` walks sub-folders too (an ImageFolder class may nest), skipping
    label/mask folders (:data:`NON_IMAGE_DIRS`).
    """
    folder = Path(folder)
    found = folder.rglob("*") if recursive else folder.iterdir()
    out = []
    for p in found:
        if recursive and any(part.lower() in NON_IMAGE_DIRS for part in p.relative_to(folder).parts[:-1]):
            continue
        if is_image(p) and p.is_file():
            out.append(p)
    return sorted(out)


def mask_candidates(image: Path) -> tuple[Path, Path]:
    """Where ``image``'s mask may be, in the order they are looked up."""
    return image.parent / MASK_SUBDIR / f"{image.stem}{MASK_EXT}", image.parent / f"{image.stem}{MASK_SUFFIX}{MASK_EXT}"


def find_mask(image: Path) -> Path | None:
    """The mask PNG of ``image`` (``masks/<stem>.png``, else ``<stem>_mask.png``), if any."""
    return next((c for c in mask_candidates(image) if c.is_file()), None)


# ---------------------------------------------------------------- label files
def _check_format(fmt: str) -> None:
    if fmt not in LABEL_SUFFIX:
        raise ValueError(f"{fmt!r} is not a per-image label format (one of {', '.join(LABEL_SUFFIX)})")


def label_dir(image_folder: PathLike, fmt: PerImageFormat) -> Path:
    """The folder ``fmt`` labels of the images in ``image_folder`` are written to.

    ``labels/`` (YOLO) or ``Annotations/`` (VOC) when that sub-folder exists, else the image folder itself.
    """
    _check_format(fmt)
    image_folder = Path(image_folder)
    sub = image_folder / LABEL_SUBDIR[fmt]
    return sub if sub.is_dir() else image_folder


def label_path(image: Path, fmt: PerImageFormat) -> Path:
    """The file ``image``'s labels are saved to in format ``fmt`` (it need not exist)."""
    return label_dir(image.parent, fmt) / f"{image.stem}{LABEL_SUFFIX[fmt]}"


def label_candidates(image: Path, fmt: PerImageFormat) -> list[Path]:
    """Where an existing ``fmt`` label of ``image`` may be: the write location first, then the other place."""
    _check_format(fmt)
    name = f"{image.stem}{LABEL_SUFFIX[fmt]}"
    first = label_path(image, fmt)
    rest = [image.parent / LABEL_SUBDIR[fmt] / name, image.parent / name]
    return [first, *(c for c in rest if c != first)]


def find_label(image: Path, prefer: PerImageFormat = "yolo", *, fallback: bool = True) -> Path | None:
    """The existing label file of ``image``: format ``prefer`` first, then (``fallback``) the other per-image format."""
    _check_format(prefer)
    order = [prefer, *(f for f in LABEL_SUFFIX if f != prefer and fallback)]
    for fmt in order:
        for cand in label_candidates(image, fmt):  # type: ignore[arg-type]
            if cand.name != CLASSES_TXT and cand.is_file():
                return cand
    return None


def format_of_suffix(label_file: Path) -> PerImageFormat | None:
    """The per-image format a label file's extension stands for, or None."""
    suffix = label_file.suffix.lower()
    return next((f for f, s in LABEL_SUFFIX.items() if s == suffix), None)  # type: ignore[return-value]


# ---------------------------------------------------------------- classes.txt
def read_classes(path: PathLike) -> list[str]:
    """Names from a ``classes.txt``, one per line in id order.

    Blank lines and a UTF-8 BOM are ignored; a duplicate name raises
    :class:`LabelFormatError` because two ids with one name cannot be written back.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LabelFormatError(path, "classes.txt is not UTF-8 text") from None
    names = [ln.strip() for ln in text.splitlines() if ln.strip()]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LabelFormatError(path, f"duplicate class names: {', '.join(dupes)}")
    return names


def _classes_file_near(folder: Path) -> Path | None:
    for cand in (folder / CLASSES_TXT, folder.parent / CLASSES_TXT):
        if cand.is_file():
            return cand
    return None


def classes_file_for(label_file: Path) -> Path | None:
    """The ``classes.txt`` that names a YOLO file's ids: in its folder, else in the folder above."""
    return _classes_file_near(label_file.parent)


def classes_for_label(label_file: Path) -> list[str]:
    """Class names for the ids of a YOLO ``label_file``; [] when no ``classes.txt`` applies (ids stay numbers)."""
    found = classes_file_for(label_file)
    return read_classes(found) if found is not None else []


def classes_file_for_folder(image_folder: PathLike) -> Path | None:
    """The ``classes.txt`` of the YOLO labels of ``image_folder``'s images (same rule as :func:`classes_file_for`)."""
    return _classes_file_near(label_dir(image_folder, "yolo"))


def classes_for_folder(image_folder: PathLike) -> list[str]:
    """Class names of ``image_folder``'s YOLO labels, [] when it has no ``classes.txt``."""
    found = classes_file_for_folder(image_folder)
    return read_classes(found) if found is not None else []


__all__ = [
    "CLASSES_TXT", "LABEL_SUBDIR", "LABEL_SUFFIX", "MASK_SUBDIR", "NON_IMAGE_DIRS", "PerImageFormat",
    "classes_file_for", "classes_file_for_folder", "classes_for_label", "classes_for_folder", "find_label", "find_mask",
    "format_of_suffix", "is_image", "is_mask", "label_candidates", "label_dir", "label_path", "list_images",
    "mask_candidates", "read_classes",
]
