"""The ``head: linear_probe`` path of the experiment runner: frozen features, logistic regression, many seeds.

Every training, validation and test image, every augmented copy and every
synthetic image is embedded once by a frozen ImageNet EfficientNet-Lite0
(:mod:`augbench.classify.features`, cached on disk by pixel hash), so an arm x
seed costs a logistic-regression fit (:mod:`augbench.classify.linear_probe`).
That is what makes 10+ seeds x a dozen arms affordable on a laptop CPU, which
is what issue 15 needs to see effects of 1-3 macro-F1 points.

Arms: ``class_weights`` -> balanced class weights; ``oversample`` -> minority
rows repeated to balance; ``classic_aug`` -> every training row plus
``aug_copies`` augmented copies of it; ``aug_oversample@N`` -> N augmented copies
of the real training minority images; ``oracle@N``/``transplant@N``/... -> rows
added by :func:`augbench.classify.experiment.training_samples`.

Each run records test metrics at argmax (macro-F1, accuracy, balanced accuracy)
plus AUROC, AUPRC and the minority recall / macro-F1 at a threshold tuned on
val, and the per-image test scores for per-image tests.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from augbench.classify.data import Sample, Split, augmented_copy, classic_pipeline, load_pipeline_file
from augbench.classify.features import FeatureCache, Lite0Features, extract
from augbench.classify.linear_probe import fit_probe, oversample_rows
from augbench.classify.metrics import binary_metrics, tune_threshold
from augbench.core.atomic import atomic_write_json
from augbench.core.errors import ConfigError, ImageReadError
from augbench.core.imageio import read_image
from augbench.core.jobs import JobResult, Skipped
from augbench.core.progress import CancelToken, Progress, ProgressFn


class FeatureStore:
    """Images -> feature rows, with decoded images and plain-image vectors memoised for the process."""

    def __init__(self, cache_dir: Path, size: int, channels: int, pipeline: Any) -> None:
        self.extractor = Lite0Features(size)
        self.cache = FeatureCache(cache_dir)
        self.mode = "gray" if channels == 1 else "rgb"
        self.pipeline = pipeline
        self._img: dict[str, np.ndarray] = {}
        self._plain: dict[str, np.ndarray] = {}
        self.skipped: dict[str, str] = {}
        self.extract_cpu_s = 0.0

    def image(self, path: str) -> np.ndarray | None:
        if path in self.skipped:
            return None
        if path not in self._img:
            try:
                self._img[path] = read_image(path, mode=self.mode)
            except ImageReadError as exc:
                self.skipped[path] = exc.reason
                return None
        return self._img[path]

    def rows(self, samples: list[Sample], seed: int, augment_all: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(features, labels) for ``samples``; ``augcopy`` samples become seeded augmented copies, and
        ``augment_all`` > 0 appends that many augmented copies of every sample (the classic_aug arm)."""
        imgs: list[np.ndarray] = []
        labels: list[int] = []
        copy_no: Counter[str] = Counter()
        plain_idx: list[int] = []
        for s in samples:
            img = self.image(s.path)
            if img is None:
                continue
            if s.origin == "augcopy":
                c = copy_no[s.path]
                copy_no[s.path] += 1
                img = augmented_copy(self.pipeline, img, Path(s.path).name, seed, c)
            elif s.path in self._plain:
                plain_idx.append(len(imgs))
            imgs.append(img)
            labels.append(s.label)
            for k in range(augment_all):
                imgs.append(augmented_copy(self.pipeline, self._img[s.path], Path(s.path).name, seed,
                                           1000 + k if s.origin == "augcopy" else k))
                labels.append(s.label)
        c0 = time.process_time()
        plain_set = set(plain_idx)
        todo = [i for i in range(len(imgs)) if i not in plain_set]
        feats = np.zeros((len(imgs), 1280), np.float32)
        if todo:
            feats[todo] = extract([imgs[i] for i in todo], self.extractor, self.cache)
        j = 0
        for s in samples:  # fill memoised plain vectors and remember new plain ones
            if s.path in self.skipped:
                continue
            if j in plain_set:
                feats[j] = self._plain[s.path]
            elif s.origin != "augcopy":
                self._plain[s.path] = feats[j]
            j += 1 + augment_all
        self.extract_cpu_s += time.process_time() - c0
        return feats, np.asarray(labels, dtype=np.int64)


def _binary(y: np.ndarray, pos: int) -> np.ndarray:
    return (y == pos).astype(np.int64)


def probe_run(cfg: Any, split: Split, arm: Any, seed: int, pools: dict[str, tuple[list[Sample], int]],
              store: FeatureStore) -> dict[str, Any]:
    """Fit and test one (arm, seed) on frozen features; returns the JSON-ready record."""
    from augbench.classify.experiment import _minority_label, seed_pool, training_samples

    if arm.loss == "focal":
        raise ConfigError("arms", f"{arm.name}: focal loss needs head: finetune (the linear probe is a logistic "
                                  "regression)")
    t0, c0 = time.perf_counter(), time.process_time()
    samples, added = training_samples(cfg, split, arm, seed, pools)
    privileged = {o: seed_pool(pools[o][0], split, seed, bool(cfg.protocol_split))[1] for o, _ in arm.synthetic}
    pos = _minority_label(split, cfg)
    X, y = store.rows(samples, seed, cfg.aug_copies if arm.augment else 0)
    Xv, yv = store.rows(split.val, seed)
    Xt, yt = store.rows(split.test, seed)
    yb, yvb, ytb = _binary(y, pos), _binary(yv, pos), _binary(yt, pos)
    if arm.sampler == "weighted":
        idx = oversample_rows(yb, seed)
        X, yb = X[idx], yb[idx]
    fit = fit_probe(X, yb, Xv, yvb, class_weight="balanced" if arm.loss == "weighted_ce" else None)
    thr = tune_threshold(yvb, fit.positive_score(Xv))
    score = fit.positive_score(Xt)
    neg = next(c for i, c in enumerate(split.classes) if i != pos)
    classes = [neg, split.classes[pos]]
    test = binary_metrics(ytb, score, thr, classes)
    counts = Counter((classes[int(b)], s.origin) for b, s in zip(_binary(np.array([s.label for s in samples]), pos),
                                                                  samples))
    train_counts: dict[str, dict[str, int]] = {}
    for (c, o), n in counts.items():
        train_counts.setdefault(c, {})[o] = n
    return {
        "model": cfg.models[0], "head": "linear_probe", "arm": arm.name, "arm_spec": asdict(arm), "seed": seed,
        "classes": classes, "pretrained": "imagenet", "train_counts": train_counts, "synthetic_added": added,
        "leak_guard_privileged_left_out": privileged, "train_rows": int(len(yb)),
        "n_val": int(len(yv)), "n_test": int(len(yt)), "image_size": cfg.image_size,
        "probe": fit.summary(), "best_epoch": 0, "best_val": {"macro_f1": fit.val_macro_f1}, "history": [],
        "test": test,
        "test_predictions": {"y_true": ytb.tolist(), "y_pred": (score >= 0.5).astype(int).tolist(),
                             "score": [round(float(v), 6) for v in score],
                             "ids": [Path(s.path).name for s in split.test if s.path not in store.skipped]},
        "train_seconds": round(time.perf_counter() - t0, 2), "cpu_seconds": round(time.process_time() - c0, 2),
        "total_seconds": round(time.perf_counter() - t0, 2), "images_per_s": 0.0, "data_wait_s": 0.0,
        "skipped": sorted(store.skipped.items()),
    }


def run_probe_runs(cfg: Any, arms: list[Any], pools: dict[str, tuple[list[Sample], int]], result: JobResult,
                   progress: ProgressFn, cancel: CancelToken) -> int:
    """Run every (arm, seed) of a linear-probe experiment not yet on disk; returns the number of new runs."""
    from augbench.classify.experiment import prepare_split, run_path, seed_split

    pipeline = load_pipeline_file(cfg.aug_pipeline) if cfg.aug_pipeline else classic_pipeline(cfg.image_size)
    store = FeatureStore(Path(cfg.feature_cache or Path(cfg.out_dir) / "features"), cfg.image_size, cfg.channels,
                         pipeline)
    base = None if cfg.protocol_split else prepare_split(cfg)
    model = cfg.models[0]
    plan = [(a, s) for s in cfg.seeds for a in arms]
    n_new = 0
    for i, (arm, seed) in enumerate(plan):
        path = run_path(cfg.out_dir, model, arm.name, seed)
        label = f"{model} (linear probe) / {arm.name} / seed {seed}"
        result.outputs.append(str(path))
        if path.is_file():
            progress(Progress(i + 1, len(plan), f"{label}: done earlier", stage="run_done", metrics={"run": i}))
            continue
        cancel.check()
        rec = probe_run(cfg, seed_split(cfg, base, seed), arm, seed, pools, store)
        atomic_write_json(path, rec)
        n_new += 1
        progress(Progress(i + 1, len(plan), f"{label}: macro-F1 {rec['test']['macro_f1']:.3f} "
                          f"AUPRC {rec['test']['auprc']:.3f}", stage="run_done",
                          metrics={"run": i, "accuracy": rec["test"]["accuracy"], "macro_f1": rec["test"]["macro_f1"]}))
    for p, reason in sorted(store.skipped.items()):
        result.skipped.append(Skipped(p, reason))
    return n_new


__all__ = ["FeatureStore", "probe_run", "run_probe_runs"]
