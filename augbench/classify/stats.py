"""Per-image tests that complement the seed-paired ones in :mod:`augbench.classify.report`.

Seed-paired tests (t, Wilcoxon) ask "does the arm win across training draws?";
these ask "does it win across test images?", which catches a gain that comes
from a handful of images. Both arms must be scored on the same test images in
the same order.

* :func:`mcnemar_exact` — exact two-sided McNemar test on the images that
  exactly one of the two classifiers gets right (a binomial test on the
  discordant pairs).
* :func:`bootstrap_images` — paired bootstrap over test images of the
  seed-averaged macro-F1 difference: resample the images once per round, score
  both arms on that resample for every seed, average over seeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from augbench.classify.metrics import confusion_matrix, per_class_prf


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> dict[str, Any]:
    """Exact McNemar: b = images only A gets right, c = only B; p = two-sided binomial(b, b + c, 1/2)."""
    from scipy.stats import binomtest

    a = np.asarray(correct_a, dtype=bool)
    b_ = np.asarray(correct_b, dtype=bool)
    only_a, only_b = int((a & ~b_).sum()), int((~a & b_).sum())
    p = 1.0 if only_a + only_b == 0 else float(binomtest(only_a, only_a + only_b, 0.5).pvalue)
    return {"only_a": only_a, "only_b": only_b, "p": p}


def _macro_f1_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Binary macro-F1 of each row of ``pred`` (seeds x images) against ``y`` (same images)."""
    out = np.empty(pred.shape[0])
    for i, p in enumerate(pred):
        out[i] = per_class_prf(confusion_matrix(y, p, 2))[2].mean()
    return out


def bootstrap_images(y: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, n_boot: int = 2000,
                     seed: int = 0) -> dict[str, Any]:
    """Paired image bootstrap of mean-over-seeds macro-F1(A) - macro-F1(B).

    ``pred_a``/``pred_b`` are (seeds x images) 0/1 predictions; returns the
    observed difference, a 95 % percentile CI and a two-sided p (twice the
    smaller tail of the bootstrap differences around zero).
    """
    y = np.asarray(y, dtype=np.int64)
    pa, pb = np.atleast_2d(pred_a).astype(np.int64), np.atleast_2d(pred_b).astype(np.int64)
    diff = float(_macro_f1_rows(y, pa).mean() - _macro_f1_rows(y, pb).mean())
    rng = np.random.default_rng(seed)
    boots = np.empty(n_boot)
    for k in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        boots[k] = _macro_f1_rows(y[idx], pa[:, idx]).mean() - _macro_f1_rows(y[idx], pb[:, idx]).mean()
    lo, hi = np.percentile(boots, [2.5, 97.5])
    p = float(min(1.0, 2 * min((boots <= 0).mean(), (boots >= 0).mean())))
    return {"diff": diff, "ci": [float(lo), float(hi)], "p": p, "n_boot": n_boot}


__all__ = ["bootstrap_images", "mcnemar_exact"]
