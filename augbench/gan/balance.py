"""The one-click balancing run (job kind ``balance``): fill defect classes with synthetic images.

plan per class (from the images that decode; a bad file is skipped and
reported, never counted) -> an engine fills each defect class from training-
split normals: ``transplant`` (real defect regions blended into other normals,
no training) or ``cyclegan`` (a translator trained or resumed per class, its
checkpoint picked by KID) -> a probe batch must pass the realism gate
(:mod:`augbench.gan.quality`) unless the user consented -> a balanced
ImageFolder (originals + generated, each generated file at its source's
resolution and format with ``masks/<stem>.png``) with a ``manifest.jsonl`` row
per file (origin = engine, ``synthetic``, ``source``, ``defect_sources``) and a
report (counts before/after, gate, leak guard, grids).

For a ``train/val/test`` data set only ``train`` feeds the engines and receives
generated images; ``val``/``test`` are copied unchanged, and the leak guard
checks every generated row's translated source and defect sources against
them before the report is written.

Under torchrun (``launcher: torchrun``, ``nproc: N``) every rank first trains
the translators of all classes together (DDP), then leaves the process group;
the other ranks end there, and rank 0 alone generates, copies and writes the
balanced data set and its report (a single writer, as always).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from augbench.core.atomic import atomic_write_json, atomic_write_text, safe_join
from augbench.core.dataset import Item, scan_dataset
from augbench.core.errors import ConfigError, DatasetError
from augbench.core.imageio import read_image
from augbench.core.jobs import JobResult
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.core.runfolder import RunFolder, iter_manifest
from augbench.gan.engines import Loaded, copy_items, generate_transplant, load_items
from augbench.gan.leakguard import leak_check
from augbench.gan.planner import ClassPlan, plan_balance, plan_table
from augbench.gan.trainer import GanConfig, save_grid

GRID_N = 8
ENGINES = ("transplant", "cyclegan")


@dataclass(frozen=True)
class BalanceJob:
    """Everything the one button needs; the GUI and ``augbench balance JOB.yaml`` build the same object."""

    # consenting to write gated-out images, or training longer, does not change what was written so far
    guard_rerun_free = ("allow_failed_quality", "epochs", "time_budget_s")

    dataset: str = field(metadata={"role": "input"})
    out_dir: str = field(metadata={"role": "output"})
    normal_class: str
    defect_classes: tuple[str, ...] = ()
    engine: str = field(default="transplant", metadata={"choices": list(ENGINES)})
    work_dir: str = field(default="", metadata={"role": "output"})  # checkpoints, samples; default <out_dir>_gan
    target_mode: str = field(default="fill_to_normal",
                             metadata={"choices": ["fill_to", "percent_of_normal", "fill_to_normal"]})
    target_value: float = field(default=100.0, metadata={"range": (0.0, None)})
    max_generate: int = field(default=0, metadata={"range": (0, None)})  # 0: no cap
    # --- cyclegan
    size: int = field(default=64, metadata={"range": (16, 1024)})  # training crop (or whole image if not native)
    native: bool = False  # hold whole images at their own size, train on crops, translate whole images
    generator: str = field(default="attention", metadata={"choices": ["resnet", "attention"]})
    lambda_mask: float = field(default=0.5, metadata={"range": (0.0, None)})
    defect_crops: bool = True  # centre most defect-domain crops on a defect (regions as the transplant finds them)
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
    # fp32: at one thread bf16 autocast measured 14x slower than fp32 on this CPU (docs/gan_elpv.md)
    precision: str = field(default="fp32", metadata={"choices": ["fp32", "bf16", "fp16", "auto"]})
    batch_passes: bool = True  # same maths as separate calls, ~20 % faster on CPU (benchmarks/gan_speed.py)
    channels_last: bool = False
    device: str = "auto"
    n_holdout: int = field(default=16, metadata={"range": (0, None)})
    kid_features: str = field(default="lite0", metadata={"choices": ["lite0", "pixels"]})
    sample_every: int = field(default=50, metadata={"range": (0, None)})
    # --- transplant
    blend: str = field(default="ratio", metadata={"choices": ["ratio", "mixed", "normal", "alpha"]})
    polarity: str = field(default="auto", metadata={"choices": ["auto", "both", "dark", "bright"]})
    placement: str = field(default="random", metadata={"choices": ["random", "source"]})
    max_angle: float = field(default=10.0, metadata={"range": (0.0, 180.0)})
    rot90: bool = False  # 90-degree turns: only for rotation-symmetric objects (not bus-bar cells)
    scale_min: float = field(default=0.85, metadata={"range": (0.1, 4.0)})
    scale_max: float = field(default=1.2, metadata={"range": (0.1, 4.0)})
    patches_per_image: int = field(default=2, metadata={"range": (1, 16)})
    avoid_bus_bars: bool = False
    max_reference_normals: int = field(default=300, metadata={"range": (1, None)})
    # --- realism gate (both engines)
    quality_gate: bool = True
    gate_n: int = field(default=32, metadata={"range": (2, 10000)})
    allow_failed_quality: bool = False  # write outputs that failed the gate (the GUI asks first)
    generated_copy: str = field(default="", metadata={"role": "output"})  # also <generated_copy>/<class>/
    copy_originals: bool = True
    seed: int = 0
    # Data parallel (cyclegan): "torchrun" re-executes `augbench run job.yaml` as nproc ranks that train together
    launcher: str = field(default="none", metadata={"choices": ["none", "torchrun"], "rerun": "free"})
    nproc: int = field(default=1, metadata={"range": (1, 1024), "rerun": "free"})

    def __post_init__(self) -> None:
        if not self.defect_classes:
            raise ConfigError("defect_classes", "choose at least one defect class to fill")
        if self.normal_class in self.defect_classes:
            raise ConfigError("defect_classes", "the normal class cannot also be a defect class")
        if self.engine not in ENGINES:
            raise ConfigError("engine", f"must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.scale_min > self.scale_max:
            raise ConfigError("scale_min", f"must be <= scale_max ({self.scale_max})")
        if self.engine == "cyclegan":  # the translator's default discriminator (GanConfig.n_layers_d)
            from augbench.gan.model import check_train_size

            check_train_size(self.size)
        from augbench.gan.diffaugment import check_policy

        check_policy(self.diffaugment)

    @property
    def resolved_work_dir(self) -> Path:
        out = Path(self.out_dir)
        return Path(self.work_dir) if self.work_dir else out.with_name(out.name + "_gan")

    def gan_config(self, channels: int, full_size: int = 0, select: dict[str, Any] | None = None) -> GanConfig:
        """The translator's config. Under torchrun each rank trains on one image a step (the paper's batch 1
        per process), so the global batch is the number of processes."""
        from augbench.core.distributed import env_world

        select = {"batch_size": env_world().world_size, **(select or {})}
        return GanConfig(channels=channels, size=self.size, full_size=full_size, generator=self.generator,
                         lambda_mask=self.lambda_mask, ngf=self.ngf, n_blocks=self.n_blocks, lr=self.lr,
                         d_steps=self.d_steps, upsample=self.upsample, epochs=self.epochs,
                         steps_per_epoch=self.steps_per_epoch, time_budget_s=self.time_budget_s,
                         diffaugment=self.diffaugment, seed=self.seed, device=self.device, precision=self.precision,
                         sample_every=self.sample_every, kid_features=self.kid_features,
                         batch_passes=self.batch_passes, channels_last=self.channels_last, **select)


def training_items(cfg: BalanceJob) -> tuple[list[Item], list[Item], str]:
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
    """See :func:`augbench.gan.cyclegan_engine.split_holdout` (kept here for callers of the old name)."""
    from augbench.gan.cyclegan_engine import split_holdout

    return split_holdout(paths, n_holdout, seed)


def comparison_grid(real: list[np.ndarray], generated: list[Path], sources: list[np.ndarray], size: int = 160
                    ) -> np.ndarray:
    """Three rows at ``size`` px: real defects | generated defects | the normals they came from (RGB)."""
    def cell(img: np.ndarray) -> np.ndarray:
        c = load_image_array(img, size)
        return c if c.shape[-1] == 3 else np.repeat(c, 3, axis=-1)

    def row(images: list[np.ndarray]) -> np.ndarray:
        cells = [cell(im) for im in images[:GRID_N]]
        cells += [np.full((size, size, 3), 255, np.uint8)] * (GRID_N - len(cells))
        pad = np.full((size, 2, 3), 255, np.uint8)
        return np.concatenate(sum(([c, pad] for c in cells), [])[:-1], axis=1)

    gen = [read_image(p, mode="auto") for p in generated[:GRID_N]]
    rows = [row(real), row(gen), row(sources)]
    gap = np.full((4, rows[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([rows[0], gap, rows[1], gap, rows[2]], axis=0)


def load_image_array(img: np.ndarray, size: int) -> np.ndarray:
    import cv2

    out = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return out[..., None] if out.ndim == 2 else out


def _is_grey(img: np.ndarray) -> bool:
    return img.ndim == 2 or bool(np.array_equal(img[..., 0], img[..., 1]) and np.array_equal(img[..., 0], img[..., 2]))


def _check_classes(cfg: BalanceJob, classes: list[str]) -> None:
    """An unknown class name is an error, not a silent no-op (issue 10)."""
    if cfg.normal_class not in classes:
        raise ConfigError("normal_class", f"{cfg.normal_class!r} is not a class of {cfg.dataset} "
                                          f"(classes: {', '.join(classes) or 'none'})")
    unknown = [c for c in cfg.defect_classes if c not in classes]
    if unknown:
        raise ConfigError("defect_classes", f"{', '.join(map(repr, unknown))} not a class of {cfg.dataset} "
                                            f"(classes: {', '.join(classes)})")


def run_balance(cfg: BalanceJob, *, progress: ProgressFn = null_progress, cancel: CancelToken | None = None,
                on_trained: Callable[[dict[str, Any]], None] | None = None) -> JobResult:
    """The one-click run; re-running with the same config resumes training and generation."""
    from augbench.core.distributed import env_world

    cancel = cancel or CancelToken()
    world = env_world()
    if not world.is_main:
        progress = null_progress  # one progress bar, from rank 0
    train, others, split_note = training_items(cfg)
    root = Path(cfg.dataset)
    _check_classes(cfg, sorted({it.label_class or "" for it in train}))
    wanted = {cfg.normal_class, *cfg.defect_classes}
    progress(Progress(0, 0, f"checking {len(train)} training images", stage="plan"))
    loaded, bad = load_items([it for it in train if it.label_class in wanted], root, cancel)
    counts = {c: len([it for it in train if it.label_class == c]) for c in sorted({it.label_class or "" for it in train})}
    for c in wanted:
        counts[c] = len(loaded.get(c, []))  # a file that does not decode is not counted
    plans = plan_balance(counts, cfg.normal_class, list(cfg.defect_classes), cfg.target_mode,  # type: ignore[arg-type]
                         cfg.target_value, max_generate=cfg.max_generate or None)
    progress(Progress(0, 0, "plan: " + ", ".join(f"{p.name} +{p.to_generate}" for p in plans)
                      + (f" ({len(bad)} unreadable image(s) skipped)" if bad else ""), stage="plan"))
    out = Path(cfg.out_dir)
    normals = sorted(loaded[cfg.normal_class], key=lambda x: x.rel)
    channels = cfg.channels or (1 if all(_is_grey(n.image) for n in normals[:20]) else 3)
    trained: dict[str, dict[str, Any]] = {}
    if world.enabled:
        trained = _train_data_parallel(cfg, plans, loaded, normals, channels, progress, cancel)
        if not world.is_main:
            return JobResult(kind="gan.balance", out_dir=str(out),
                             message=f"rank {world.rank}: translators trained; rank 0 writes the data set")
    run = RunFolder(out)
    run.write_job(cfg)
    done = {str(r.get("file")) for r in iter_manifest(run.manifest.path) if (out / str(r.get("file", ""))).exists()}
    prefix = "train/" if any(it.split for it in train) else ""
    result = JobResult(kind="gan.balance", out_dir=str(out), skipped=list(bad))
    summaries: list[dict[str, Any]] = []
    report_dir = out.with_name(out.name + "_report")
    try:
        for plan in plans:
            if not plan.trainable:
                continue
            defects = sorted(loaded[plan.name], key=lambda x: x.rel)
            out_cls = safe_join(out, *(prefix + plan.name).split("/"))
            if cfg.engine == "transplant":
                written, summary = generate_transplant(cfg, plan, normals, defects, out_cls, run, progress, cancel,
                                                       done)
            else:
                written, summary = _cyclegan(cfg, plan, normals, defects, channels, out_cls, run, progress, cancel,
                                             done, on_trained, trained.get(plan.name))
            summaries.append(summary)
            result.outputs += written
            gen_paths = sorted(p for p in out_cls.glob(f"gen_{plan.name}_*") if p.is_file())
            order = np.random.default_rng([cfg.seed, 2024]).permutation(len(normals))[:GRID_N]
            grid = comparison_grid([d.image for d in defects], gen_paths, [normals[i].image for i in order])
            summary["grid"] = str(save_grid(report_dir / f"grid_{plan.name}.png", grid))
        if cfg.copy_originals:
            w, s = copy_items(train + others, root, out, prefix, run, done, cancel, {x.path for x in bad},
                              cfg.whiten if cfg.engine == "cyclegan" else "none")
            result.outputs += w
            result.skipped += s
    except Exception as exc:
        if exc.__class__.__name__ == "Cancelled":
            exc.result = result  # type: ignore[attr-defined]
        if exc.__class__.__name__ == "QualityGateError":
            atomic_write_json(report_dir / "gate.json", exc.report.as_dict())  # type: ignore[attr-defined]
        raise
    leaks = leak_check(iter_manifest(run.manifest.path), [it.image for it in others], root)
    if leaks:
        raise DatasetError(f"leak guard: {len(leaks)} generated image(s) used val/test images, e.g. "
                           f"{leaks[0]['file']} from {leaks[0]['leaked'][0]}; they must not be used")
    after = dict(counts)
    for p in plans:
        after[p.name] = after.get(p.name, 0) + p.to_generate
    n_gen = sum(1 for r in iter_manifest(run.manifest.path) if r.get("synthetic"))
    report = {"dataset": str(root), "split": split_note, "engine": cfg.engine, "channels": channels,
              "counts_before": counts, "counts_after": after, "plan": plan_table(plans),
              "skipped": [{"file": s.path, "reason": s.reason} for s in bad],
              "leak_guard": {"checked_rows": n_gen, "forbidden_images": len(others), "leaks": 0},
              "translators": summaries}
    atomic_write_json(report_dir / "report.json", report)
    atomic_write_text(report_dir / "report.md", report_markdown(report))
    result.metrics = {"engine": cfg.engine, "counts_before": counts, "counts_after": after,
                      "generated": sum(p.to_generate for p in plans), "report": str(report_dir / "report.md"),
                      "leak_guard_rows": n_gen, "unreadable_skipped": len(bad), "world_size": world.world_size}
    for s in summaries:
        if s.get("engine") == "cyclegan":
            result.metrics[f"kid_{s['class']}"] = s["best"].get("kid")
            result.metrics[f"best_epoch_{s['class']}"] = s["best"].get("epoch")
        if s.get("gate"):
            result.metrics[f"gate_{s['class']}"] = "passed" if s["gate"]["passed"] else "FAILED (written on consent)"
    result.message = (f"{result.metrics['generated']} images generated ({cfg.engine}); report in {report_dir}"
                      + (f"; {len(bad)} unreadable image(s) skipped" if bad else ""))
    run.write_result(result)
    return result


def _train_data_parallel(cfg: BalanceJob, plans: list[ClassPlan], loaded: dict[str, list[Loaded]],
                         normals: list[Loaded], channels: int, progress: ProgressFn, cancel: CancelToken
                         ) -> dict[str, dict[str, Any]]:
    """Every rank trains every class's translator (DDP), then all leave the process group.

    Training all classes before any generation keeps the ranks in step: rank 0 generating one
    class while the others waited in the next class's first all-reduce would run into the
    collective timeout on a long generation.
    """
    from augbench.core.distributed import env_world, teardown

    try:
        if cfg.engine != "cyclegan":
            return {}  # transplant trains nothing: rank 0 does the whole job
        world = env_world().world_size
        return {p.name: {**_train_class(cfg, p.name, normals, sorted(loaded[p.name], key=lambda x: x.rel), channels,
                                        progress, cancel), "world_size": world, "global_batch": world}
                for p in plans if p.trainable}
    finally:
        teardown(env_world())  # from here on rank 0 works alone (generation has no collectives)


def _train_class(cfg: BalanceJob, name: str, normals: list[Loaded], defects: list[Loaded], channels: int,
                 progress: ProgressFn, cancel: CancelToken) -> dict[str, Any]:
    """Train (or resume) one class's translator: full-size images and defect-aimed crops when ``native``."""
    from augbench.gan.cyclegan_engine import native_size, train_translator

    full = native_size(normals + defects) if cfg.native else 0
    masks = None
    if cfg.defect_crops and full:  # crops much smaller than the image: aim them at the defects
        from augbench.gan.engines import defect_hints
        from augbench.gan.regions import defect_masks, extract_defect_regions

        hint_masks, boxes = defect_hints(defects)
        patches = extract_defect_regions([d.image for d in defects], [n.image for n in normals[:cfg.max_reference_normals]],
                                         masks=hint_masks, boxes=boxes, polarity=cfg.polarity)
        masks = defect_masks(patches, len(defects))
    return train_translator(cfg, name, [n.path for n in normals], [d.path for d in defects], channels, full,
                            progress, cancel, b_masks=masks)


def _cyclegan(cfg: BalanceJob, plan: ClassPlan, normals: list[Loaded], defects: list[Loaded], channels: int,
              out_cls: Path, run: RunFolder, progress: ProgressFn, cancel: CancelToken, done: set[str],
              on_trained: Callable[[dict[str, Any]], None] | None, trained: dict[str, Any] | None = None
              ) -> tuple[list[str], dict[str, Any]]:
    """Train the class's translator (unless the data-parallel phase did: ``trained``), then generate."""
    from augbench.gan.cyclegan_engine import generate_cyclegan

    summary = trained or _train_class(cfg, plan.name, normals, defects, channels, progress, cancel)
    if on_trained is not None:
        on_trained(summary)
    written, extra = generate_cyclegan(cfg, plan, normals, defects, Path(summary["checkpoint"]), out_cls, run,
                                       progress, cancel, done)
    summary.update(extra)
    return written, summary


def report_markdown(report: dict[str, Any]) -> str:
    lines = [f"# Balancing report ({report.get('engine', 'cyclegan')})\n\nData set: `{report['dataset']}` "
             f"({report['split']}).\n", f"Leak guard: {report.get('leak_guard', {}).get('checked_rows', 0)} "
             "generated rows checked against val/test, 0 leaks.\n",
             "| class | before | after | note |", "|---|---|---|---|"]
    notes = {r["class"]: r["note"] for r in report["plan"]}
    for cls, n in report["counts_before"].items():
        lines.append(f"| {cls} | {n} | {report['counts_after'].get(cls, n)} | {notes.get(cls, '')} |")
    for t in report["translators"]:
        if t.get("engine") == "transplant":
            r = t["regions"]
            lines.append(f"\n## {t['class']} (transplant)\n\n{r['patches']} defect regions from {r['sources']} "
                         f"images (polarity {t.get('polarity')}); {len(t['defects_without_region'])} images gave "
                         "no region.\n")
        else:
            lines.append(f"\n## {t['class']} (CycleGAN)\n\nbest epoch {t['best'].get('epoch')} "
                         f"(KID {t['best'].get('kid')}) of {t['epochs']}; checkpoint `{t['checkpoint']}`.\n")
        if t.get("gate"):
            g = t["gate"]
            lines.append("Realism gate: " + ("passed" if g["passed"] else "**FAILED** (written with consent)") + "\n")
            lines.append("| check | value | needs | note |\n|---|---|---|---|")
            lines += [f"| {c['name']} | {c['value'] if c['value'] is None else format(c['value'], '.4g')} | "
                      f"{c['limit']} | {c['note']} |" for c in g["checks"]]
            lines.append("")
        if t.get("grid"):
            lines.append(f"![grid]({Path(t['grid']).name}) rows: real defects / generated / their sources\n")
        if t.get("engine") == "transplant":
            continue
        lines.append("\n| epoch | G | cycle | D_A | D_B | copy | diversity | KID |\n|---|---|---|---|---|---|---|---|")
        for h in t["history"]:
            lines.append("| " + " | ".join(f"{h.get(k):.4g}" if isinstance(h.get(k), float) else str(h.get(k, ""))
                                            for k in ("epoch", "G", "cycle", "D_A", "D_B", "copy", "diversity",
                                                      "kid")) + " |")
    return "\n".join(lines) + "\n"


def run(cfg: BalanceJob, *, progress: ProgressFn = null_progress, cancel: CancelToken | None = None) -> JobResult:
    return run_balance(cfg, progress=progress, cancel=cancel)


BalanceConfig = BalanceJob  # the class's name before the kinds were renamed (issue 12)

__all__ = ["BalanceConfig", "BalanceJob", "run_balance", "torch"]
