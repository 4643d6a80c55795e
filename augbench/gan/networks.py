"""CycleGAN networks: the ResNet generator and the 70x70 PatchGAN discriminator.

Shapes follow the reference CycleGAN code (Zhu et al. 2017) so results are
comparable: reflection padding, instance norm, two stride-2 downsamplings,
``n_blocks`` residual blocks and a ``tanh`` output. ``upsample="resize"``
replaces the transposed convolutions by nearest-neighbour resize + conv
(Odena et al. 2016), which removes the checkerboard artefacts transposed
convolutions leave on small data sets.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Upsample = Literal["deconv", "resize"]


def _norm(ch: int) -> nn.Module:
    # affine=False, track_running_stats=False: the reference "instance" norm.
    return nn.InstanceNorm2d(ch, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    """Two reflection-padded 3x3 convs with instance norm and a skip connection."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, bias=True), _norm(ch), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, bias=True), _norm(ch),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """c7s1-ngf, d(2ngf), d(4ngf), R(4ngf) x n_blocks, u(2ngf), u(ngf), c7s1-out, tanh."""

    def __init__(self, in_ch: int = 3, out_ch: int = 3, ngf: int = 64, n_blocks: int = 9,
                 upsample: Upsample = "deconv", n_down: int = 2, final_tanh: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_ch, ngf, 7, bias=True), _norm(ngf),
                                   nn.ReLU(True)]
        ch = ngf
        for _ in range(n_down):
            layers += [nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1, bias=True), _norm(ch * 2), nn.ReLU(True)]
            ch *= 2
        layers += [ResnetBlock(ch) for _ in range(n_blocks)]
        for _ in range(n_down):
            if upsample == "resize":
                layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1),
                           nn.Conv2d(ch, ch // 2, 3, bias=True)]
            else:
                layers += [nn.ConvTranspose2d(ch, ch // 2, 3, stride=2, padding=1, output_padding=1, bias=True)]
            layers += [_norm(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, out_ch, 7)] + ([nn.Tanh()] if final_tanh else [])
        self.model = nn.Sequential(*layers)
        self.multiple = 2 ** n_down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class AttentionResnetGenerator(nn.Module):
    """A ResNet generator that paints only where it attends: ``out = x + m * (r - x)``.

    The trunk predicts a content image ``r`` (tanh) and a one-channel mask
    ``m`` (sigmoid); the output keeps the input wherever ``m`` is 0. That is
    the residual form ``x + m * d`` with ``d = r - x``. A sparsity penalty on
    ``m`` (``lambda_mask`` in the trainer) keeps the change local, so a crack
    is added to a cell instead of the whole cell being re-textured; ``m`` is
    also the mask of the pixels a generated defect changed.
    """

    def __init__(self, in_ch: int = 3, out_ch: int = 3, ngf: int = 64, n_blocks: int = 9,
                 upsample: Upsample = "deconv", n_down: int = 2) -> None:
        super().__init__()
        if in_ch != out_ch:
            raise ValueError("an attention generator maps a domain to itself: in_ch must equal out_ch")
        self.trunk = ResnetGenerator(in_ch, out_ch + 1, ngf, n_blocks, upsample, n_down, final_tanh=False)
        self.out_ch = out_ch
        self.multiple = self.trunk.multiple

    def forward_with_mask(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw = self.trunk(x)
        r = torch.tanh(raw[:, :self.out_ch])
        m = torch.sigmoid(raw[:, self.out_ch:])
        return x + m * (r - x), m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_mask(x)[0]


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad H and W up to a multiple of ``multiple`` (a 300 px cell through 2 stride-2 layers is fine,
    a 299 px one is not); returns the padded tensor and the original (H, W) to crop back to."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = nn.functional.pad(x, (0, pw, 0, ph), mode="reflect")
    return x, (h, w)


class PatchDiscriminator(nn.Module):
    """The 70x70 PatchGAN (``n_layers=3``): one real/fake logit per overlapping 70x70 patch."""

    def __init__(self, in_ch: int = 3, ndf: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_ch, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=2, padding=1, bias=True), _norm(ndf * mult),
                       nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2 ** n_layers, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=1, padding=1, bias=True), _norm(ndf * mult),
                   nn.LeakyReLU(0.2, True), nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def receptive_field(n_layers: int = 3) -> int:
    """Receptive field in pixels of a PatchGAN output unit (70 for ``n_layers=3``)."""
    rf = 1
    # walk back: final conv k4 s1, then k4 s1, then n_layers convs of k4 s2
    strides = [2] * n_layers + [1, 1]
    for s in reversed(strides):
        rf = (rf - 1) * s + 4
    return rf


def init_weights(net: nn.Module, gain: float = 0.02, generator: torch.Generator | None = None) -> nn.Module:
    """N(0, 0.02) init of conv weights, zero biases (the reference ``init_type='normal'``)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            with torch.no_grad():
                m.weight.normal_(0.0, gain, generator=generator)
                if m.bias is not None:
                    m.bias.zero_()
    return net


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
