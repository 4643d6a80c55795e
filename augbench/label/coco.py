"""COCO detection json for a whole folder: export and import.

COCO boxes are ``[x, y, w, h]`` in pixels; category ids start at 1 on export
(the COCO convention) and may be any integers on import. ``difficult`` and
``truncated`` travel in each annotation's ``attributes`` (CVAT does the same)
so a VOC -> COCO -> VOC trip keeps them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from augbench.core.atomic import atomic_write_json
from augbench.core.errors import LabelFormatError
from augbench.label.types import Box, ImageAnnotation


def to_coco(anns: Sequence[ImageAnnotation], classes: Sequence[str], root: str | Path) -> dict[str, Any]:
    """A COCO dict; ``file_name`` is relative to ``root`` (posix separators)."""
    root = Path(root)
    names = list(classes)
    for a in anns:
        for b in a.boxes:
            if b.label not in names:
                names.append(b.label)
    cat_id = {n: i + 1 for i, n in enumerate(names)}
    images, annotations = [], []
    for img_id, a in enumerate(anns, start=1):
        try:
            rel = a.image_path.relative_to(root).as_posix()
        except ValueError:
            rel = a.image_path.name
        images.append({"id": img_id, "file_name": rel, "width": int(a.width), "height": int(a.height)})
        for b in a.boxes:
            b = b.clipped(a.width, a.height)
            if b.area <= 0:
                continue
            annotations.append({
                "id": len(annotations) + 1,
                "image_id": img_id,
                "category_id": cat_id[b.label],
                "bbox": [round(b.x1, 3), round(b.y1, 3), round(b.width, 3), round(b.height, 3)],
                "area": round(b.area, 3),
                "iscrowd": 0,
                "attributes": {"difficult": b.difficult, "truncated": b.truncated},
            })
    return {
        "info": {"description": "exported by augbench"},
        "images": images,
        "annotations": annotations,
        "categories": [{"id": cat_id[n], "name": n, "supercategory": ""} for n in names],
    }


def write_coco(path: str | Path, anns: Sequence[ImageAnnotation], classes: Sequence[str], root: str | Path) -> Path:
    return atomic_write_json(path, to_coco(anns, classes, root))


def parse_coco(data: dict[str, Any], image_root: str | Path, *, path: str | Path = "<coco>") -> tuple[
        list[ImageAnnotation], list[str]]:
    """Annotations per image (images without boxes included) and class names in category-id order."""
    image_root = Path(image_root)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise LabelFormatError(path, "not a COCO detection file (no 'images' list)")
    try:
        cats = sorted(data.get("categories", []), key=lambda c: int(c["id"]))
        names = {int(c["id"]): str(c["name"]) for c in cats}
        by_id: dict[int, ImageAnnotation] = {}
        out: list[ImageAnnotation] = []
        for im in data["images"]:
            ann = ImageAnnotation(image_root / str(im["file_name"]), int(im["width"]), int(im["height"]))
            by_id[int(im["id"])] = ann
            out.append(ann)
        for i, a in enumerate(data.get("annotations", []), start=1):
            ann = by_id.get(int(a["image_id"]))
            if ann is None:
                raise LabelFormatError(path, f"annotation {i} points at unknown image_id {a['image_id']}")
            cid = int(a["category_id"])
            if cid not in names:
                raise LabelFormatError(path, f"annotation {i} has unknown category_id {cid}")
            x, y, w, h = (float(v) for v in a["bbox"])
            if w <= 0 or h <= 0:
                raise LabelFormatError(path, f"annotation {i} has a non-positive width/height")
            attrs = a.get("attributes") or {}
            box = Box(x, y, x + w, y + h, names[cid], bool(attrs.get("difficult", False)),
                      bool(attrs.get("truncated", False)))
            if not box.is_inside(ann.width, ann.height, tol=0.5):
                box = box.clipped(ann.width, ann.height)
                ann.warnings.append(f"annotation {i} was outside the image and was clipped")
            ann.boxes.append(box)
    except (KeyError, TypeError, ValueError) as exc:
        raise LabelFormatError(path, f"malformed COCO entry: {type(exc).__name__}: {exc}") from None
    return out, [names[k] for k in sorted(names)]


def read_coco(path: str | Path, image_root: str | Path | None = None) -> tuple[list[ImageAnnotation], list[str]]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelFormatError(path, f"not valid JSON: {exc}") from None
    return parse_coco(data, image_root if image_root is not None else path.parent, path=path)
