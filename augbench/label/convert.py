"""Convert a folder's labels between YOLO, Pascal VOC and COCO json.

Per-image formats (YOLO, VOC) are read image by image; a file that cannot be
parsed is skipped with its reason and nothing is written for it. YOLO output
gets a ``classes.txt`` that extends any one already in the output folder
(never reordering it), so converting into a folder that already has YOLO
labels cannot shift their ids.

Never overwrite a file the job did not write: an existing target is replaced only when the
caller's ``owned`` map says this job wrote it and its bytes have not changed since (the
``label.convert`` manifest records a SHA-256 per file). Otherwise an existing COCO file stops
the conversion with one clear line, and an existing per-image label file is skipped with its
reason — unless ``backup`` asks to keep the old file as ``<name>.bak`` (reported) and go on.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Mapping, Sequence

from augbench.core.errors import AugbenchError, DatasetError, ImageReadError, LabelFormatError
from augbench.core.imageio import image_size
from augbench.core.layout import find_label, label_dir, list_images
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.label.folder import LabelReader
from augbench.label.formats import COCO_FILE, get_format
from augbench.label.registry import ClassRegistry
from augbench.label.types import ImageAnnotation

AnyFmt = Literal["yolo", "voc", "coco"]
COCO_NAME = COCO_FILE


@dataclass
class ConvertReport:
    outputs: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    n_boxes: int = 0
    classes: list[str] = field(default_factory=list)
    unlabelled: set[Path] = field(default_factory=set)  # images without a label file in the source format
    backups: list[tuple[str, str]] = field(default_factory=list)  # (file, where its old content was kept)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _bak_name(path: Path) -> Path:
    dest = path.with_name(path.name + ".bak")
    n = 1
    while dest.exists():
        n += 1
        dest = path.with_name(f"{path.name}.bak{n}")
    return dest


@dataclass
class _OverwriteRule:
    """Decides whether ``convert_folder`` may write ``target`` (see the module docstring)."""

    owned: Mapping[str, str]
    backup: bool
    report: ConvertReport

    def blocked(self, target: Path) -> str | None:
        """None when writing ``target`` loses nothing (kept as .bak if needed); else why not."""
        if not target.exists():
            return None
        if target.is_dir():
            return f"{target} is a folder"
        key = os.path.realpath(target)
        if key in self.owned and self.owned[key] == file_sha256(target):
            return None  # written by an earlier convert and unchanged since: regenerate it
        if self.backup:
            dest = _bak_name(target)
            os.replace(target, dest)
            self.report.backups.append((str(target), str(dest)))
            return None
        return f"{target} already exists and was not written by label.convert (or was edited since)"


def read_folder(folder: Path, src: AnyFmt, coco_file: Path | None, report: ConvertReport,
                progress: ProgressFn, cancel: CancelToken) -> tuple[list[ImageAnnotation], list[str]]:
    """Every annotation of ``folder`` in format ``src`` (images without labels get empty ones)."""
    fmt = get_format(src)
    if not fmt.per_image:
        path = coco_file or folder / COCO_NAME
        if not path.is_file():
            raise DatasetError(f"no {fmt.title} file at {path} (give --coco-file)")
        return fmt.read_collection(path, folder)
    images = list_images(folder)
    if not images:
        raise DatasetError(f"no images in {folder}")
    reader = LabelReader()
    classes = ClassRegistry.for_folder(label_dir(folder, "yolo")).names if fmt.uses_classes_txt else []
    anns = []
    for i, img in enumerate(images):
        cancel.check()
        progress(Progress(i, len(images), f"reading {img.name}"))
        lf = find_label(img, src, fallback=False)  # type: ignore[arg-type]
        try:
            if lf is None:
                w, h = image_size(img)
                anns.append(ImageAnnotation(img, w, h))
                report.unlabelled.add(img)
                continue
            anns.append(reader.read(img, lf))
        except (LabelFormatError, ImageReadError, OSError) as exc:
            report.skipped.append((str(lf or img), str(exc)))
    return anns, classes


def convert_folder(
    folder: str | Path,
    src: AnyFmt,
    dst: AnyFmt,
    *,
    out_dir: str | Path | None = None,
    coco_file: str | Path | None = None,
    classes: Sequence[str] = (),
    progress: ProgressFn = null_progress,
    cancel: CancelToken | None = None,
    owned: Mapping[str, str] | None = None,
    backup: bool = False,
) -> ConvertReport:
    """Convert ``folder``'s ``src`` labels to ``dst``; returns what was written and skipped.

    ``out_dir`` defaults to the conventional place (``labels/`` or
    ``Annotations/`` if present, else next to the images; COCO:
    ``folder/annotations.json``). ``classes`` fixes the id order of a new
    ``classes.txt``; names found in the labels are appended. ``owned`` maps real paths of files an
    earlier run wrote to their SHA-256 (those may be regenerated); ``backup`` keeps any other
    existing target as ``<name>.bak`` instead of refusing.
    """
    folder = Path(folder)
    cancel = cancel or CancelToken()
    report = ConvertReport()
    rule = _OverwriteRule(owned or {}, backup, report)
    coco_path = Path(coco_file) if coco_file else None
    src_fmt, dst_fmt = get_format(src), get_format(dst)
    anns, src_classes = read_folder(folder, src, coco_path if not src_fmt.per_image else None, report, progress, cancel)
    if dst_fmt.per_image:
        out = Path(out_dir) if out_dir else label_dir(folder, dst)  # type: ignore[arg-type]
        reg = ClassRegistry.for_folder(out) if dst_fmt.uses_classes_txt else ClassRegistry()
        reg.extend(classes)
        reg.extend(src_classes)
    else:
        out = Path(out_dir) if out_dir else folder
        reg = ClassRegistry(classes)
        reg.extend(src_classes)
    for a in anns:
        reg.extend(a.labels)
    report.classes = reg.names
    total = len(anns)
    if not dst_fmt.per_image:
        target = coco_path if (coco_path and src_fmt.per_image) else out / COCO_NAME
        why = rule.blocked(target)
        if why:
            raise AugbenchError(f"{why}; nothing was written. Give another --coco-file, or --backup to keep "
                                f"the old file as {target.name}.bak")
        report.outputs.append(dst_fmt.write_collection(target, anns, reg.names, folder))
        report.n_boxes = sum(len(a.boxes) for a in anns)
        return report
    out.mkdir(parents=True, exist_ok=True)
    if dst_fmt.uses_classes_txt:
        report.outputs.append(reg.save(out))
    for i, a in enumerate(anns):
        cancel.check()
        progress(Progress(i, total, f"writing {a.image_path.name}"))
        if a.image_path in report.unlabelled or (not src_fmt.per_image and not a.boxes):
            continue
        target = out / f"{a.image_path.stem}{dst_fmt.suffix}"
        why = rule.blocked(target)
        if why:
            report.skipped.append((str(a.image_path), f"{why}; not overwritten (--backup keeps it as .bak)"))
            continue
        report.outputs.append(dst_fmt.write(target, a, reg.names))
        report.n_boxes += len(a.boxes)
    progress(Progress(total, total, "done"))
    return report
