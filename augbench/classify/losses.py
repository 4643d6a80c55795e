"""Losses for imbalanced data: class-weighted cross-entropy and focal loss."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def inverse_frequency_weights(counts: Sequence[int]) -> torch.Tensor:
    """w_c = N / (K * n_c): a balanced data set gets weights of 1 (scikit-learn's 'balanced')."""
    c = torch.tensor([max(int(x), 1) for x in counts], dtype=torch.float32)
    return c.sum() / (len(c) * c)


class FocalLoss(nn.Module):
    """Focal loss (Lin et al. 2017): ``-alpha_c (1 - p_t)^gamma log p_t``; gamma=0 is (weighted) cross-entropy."""

    def __init__(self, gamma: float = 2.0, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.gamma = gamma
        self.register_buffer("weight", weight if weight is not None else None)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logp = F.log_softmax(logits.float(), dim=1)
        logp_t = logp.gather(1, target[:, None]).squeeze(1)
        loss = -((1 - logp_t.exp()) ** self.gamma) * logp_t
        if self.weight is not None:
            w = self.weight.to(loss.device)[target]
            return (w * loss).sum() / w.sum()
        return loss.mean()


def make_loss(kind: str, counts: Sequence[int], gamma: float = 2.0) -> nn.Module:
    """``ce`` | ``weighted_ce`` | ``focal`` (focal is unweighted: the paper-style comparison keeps one change per arm)."""
    if kind == "ce":
        return nn.CrossEntropyLoss()
    if kind == "weighted_ce":
        return nn.CrossEntropyLoss(weight=inverse_frequency_weights(counts))
    if kind == "focal":
        return FocalLoss(gamma)
    raise ValueError(f"unknown loss {kind!r}")


__all__ = ["FocalLoss", "inverse_frequency_weights", "make_loss"]
