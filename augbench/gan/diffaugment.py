"""Differentiable augmentation of discriminator inputs (Zhao et al. 2020, "DiffAugment").

With ~100 images per class the discriminator memorises the real set and its
gradients become useless; augmenting BOTH real and fake inputs of D with the
same differentiable transforms keeps G's target distribution unchanged while
D cannot memorise. Policies: ``color``, ``translation``, ``cutout``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812


def _rand(shape: tuple[int, ...], x: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
    return torch.rand(shape, generator=g, device="cpu").to(device=x.device, dtype=x.dtype)


def rand_color(x: torch.Tensor, g: torch.Generator | None = None) -> torch.Tensor:
    n = x.size(0)
    x = x + (_rand((n, 1, 1, 1), x, g) - 0.5)  # brightness
    if x.size(1) > 1:
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (_rand((n, 1, 1, 1), x, g) * 2) + mean  # saturation
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_rand((n, 1, 1, 1), x, g) + 0.5) + mean  # contrast


def rand_translation(x: torch.Tensor, ratio: float = 0.125, g: torch.Generator | None = None) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = (torch.randint(-sh, sh + 1, (n, 1, 1), generator=g)).to(x.device)
    ty = (torch.randint(-sw, sw + 1, (n, 1, 1), generator=g)).to(x.device)
    gb, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                torch.arange(w, device=x.device), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return padded.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2).contiguous()


def rand_cutout(x: torch.Tensor, ratio: float = 0.5, g: torch.Generator | None = None) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ox = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=g).to(x.device)
    oy = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=g).to(x.device)
    gb, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(ch, device=x.device),
                                torch.arange(cw, device=x.device), indexing="ij")
    gx = torch.clamp(gx + ox - ch // 2, 0, h - 1)
    gy = torch.clamp(gy + oy - cw // 2, 0, w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


POLICIES = {"color": rand_color, "translation": rand_translation, "cutout": rand_cutout}


def check_policy(policy: str, field_name: str = "diffaugment") -> None:
    """Raise ConfigError for a policy name DiffAugment does not know (at config time, not mid-training)."""
    from augbench.core.errors import ConfigError

    for name in [p.strip() for p in policy.split(",") if p.strip()]:
        if name not in POLICIES:
            raise ConfigError(field_name, f"unknown DiffAugment policy {name!r}; choose from {sorted(POLICIES)}")


def diff_augment(x: torch.Tensor, policy: str = "color,translation,cutout",
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply the comma-separated ``policy`` to a batch in [-1, 1] (differentiable w.r.t. ``x``)."""
    for name in [p.strip() for p in policy.split(",") if p.strip()]:
        if name not in POLICIES:
            raise ValueError(f"unknown DiffAugment policy {name!r}; choose from {sorted(POLICIES)}")
        x = POLICIES[name](x, g=generator)
    return x
