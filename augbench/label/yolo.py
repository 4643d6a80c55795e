"""YOLO txt labels: ``cls cx cy w h`` per line, normalised to [0, 1].

Class ids map to names through ``classes.txt``. A malformed line or an id
outside ``classes.txt`` raises :class:`LabelFormatError` naming the line: the
image is then skipped with that reason, never silently relabelled.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from augbench.core.atomic import atomic_write_text
from augbench.core.errors import LabelFormatError
from augbench.label.types import Box, ImageAnnotation


def parse_yolo(
    text: str,
    width: int,
    height: int,
    classes: Sequence[str],
    *,
    path: str | Path = "<yolo>",
    image_path: str | Path = "",
) -> ImageAnnotation:
    """Parse YOLO text into an annotation in pixel coordinates.

    With an empty ``classes`` list, ids become their decimal strings ("0",
    "1", ...) so that writing back keeps the same ids.
    """
    ann = ImageAnnotation(Path(image_path), width, height)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 5:
            raise LabelFormatError(path, f"expected 5 fields 'class cx cy w h', found {len(parts)}", lineno)
        try:
            cid = int(parts[0])
            cx, cy, bw, bh = (float(v) for v in parts[1:])
        except ValueError:
            raise LabelFormatError(path, f"not numbers: {line!r}", lineno) from None
        if not all(math.isfinite(v) for v in (cx, cy, bw, bh)):
            raise LabelFormatError(path, f"non-finite value: {line!r}", lineno)
        if cid < 0 or (classes and cid >= len(classes)):
            n = len(classes)
            raise LabelFormatError(path, f"class id {cid} is out of range (classes.txt has {n} classes)", lineno)
        if bw <= 0 or bh <= 0:
            raise LabelFormatError(path, f"box width/height must be positive: {line!r}", lineno)
        name = classes[cid] if classes else str(cid)
        box = Box((cx - bw / 2) * width, (cy - bh / 2) * height, (cx + bw / 2) * width, (cy + bh / 2) * height, name)
        if not box.is_inside(width, height, tol=0.5):
            ann.warnings.append(f"line {lineno}: box outside the image was clipped")
            box = box.clipped(width, height)
            if box.area <= 0:
                raise LabelFormatError(path, "box lies entirely outside the image", lineno)
        ann.boxes.append(box)
    return ann


def read_yolo(
    path: str | Path, width: int, height: int, classes: Sequence[str], image_path: str | Path = ""
) -> ImageAnnotation:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LabelFormatError(path, "not UTF-8 text") from None
    return parse_yolo(text, width, height, classes, path=path, image_path=image_path)


def class_id(name: str, classes: Sequence[str]) -> int:
    """The id of ``name``: its index in ``classes`` or, without classes, its digits."""
    if classes:
        try:
            return list(classes).index(name)
        except ValueError:
            raise LabelFormatError("<classes>", f"class {name!r} is not in classes.txt") from None
    if name.isdigit():
        return int(name)
    raise LabelFormatError("<classes>", f"class {name!r} needs a classes.txt entry to get a YOLO id")


def format_yolo(ann: ImageAnnotation, classes: Sequence[str]) -> str:
    """YOLO text for ``ann`` (boxes clipped to the image, 6 decimals)."""
    lines = []
    for b in ann.boxes:
        b = b.clipped(ann.width, ann.height)
        if b.area <= 0:
            continue
        cx = (b.x1 + b.x2) / 2 / ann.width
        cy = (b.y1 + b.y2) / 2 / ann.height
        w = b.width / ann.width
        h = b.height / ann.height
        lines.append(f"{class_id(b.label, classes)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return "\n".join(lines) + ("\n" if lines else "")


def write_yolo(path: str | Path, ann: ImageAnnotation, classes: Sequence[str]) -> Path:
    return atomic_write_text(path, format_yolo(ann, classes))


def write_classes_txt(path: str | Path, classes: Sequence[str]) -> Path:
    return atomic_write_text(path, "".join(f"{c}\n" for c in classes))
