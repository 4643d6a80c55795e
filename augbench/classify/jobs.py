"""Job kinds of the benchmark: ``classify.train`` (one model) and ``classify.compare`` (arms x models x seeds).

Old names ``bench.train`` / ``bench.experiment`` still load (see ``augbench.core.jobs.KIND_ALIASES``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch

from augbench.classify.data import ImageDataset, classic_pipeline, load_pipeline_file, make_split, save_split
from augbench.classify.experiment import CompareJob, ExperimentConfig, run_experiment
from augbench.classify.models import MODEL_NAMES, MODELS, build_model
from augbench.classify.trainer import Trainer, TrainOptions
from augbench.core.atomic import atomic_write_json
from augbench.core.errors import ConfigError
from augbench.core.jobs import JobResult, Skipped, job_runner, register_job
from augbench.core.progress import CancelToken, ProgressFn
from augbench.core.runfolder import RunFolder


@register_job("classify.train")
@dataclass(frozen=True)
class TrainJob:
    """Train one classifier on a folder and save a self-describing best checkpoint (``best.pt``)."""

    guard_rerun_free = ("epochs",)  # resuming may train longer

    data: str = field(metadata={"role": "input"})
    out_dir: str = field(metadata={"role": "output"})
    model: str = field(default="small_cnn", metadata={"choices": list(MODEL_NAMES)})
    pretrained: str = "none"
    freeze_backbone: bool = False
    epochs: int = field(default=0, metadata={"range": (0, 1000)})  # 0 = the paper's number for the model
    batch_size: int = field(default=4, metadata={"range": (1, 4096)})
    lr: float = field(default=1e-3, metadata={"range": (1e-7, 1.0)})
    image_size: int = field(default=64, metadata={"range": (16, 1024)})
    channels: int = field(default=3, metadata={"choices": [1, 3]})
    loss: Literal["ce", "weighted_ce", "focal"] = "ce"
    sampler: Literal["shuffle", "weighted"] = "shuffle"
    augment: bool = False
    aug_pipeline: str = field(default="", metadata={"role": "input"})
    select_metric: Literal["accuracy", "macro_f1"] = "accuracy"
    val_frac: float = field(default=0.15, metadata={"range": (0.0, 0.5)})
    test_frac: float = field(default=0.15, metadata={"range": (0.0, 0.5)})
    seed: int = 0
    device: str = "auto"
    amp: Literal["off", "bf16", "fp16", "auto"] = "off"
    channels_last: bool = False
    resume: bool = True
    # Data parallel: "torchrun" re-executes `augbench run job.yaml` as nproc ranks (DDP; batch_size is the global batch)
    launcher: Literal["none", "torchrun"] = field(default="none", metadata={"rerun": "free"})
    nproc: int = field(default=1, metadata={"range": (1, 1024), "rerun": "free"})

    def __post_init__(self) -> None:
        if self.model == "small_cnn" and self.pretrained not in ("none", ""):
            raise ConfigError("pretrained", "small_cnn has no pretrained weights")


@job_runner(TrainJob)
def run_bench_train(cfg: TrainJob, *, progress: ProgressFn, cancel: CancelToken) -> JobResult:
    from augbench.classify.distributed import env_world

    main = env_world().is_main  # under torchrun only rank 0 writes files; every rank computes the same split
    folder = RunFolder(cfg.out_dir)
    if main:
        folder.write_job(cfg)
    split_path = Path(cfg.out_dir) / "split.json"
    split = make_split(cfg.data, cfg.val_frac, cfg.test_frac, cfg.seed)
    if main:
        save_split(split, split_path)
    transform = None
    if cfg.augment:
        transform = load_pipeline_file(cfg.aug_pipeline) if cfg.aug_pipeline else classic_pipeline(cfg.image_size)
    cache: dict = {}
    train = ImageDataset(split.train, cfg.image_size, cfg.channels, transform, cache)
    val = ImageDataset(split.val, cfg.image_size, cfg.channels, None, cache)
    test = ImageDataset(split.test, cfg.image_size, cfg.channels, None, cache)
    torch.manual_seed(cfg.seed)
    args = {"name": cfg.model, "num_classes": len(split.classes), "in_channels": cfg.channels,
            "freeze_backbone": cfg.freeze_backbone}
    model = build_model(pretrained=cfg.pretrained, **args)
    opts = TrainOptions(epochs=cfg.epochs or MODELS[cfg.model].default_epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                        select_metric=cfg.select_metric, loss=cfg.loss, sampler=cfg.sampler, device=cfg.device,
                        amp=cfg.amp, channels_last=cfg.channels_last, seed=cfg.seed)
    trainer = Trainer(model, train, val, split.classes, opts, ckpt_dir=cfg.out_dir, model_args=args,
                      extra_meta={"image_size": cfg.image_size, "channels": cfg.channels})
    outcome = trainer.fit(progress, cancel, resume=cfg.resume)
    metrics = trainer.evaluate(test)
    record = {"test": metrics, "best_epoch": outcome.best_epoch, "history": [asdict(r) for r in outcome.history],
              "images_per_s": outcome.images_per_s, "data_wait_s": outcome.data_wait_s}
    record.update(world_size=outcome.world_size, global_batch=outcome.global_batch)
    if main:
        atomic_write_json(Path(cfg.out_dir) / "metrics.json", record)
    skipped = [Skipped(p, r) for p, r in train.skipped + val.skipped + test.skipped]
    result = JobResult(kind="classify.train", out_dir=cfg.out_dir,
                       outputs=[str(Path(cfg.out_dir) / n) for n in ("best.pt", "metrics.json", "split.json")],
                       skipped=skipped, message=json.dumps({"best_epoch": outcome.best_epoch}),
                       metrics={"test_accuracy": metrics["accuracy"], "test_macro_f1": metrics["macro_f1"],
                                "best_epoch": outcome.best_epoch, "images_per_s": round(outcome.images_per_s, 1),
                                "world_size": outcome.world_size, "global_batch": outcome.global_batch})
    if main:
        folder.write_result(result)
    from augbench.classify.distributed import teardown

    teardown(trainer.dist)
    return result


register_job("classify.compare", "compare balancing arms (weights, oversampling, augmentation, GAN/style images) "
                                 "over models and seeds")(CompareJob)
job_runner(CompareJob)(run_experiment)

TrainConfig = TrainJob  # the class's name before the kinds were renamed (issue 12)

__all__ = ["CompareJob", "ExperimentConfig", "TrainConfig", "TrainJob", "run_bench_train", "run_experiment"]
