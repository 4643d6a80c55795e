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
``transplant[@A]``  + defect-transplant images from ``transplant_manifest`` (origin "transplant")
``aug_oversample@N`` + N classic-augmented copies of the real training minority images
``oracle@N``        + N real minority images no generator saw (``protocol_split``'s oracle pool)
==================  ============================================================

With ``protocol_split`` (see :mod:`augbench.classify.protocol`) each seed trains
on its own subset and val/test are the protocol's fixed parts; synthetic rows
that carry ``subset_seed`` are used only for that seed. ``head: linear_probe``
trains a logistic regression on cached frozen features instead of the network
(:mod:`augbench.classify.probe_experiment`).

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

from augbench.classify.arms import (  # noqa: E402,F401 - re-exported: the arm grammar lives in arms.py
    BASE_COMPONENTS,
    DEFAULT_ARMS,
    SYNTH_COMPONENTS,
    Arm,
    parse_arm,
)
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
from augbench.classify.trainer import Trainer, TrainOptions, resolve_device
from augbench.core import distributed as D
from augbench.core.atomic import atomic_write_json
from augbench.core.errors import ConfigError
from augbench.core.jobs import JobResult, Skipped
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.core.runfolder import RunFolder


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@+-]", "_", name)


@dataclass(frozen=True)
class CompareJob:
    """Compare balancing arms for image classifiers over several seeds (job ``classify.compare``)."""

    # Runs are files per (model, arm, seed): adding arms or seeds to a finished experiment is its designed
    # second pass (new runs only), so those may differ from the recorded job.
    guard_rerun_free = ("arms", "seeds")

    data: str = field(metadata={"role": "input"})
    out_dir: str = field(metadata={"role": "output"})
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
    # Albumentations JSON/YAML from the Augment tab; empty = built-in classic pipeline
    aug_pipeline: str = field(default="", metadata={"role": "input"})
    cyclegan_manifest: str = field(default="", metadata={"role": "input"})
    style_manifest: str = field(default="", metadata={"role": "input"})
    transplant_manifest: str = field(default="", metadata={"role": "input"})
    protocol_split: str = field(default="", metadata={"role": "input"})  # per-seed subsets + oracle pool (JSON)
    head: Literal["finetune", "linear_probe"] = "finetune"  # linear_probe: logistic regression on frozen features
    aug_copies: int = field(default=1, metadata={"range": (1, 50)})  # linear_probe classic_aug: copies per image
    feature_cache: str = ""  # linear_probe: folder of the content-hash feature cache (default out_dir/features)
    synthetic_class: str = ""  # class of synthetic rows that name none (e.g. "defect")
    # file stems (one per line) never used for val/test, e.g. a GAN's sources.txt
    eval_exclude_file: str = field(default="", metadata={"role": "input"})
    device: str = "auto"
    amp: Literal["off", "bf16", "fp16"] = "off"
    channels_last: bool = False
    num_threads: int = field(default=0, metadata={"range": (0, 256)})  # 0 = torch's default
    save_checkpoints: bool = False
    # Data parallel: "torchrun" re-executes `augbench run job.yaml` as nproc ranks (DDP; batch_size is the global batch)
    launcher: Literal["none", "torchrun"] = field(default="none", metadata={"rerun": "free"})
    nproc: int = field(default=1, metadata={"range": (1, 1024), "rerun": "free"})

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
            if arm.oracle and not self.protocol_split:
                raise ConfigError("protocol_split", f"arm {a!r} needs protocol_split (it names the oracle pool)")
        if self.head == "linear_probe" and self.models != ["efficientnet_lite0"]:
            raise ConfigError("models", "head linear_probe uses frozen efficientnet_lite0 features: "
                                        "models: [efficientnet_lite0]")

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


def prepare_split(cfg: CompareJob) -> Split:
    """Load ``out_dir/split.json`` if it exists (identical splits on re-runs), else make and save it.

    Unreadable images are dropped before splitting and listed in ``out_dir/unreadable.json``
    (never in ``split.json``), so a re-run still reports them.
    """
    path = Path(cfg.out_dir) / "split.json"
    bad_path = Path(cfg.out_dir) / "unreadable.json"
    if path.is_file():
        split = Split.from_dict(json.loads(path.read_text(encoding="utf-8")))
        if bad_path.is_file():
            split.skipped = [tuple(x) for x in json.loads(bad_path.read_text(encoding="utf-8"))]  # type: ignore[misc]
        return split
    split = make_split(cfg.data, cfg.val_frac, cfg.test_frac, cfg.split_seed, _read_lines(cfg.eval_exclude_file))
    save_split(split, path)
    atomic_write_json(bad_path, [list(x) for x in split.skipped])
    return split


def seed_split(cfg: CompareJob, split: Split | None, seed: int) -> Split:
    """The split one seed trains on: the protocol's subset for that seed, else the experiment's one split."""
    if cfg.protocol_split:
        from augbench.classify.protocol import load_protocol

        return load_protocol(cfg.protocol_split, cfg.data).split_for(seed)
    assert split is not None
    return split


def synthetic_pool(cfg: CompareJob, split: Split, origin: str) -> tuple[list[Sample], int]:
    """(synthetic samples of ``origin``, number dropped by the leak guard).

    The leak guard drops a synthetic image when ANY real image its generator used
    for it (the translated source and the defect images it learned from or cut
    patches from) is a val/test image, or, under a protocol, an oracle-pool image.
    """
    manifest = getattr(cfg, f"{origin}_manifest")
    idx = {c: i for i, c in enumerate(split.classes)}
    rows = read_synthetic_manifest(manifest, origin, idx, cfg.synthetic_class or None)
    held_out = _stems(split.val) | _stems(split.test)
    if cfg.protocol_split:
        from augbench.classify.protocol import load_protocol

        held_out |= load_protocol(cfg.protocol_split, cfg.data).generator_forbidden()
    keep = [s for s in rows if not any(Path(x).stem in held_out for x in s.all_sources())]
    return sorted(keep, key=lambda s: s.path), len(rows) - len(keep)


def seed_pool(pool: list[Sample], split: Split, seed: int, protocol: bool) -> tuple[list[Sample], int]:
    """The synthetic rows usable for ``seed``: rows made for another subset are left out, and under a protocol
    so are rows whose generator saw real images outside this seed's training subset (a privileged generator)."""
    rows = [s for s in pool if s.seed is None or s.seed == seed]
    if not protocol:
        return rows, 0
    train = _stems(split.train)
    ok = [s for s in rows if all(Path(x).stem in train for x in s.all_sources())]
    return ok, len(rows) - len(ok)


def _amount(amount: float | None, n_pool: int) -> int:
    return n_pool if amount is None else (int(round(amount * n_pool)) if amount <= 1 else int(amount))


def training_samples(cfg: CompareJob, split: Split, arm: Arm, seed: int,
                     pools: dict[str, tuple[list[Sample], int]]) -> tuple[list[Sample], dict[str, int]]:
    """The real training samples plus this arm's additions: synthetic, augmented minority copies, oracle images.

    Additions are nested in the amount (``@150`` is the first 150 of ``@300`` for a seed), so a
    bigger amount only adds images.
    """
    samples = list(split.train)
    added: dict[str, int] = {}
    for origin, amount in arm.synthetic:
        pool, _ = seed_pool(pools[origin][0], split, seed, bool(cfg.protocol_split))
        n = _amount(amount, len(pool))
        if n > len(pool):
            raise ConfigError("arms", f"{arm.name}: asks for {n} {origin} images; {len(pool)} usable for seed {seed}")
        samples += nested_choice(pool, n, seed)
        added[origin] = n
    if arm.aug_minority:
        minority = _minority_label(split, cfg)
        real = sorted((s for s in split.train if s.label == minority), key=lambda s: s.path)
        order = nested_choice(real, len(real), seed)
        samples += [Sample(order[i % len(order)].path, minority, "augcopy", order[i % len(order)].path)
                    for i in range(arm.aug_minority)]
        added["augcopy"] = arm.aug_minority
    if arm.oracle:
        from augbench.classify.protocol import load_protocol

        pool = load_protocol(cfg.protocol_split, cfg.data).oracle()
        if arm.oracle > len(pool):
            raise ConfigError("arms", f"{arm.name}: the oracle pool holds {len(pool)} images")
        samples += [Sample(s.path, s.label, "oracle") for s in nested_choice(pool, arm.oracle, seed)]
        added["oracle"] = arm.oracle
    return samples, added


def nested_choice(pool: list[Sample], n: int, seed: int) -> list[Sample]:
    """The first ``n`` of a seeded permutation of ``pool`` (sorted by path first): nested in ``n``."""
    items = sorted(pool, key=lambda s: s.path)
    order = random.Random(seed).sample(range(len(items)), len(items))
    return [items[i] for i in order[:n]]


def _minority_label(split: Split, cfg: CompareJob) -> int:
    if cfg.synthetic_class and cfg.synthetic_class in split.classes:
        return split.classes.index(cfg.synthetic_class)
    counts = split.counts("train")
    return split.classes.index(min(counts, key=lambda c: counts[c]))


def run_one(
    cfg: CompareJob,
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
    if arm.augment or arm.aug_minority:
        # Seeded (issue 10): the same seed sees the same augmented images, so its losses repeat exactly.
        transform = (load_pipeline_file(cfg.aug_pipeline, seed=seed) if cfg.aug_pipeline
                     else classic_pipeline(cfg.image_size, seed=seed))
    train_ds = ImageDataset(train_samples, cfg.image_size, cfg.channels, transform, cache,
                            transform_origins=None if arm.augment else {"augcopy"})
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
        "world_size": outcome.world_size, "global_batch": outcome.global_batch,  # data-parallel processes, batch
    }
    if trainer.dist.is_main:  # under torchrun rank 0 alone writes
        atomic_write_json(json_path, record)
    return record


def train_ds_counts(ds: ImageDataset, classes: list[str]) -> dict[str, dict[str, int]]:
    """Training images per class and origin (real / cyclegan / style)."""
    out: dict[str, dict[str, int]] = {}
    for s in ds.samples:
        out.setdefault(classes[s.label], {}).setdefault(s.origin, 0)
        out[classes[s.label]][s.origin] += 1
    return out


def run_experiment(cfg: CompareJob, *, progress: ProgressFn = null_progress,
                   cancel: CancelToken | None = None) -> JobResult:
    """Run every (model, arm, seed) not yet on disk, then write the report. Under torchrun every rank walks the
    plan with DDP (``batch_size`` global); rank 0 makes the split, decides which runs are done and alone writes."""
    with D.process_group(resolve_device(cfg.device)) as info:  # joined first: rank 0's split reaches every rank
        return _run_all(cfg, info, progress if info.is_main else null_progress, cancel or CancelToken())


def _run_all(cfg: CompareJob, info: D.DistInfo, progress: ProgressFn, cancel: CancelToken) -> JobResult:
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    if info.is_main:
        RunFolder(cfg.out_dir).write_job(cfg)
    split = None if cfg.protocol_split else D.broadcast_object(prepare_split(cfg) if info.is_main else None, info)
    ref_split = seed_split(cfg, split, cfg.seeds[0])
    arms = [parse_arm(a) for a in cfg.arms]
    pools: dict[str, tuple[list[Sample], int]] = {}
    for origin in {o for a in arms for o, _ in a.synthetic}:
        pools[origin] = synthetic_pool(cfg, ref_split, origin)
    # Seed-major order: every finished seed completes a paired comparison of all arms, so a run
    # stopped early (or watched live) still has matched baselines.
    plan = [(m, a, s) for s in cfg.seeds for m in cfg.models for a in arms]
    result = JobResult(kind="classify.compare", out_dir=str(cfg.out_dir))
    for path, reason in ref_split.skipped:
        result.skipped.append(Skipped(path, f"unreadable, left out before splitting: {reason}"))
    for origin, (_, dropped) in pools.items():
        if dropped:
            result.skipped.append(Skipped(getattr(cfg, f"{origin}_manifest"),
                                          f"leak guard: {dropped} {origin} images made from val/test"
                                          f"{'/oracle' if cfg.protocol_split else ''} images were left out"))
    if cfg.head == "linear_probe":
        from augbench.classify.probe_experiment import run_probe_runs

        if not info.is_main:  # a logistic regression on cached features: rank 0 does it alone
            return result
        n_done = run_probe_runs(cfg, arms, pools, result, progress, cancel)
        return _finish(cfg, result, n_done)
    cache: dict[Any, Any] = {}
    n_done = 0
    for i, (model_name, arm, seed) in enumerate(plan):
        path = run_path(cfg.out_dir, model_name, arm.name, seed)
        label = f"{model_name} / {arm.name} / seed {seed}"
        if D.broadcast_object(path.is_file(), info):  # rank 0's disk decides, so every rank skips the same runs
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
            rec = run_one(cfg, seed_split(cfg, split, seed), model_name, arm, seed, pools, cache, sub, cancel)
        except Exception as exc:
            from augbench.core.errors import Cancelled

            if isinstance(exc, Cancelled):
                exc.result = _finish(cfg, result, n_done, cancelled=True, write=info.is_main)  # type: ignore[attr-defined]
            raise
        n_done += 1
        result.outputs.append(str(path))
        progress(Progress((i + 1) * 1000, len(plan) * 1000, f"{label}: acc {rec['test']['accuracy']:.3f} "
                          f"macro-F1 {rec['test']['macro_f1']:.3f}", stage="run_done",
                          metrics={"run": i, "accuracy": rec["test"]["accuracy"], "macro_f1": rec["test"]["macro_f1"]}))
    return _finish(cfg, result, n_done, write=info.is_main)


def _finish(cfg: CompareJob, result: JobResult, n_new: int, cancelled: bool = False, write: bool = True) -> JobResult:
    from augbench.classify.report import build_report

    summary = build_report(cfg.out_dir) if result.outputs and write else {}
    result.metrics = {"runs": len(result.outputs), "new_runs": n_new}
    for row in summary.get("rows", []):
        result.metrics[f"{row['model']}/{row['arm']} macro_f1"] = round(row["macro_f1_mean"], 4)
    if summary:
        result.outputs += [str(Path(cfg.out_dir) / "report.md"), str(Path(cfg.out_dir) / "report.html")]
    result.status = "cancelled" if cancelled else "completed"
    result.message = f"{len(result.outputs)} files; report in {Path(cfg.out_dir) / 'report.md'}" if summary else ""
    if write:  # ranks > 0 only fill in the status
        RunFolder(cfg.out_dir).write_result(result)
    return result


ExperimentConfig = CompareJob  # the class's name before the kinds were renamed (issue 12)

__all__ = ["Arm", "CompareJob", "ExperimentConfig", "parse_arm", "prepare_split", "run_experiment", "run_one", "run_path"]
