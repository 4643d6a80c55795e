"""The experiment runner: arms x models x seeds on one fixed split, one JSON per run.

An *arm* is one or more components joined by ``+``:

==================  ============================================================
``baseline``        plain cross-entropy, shuffled batches, no augmentation
``class_weights``   inverse-frequency class-weighted cross-entropy
``oversample``      ``WeightedRandomSampler`` drawing every class equally often
``focal``           focal loss (gamma 2)
``classic_aug``     the Augment tab's pipeline (``aug_pipeline``) or flips/turns/affine/brightness
``style[@A]``       + style-transfer images from ``style_manifest`` (origin "style")
``cyclegan[@A]``    + CycleGAN images from ``cyclegan_manifest`` (origin "cyclegan")
==================  ============================================================

``@A`` is an amount: an integer is a number of images (``cyclegan@100``, the
paper's +100), a number in (0, 1] a fraction of what the manifest offers
(``@1`` = all, ``@0.5`` = half); no amount means all of it. Combinations are the user's (``oversample+classic_aug``,
``class_weights+cyclegan@50``).

Every arm and seed trains on the same split (made once from ``split_seed`` and
saved as ``split.json``); seeds change initialisation and batch order. Synthetic
images go into the training list only, and a synthetic image whose ``source``
is a val/test image is dropped (it would leak that image into training).
Finished runs are skipped on a re-run, so an interrupted experiment resumes and
a new arm (e.g. CycleGAN images that arrived later) is a cheap second pass.
"""

from __future__ import annotations

import json
import random
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from augbench.classify.data import (
    ImageDataset,
    Sample,
    Split,
    classic_pipeline,
    load_pipeline_file,
    make_split,
    read_synthetic_manifest,
    save_split,
)
from augbench.classify.metrics import classification_metrics
from augbench.classify.models import MODEL_NAMES, MODELS, build_model
from augbench.classify.trainer import Trainer, TrainOptions
from augbench.core.atomic import atomic_write_json
from augbench.core.errors import ConfigError
from augbench.core.jobs import JobResult, Skipped, job_runner, register_job
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.core.runfolder import RunFolder

BASE_COMPONENTS = ("baseline", "class_weights", "oversample", "focal", "classic_aug")
SYNTH_COMPONENTS = ("style", "cyclegan")
DEFAULT_ARMS = ["baseline", "class_weights", "oversample", "classic_aug"]
_AMOUNT = re.compile(r"^(style|cyclegan)(?:@(\d+(?:\.\d+)?))?$")


@dataclass(frozen=True)
class Arm:
    """A parsed arm name: the loss, the sampler, augmentation and synthetic additions."""

    name: str
    loss: str = "ce"
    sampler: str = "shuffle"
    augment: bool = False
    synthetic: tuple[tuple[str, float | None], ...] = ()  # (origin, amount) — amount None = all


def parse_arm(name: str) -> Arm:
    """``'oversample+cyclegan@100'`` -> Arm; raises ConfigError naming the bad part."""
    loss, sampler, augment = "ce", "shuffle", False
    synth: list[tuple[str, float | None]] = []
    parts = [p.strip() for p in name.split("+") if p.strip()]
    if not parts:
        raise ConfigError("arms", "an arm needs at least one component")
    for part in parts:
        m = _AMOUNT.match(part)
        if m:
            amount = None if m.group(2) is None else float(m.group(2))
            if amount is not None and amount <= 0:
                raise ConfigError("arms", f"{part}: the amount must be positive")
            synth.append((m.group(1), amount))
        elif part == "class_weights":
            loss = "weighted_ce"
        elif part == "focal":
            loss = "focal"
        elif part == "oversample":
            sampler = "weighted"
        elif part == "classic_aug":
            augment = True
        elif part != "baseline":
            raise ConfigError("arms", f"unknown arm component {part!r}; use {', '.join(BASE_COMPONENTS)}, "
                                      "style[@N], cyclegan[@N] joined by '+'")
    if "class_weights" in parts and "focal" in parts:
        raise ConfigError("arms", f"{name}: choose class_weights or focal, not both")
    return Arm(name, loss, sampler, augment, tuple(synth))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@+-]", "_", name)


@register_job("bench.experiment", "compare balancing arms (weights, oversampling, augmentation, GAN/style images) "
                                 "over models and seeds")
@dataclass(frozen=True)
class ExperimentConfig:
    """Compare balancing arms for image classifiers over several seeds (job ``bench.experiment``)."""

    data: str
    out_dir: str
    models: list[str] = field(default_factory=lambda: ["small_cnn"], metadata={"choices": list(MODEL_NAMES)})
    arms: list[str] = field(default_factory=lambda: list(DEFAULT_ARMS))
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2], metadata={"range": (0, None)})
    pretrained: str = "none"  # none | imagenet | a weights file (small_cnn always trains from scratch)
    freeze_backbone: bool = False
    epochs: int = field(default=0, metadata={"range": (0, 1000)})  # 0 = the paper's number for each model
    batch_size: int = field(default=4, metadata={"range": (1, 4096)})
    lr: float = field(default=1e-3, metadata={"range": (1e-7, 1.0)})
    weight_decay: float = field(default=0.01, metadata={"range": (0.0, 1.0)})
    image_size: int = field(default=64, metadata={"range": (16, 1024)})
    channels: int = field(default=3, metadata={"choices": [1, 3]})
    width: int = field(default=16, metadata={"range": (4, 256)})  # small_cnn base width
    val_frac: float = field(default=0.15, metadata={"range": (0.0, 0.5)})
    test_frac: float = field(default=0.15, metadata={"range": (0.0, 0.5)})
    split_seed: int = 0
    select_metric: Literal["accuracy", "macro_f1"] = "accuracy"
    patience: int = field(default=0, metadata={"range": (0, 1000)})
    aug_pipeline: str = ""  # Albumentations JSON/YAML from the Augment tab; empty = built-in classic pipeline
    cyclegan_manifest: str = ""
    style_manifest: str = ""
    synthetic_class: str = ""  # class of synthetic rows that name none (e.g. "defect")
    eval_exclude_file: str = ""  # file stems (one per line) never used for val/test, e.g. a GAN's sources.txt
    device: str = "auto"
    amp: Literal["off", "bf16", "fp16"] = "off"
    channels_last: bool = False
    num_threads: int = field(default=0, metadata={"range": (0, 256)})  # 0 = torch's default
    save_checkpoints: bool = False

    def __post_init__(self) -> None:
        if not self.models:
            raise ConfigError("models", "choose at least one model")
        if not self.arms:
            raise ConfigError("arms", "choose at least one arm")
        if not self.seeds:
            raise ConfigError("seeds", "give at least one seed")
        if len(set(self.arms)) != len(self.arms):
            raise ConfigError("arms", "an arm is listed twice")
        for a in self.arms:
            arm = parse_arm(a)
            for origin, _ in arm.synthetic:
                if not getattr(self, f"{origin}_manifest"):
                    raise ConfigError(f"{origin}_manifest", f"arm {a!r} needs {origin}_manifest (a manifest.jsonl)")

    def epochs_for(self, model: str) -> int:
        return self.epochs or MODELS[model].default_epochs


def run_path(out_dir: str | Path, model: str, arm: str, seed: int) -> Path:
    return Path(out_dir) / "runs" / _safe(model) / _safe(arm) / f"seed{seed}.json"


def _stems(samples: list[Sample]) -> set[str]:
    return {Path(s.path).stem for s in samples}


def _read_lines(path: str) -> set[str]:
    if not path:
        return set()
    p = Path(path)
    if not p.is_file():
        raise ConfigError("eval_exclude_file", f"file not found: {p}")
    return {Path(ln.strip()).stem for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()}


def prepare_split(cfg: ExperimentConfig) -> Split:
    """Load ``out_dir/split.json`` if it exists (identical splits on re-runs), else make and save it."""
    path = Path(cfg.out_dir) / "split.json"
    if path.is_file():
        return Split.from_dict(json.loads(path.read_text(encoding="utf-8")))
    split = make_split(cfg.data, cfg.val_frac, cfg.test_frac, cfg.split_seed, _read_lines(cfg.eval_exclude_file))
    save_split(split, path)
    return split


def synthetic_pool(cfg: ExperimentConfig, split: Split, origin: str) -> tuple[list[Sample], int]:
    """(usable synthetic samples of ``origin``, number dropped because their source is a val/test image)."""
    manifest = getattr(cfg, f"{origin}_manifest")
    idx = {c: i for i, c in enumerate(split.classes)}
    rows = read_synthetic_manifest(manifest, origin, idx, cfg.synthetic_class or None)
    held_out = _stems(split.val) | _stems(split.test)
    keep = [s for s in rows if not s.source or Path(s.source).stem not in held_out]
    return sorted(keep, key=lambda s: s.path), len(rows) - len(keep)


def training_samples(cfg: ExperimentConfig, split: Split, arm: Arm, seed: int,
                     pools: dict[str, tuple[list[Sample], int]]) -> tuple[list[Sample], dict[str, int]]:
    """The real training samples plus this arm's synthetic share (a seeded subset when an amount is set)."""
    samples = list(split.train)
    added: dict[str, int] = {}
    for origin, amount in arm.synthetic:
        pool, _ = pools[origin]
        n = len(pool) if amount is None else (int(round(amount * len(pool))) if amount <= 1 else int(amount))
        if n > len(pool):
            raise ConfigError("arms", f"{arm.name}: asks for {n} {origin} images, the manifest has {len(pool)}")
        chosen = random.Random(seed).sample(pool, n) if n < len(pool) else pool
        samples += chosen
        added[origin] = len(chosen)
    return samples, added


def run_one(
    cfg: ExperimentConfig,
    split: Split,
    model_name: str,
    arm: Arm,
    seed: int,
    pools: dict[str, tuple[list[Sample], int]],
    cache: dict[Any, Any],
    progress: ProgressFn = null_progress,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """Train and test one (model, arm, seed); returns the JSON-ready record (also written to disk)."""
    train_samples, added = training_samples(cfg, split, arm, seed, pools)
    transform = None
    if arm.augment:
        transform = load_pipeline_file(cfg.aug_pipeline) if cfg.aug_pipeline else classic_pipeline(cfg.image_size)
    train_ds = ImageDataset(train_samples, cfg.image_size, cfg.channels, transform, cache)
    val_ds = ImageDataset(split.val, cfg.image_size, cfg.channels, None, cache)
    test_ds = ImageDataset(split.test, cfg.image_size, cfg.channels, None, cache)
    torch.manual_seed(seed)
    pretrained = "none" if model_name == "small_cnn" else cfg.pretrained
    model_args = {"name": model_name, "num_classes": len(split.classes), "in_channels": cfg.channels,
                  "freeze_backbone": cfg.freeze_backbone, "width": cfg.width}
    model = build_model(pretrained=pretrained, **model_args)
    opts = TrainOptions(epochs=cfg.epochs_for(model_name), batch_size=cfg.batch_size, lr=cfg.lr,
                        weight_decay=cfg.weight_decay, select_metric=cfg.select_metric, loss=arm.loss,
                        sampler=arm.sampler, device=cfg.device, amp=cfg.amp, channels_last=cfg.channels_last,
                        seed=seed, patience=cfg.patience)
    json_path = run_path(cfg.out_dir, model_name, arm.name, seed)
    ckpt_dir = json_path.with_suffix("") if cfg.save_checkpoints else None
    trainer = Trainer(model, train_ds, val_ds, split.classes, opts, ckpt_dir=ckpt_dir, model_args=model_args,
                      extra_meta={"image_size": cfg.image_size, "channels": cfg.channels, "arm": arm.name})
    t0 = time.perf_counter()
    outcome = trainer.fit(progress, cancel, resume=cfg.save_checkpoints)
    y, p, _ = trainer.predict(test_ds)
    test = classification_metrics(y, p, split.classes)
    record = {
        "model": model_name,
        "arm": arm.name,
        "arm_spec": asdict(arm),
        "seed": seed,
        "classes": split.classes,
        "pretrained": pretrained,
        "train_counts": train_ds_counts(train_ds, split.classes),
        "synthetic_added": added,
        "n_val": len(val_ds),
        "n_test": len(test_ds),
        "options": asdict(opts),
        "image_size": cfg.image_size,
        "best_epoch": outcome.best_epoch,
        "best_val": {cfg.select_metric: outcome.best_metric},
        "history": [asdict(r) for r in outcome.history],
        "test": test,
        "test_predictions": {"y_true": y.tolist(), "y_pred": p.tolist()},
        "train_seconds": round(outcome.train_s, 2),
        "total_seconds": round(time.perf_counter() - t0, 2),
        "images_per_s": round(outcome.images_per_s, 1),
        "data_wait_s": round(outcome.data_wait_s, 2),
        "skipped": train_ds.skipped + val_ds.skipped + test_ds.skipped,
    }
    atomic_write_json(json_path, record)
    return record


def train_ds_counts(ds: ImageDataset, classes: list[str]) -> dict[str, dict[str, int]]:
    """Training images per class and origin (real / cyclegan / style)."""
    out: dict[str, dict[str, int]] = {}
    for s in ds.samples:
        out.setdefault(classes[s.label], {}).setdefault(s.origin, 0)
        out[classes[s.label]][s.origin] += 1
    return out


@job_runner(ExperimentConfig)
def run_experiment(cfg: ExperimentConfig, *, progress: ProgressFn = null_progress,
                   cancel: CancelToken | None = None) -> JobResult:
    """Run every (model, arm, seed) not yet on disk, then write the report."""
    cancel = cancel or CancelToken()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    folder = RunFolder(cfg.out_dir)
    folder.write_job(cfg)
    split = prepare_split(cfg)
    arms = [parse_arm(a) for a in cfg.arms]
    pools: dict[str, tuple[list[Sample], int]] = {}
    for origin in {o for a in arms for o, _ in a.synthetic}:
        pools[origin] = synthetic_pool(cfg, split, origin)
    # Seed-major order: every finished seed completes a paired comparison of all arms, so a run
    # stopped early (or watched live) still has matched baselines.
    plan = [(m, a, s) for s in cfg.seeds for m in cfg.models for a in arms]
    result = JobResult(kind="bench.experiment", out_dir=str(cfg.out_dir))
    for origin, (_, dropped) in pools.items():
        if dropped:
            result.skipped.append(Skipped(getattr(cfg, f"{origin}_manifest"),
                                          f"{dropped} {origin} images made from val/test images were left out"))
    cache: dict[Any, Any] = {}
    n_done = 0
    for i, (model_name, arm, seed) in enumerate(plan):
        path = run_path(cfg.out_dir, model_name, arm.name, seed)
        label = f"{model_name} / {arm.name} / seed {seed}"
        if path.is_file():
            result.outputs.append(str(path))
            progress(Progress((i + 1) * 1000, len(plan) * 1000, f"{label}: done earlier", stage="run_done",
                              metrics={"run": i}))
            continue

        def sub(p: Progress, i: int = i, label: str = label) -> None:
            frac = p.fraction
            progress(Progress(int((i + frac) * 1000), len(plan) * 1000, f"[{i + 1}/{len(plan)}] {label}: {p.message}",
                              stage=p.stage or "train", metrics={**p.metrics, "run": i, "run_fraction": frac}))

        cancel.check()
        try:
            rec = run_one(cfg, split, model_name, arm, seed, pools, cache, sub, cancel)
        except Exception as exc:
            from augbench.core.errors import Cancelled

            if isinstance(exc, Cancelled):
                exc.result = _finish(cfg, result, n_done, cancelled=True)  # type: ignore[attr-defined]
            raise
        n_done += 1
        result.outputs.append(str(path))
        progress(Progress((i + 1) * 1000, len(plan) * 1000, f"{label}: acc {rec['test']['accuracy']:.3f} "
                          f"macro-F1 {rec['test']['macro_f1']:.3f}", stage="run_done",
                          metrics={"run": i, "accuracy": rec["test"]["accuracy"], "macro_f1": rec["test"]["macro_f1"]}))
    return _finish(cfg, result, n_done)


def _finish(cfg: ExperimentConfig, result: JobResult, n_new: int, cancelled: bool = False) -> JobResult:
    from augbench.classify.report import build_report

    summary = build_report(cfg.out_dir) if result.outputs else {}
    result.metrics = {"runs": len(result.outputs), "new_runs": n_new}
    for row in summary.get("rows", []):
        result.metrics[f"{row['model']}/{row['arm']} macro_f1"] = round(row["macro_f1_mean"], 4)
    if summary:
        result.outputs += [str(Path(cfg.out_dir) / "report.md"), str(Path(cfg.out_dir) / "report.html")]
    result.status = "cancelled" if cancelled else "completed"
    result.message = f"{len(result.outputs)} files; report in {Path(cfg.out_dir) / 'report.md'}" if summary else ""
    RunFolder(cfg.out_dir).write_result(result)
    return result


__all__ = ["Arm", "ExperimentConfig", "parse_arm", "prepare_split", "run_experiment", "run_one", "run_path"]
