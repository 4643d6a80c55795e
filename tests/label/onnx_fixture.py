"""A tiny ONNX "detector" built with onnx.helper (no downloads): three fixed boxes whose
scores depend on the image brightness, output as [N, 6] = x1 y1 x2 y2 score class."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_detector(path: Path, size: int = 32, names: str | None = "{0: 'cat', 1: 'dog'}") -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    boxes = np.array([[4, 4, 16, 16], [5, 5, 17, 17], [18, 10, 30, 28]], np.float32)  # input pixels
    classes = np.array([[0], [0], [1]], np.float32)
    gain = np.array([4.0, 3.0, 4.0], np.float32)
    bias = np.array([-1.0, -1.5, -3.0], np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], axes=[1, 2, 3], keepdims=0),  # [1]
        helper.make_node("Mul", ["m", "gain"], ["g"]),
        helper.make_node("Add", ["g", "bias"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["s"]),  # [3]
        helper.make_node("Unsqueeze", ["s", "ax1"], ["s2"]),  # [3, 1]
        helper.make_node("Concat", ["boxes", "s2", "classes"], ["dets"], axis=1),
    ]
    inits = [numpy_helper.from_array(a, n) for a, n in (
        (boxes, "boxes"), (classes, "classes"), (gain, "gain"), (bias, "bias"), (np.array([1], np.int64), "ax1"))]
    graph = helper.make_graph(
        nodes, "tiny_det",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("dets", TensorProto.FLOAT, [3, 6])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if names:
        helper.set_model_props(model, {"names": names})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
