"""The one-click GAN balancing run (job kind ``balance``).

plan per class -> train or resume one normal->defect translator per defect
class -> pick its checkpoint by KID -> generate from training-split normals
only -> write a balanced ImageFolder (originals + generated) with a
``manifest.jsonl`` row per file (source, checkpoint, epoch, seed, origin) and a
report (counts before/after, detector values, sample grids).

For a ``train/val/test`` data set only ``train`` feeds the GAN and receives
generated images; ``val``/``test`` are copied unchanged, so nothing generated
from or trained on them can leak into an evaluation.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from augbench.core.atomic import atomic_path, atomic_write_json, atomic_write_text, safe_join
from augbench.core.dataset import Item, scan_dataset
from augbench.core.errors import ConfigError, DatasetError
from augbench.core.imageio import read_image, write_image
from augbench.core.jobs import JobResult, Skipped, job_runner, register_job
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.core.runfolder import RunFolder, iter_manifest
from augbench.gan.data import UnpairedData, load_folder, load_image, to_tensor, to_uint8
from augbench.gan.monitor import make_evaluator, make_previewer
from augbench.gan.planner import ClassPlan, plan_balance, plan_table
from augbench.gan.trainer import GanConfig, Trainer, load_model, save_grid

GRID_N = 8


@register_job("balance", "Balance an ImageFolder with CycleGAN normal->defect translations")
@dataclass(frozen=True)
class BalanceConfig:
    """Everything the one button needs; the GUI and ``augbench balance JOB.yaml`` build the same object."""

    dataset: str = field(metadata={"role": "input"})
    out_dir: str = field(metadata={"role": "output"})
    normal_class: str
    defect_classes: tuple[str, ...] = ()
    work_dir: str = field(default="", metadata={"role": "output"})  # checkpoints, samples; default <out_dir>_gan
    target_mode: str = field(default="fill_to_normal",
                             metadata={"choices": ["fill_to", "percent_of_normal", "fill_to_normal"]})
    target_value: float = field(default=100.0, metadata={"range": (0.0, None)})
    max_generate: int = field(default=0, metadata={"range": (0, None)})  # 0: no cap
    size: int = field(default=64, metadata={"range": (16, 1024)})
    channels: int = field(default=0, metadata={"choices": [0, 1, 3]})  # 0: grey if every checked image is grey
    ngf: int = field(default=32, metadata={"range": (4, 256)})
    n_blocks: int = field(default=6, metadata={"range": (0, 32)})
    epochs: int = field(default=20, metadata={"range": (1, 100000)})
    steps_per_epoch: int = field(default=0, metadata={"range": (0, None)})
    time_budget_s: float = field(default=0.0, metadata={"range": (0.0, None)})  # per defect class
    lr: float = field(default=3e-4, metadata={"range": (1e-7, 1.0)})
    d_steps: int = field(default=2, metadata={"range": (1, 10)})
    upsample: str = field(default="deconv", metadata={"choices": ["deconv", "resize"]})
    diffaugment: str = ""
    whiten: str = field(default="none", metadata={"choices": ["none", "otsu", "grabcut", "mask"]})
    precision: str = field(default="auto", metadata={"choices": ["fp32", "bf16", "fp16", "auto"]})
    batch_passes: bool = True  # same maths as separate calls, ~20 % faster on CPU (benchmarks/gan_speed.py)
    channels_last: bool = True  # with bf16 autocast: 1.9-2.2x the plain fp32 loop on this CPU
    device: str = "auto"
    n_holdout: int = field(default=16, metadata={"range": (0, None)})
    kid_features: str = field(default="lite0", metadata={"choices": ["lite0", "pixels"]})
    sample_every: int = field(default=50, metadata={"range": (0, None)})
    generated_copy: str = field(default="", metadata={"role": "output"})  # also <generated_copy>/<class>/
    copy_originals: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.defect_classes:
            raise ConfigError("defect_classes", "choose at least one defect class to fill")
        if self.normal_class in self.defect_classes:
            raise ConfigError("defect_classes", "the normal class cannot also be a defect class")
        from augbench.gan.diffaugment import check_policy

        check_policy(self.diffaugment)

    @property
    def resolved_work_dir(self) -> Path:
        out = Path(self.out_dir)
        return Path(self.work_dir) if self.work_dir else out.with_name(out.name + "_gan")

    def gan_config(self, channels: int, select: dict[str, Any] | None = None) -> GanConfig:
        return GanConfig(channels=channels, size=self.size, ngf=self.ngf, n_blocks=self.n_blocks, lr=self.lr,
                         d_steps=self.d_steps, upsample=self.upsample, epochs=self.epochs,
                         steps_per_epoch=self.steps_per_epoch, time_budget_s=self.time_budget_s,
                         diffaugment=self.diffaugment, seed=self.seed, device=self.device, precision=self.precision,
                         sample_every=self.sample_every, kid_features=self.kid_features,
                         batch_passes=self.batch_passes, channels_last=self.channels_last, **(select or {}))


def training_items(cfg: BalanceConfig) -> tuple[list[Item], list[Item], str]:
    """(items used as training data, items copied unchanged, note about the split)."""
    info = scan_dataset(cfg.dataset)
    if info.layout == "split-imagefolder":
        train = [i for i in info.items if i.split == "train"]
        if not train:
            raise DatasetError(f"{cfg.dataset} has split folders but no train/ split to learn from")
        return train, [i for i in info.items if i.split != "train"], "train split only; val/test copied unchanged"
    if info.layout != "imagefolder":
        raise DatasetError(f"{cfg.dataset} is not an ImageFolder (class sub-folders) data set")
    return list(info.items), [], "no split folders: every image is treated as training data"


def detect_channels(paths: list[Path], n: int = 20) -> int:
    """1 when every one of the first ``n`` images is grey (R == G == B), else 3."""
    for p in paths[:n]:
        img = read_image(p, mode="rgb")
        if not (np.array_equal(img[..., 0], img[..., 1]) and np.array_equal(img[..., 0], img[..., 2])):
            return 3
    return 1


def _split_holdout(paths: list[Path], n_holdout: int, seed: int) -> tuple[list[Path], list[Path]]:
    """Held-out normals for the detectors (never trained on), the rest for training."""
    n = min(n_holdout, len(paths) // 4)
    if n == 0:
        return list(paths), list(paths[:1])
    order = np.random.default_rng([seed, 99]).permutation(len(paths))
    hold = {int(i) for i in order[:n]}
    return [p for i, p in enumerate(paths) if i not in hold], [p for i, p in enumerate(paths) if i in hold]


def train_translator(cfg: BalanceConfig, cls: str, normals: list[Path], defects: list[Path], channels: int,
                     progress: ProgressFn, cancel: CancelToken) -> dict[str, Any]:
    """Train (or resume) the translator for one class; returns its summary (best epoch, KID, history)."""
    work = cfg.resolved_work_dir / cls
    gcfg = cfg.gan_config(channels)
    train_a, hold_a = _split_holdout(normals, cfg.n_holdout, cfg.seed)
    load = gcfg.effective_load_size
    a, _, _ = load_folder(train_a, channels, load, cfg.whiten)  # type: ignore[arg-type]
    b, _, _ = load_folder(defects, channels, load, cfg.whiten)  # type: ignore[arg-type]
    hold, _, _ = load_folder(hold_a, channels, cfg.size, cfg.whiten)  # type: ignore[arg-type]
    real_b, _, _ = load_folder(defects, channels, cfg.size, cfg.whiten)  # type: ignore[arg-type]
    data = UnpairedData(a, b, cfg.size, seed=cfg.seed)
    hold_t, real_b_t = to_tensor(hold), to_tensor(real_b)
    evaluate = make_evaluator(hold_t, real_b_t, work, cfg.kid_features, seed=cfg.seed)
    trainer = Trainer(gcfg, data, work, evaluate=evaluate, preview=make_previewer(hold_t[:4]),
                      extra={"class": cls, "normals": [str(p) for p in train_a], "holdout": [str(p) for p in hold_a],
                             "defects": [str(p) for p in defects], "whiten": cfg.whiten})
    resumed = trainer.resume()

    def relay(p: Progress) -> None:
        progress(dataclasses.replace(p, stage=f"{p.stage}:{cls}"))

    state = trainer.fit(relay, cancel)
    return {"class": cls, "resumed": resumed, "epochs": state.epoch, "best": state.best, "history": state.history,
            "checkpoint": str(trainer.best_path), "work_dir": str(work), "n_train_normals": len(train_a),
            "n_holdout": len(hold_a), "n_defects": len(defects)}


def _variant(img: np.ndarray, seed: int) -> tuple[np.ndarray, str]:
    """A seeded flip of the source so that repeated sources give different images."""
    r = np.random.default_rng(seed)
    op = ["none", "hflip", "vflip", "hvflip"][int(r.integers(0, 4))]
    if op in ("hflip", "hvflip"):
        img = img[:, ::-1]
    if op in ("vflip", "hvflip"):
        img = img[::-1]
    return np.ascontiguousarray(img), op


def generate(cfg: BalanceConfig, plan: ClassPlan, normals: list[Path], checkpoint: Path, out_cls: Path,
             run: RunFolder, progress: ProgressFn, cancel: CancelToken, done_files: set[str]) -> list[str]:
    """Write ``plan.to_generate`` translations of training normals; resumes by skipping existing rows."""
    model, ckpt = load_model(checkpoint, cfg.device)
    channels = model.cfg.channels
    epoch = int(ckpt.get("epoch", 0))
    kid_value = ckpt.get("metrics", {}).get("kid")
    order = np.random.default_rng([cfg.seed, 2024]).permutation(len(normals))
    copy_dir = Path(cfg.generated_copy) / plan.name if cfg.generated_copy else None
    written: list[str] = []
    rel_dir = out_cls.relative_to(run.root.resolve()).as_posix()
    todo = [k for k in range(plan.to_generate) if f"{rel_dir}/gen_{plan.name}_{k:05d}.png" not in done_files]
    for start in range(0, len(todo), 16):
        cancel.check()
        ks = todo[start:start + 16]
        srcs, imgs, ops = [], [], []
        for k in ks:
            src = normals[int(order[k % len(normals)])]
            img, op = _variant(load_image(src, channels, cfg.size, cfg.whiten), cfg.seed * 1_000_003 + k)  # type: ignore[arg-type]
            srcs.append(src)
            imgs.append(img)
            ops.append(op)
        fakes = to_uint8(model.translate(to_tensor(np.stack(imgs)), "AB"))
        for k, src, op, fake in zip(ks, srcs, ops, fakes):
            name = f"gen_{plan.name}_{k:05d}.png"
            dest = safe_join(out_cls, name)
            arr = fake[..., 0] if channels == 1 else fake
            write_image(dest, arr)
            if copy_dir is not None:
                write_image(copy_dir / name, arr)
            rel = f"{rel_dir}/{name}"
            run.manifest.append({"file": rel, "class": plan.name, "origin": "cyclegan", "source": str(src),
                                 "source_transform": op, "checkpoint": str(checkpoint), "epoch": epoch,
                                 "seed": cfg.seed * 1_000_003 + k, "train_seed": cfg.seed, "kid": kid_value})
            written.append(str(dest))
        progress(Progress(len(written), len(todo), f"generated {len(written)}/{len(todo)} {plan.name}",
                          stage=f"generate:{plan.name}"))
    return written


def copy_items(items: list[Item], root: Path, out: Path, prefix: str, run: RunFolder, done: set[str],
               cancel: CancelToken) -> tuple[list[str], list[Skipped]]:
    """Copy originals (atomically) into ``out/<prefix><split>/<class>/``; a manifest row each."""
    written, skipped = [], []
    for n, item in enumerate(items):
        if n % 200 == 0:
            cancel.check()
        split = f"{item.split}/" if item.split else prefix
        rel = f"{split}{item.label_class}/{item.image.name}"
        if rel in done:
            continue
        dest = safe_join(out, *rel.split("/"))
        try:
            with atomic_path(dest) as tmp:
                shutil.copyfile(item.image, tmp)
        except OSError as exc:
            skipped.append(Skipped(str(item.image), f"copy failed: {exc.strerror}"))
            continue
        run.manifest.append({"file": rel, "class": item.label_class, "origin": "original",
                             "source": str(item.image.relative_to(root))})
        written.append(str(dest))
    return written, skipped


def comparison_grid(real: list[Path], generated: list[Path], sources: list[Path], channels: int, size: int
                    ) -> np.ndarray:
    """Three rows: real defects | generated defects | the normals they came from."""
    def row(paths: list[Path]) -> np.ndarray:
        cells = [load_image(p, channels, size) for p in paths[:GRID_N]]
        cells += [np.full((size, size, channels), 255, np.uint8)] * (GRID_N - len(cells))
        cells = [c if c.shape[-1] == 3 else np.repeat(c, 3, axis=-1) for c in cells]
        pad = np.full((size, 2, 3), 255, np.uint8)
        return np.concatenate(sum(([c, pad] for c in cells), [])[:-1], axis=1)

    rows = [row(real), row(generated), row(sources)]
    gap = np.full((4, rows[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([rows[0], gap, rows[1], gap, rows[2]], axis=0)


def run_balance(cfg: BalanceConfig, *, progress: ProgressFn = null_progress, cancel: CancelToken | None = None,
                on_trained: Callable[[dict[str, Any]], None] | None = None) -> JobResult:
    """The one-click run; re-running with the same config resumes training and generation."""
    cancel = cancel or CancelToken()
    train, others, split_note = training_items(cfg)
    root = Path(cfg.dataset)
    by_class: dict[str, list[Path]] = {}
    for it in train:
        by_class.setdefault(it.label_class or "", []).append(it.image)
    counts = {c: len(v) for c, v in sorted(by_class.items())}
    plans = plan_balance(counts, cfg.normal_class, list(cfg.defect_classes), cfg.target_mode,  # type: ignore[arg-type]
                         cfg.target_value, max_generate=cfg.max_generate or None)
    progress(Progress(0, 0, "plan: " + ", ".join(f"{p.name} +{p.to_generate}" for p in plans), stage="plan"))
    out = Path(cfg.out_dir)
    run = RunFolder(out)
    run.write_job(cfg)
    done = {str(r.get("file")) for r in iter_manifest(run.manifest.path) if (out / str(r.get("file", ""))).exists()}
    normals = sorted(by_class[cfg.normal_class])
    channels = cfg.channels or detect_channels(normals)
    prefix = "train/" if any(it.split for it in train) else ""
    result = JobResult(kind="balance", out_dir=str(out))
    summaries: list[dict[str, Any]] = []
    try:
        for plan in plans:
            if not plan.trainable:
                continue
            summary = train_translator(cfg, plan.name, normals, sorted(by_class[plan.name]), channels, progress, cancel)
            summaries.append(summary)
            if on_trained is not None:
                on_trained(summary)
            written = generate(cfg, plan, normals, Path(summary["checkpoint"]),
                               safe_join(out, *(prefix + plan.name).split("/")), run, progress, cancel, done)
            result.outputs += written
            gen_paths = sorted((out / prefix / plan.name).glob(f"gen_{plan.name}_*.png"))
            grid = comparison_grid(sorted(by_class[plan.name]), gen_paths, [normals[i] for i in np.random.default_rng(
                [cfg.seed, 2024]).permutation(len(normals))[:GRID_N]], channels, cfg.size)
            save_grid(out.with_name(out.name + "_report") / f"grid_{plan.name}.png", grid)
            summary["grid"] = str(out.with_name(out.name + "_report") / f"grid_{plan.name}.png")
        if cfg.copy_originals:
            w, s = copy_items(train + others, root, out, prefix, run, done, cancel)
            result.outputs += w
            result.skipped += s
    except Exception as exc:
        if exc.__class__.__name__ == "Cancelled":
            exc.result = result  # type: ignore[attr-defined]
        raise
    after = dict(counts)
    for p in plans:
        after[p.name] = after.get(p.name, 0) + p.to_generate
    report = {"dataset": str(root), "split": split_note, "channels": channels, "counts_before": counts,
              "counts_after": after, "plan": plan_table(plans),
              "translators": [{k: v for k, v in s.items() if k != "history"} | {"history": s["history"]}
                              for s in summaries]}
    report_dir = out.with_name(out.name + "_report")
    atomic_write_json(report_dir / "report.json", report)
    atomic_write_text(report_dir / "report.md", report_markdown(report))
    result.metrics = {"counts_before": counts, "counts_after": after,
                      "generated": sum(p.to_generate for p in plans), "report": str(report_dir / "report.md")}
    for s in summaries:
        result.metrics[f"kid_{s['class']}"] = s["best"].get("kid")
        result.metrics[f"best_epoch_{s['class']}"] = s["best"].get("epoch")
    result.message = f"{result.metrics['generated']} images generated; report in {report_dir}"
    run.write_result(result)
    return result


def report_markdown(report: dict[str, Any]) -> str:
    lines = [f"# GAN balancing report\n\nData set: `{report['dataset']}` ({report['split']}).\n",
             "| class | before | after | note |", "|---|---|---|---|"]
    notes = {r["class"]: r["note"] for r in report["plan"]}
    for cls, n in report["counts_before"].items():
        lines.append(f"| {cls} | {n} | {report['counts_after'].get(cls, n)} | {notes.get(cls, '')} |")
    for t in report["translators"]:
        lines.append(f"\n## {t['class']}\n\nbest epoch {t['best'].get('epoch')} (KID {t['best'].get('kid')}) of "
                     f"{t['epochs']}; checkpoint `{t['checkpoint']}`.\n")
        if t.get("grid"):
            lines.append(f"![grid]({Path(t['grid']).name}) rows: real defects / generated / their sources\n")
        lines.append("| epoch | G | cycle | D_A | D_B | copy | diversity | KID |\n|---|---|---|---|---|---|---|---|")
        for h in t["history"]:
            lines.append("| " + " | ".join(f"{h.get(k):.4g}" if isinstance(h.get(k), float) else str(h.get(k, ""))
                                            for k in ("epoch", "G", "cycle", "D_A", "D_B", "copy", "diversity",
                                                      "kid")) + " |")
    return "\n".join(lines) + "\n"


@job_runner(BalanceConfig)
def run(cfg: BalanceConfig, *, progress: ProgressFn = null_progress, cancel: CancelToken | None = None) -> JobResult:
    return run_balance(cfg, progress=progress, cancel=cancel)


__all__ = ["BalanceConfig", "run_balance", "torch"]
