"""Apply a Compose to one sample and report what happened to every box.

Boxes travel as pascal_voc pixel corners with their class names and their
index as label fields, so after the transform we know exactly which boxes
were dropped (index missing) and which were clipped at the new border. The
preview flags both; the export records both in the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from augbench.label.types import Box

_BORDER_TOL = 0.5


@dataclass
class AugOutput:
    image: np.ndarray
    boxes: list[Box]
    mask: np.ndarray | None
    dropped: list[int] = field(default_factory=list)  # indices of input boxes that vanished
    clipped: list[int] = field(default_factory=list)  # indices of output boxes cut by the border
    applied: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    source_ids: list[int] = field(default_factory=list)  # input index of each output box (a box may split)


def _on_border(b: tuple[float, float, float, float], w: int, h: int) -> bool:
    x1, y1, x2, y2 = b
    return x1 <= _BORDER_TOL or y1 <= _BORDER_TOL or x2 >= w - _BORDER_TOL or y2 >= h - _BORDER_TOL


def augment_sample(
    compose: Any,
    image: np.ndarray,
    boxes: list[Box] | None = None,
    mask: np.ndarray | None = None,
    seed: int | None = None,
) -> AugOutput:
    """Run ``compose`` on one image (+ boxes + mask); ``seed`` makes it replayable."""
    boxes = boxes or []
    if seed is not None:
        compose.set_random_seed(seed)
    h, w = image.shape[:2]
    data: dict[str, Any] = {
        "image": image,
        "bboxes": np.array([[b.x1, b.y1, b.x2, b.y2] for b in boxes], dtype=np.float32).reshape(-1, 4),
        "labels": [b.label for b in boxes],
        "box_ids": list(range(len(boxes))),
    }
    if mask is not None:
        data["mask"] = mask
    out = compose(**data)
    img = out["image"]
    oh, ow = img.shape[:2]
    kept_ids = [int(i) for i in out["box_ids"]]
    new_boxes: list[Box] = []
    clipped: list[int] = []
    for j, (coords, bid) in enumerate(zip(out["bboxes"], kept_ids)):
        src = boxes[bid]
        x1, y1, x2, y2 = (float(v) for v in coords[:4])
        new_boxes.append(Box(x1, y1, x2, y2, src.label, src.difficult, src.truncated))
        if _on_border((x1, y1, x2, y2), ow, oh) and not _on_border(src.xyxy(), w, h):
            clipped.append(j)
    dropped = sorted(set(range(len(boxes))) - set(kept_ids))
    applied = [(name, dict(params)) for name, params in out.get("applied_transforms", [])]
    return AugOutput(img, new_boxes, out.get("mask") if mask is not None else None, dropped, clipped, applied, kept_ids)


def summarize_params(applied: list[tuple[str, dict[str, Any]]], max_items: int = 16) -> list[dict[str, Any]]:
    """JSON-friendly replay record: scalars and small arrays kept, big arrays summarised."""
    rows = []
    for name, params in applied:
        clean: dict[str, Any] = {}
        for k, v in params.items():
            if k == "shape":
                continue
            clean[k] = _small(v, max_items)
        rows.append({"transform": name, "params": clean})
    return rows


def _small(v: Any, max_items: int) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist() if v.size <= max_items else f"<array {v.shape} {v.dtype}>"
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {str(k): _small(x, max_items) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        if len(v) > max_items:
            return f"<sequence of {len(v)}>"
        return [_small(x, max_items) for x in v]
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return str(v)
