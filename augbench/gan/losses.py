"""CycleGAN losses: adversarial (LSGAN or vanilla), cycle consistency, identity."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F  # noqa: N812 - the usual torch alias

GanMode = Literal["lsgan", "vanilla"]


def gan_loss(pred: torch.Tensor, target_is_real: bool, mode: GanMode = "lsgan") -> torch.Tensor:
    """Adversarial loss of a discriminator output map against an all-real/all-fake target.

    LSGAN (mean squared error to 1/0) is the reference default: it gives
    non-saturating gradients and trains more stably than the vanilla BCE.
    The loss is computed in fp32 even under autocast so small values do not underflow.
    """
    pred = pred.float()
    target = torch.ones_like(pred) if target_is_real else torch.zeros_like(pred)
    if mode == "lsgan":
        return F.mse_loss(pred, target)
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(pred, target)
    raise ValueError(f"unknown GAN loss mode {mode!r}")


def cycle_loss(reconstructed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """L1 between x and F(G(x)): what stops G from inventing an unrelated image."""
    return F.l1_loss(reconstructed.float(), original.float())


def identity_loss(same: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """L1 between y and G(y): keeps tone/colour when the input is already in the target domain."""
    return F.l1_loss(same.float(), original.float())
