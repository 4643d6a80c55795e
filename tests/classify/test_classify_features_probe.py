"""Feature cache (content-keyed, append-only), the logistic-regression head, the linear-probe experiment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from protocol_data import build_protocol_data

from augbench.classify.data import augmented_copy, classic_pipeline
from augbench.classify.features import FeatureCache, extract, pixel_key
from augbench.classify.linear_probe import fit_probe, oversample_rows


class CountingExtractor:
    """Stands in for Lite0: a vector of pixel statistics, counting how many images it embedded."""

    tag = "counting-8"
    batch_size = 4

    def __init__(self) -> None:
        self.embedded = 0

    def prepare(self, img: np.ndarray) -> np.ndarray:
        return img

    def embed(self, batch):
        self.embedded += len(batch)
        return np.stack([np.full(1280, float(b.mean()), np.float32) for b in batch])


def test_cache_is_keyed_by_pixels_and_survives_a_restart(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 255, (8, 8), dtype=np.uint8) for _ in range(6)]
    ex = CountingExtractor()
    cache = FeatureCache(tmp_path / "c")
    first = extract(imgs + [imgs[0].copy()], ex, cache)
    assert ex.embedded == 6  # the duplicate image is embedded once
    np.testing.assert_array_equal(first[0], first[6])
    again = extract(imgs, ex, FeatureCache(tmp_path / "c"))  # a new process reads the parts back
    assert ex.embedded == 6 and np.array_equal(again, first[:6])
    changed = imgs[2].copy()
    changed[0, 0] ^= 1
    assert pixel_key(changed, ex.tag) != pixel_key(imgs[2], ex.tag)
    extract([changed], ex, FeatureCache(tmp_path / "c"))
    assert ex.embedded == 7  # one changed pixel is a new image
    assert len(list((tmp_path / "c").glob("part-*.npz"))) == 2  # append-only: nothing rewritten


def test_augmented_copy_depends_only_on_image_seed_and_copy() -> None:
    img = np.random.default_rng(1).integers(0, 255, (64, 64), dtype=np.uint8)
    pipe = classic_pipeline(64)
    a = augmented_copy(pipe, img, "x.png", 3, 0)
    augmented_copy(pipe, img, "x.png", 9, 4)  # other draws in between change nothing
    assert np.array_equal(a, augmented_copy(classic_pipeline(64), img, "x.png", 3, 0))
    assert not all(np.array_equal(a, augmented_copy(pipe, img, "x.png", 3, c)) for c in (1, 2, 3))
    names = [t.__class__.__name__ for t in pipe.transforms]
    assert "RandomRotate90" not in names and "HorizontalFlip" in names  # no 90-degree turns of bus-bar cells


def test_probe_converges_and_picks_c_on_val() -> None:
    rng = np.random.default_rng(0)
    w = rng.normal(size=20)

    def data(n):
        X = rng.normal(size=(n, 20))
        return X, (X @ w + 0.5 * rng.normal(size=n) > 1.0).astype(int)

    X, y = data(400)
    Xv, yv = data(200)
    fit = fit_probe(X, y, Xv, yv, Cs=(0.001, 1.0))
    assert fit.converged and fit.C == 1.0  # the weakly regularised model fits this linear problem better
    assert fit.val_log_loss == min(g["val_log_loss"] for g in fit.grid)
    assert fit.val_macro_f1 > 0.85
    assert ((fit.positive_score(Xv) >= 0.5) == yv).mean() > 0.85


def test_oversample_rows_balance_the_classes() -> None:
    y = np.array([0] * 30 + [1] * 7)
    idx = oversample_rows(y, 0)
    assert np.bincount(y[idx]).tolist() == [30, 30]
    assert set(range(37)) <= set(idx.tolist())  # every original row kept
    assert np.array_equal(idx, oversample_rows(y, 0))


@pytest.fixture
def protocol_data(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny two-class folder + a protocol split over it (ids relative to the folder)."""
    build_protocol_data(tmp_path, 40, 30, seeds=[0, 1], n_test=6, n_val=4, n_oracle=8, n_major=20, n_minor=6)
    return tmp_path / "data", tmp_path / "split.json"


def _synthetic_manifest(tmp_path: Path, split_file: Path) -> Path:
    """Synthetic rows: 4 clean ones per seed, one made from a test image, one whose patch came from outside the
    seed's subset (a privileged generator)."""
    from augbench.core.imageio import write_image

    s = json.loads(split_file.read_text())
    rows = []
    for seed in (0, 1):
        sub = s["subsets"][str(seed)]
        for k in range(6):
            img = np.full((32, 32), 40, np.uint8)
            img[4 + k:14 + k, 4:14] = 220
            f = tmp_path / "syn" / "defect" / f"s{seed}_{k}.png"
            write_image(f, img)
            defect = sub["defect"][k % len(sub["defect"])]
            if k == 4:
                defect = s["test"]["defect"][0]
            if k == 5:
                defect = next(d for d in s["train_pool"]["defect"] if d not in sub["defect"])
            rows.append({"file": str(f), "origin": "transplant", "class": "defect", "subset_seed": seed,
                         "source": sub["normal"][k], "defect_source": defect})
    (tmp_path / "syn" / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path / "syn" / "manifest.jsonl"


def test_linear_probe_experiment_with_protocol_and_leak_guard(protocol_data, tmp_path: Path) -> None:
    from augbench.classify.experiment import ExperimentConfig, run_path
    from augbench.core.jobs import run_job

    data, split_file = protocol_data
    manifest = _synthetic_manifest(tmp_path, split_file)
    cfg = ExperimentConfig(data=str(data), out_dir=str(tmp_path / "exp"), models=["efficientnet_lite0"],
                           arms=["baseline", "class_weights", "oversample", "classic_aug", "aug_oversample@6",
                                 "oracle@4", "transplant@4"], seeds=[0, 1], head="linear_probe",
                           protocol_split=str(split_file), image_size=32, channels=1, synthetic_class="defect",
                           transplant_manifest=str(manifest))
    res = run_job(cfg)
    assert res.status == "completed" and res.metrics["runs"] == 14
    assert any("leak guard" in s.reason and "2 transplant" in s.reason for s in res.skipped)
    rec = json.loads(run_path(cfg.out_dir, "efficientnet_lite0", "transplant@4", 1).read_text())
    assert rec["synthetic_added"] == {"transplant": 4}
    assert rec["leak_guard_privileged_left_out"] == {"transplant": 1}  # patch from outside subset 1
    assert rec["train_counts"]["defect"] == {"real": 6, "transplant": 4}
    oracle = json.loads(run_path(cfg.out_dir, "efficientnet_lite0", "oracle@4", 0).read_text())
    assert oracle["train_counts"]["defect"] == {"real": 6, "oracle": 4}
    aug = json.loads(run_path(cfg.out_dir, "efficientnet_lite0", "aug_oversample@6", 0).read_text())
    assert aug["train_counts"]["defect"] == {"real": 6, "augcopy": 6}
    classic = json.loads(run_path(cfg.out_dir, "efficientnet_lite0", "classic_aug", 0).read_text())
    assert classic["train_rows"] == 2 * 26  # every image + one augmented copy
    for r in (rec, oracle, aug, classic):
        assert r["n_test"] == 12 and 0.0 <= r["test"]["auroc"] <= 1.0 and r["probe"]["converged"]
        assert len(r["test_predictions"]["score"]) == 12
    base0 = json.loads(run_path(cfg.out_dir, "efficientnet_lite0", "baseline", 0).read_text())
    base1 = json.loads(run_path(cfg.out_dir, "efficientnet_lite0", "baseline", 1).read_text())
    assert base0["test_predictions"]["ids"] == base1["test_predictions"]["ids"]  # fixed test set
    summary = json.loads((Path(cfg.out_dir) / "summary.json").read_text())
    row = next(r for r in summary["rows"] if r["arm"] == "oracle@4")
    assert "auprc_mean" in row and "auprc_vs_baseline" in row
