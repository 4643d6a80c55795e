"""A logistic-regression head on frozen features, trained to convergence and selected on val.

Why not a fixed epoch count: issue 15 found augmented arms stopped before they
converged. L-BFGS runs here until its gradient tolerance is met (``max_iter``
is a safety cap that is recorded, and a run that hits it says so), and the
regularisation strength C is chosen per arm and seed on the validation set from
a small grid by validation log-loss (a proper, smooth score: with 150 val
images macro-F1 at a fixed threshold moves in steps and made the choice noisy),
so every arm gets its own best fit rather than one setting that suits the
baseline. Features are standardised on the training rows only.

Arms map onto the head as follows: ``class_weights`` = scikit-learn's
``class_weight="balanced"``; ``oversample`` = minority rows repeated (seeded
draw with replacement) until the classes are equal; everything else changes
the training rows before this module sees them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from augbench.classify.metrics import confusion_matrix, per_class_prf

DEFAULT_CS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass
class ProbeFit:
    """The selected model and how it was chosen (JSON-ready except ``model``/``scaler``)."""

    model: Any
    scaler: Any
    C: float
    val_macro_f1: float
    val_log_loss: float
    n_iter: int
    converged: bool
    grid: list[dict[str, float]] = field(default_factory=list)

    def positive_score(self, X: np.ndarray) -> np.ndarray:
        """Probability of class 1 for each row."""
        return self.model.predict_proba(self.scaler.transform(X))[:, 1]

    def summary(self) -> dict[str, Any]:
        return {"C": self.C, "val_macro_f1": self.val_macro_f1, "val_log_loss": self.val_log_loss,
                "n_iter": self.n_iter, "converged": self.converged, "grid": self.grid}


def oversample_rows(y: np.ndarray, seed: int) -> np.ndarray:
    """Row indices with every smaller class topped up (draws with replacement) to the largest class's count."""
    rng = np.random.default_rng([seed, 7])
    classes, counts = np.unique(y, return_counts=True)
    idx = [np.arange(len(y))]
    for c, n in zip(classes, counts):
        if n < counts.max():
            idx.append(rng.choice(np.flatnonzero(y == c), size=int(counts.max() - n), replace=True))
    return np.concatenate(idx)


def _macro_f1(y: np.ndarray, p: np.ndarray) -> float:
    return float(per_class_prf(confusion_matrix(y, p, 2))[2].mean())


def fit_probe(
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    class_weight: str | None = None,
    Cs: tuple[float, ...] = DEFAULT_CS,
    max_iter: int = 5000,
) -> ProbeFit:
    """Fit one L-BFGS logistic regression per C; keep the lowest val log-loss (recorded: val macro-F1 too)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X)
    Xs, Xv = scaler.transform(X), scaler.transform(X_val)
    best: ProbeFit | None = None
    grid = []
    for C in Cs:
        model = LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter, tol=1e-5)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(Xs, y)
        converged = not any("converge" in str(w.message).lower() for w in caught)
        prob = np.clip(model.predict_proba(Xv)[:, 1], 1e-7, 1 - 1e-7)
        f1 = _macro_f1(y_val, (prob >= 0.5).astype(np.int64))
        ll = float(-np.mean(y_val * np.log(prob) + (1 - y_val) * np.log(1 - prob)))
        n_iter = int(np.max(model.n_iter_))
        grid.append({"C": C, "val_macro_f1": f1, "val_log_loss": ll, "n_iter": n_iter})
        if best is None or ll < best.val_log_loss:
            best = ProbeFit(model, scaler, C, f1, ll, n_iter, converged)
    assert best is not None  # Cs is never empty
    best.grid = grid
    return best


__all__ = ["DEFAULT_CS", "ProbeFit", "fit_probe", "oversample_rows"]
