"""AUROC / AUPRC / threshold tuning against scikit-learn; per-image tests (McNemar, image bootstrap)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn import metrics as skm

from augbench.classify.metrics import auroc, average_precision, binary_metrics, tune_threshold
from augbench.classify.stats import bootstrap_images, mcnemar_exact


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auroc_and_ap_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.random(200) + 0.4 * y, 1)  # rounded: many ties
    assert auroc(y, s) == pytest.approx(skm.roc_auc_score(y, s))
    assert average_precision(y, s) == pytest.approx(skm.average_precision_score(y, s))
    assert np.isnan(auroc(np.ones(5), np.arange(5)))


def test_tuned_threshold_maximises_val_macro_f1() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    s = rng.random(300) * 0.5 + 0.3 * y  # all scores < 0.8; positives shifted up
    t = tune_threshold(y, s)
    best = max(skm.f1_score(y, (s >= c).astype(int), average="macro") for c in np.unique(s))
    assert skm.f1_score(y, (s >= t).astype(int), average="macro") == pytest.approx(best)
    m = binary_metrics(y, s, t, ["normal", "defect"])
    assert m["macro_f1_tuned"] == pytest.approx(best)
    assert m["recall_tuned"] == pytest.approx(skm.recall_score(y, (s >= t).astype(int)))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, (s >= 0.5).astype(int), average="macro"))


def test_mcnemar_is_the_binomial_test_on_discordant_pairs() -> None:
    a = np.array([1] * 30 + [0] * 5 + [1] * 50 + [0] * 15, bool)
    b = np.array([0] * 30 + [1] * 5 + [1] * 50 + [0] * 15, bool)
    r = mcnemar_exact(a, b)
    assert (r["only_a"], r["only_b"]) == (30, 5)
    assert r["p"] == pytest.approx(binomtest(30, 35, 0.5).pvalue) and r["p"] < 0.001
    assert mcnemar_exact(a, a)["p"] == 1.0


def test_image_bootstrap_sees_a_real_gain_and_not_a_null_one() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    good = np.where(rng.random((5, 300)) < 0.9, y, 1 - y)
    bad = np.where(rng.random((5, 300)) < 0.7, y, 1 - y)
    r = bootstrap_images(y, good, bad, n_boot=400)
    assert r["diff"] > 0.1 and r["p"] < 0.01 and r["ci"][0] > 0
    same = bootstrap_images(y, good, good, n_boot=200)
    assert same["diff"] == 0 and same["p"] == 1.0
