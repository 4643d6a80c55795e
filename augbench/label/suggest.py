"""Box proposals from a detector the user provides as an ONNX file (onnxruntime).

The session is Qt-free: the tab shows the proposals and the user accepts or
rejects each one. The common exported detector outputs are understood
(``output_format="auto"`` picks by shape):

* ``xyxy_score_class``: one ``[N, 6]`` / ``[1, N, 6]`` array of
  ``x1 y1 x2 y2 score class`` (YOLOv8/10 "end2end", many NMS-included exports);
* ``boxes_scores``: outputs named ``boxes`` (``[N, 4]`` xyxy), ``scores`` and
  optionally ``labels`` (torchvision detection exports);
* ``yolov8``: raw ``[1, 4 + C, N]`` (cx cy w h, class scores), NMS done here;
* ``yolov5``: raw ``[1, N, 5 + C]`` (cx cy w h, objectness, class scores).

The image is resized (stretched) to the model's input size, scaled to
[0, 1] RGB, NCHW unless the input is NHWC; coordinates <= 1.5 are taken as
normalised. Class names come from the model's ``names`` metadata
(Ultralytics writes it), else from the caller, else the class number.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from augbench.core.errors import DependencyError, WeightsError
from augbench.label.types import Box

OutputFormat = Literal["auto", "xyxy_score_class", "boxes_scores", "yolov8", "yolov5"]


@dataclass(frozen=True)
class Proposal:
    """A detector's box with its confidence, waiting for the user to accept or reject it."""

    box: Box
    score: float


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression; indices kept, best first."""
    order = np.argsort(-scores)
    keep: list[int] = []
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        ov = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[ov <= iou]
    return keep


def _cxcywh_to_xyxy(a: np.ndarray) -> np.ndarray:
    cx, cy, w, h = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def decode(outputs: Sequence[np.ndarray], names: Sequence[str], fmt: OutputFormat = "auto") -> tuple[
        np.ndarray, np.ndarray, np.ndarray, bool]:
    """(boxes xyxy [N,4], scores [N], class ids [N], needs_nms) from raw model outputs."""
    outs = [np.asarray(o) for o in outputs]
    named = {n: o for n, o in zip(names, outs, strict=False)}
    if fmt == "auto":
        first = outs[0]
        if "boxes" in named and "scores" in named:
            fmt = "boxes_scores"
        elif first.shape[-1] == 6 and first.reshape(-1, 6).shape[0] <= 1000:
            fmt = "xyxy_score_class"
        elif first.ndim == 3 and first.shape[1] < first.shape[2]:
            fmt = "yolov8"
        elif first.ndim == 3:
            fmt = "yolov5"
        else:
            raise WeightsError(f"cannot tell this detector's output layout from shapes {[o.shape for o in outs]}; "
                               "choose an output format")
    if fmt == "boxes_scores":
        boxes = named["boxes"].reshape(-1, 4).astype(np.float64)
        scores = named["scores"].reshape(-1).astype(np.float64)
        labels = named.get("labels")
        cls = labels.reshape(-1).astype(int) if labels is not None else np.zeros(len(scores), int)
        return boxes, scores, cls, False
    if fmt == "xyxy_score_class":
        a = outs[0].reshape(-1, 6).astype(np.float64)
        return a[:, :4], a[:, 4], a[:, 5].astype(int), False
    a = outs[0].astype(np.float64)
    if a.ndim == 3:
        a = a[0]
    if fmt == "yolov8":
        a = a.T  # [N, 4 + C]
        cls_scores = a[:, 4:]
    else:
        cls_scores = a[:, 5:] * a[:, 4:5] if a.shape[1] > 5 else a[:, 4:5]
    cls = np.argmax(cls_scores, axis=1)
    scores = cls_scores[np.arange(len(a)), cls]
    return _cxcywh_to_xyxy(a[:, :4]), scores, cls, True


class OnnxDetector:
    """An ONNX detector on onnxruntime (CUDA when available and ``device`` allows it)."""

    def __init__(self, path: str | Path, *, score_threshold: float = 0.25, iou_threshold: float = 0.45,
                 class_names: Sequence[str] = (), output_format: OutputFormat = "auto", device: str = "auto") -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise DependencyError("suggesting boxes needs onnxruntime: pip install onnxruntime") from None
        path = Path(path)
        if not path.is_file():
            raise WeightsError(f"no ONNX file at {path}")
        providers = ["CPUExecutionProvider"]
        if device in ("auto", "cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self.session = ort.InferenceSession(str(path), providers=providers)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise WeightsError(f"{path.name} is not a usable ONNX model: {exc}") from None
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        shape = list(inp.shape)
        if len(shape) != 4:
            raise WeightsError(f"{path.name}: expected one image input [1, 3, H, W], got shape {shape}")
        self.nhwc = shape[-1] == 3 and shape[1] != 3
        hw = shape[1:3] if self.nhwc else shape[2:4]
        self.input_hw = tuple(int(v) if isinstance(v, int) and v > 0 else 640 for v in hw)
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold
        self.output_format: OutputFormat = output_format
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.class_names = list(class_names) or self._names_from_metadata()

    def _names_from_metadata(self) -> list[str]:
        raw = self.session.get_modelmeta().custom_metadata_map.get("names")
        if not raw:
            return []
        try:
            val = ast.literal_eval(raw)  # literal only: never evaluates code
        except (ValueError, SyntaxError):
            return []
        if isinstance(val, dict):
            return [str(val[k]) for k in sorted(val)]
        if isinstance(val, (list, tuple)):
            return [str(v) for v in val]
        return []

    def name_of(self, cid: int) -> str:
        return self.class_names[cid] if 0 <= cid < len(self.class_names) else str(cid)

    def detect(self, image: np.ndarray) -> list[Proposal]:
        """Proposals for an RGB uint8 image, in its pixel coordinates, best first."""
        import cv2

        h, w = image.shape[:2]
        ih, iw = self.input_hw
        rgb = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
        x = cv2.resize(rgb[..., :3], (iw, ih), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
        x = x[None] if self.nhwc else x.transpose(2, 0, 1)[None]
        outs = self.session.run(None, {self.input_name: np.ascontiguousarray(x)})
        boxes, scores, cls, _ = decode(outs, self.output_names, self.output_format)
        ok = scores >= self.score_threshold
        boxes, scores, cls = boxes[ok], scores[ok], cls[ok]
        if len(boxes) == 0:
            return []
        if boxes.max() <= 1.5:
            boxes = boxes * np.array([iw, ih, iw, ih])
        boxes = boxes * np.array([w / iw, h / ih, w / iw, h / ih])
        boxes = np.clip(boxes, 0, [w, h, w, h])
        keep: list[int] = []
        # Per-class NMS also for NMS-included exports: harmless there, and needed for raw heads.
        for c in np.unique(cls):
            idx = np.flatnonzero(cls == c)
            keep += [int(idx[k]) for k in nms(boxes[idx], scores[idx], self.iou_threshold)]
        keep.sort(key=lambda k: -scores[k])
        out = []
        for k in keep:
            x1, y1, x2, y2 = (float(v) for v in boxes[k])
            if x2 - x1 >= 1 and y2 - y1 >= 1:
                out.append(Proposal(Box(x1, y1, x2, y2, self.name_of(int(cls[k]))), float(scores[k])))
        return out
