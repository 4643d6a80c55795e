"""Per-epoch evaluation of a training run: detectors on held-out normals + a sample grid.

Built once per run from the held-out domain-A images and the real domain-B
images (whose features are computed once), then called by the trainer after
every epoch; the returned dict becomes part of that epoch's history row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from augbench.gan import detectors
from augbench.gan.trainer import CycleGAN, sample_grid, save_grid


def make_evaluator(holdout_a: torch.Tensor, real_b: torch.Tensor, out_dir: str | Path,
                   feature_kind: str = "lite0", n_grid: int = 6, seed: int = 0,
                   max_real: int = 256) -> Callable[[CycleGAN, int], dict]:
    """Return ``evaluate(model, epoch) -> dict`` (copy, diversity, kid, flags) that also saves a grid PNG."""
    if len(real_b) > max_real:  # KID uses subsets of 100: a few hundred reference images are plenty
        keep = np.random.default_rng([seed, 5]).choice(len(real_b), max_real, replace=False)
        real_b = real_b[torch.from_numpy(np.sort(keep))]
    try:
        real_features = detectors.features(real_b, feature_kind)
    except Exception as exc:  # the extractor is optional: fall back to pixel features, say so in the run
        if feature_kind != "lite0":
            raise
        feature_kind = f"pixels (lite0 failed: {exc})"
        real_features = detectors.features(real_b, "pixels")
    samples = Path(out_dir) / "samples"

    def evaluate(model: CycleGAN, epoch: int) -> dict[str, Any]:
        fake = model.translate(holdout_a, "AB")
        kind = "pixels" if feature_kind.startswith("pixels") else feature_kind
        report = detectors.evaluate(holdout_a, fake, real_features, kind, seed=seed)
        rec = model.translate(fake[:n_grid], "BA")
        save_grid(samples / f"epoch_{epoch:04d}.png", sample_grid(holdout_a[:n_grid], fake[:n_grid], rec))
        out = report.as_dict()
        out["features"] = feature_kind
        return out

    return evaluate


def make_previewer(fixed_a: torch.Tensor) -> Callable[[CycleGAN], np.ndarray]:
    """Return ``preview(model) -> RGB grid`` of real | generated | reconstruction for a few fixed images."""

    def preview(model: CycleGAN) -> np.ndarray:
        fake = model.translate(fixed_a, "AB")
        return sample_grid(fixed_a, fake, model.translate(fake, "BA"))

    return preview
