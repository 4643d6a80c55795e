"""Job kinds of the GAN package: ``gan.train``, ``gan.translate``, ``gan.transplant`` and ``gan.balance``.

``gan.balance`` (old name ``balance``) is defined in :mod:`.balance` and registered here.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from augbench.core.errors import ConfigError, DatasetError
from augbench.core.imageio import image_size, write_image
from augbench.core.jobs import JobResult, Skipped, job_runner, register_job
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.core.runfolder import RunFolder, iter_manifest
from augbench.gan.balance import BalanceConfig, BalanceJob, _split_holdout, detect_channels
from augbench.gan.balance import run as run_balance_job
from augbench.gan.data import UnpairedData, list_images, load_folder, load_image, to_tensor, to_uint8
from augbench.gan.engines import WRITE_EXTS, resize_to
from augbench.gan.monitor import make_evaluator, make_previewer
from augbench.gan.trainer import GanConfig, Trainer, load_model


@register_job("gan.train", "Train a CycleGAN translator between two image folders")
@dataclass(frozen=True)
class TrainJob:
    """Unpaired training: ``domain_a`` (e.g. normals) <-> ``domain_b`` (e.g. one defect class)."""

    guard_rerun_free = ("epochs", "steps_per_epoch", "time_budget_s")  # resuming may train longer

    domain_a: str = field(metadata={"role": "input"})
    domain_b: str = field(metadata={"role": "input"})
    out_dir: str = field(metadata={"role": "output"})
    model: GanConfig = field(default_factory=GanConfig)
    auto_channels: bool = True  # grey data -> 1-channel networks regardless of model.channels
    n_holdout: int = field(default=16, metadata={"range": (0, None)})
    whiten: str = field(default="none", metadata={"choices": ["none", "otsu", "grabcut", "mask"]})
    resume: bool = True
    # Data parallel: "torchrun" re-executes `augbench run job.yaml` as nproc ranks (DDP; model.batch_size is global)
    launcher: str = field(default="none", metadata={"choices": ["none", "torchrun"], "rerun": "free"})
    nproc: int = field(default=1, metadata={"range": (1, 1024), "rerun": "free"})

    def __post_init__(self) -> None:
        from augbench.gan.diffaugment import check_policy

        check_policy(self.model.diffaugment, "model.diffaugment")


@job_runner(TrainJob)
def run_train(cfg: TrainJob, *, progress: ProgressFn = null_progress,
              cancel: CancelToken | None = None) -> JobResult:
    """Train (or resume); under torchrun every rank trains and rank 0 alone writes files."""
    from augbench.core.distributed import env_world, teardown

    try:
        return _train(cfg, env_world().is_main, progress, cancel)
    finally:
        teardown(env_world())  # leave the process group (a no-op on one process)


def _train(cfg: TrainJob, main: bool, progress: ProgressFn, cancel: CancelToken | None) -> JobResult:
    a_paths, b_paths = list_images(cfg.domain_a), list_images(cfg.domain_b)
    if not a_paths or not b_paths:
        raise DatasetError("both domain folders need images")
    model_cfg = cfg.model
    if cfg.auto_channels:
        model_cfg = dataclasses.replace(model_cfg, channels=detect_channels(a_paths + b_paths))
    train_a, hold_a = _split_holdout(a_paths, cfg.n_holdout, model_cfg.seed)
    c, load, wm = model_cfg.channels, model_cfg.effective_load_size, cfg.whiten
    a, _, skip_a = load_folder(train_a, c, load, wm)  # type: ignore[arg-type]
    b, _, skip_b = load_folder(b_paths, c, load, wm)  # type: ignore[arg-type]
    view = model_cfg.translate_size
    out = Path(cfg.out_dir)
    run = RunFolder(out) if main else None
    if run is not None:
        run.write_job(cfg)
    evaluate = preview = None
    if hold_a and main:  # without held-out normals there is nothing honest to evaluate: the last epoch is best
        hold, _, _ = load_folder(hold_a, c, view, wm)  # type: ignore[arg-type]
        real_b, _, _ = load_folder(b_paths, c, view, wm)  # type: ignore[arg-type]
        hold_t = to_tensor(hold)
        preview = make_previewer(hold_t[:4])
        if model_cfg.detect:
            evaluate = make_evaluator(hold_t, to_tensor(real_b), out, model_cfg.kid_features, seed=model_cfg.seed)
    trainer = Trainer(model_cfg, UnpairedData(a, b, model_cfg.size, model_cfg.flip, model_cfg.seed), out,
                      evaluate=evaluate, preview=preview,
                      extra={"domain_a": cfg.domain_a, "domain_b": cfg.domain_b, "holdout": [str(p) for p in hold_a],
                             "whiten": cfg.whiten})
    resumed = cfg.resume and trainer.resume()
    result = JobResult(kind="gan.train", out_dir=str(out),
                       skipped=[Skipped(p, r) for p, r in skip_a + skip_b])
    try:
        state = trainer.fit(progress, cancel)
    except Exception as exc:
        if exc.__class__.__name__ == "Cancelled":
            result.outputs = [str(trainer.last_path)]
            result.message = f"cancelled; resume from {trainer.last_path}"
            exc.result = result  # type: ignore[attr-defined]
        raise
    result.outputs = [str(trainer.last_path), str(trainer.best_path)]
    result.metrics = {"epochs": state.epoch, "best_epoch": state.best.get("epoch"), "best_kid": state.best.get("kid"),
                      "resumed": bool(resumed), **trainer.scale(), "history": state.history}
    result.message = f"best checkpoint: epoch {state.best.get('epoch')} ({trainer.best_path.name})"
    if run is not None:  # rank 0 alone writes result.json
        run.write_result(result)
    return result


@register_job("gan.translate", "Translate a folder of images with a trained CycleGAN checkpoint")
@dataclass(frozen=True)
class TranslateJob:
    checkpoint: str = field(metadata={"role": "input"})
    input_dir: str = field(metadata={"role": "input"})
    out_dir: str = field(metadata={"role": "output"})
    direction: str = field(default="AB", metadata={"choices": ["AB", "BA"]})
    size: int = field(default=0, metadata={"range": (0, 4096)})  # 0: the training size
    whiten: str = field(default="none", metadata={"choices": ["none", "otsu", "grabcut", "mask"]})
    device: str = "auto"

    def __post_init__(self) -> None:
        if not self.checkpoint:
            raise ConfigError("checkpoint", "a checkpoint file is required")


@job_runner(TranslateJob)
def run_translate(cfg: TranslateJob, *, progress: ProgressFn = null_progress,
                  cancel: CancelToken | None = None) -> JobResult:
    cancel = cancel or CancelToken()
    model, ckpt = load_model(cfg.checkpoint, cfg.device)
    size = cfg.size or model.cfg.translate_size
    out = Path(cfg.out_dir)
    run = RunFolder(out)
    run.write_job(cfg)
    done = {r.get("file") for r in iter_manifest(run.manifest.path)}
    paths = list_images(cfg.input_dir)
    result = JobResult(kind="gan.translate", out_dir=str(out))
    for n, p in enumerate(paths):
        cancel.check()
        name = p.name if p.suffix.lower() in WRITE_EXTS else f"{p.stem}.png"  # the source's own format
        if name in done and (out / name).exists():
            continue
        try:
            img = load_image(p, model.cfg.channels, size, cfg.whiten)  # type: ignore[arg-type]
            shape = image_size(p)[::-1]  # (h, w) of the source: the output goes back to it
        except Exception as exc:  # one bad file never kills the batch
            result.skipped.append(Skipped(str(p), str(exc)))
            continue
        fake_t, mask_t = model.translate_with_mask(to_tensor(img[None]), cfg.direction)  # type: ignore[arg-type]
        fake = to_uint8(fake_t)[0]
        dest = write_image(out / name, resize_to(fake[..., 0] if fake.shape[-1] == 1 else fake, shape))
        row: dict[str, Any] = {"file": name, "source": str(p), "origin": "cyclegan", "engine": "cyclegan",
                               "synthetic": True, "checkpoint": cfg.checkpoint, "epoch": ckpt.get("epoch"),
                               "direction": cfg.direction, "seed": model.cfg.seed}
        if mask_t is not None:
            mask = resize_to((mask_t[0, 0].numpy() * 255).round().astype(np.uint8), shape)
            write_image(out / "masks" / f"{Path(name).stem}.png", mask)
            row["mask"] = f"masks/{Path(name).stem}.png"
        run.manifest.append(row)
        result.outputs.append(str(dest))
        progress(Progress(n + 1, len(paths), p.name))
    run.write_result(result)
    return result


@register_job("gan.transplant", "Paste real defect regions into normal images (the transplant engine)")
@dataclass(frozen=True)
class TransplantJob:
    """``n`` synthetic defects from two folders: defects (with optional masks/boxes) into normals.

    The same engine, gate and provenance as ``balance`` with ``engine: transplant``, for users who
    want images rather than a balanced data set. Field names match :class:`BalanceConfig`.
    """

    normal_dir: str = field(metadata={"role": "input"})
    defect_dir: str = field(metadata={"role": "input"})
    out_dir: str = field(metadata={"role": "output"})
    n: int = field(default=100, metadata={"range": (1, 1_000_000)})
    blend: str = field(default="ratio", metadata={"choices": ["ratio", "mixed", "normal", "alpha"]})
    polarity: str = field(default="auto", metadata={"choices": ["auto", "both", "dark", "bright"]})
    placement: str = field(default="random", metadata={"choices": ["random", "source"]})
    max_angle: float = field(default=10.0, metadata={"range": (0.0, 180.0)})
    rot90: bool = False
    scale_min: float = field(default=0.85, metadata={"range": (0.1, 4.0)})
    scale_max: float = field(default=1.2, metadata={"range": (0.1, 4.0)})
    patches_per_image: int = field(default=2, metadata={"range": (1, 16)})
    avoid_bus_bars: bool = False
    max_reference_normals: int = field(default=300, metadata={"range": (1, None)})
    quality_gate: bool = True
    gate_n: int = field(default=32, metadata={"range": (2, 10000)})
    allow_failed_quality: bool = field(default=False, metadata={"rerun": "free"})
    kid_features: str = field(default="lite0", metadata={"choices": ["lite0", "pixels"]})
    generated_copy: str = field(default="", metadata={"role": "output"})
    seed: int = 0


@job_runner(TransplantJob)
def run_transplant(cfg: TransplantJob, *, progress: ProgressFn = null_progress,
                   cancel: CancelToken | None = None) -> JobResult:
    from augbench.core.dataset import Item
    from augbench.gan.engines import generate_transplant, load_items
    from augbench.gan.planner import ClassPlan

    cancel = cancel or CancelToken()
    out = Path(cfg.out_dir)
    items = [Item(p, "normal") for p in list_images(cfg.normal_dir)]
    items += [Item(p, "defect") for p in list_images(cfg.defect_dir)]
    common = Path(os.path.commonpath([cfg.normal_dir, cfg.defect_dir]))
    loaded, bad = load_items(items, common, cancel)
    if not loaded.get("normal") or not loaded.get("defect"):
        raise DatasetError("both folders need readable images (normals to paste into, defects to cut from)")
    run = RunFolder(out)
    run.write_job(cfg)
    done = {str(r.get("file")) for r in iter_manifest(run.manifest.path) if (out / str(r.get("file", ""))).exists()}
    plan = ClassPlan(Path(cfg.defect_dir).name or "defect", len(loaded["defect"]), len(loaded["defect"]) + cfg.n,
                     cfg.n)
    written, summary = generate_transplant(cfg, plan, loaded["normal"], loaded["defect"], out.resolve(), run,  # type: ignore[arg-type]
                                           progress, cancel, done)
    result = JobResult(kind="gan.transplant", out_dir=str(out), outputs=written, skipped=list(bad))
    result.metrics = {"generated": cfg.n, "regions": summary["regions"]["patches"],
                      "polarity": summary.get("polarity"),
                      "gate": (summary["gate"] or {}).get("passed") if summary.get("gate") else None}
    result.message = f"{len(written)} transplanted images written to {out}"
    run.write_result(result)
    return result


register_job("gan.balance", "Balance an ImageFolder with synthetic defects (transplant or CycleGAN)")(BalanceJob)
job_runner(BalanceJob)(run_balance_job)

# The classes' names before the kinds were renamed (issue 12).
GanTrainJob = TrainJob
GanTranslateJob = TranslateJob
GanTransplantJob = TransplantJob

__all__ = ["BalanceConfig", "BalanceJob", "GanTrainJob", "GanTranslateJob", "GanTransplantJob", "TrainJob",
           "TransplantJob", "TranslateJob", "make_evaluator", "make_previewer", "run_balance_job", "run_train",
           "run_translate", "run_transplant"]
