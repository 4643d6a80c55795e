"""Convert a folder's labels between YOLO, Pascal VOC and COCO json.

Per-image formats (YOLO, VOC) are read image by image; a file that cannot be
parsed is skipped with its reason and nothing is written for it. YOLO output
gets a ``classes.txt`` that extends any one already in the output folder
(never reordering it), so converting into a folder that already has YOLO
labels cannot shift their ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

from augbench.core.errors import DatasetError, ImageReadError, LabelFormatError
from augbench.core.imageio import image_size
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.label.coco import read_coco, write_coco
from augbench.label.folder import SUFFIX, LabelReader, label_dir, list_images
from augbench.label.registry import ClassRegistry
from augbench.label.types import ImageAnnotation
from augbench.label.voc import write_voc
from augbench.label.yolo import write_yolo

AnyFmt = Literal["yolo", "voc", "coco"]
COCO_NAME = "annotations.json"


@dataclass
class ConvertReport:
    outputs: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    n_boxes: int = 0
    classes: list[str] = field(default_factory=list)
    unlabelled: set[Path] = field(default_factory=set)  # images without a label file in the source format


def _src_file(image: Path, fmt: Literal["yolo", "voc"]) -> Path | None:
    for cand in (label_dir(image.parent, fmt) / f"{image.stem}{SUFFIX[fmt]}", image.with_suffix(SUFFIX[fmt])):
        if cand.is_file() and cand.name != "classes.txt":
            return cand
    return None


def read_folder(folder: Path, src: AnyFmt, coco_file: Path | None, report: ConvertReport,
                progress: ProgressFn, cancel: CancelToken) -> tuple[list[ImageAnnotation], list[str]]:
    """Every annotation of ``folder`` in format ``src`` (images without labels get empty ones)."""
    if src == "coco":
        path = coco_file or folder / COCO_NAME
        if not path.is_file():
            raise DatasetError(f"no COCO file at {path} (give --coco-file)")
        return read_coco(path, image_root=folder)
    images = list_images(folder)
    if not images:
        raise DatasetError(f"no images in {folder}")
    reader = LabelReader()
    classes = ClassRegistry.for_folder(label_dir(folder, "yolo")).names if src == "yolo" else []
    anns = []
    for i, img in enumerate(images):
        cancel.check()
        progress(Progress(i, len(images), f"reading {img.name}"))
        lf = _src_file(img, src)
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
) -> ConvertReport:
    """Convert ``folder``'s ``src`` labels to ``dst``; returns what was written and skipped.

    ``out_dir`` defaults to the conventional place (``labels/`` or
    ``Annotations/`` if present, else next to the images; COCO:
    ``folder/annotations.json``). ``classes`` fixes the id order of a new
    ``classes.txt``; names found in the labels are appended.
    """
    folder = Path(folder)
    cancel = cancel or CancelToken()
    report = ConvertReport()
    coco_path = Path(coco_file) if coco_file else None
    anns, src_classes = read_folder(folder, src, coco_path if src == "coco" else None, report, progress, cancel)
    if dst in ("yolo", "voc"):
        out = Path(out_dir) if out_dir else label_dir(folder, dst)
        reg = ClassRegistry.for_folder(out) if dst == "yolo" else ClassRegistry()
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
    if dst == "coco":
        target = coco_path if (coco_path and src != "coco") else out / COCO_NAME
        report.outputs.append(write_coco(target, anns, reg.names, folder))
        report.n_boxes = sum(len(a.boxes) for a in anns)
        return report
    out.mkdir(parents=True, exist_ok=True)
    if dst == "yolo":
        report.outputs.append(reg.save(out))
    for i, a in enumerate(anns):
        cancel.check()
        progress(Progress(i, total, f"writing {a.image_path.name}"))
        if a.image_path in report.unlabelled or (src == "coco" and not a.boxes):
            continue
        target = out / f"{a.image_path.stem}{SUFFIX[dst]}"
        if dst == "yolo":
            report.outputs.append(write_yolo(target, a, reg.names))
        else:
            report.outputs.append(write_voc(target, a))
        report.n_boxes += len(a.boxes)
    progress(Progress(total, total, "done"))
    return report
