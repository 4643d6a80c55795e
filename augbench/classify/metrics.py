"""Classification metrics in plain numpy (checked against scikit-learn in the tests).

Kept free of scikit-learn so the trainer's per-epoch validation costs nothing
to import, and so the definitions are visible: a class that never occurs and is
never predicted gets precision = recall = F1 = 0 (scikit-learn's
``zero_division=0``), and macro-F1 averages over all classes of the data set.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """``cm[i, j]`` = number of samples of true class i predicted as j."""
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def per_class_prf(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 and support per class from a confusion matrix."""
    tp = np.diag(cm).astype(np.float64)
    pred = cm.sum(0).astype(np.float64)
    true = cm.sum(1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(pred > 0, tp / pred, 0.0)
        recall = np.where(true > 0, tp / true, 0.0)
        denom = precision + recall
        f1 = np.where(denom > 0, 2 * precision * recall / np.where(denom > 0, denom, 1), 0.0)
    return precision, recall, f1, true.astype(np.int64)


def classification_metrics(
    y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1, balanced accuracy, per-class P/R/F1 and the confusion matrix (JSON-ready)."""
    n = len(classes)
    cm = confusion_matrix(y_true, y_pred, n)
    precision, recall, f1, support = per_class_prf(cm)
    total = int(cm.sum())
    return {
        "accuracy": float(np.trace(cm) / total) if total else 0.0,
        "macro_f1": float(f1.mean()) if n else 0.0,
        "balanced_accuracy": float(recall[support > 0].mean()) if (support > 0).any() else 0.0,
        "per_class": {
            c: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                "support": int(support[i])}
            for i, c in enumerate(classes)
        },
        "confusion_matrix": cm.tolist(),
        "classes": list(classes),
        "n": total,
    }


def auroc(y_true: Sequence[int], score: Sequence[float]) -> float:
    """Area under the ROC curve for binary labels (1 = positive) via the rank-sum (ties count half).

    NaN when only one class is present (the area is undefined, as scikit-learn warns).
    """
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(score, dtype=np.float64)
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(y_true: Sequence[int], score: Sequence[float]) -> float:
    """AUPRC as average precision: sum over distinct thresholds of (R_k - R_{k-1}) * P_k (scikit-learn's definition)."""
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(score, dtype=np.float64)
    n_pos = int((y == 1).sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # last index of each distinct score
    tps = np.cumsum(y)[last].astype(np.float64)
    precision = tps / (last + 1)
    recall = tps / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def tune_threshold(y_true: Sequence[int], score: Sequence[float]) -> float:
    """The score threshold (predict positive when score >= t) that maximises macro-F1 on these labels.

    Meant for a validation set; ties go to the threshold nearest 0.5 so a flat
    optimum does not drift to an extreme.
    """
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(score, dtype=np.float64)
    cands = np.unique(s)
    best_t, best_f = 0.5, -1.0
    for t in cands:
        f = float(per_class_prf(confusion_matrix(y, (s >= t).astype(np.int64), 2))[2].mean())
        if f > best_f + 1e-12 or (abs(f - best_f) <= 1e-12 and abs(t - 0.5) < abs(best_t - 0.5)):
            best_t, best_f = float(t), f
    return best_t


def binary_metrics(y_true: Sequence[int], score: Sequence[float], threshold: float, classes: Sequence[str],
                   ) -> dict[str, Any]:
    """:func:`classification_metrics` at argmax (score >= 0.5) plus AUROC, AUPRC and the tuned-threshold view.

    ``score`` is the positive-class (index 1) probability; ``threshold`` comes
    from the validation set (:func:`tune_threshold`), never from these labels.
    """
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(score, dtype=np.float64)
    out = classification_metrics(y, (s >= 0.5).astype(np.int64), classes)
    tuned = classification_metrics(y, (s >= threshold).astype(np.int64), classes)
    out.update({
        "auroc": auroc(y, s), "auprc": average_precision(y, s), "threshold": float(threshold),
        "macro_f1_tuned": tuned["macro_f1"], "recall_tuned": tuned["per_class"][classes[1]]["recall"],
        "precision_tuned": tuned["per_class"][classes[1]]["precision"],
    })
    return out


__all__ = ["auroc", "average_precision", "binary_metrics", "classification_metrics", "confusion_matrix",
           "per_class_prf", "tune_threshold"]
