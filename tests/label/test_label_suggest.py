"""ONNX box proposals with a tiny detector built by onnx.helper (no downloads)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from augbench.core.errors import WeightsError
from augbench.label.suggest import OnnxDetector, decode, nms

_spec = importlib.util.spec_from_file_location("onnx_fixture", Path(__file__).with_name("onnx_fixture.py"))
onnx_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(onnx_fixture)


def test_detector_proposals_depend_on_the_image_and_use_metadata_names(tmp_path: Path) -> None:
    det = OnnxDetector(onnx_fixture.make_detector(tmp_path / "d.onnx"), score_threshold=0.5)
    assert det.input_hw == (32, 32) and det.class_names == ["cat", "dog"]
    props = det.detect(np.full((64, 128, 3), 255, np.uint8))
    # the second cat box overlaps the first (IoU > 0.45) and is suppressed
    assert [p.box.label for p in props] == ["cat", "dog"]
    assert props[0].score > props[1].score
    assert props[0].box.xyxy() == (16.0, 8.0, 64.0, 32.0)  # scaled from 32x32 input to 128x64
    assert det.detect(np.zeros((64, 128, 3), np.uint8)) == []  # dark image: low scores


def test_raw_yolov8_head_is_decoded_with_nms() -> None:
    # [1, 4 + 2 classes, 3 anchors]: two overlapping class-1 boxes, one class-0 box
    raw = np.array([[[10, 11, 40], [10, 10, 40], [8, 8, 6], [8, 8, 6], [0.1, 0.2, 0.9], [0.8, 0.7, 0.1]]], np.float32)
    boxes, scores, cls, needs_nms = decode([raw], ["output0"], "yolov8")
    assert needs_nms and list(cls) == [1, 1, 0]
    assert np.allclose(boxes[0], [6, 6, 14, 14])
    assert nms(boxes[:2], scores[:2], 0.45) == [0]


def test_not_an_onnx_file_is_a_weights_error(tmp_path: Path) -> None:
    p = tmp_path / "x.onnx"
    p.write_bytes(b"not onnx")
    with pytest.raises(WeightsError):
        OnnxDetector(p)


def test_auto_layout_picks_yolov8_for_channels_first_heads() -> None:
    raw = np.zeros((1, 6, 100), np.float32)
    raw[0, :, 0] = [50, 50, 10, 10, 0.9, 0.0]
    _, scores, cls, needs_nms = decode([raw], ["output0"])
    assert needs_nms and scores[0] == pytest.approx(0.9) and cls[0] == 0
