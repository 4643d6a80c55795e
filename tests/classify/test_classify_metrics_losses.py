"""Metrics against scikit-learn; losses against their definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn import metrics as skm

from augbench.classify.losses import FocalLoss, inverse_frequency_weights, make_loss
from augbench.classify.metrics import classification_metrics


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = 4
    y = rng.integers(0, k, 200)
    p = np.where(rng.random(200) < 0.6, y, rng.integers(0, k, 200))
    p[p == 3] = 2  # class 3 is never predicted: precision must be 0, not NaN
    classes = ["a", "b", "c", "d"]
    m = classification_metrics(y, p, classes)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, p))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, p, average="macro", labels=range(k), zero_division=0))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, p))
    pr, rc, f1, sup = skm.precision_recall_fscore_support(y, p, labels=range(k), zero_division=0)
    for i, c in enumerate(classes):
        assert m["per_class"][c]["precision"] == pytest.approx(pr[i])
        assert m["per_class"][c]["recall"] == pytest.approx(rc[i])
        assert m["per_class"][c]["f1"] == pytest.approx(f1[i])
        assert m["per_class"][c]["support"] == sup[i]
    assert m["confusion_matrix"] == skm.confusion_matrix(y, p, labels=range(k)).tolist()


def test_focal_gamma_zero_is_cross_entropy() -> None:
    torch.manual_seed(0)
    logits, y = torch.randn(16, 3), torch.randint(0, 3, (16,))
    assert FocalLoss(0.0)(logits, y).item() == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    w = torch.tensor([1.0, 2.0, 0.5])
    assert FocalLoss(0.0, w)(logits, y).item() == pytest.approx(F.cross_entropy(logits, y, weight=w).item(), rel=1e-5)
    # Focusing: easy examples (high p_t) lose more weight than hard ones, so the loss drops below CE.
    assert FocalLoss(2.0)(logits, y).item() < F.cross_entropy(logits, y).item()


def test_inverse_frequency_weights_are_sklearn_balanced() -> None:
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0] * 60 + [1] * 15 + [2] * 5)
    expected = compute_class_weight("balanced", classes=np.arange(3), y=y)
    assert np.allclose(inverse_frequency_weights([60, 15, 5]).numpy(), expected)
    assert isinstance(make_loss("weighted_ce", [60, 15, 5]), torch.nn.CrossEntropyLoss)
    with pytest.raises(ValueError):
        make_loss("nope", [1, 1])
