"""CycleGAN training with self-describing checkpoints, exact resume and cancel at a step boundary.

The model itself (config, networks, ``backward_G``/``backward_D``) is in
:mod:`augbench.gan.model`; its names are re-exported here. Every random
draw is a function of (seed, epoch, step): batches come from
:class:`UnpairedData`, the pool and DiffAugment use a ``torch.Generator``
re-seeded each step. A checkpoint (config + counters + weights + optimizer
states + pools + history) therefore resumes to exactly the run that was not
interrupted.

Under torchrun (``WORLD_SIZE`` > 1) ``batch_size`` is the global batch: every
rank draws the same global batch (a pure function of seed, epoch and step, so
no sampler state is needed) and trains on its own contiguous slice, which is
what a DistributedSampler with its epoch set would give: disjoint shards, a new
order every epoch, the union one global batch. Rank 0 alone evaluates, picks the
best epoch and writes checkpoints and ``history.json``, then tells the other
ranks (history, best, planned epochs), so every rank holds the same state.
Losses are averaged over ranks in one all-reduce per step that also carries
"cancel", so all ranks stop at the same step. Checkpoints hold each rank's
image pools; all ranks resume from rank 0's file.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from augbench.core import distributed as D
from augbench.core.atomic import atomic_path, atomic_write_json
from augbench.core.errors import Cancelled, ConfigError, WeightsError
from augbench.core.imageio import write_image
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.gan.model import (  # noqa: F401 - re-exported: the public names lived here
    CKPT_FORMAT,
    PAPER_LR,
    REFERENCE_LR,
    CycleGAN,
    GanConfig,
    _step_seed,
    build_generator,
    lr_factor,
    resolve_device,
    resolve_precision,
)


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(
        value) else None


def json_safe(obj: Any) -> Any:
    """``obj`` with every NaN/inf float replaced by None (``json`` would write the non-JSON token NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def config_from_checkpoint(ckpt: dict[str, Any]) -> GanConfig:
    names = {f.name for f in dataclasses.fields(GanConfig)}
    return GanConfig(**{k: v for k, v in ckpt["config"].items() if k in names})


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load and check a checkpoint written by :func:`save_checkpoint` (weights_only: no code runs)."""
    try:
        ckpt = torch.load(Path(path), map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, KeyError, ValueError, pickle.UnpicklingError) as exc:
        # a text file or any non-torch file ends here (pickle raises KeyError on a stray opcode byte)
        raise WeightsError(f"{path} is not a checkpoint augbench can read ({type(exc).__name__}: {exc})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CKPT_FORMAT:
        raise WeightsError(f"{path} is not an augbench CycleGAN checkpoint")
    return ckpt


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Atomic save: a crash or cancel mid-write leaves the previous file untouched."""
    with atomic_path(path) as tmp:
        torch.save({"format": CKPT_FORMAT, **payload}, tmp)
    return Path(path)


def load_model(path: str | Path, device: str = "auto") -> tuple[CycleGAN, dict[str, Any]]:
    """Rebuild a model from a checkpoint file alone (its config travels with it)."""
    ckpt = load_checkpoint(path)
    model = CycleGAN(config_from_checkpoint(ckpt), resolve_device(device))
    model.load_state({"nets": ckpt["nets"]})
    return model, ckpt


# ---------------------------------------------------------------------- the training loop


@dataclass
class TrainState:
    epoch: int = 0  # completed epochs
    step: int = 0  # completed steps inside the current epoch
    global_step: int = 0
    planned_epochs: int = 0
    elapsed_s: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] = field(default_factory=dict)


EvalFn = Callable[[CycleGAN, int], dict[str, Any]]


class Trainer:
    """Runs epochs of :class:`CycleGAN` over :class:`UnpairedData`, writing checkpoints to ``out_dir``.

    ``out_dir/last.pt`` is the resume point (updated at each epoch end and on
    cancel); ``out_dir/best.pt`` holds the generators of the epoch with the
    lowest ``select_key`` metric (KID) returned by ``evaluate``.
    """

    def __init__(self, cfg: GanConfig, data: Any, out_dir: str | Path, evaluate: EvalFn | None = None,
                 preview: Callable[[CycleGAN], np.ndarray] | None = None, select_key: str = "kid",
                 extra: dict[str, Any] | None = None) -> None:
        self.cfg, self.data, self.out = cfg, data, Path(out_dir)
        base = resolve_device(cfg.device)
        self.dist = D.setup(base)  # joins the process group under torchrun; a no-op DistInfo otherwise
        self.rank_batch = D.per_rank_batch(cfg.batch_size, self.dist)
        device = D.rank_device(base, self.dist)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed crop size: let cuDNN pick its fastest kernels once
        self.model = CycleGAN(cfg, device)
        self.model.enable_ddp(self.dist)
        self.state = TrainState(planned_epochs=cfg.epochs)
        self.evaluate, self.preview, self.select_key = evaluate, preview, select_key
        self.extra = extra or {}
        self.steps_per_epoch = cfg.steps_per_epoch or data.steps_per_epoch(cfg.batch_size)

    @property
    def last_path(self) -> Path:
        return self.out / "last.pt"

    @property
    def best_path(self) -> Path:
        return self.out / "best.pt"

    def payload(self) -> dict[str, Any]:
        s = self.state
        return {"config": dataclasses.asdict(self.cfg), "epoch": s.epoch, "step": s.step, "global_step": s.global_step,
                "planned_epochs": s.planned_epochs, "elapsed_s": s.elapsed_s, "history": s.history, "best": s.best,
                "extra": self.extra, **self.scale(), **self.model.state()}

    def scale(self) -> dict[str, int]:
        """How many processes trained and on what batch (recorded in checkpoints, history and results)."""
        return {"world_size": self.dist.world_size, "global_batch": self.cfg.batch_size,
                "per_rank_batch": self.rank_batch}

    def save(self) -> Path:
        """Write ``last.pt`` (rank 0); under torchrun every rank must call it: it gathers the ranks' pools."""
        pools = D.all_gather_object(self.model.pool_state(), self.dist) if self.dist.enabled else None
        if not self.dist.is_main:
            return self.last_path
        payload = self.payload()
        if pools is not None:
            payload["pools_by_rank"] = pools
        return save_checkpoint(self.last_path, payload)

    def resume(self, path: str | Path | None = None) -> bool:
        """Continue from ``path`` (default ``last.pt``); False when there is nothing to resume."""
        path = Path(path) if path else self.last_path
        if not path.exists():
            return False
        ckpt = load_checkpoint(path)
        old = config_from_checkpoint(ckpt)
        for name in ("channels", "ngf", "n_blocks", "ndf", "n_layers_d", "upsample", "generator"):
            if getattr(old, name) != getattr(self.cfg, name):
                raise ConfigError(name, f"checkpoint {path} was trained with {name}={getattr(old, name)!r}; "
                                        f"start a new run folder to change it")
        self.model.load_state(ckpt)
        self.state = TrainState(ckpt["epoch"], ckpt["step"], ckpt["global_step"],
                                ckpt.get("planned_epochs") or self.cfg.epochs, ckpt.get("elapsed_s", 0.0),
                                list(ckpt.get("history", [])), dict(ckpt.get("best", {})))
        if self.cfg.epochs > self.state.planned_epochs and not self.cfg.time_budget_s:
            self.state.planned_epochs = self.cfg.epochs  # the user asked for more epochs
        return True

    def _batches(self, epoch: int, step: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """This rank's slices of the ``d_steps`` global batches of (epoch, step)."""
        bs = self.cfg.batch_size
        batches = [self.data.batch(epoch, step, bs, stream=k) for k in range(self.cfg.d_steps)]
        if not self.dist.enabled:
            return batches
        lo = self.dist.rank * self.rank_batch
        return [(a[lo:lo + self.rank_batch], b[lo:lo + self.rank_batch]) for a, b in batches]

    def _step_seed(self) -> int:
        """The step's seed for the pools and DiffAugment: rank 0 (and a single process) use the plain one;
        other ranks shift it so their pools and augmentations draw independently."""
        seed = _step_seed(self.cfg.seed, self.state.global_step)
        return (seed + 104_729 * self.dist.rank) % (2**63 - 1)

    def _plan_by_budget(self) -> None:
        s, budget = self.state, self.cfg.time_budget_s
        if budget and s.epoch >= 1:
            per_epoch = s.elapsed_s / s.epoch
            fit = max(s.epoch, int(budget // per_epoch)) if per_epoch > 0 else self.cfg.epochs
            s.planned_epochs = max(s.epoch, min(self.cfg.epochs, fit))

    def _is_better(self, value: Any) -> bool:
        """Does this epoch become ``best``? An epoch the detectors flag (copies its input, collapsed) never
        beats one they do not, whatever its KID (an identity map is close to the normals, and on aligned
        cells normals are close to defects); among equals a finite metric beats a missing one, and with
        no finite metric at all (too few held-out images for KID) the latest epoch is the best there is."""
        if self.evaluate is None or not self.state.best:
            return True
        row = self.state.history[-1] if self.state.history else {}
        flagged_now = bool(row.get("copies_input") or row.get("collapsed"))
        flagged_best = bool(self.state.best.get("flagged"))
        if flagged_now != flagged_best:  # a copy or a collapse never replaces a working epoch, and vice versa
            return flagged_best
        old = _finite(self.state.best.get(self.select_key))
        new = _finite(value)
        if new is None:
            return old is None
        return old is None or new < old

    def fit(self, progress: ProgressFn = null_progress, cancel: CancelToken | None = None) -> TrainState:
        """Train until ``planned_epochs`` (or the time budget); raises Cancelled after saving ``last.pt``."""
        cancel = cancel or CancelToken()
        cfg, s, spe = self.cfg, self.state, self.steps_per_epoch
        main = self.dist.is_main
        if main:
            self.out.mkdir(parents=True, exist_ok=True)
        else:
            progress = null_progress  # one progress bar, from rank 0
        # The ranks agree on a cancel already set before the first step (one collective, as the classifier
        # trainer does): a rank that stopped alone would leave the others waiting in the first all-reduce.
        _, stop = D.all_mean_dict({}, self.dist, flag=cancel.cancelled)
        while s.epoch < s.planned_epochs:
            epoch_sums: dict[str, float] = {}
            n_in_epoch = 0
            lr = cfg.lr * lr_factor(s.epoch, s.planned_epochs, cfg.decay_fraction)
            self.model.set_lr(lr)
            t_epoch = time.perf_counter()
            while s.step < spe:
                if stop or (cancel.cancelled and not self.dist.enabled):  # ranks agree on a cancel (see below)
                    s.elapsed_s += time.perf_counter() - t_epoch
                    self.save()
                    cancel.check()
                    raise Cancelled("cancelled on another rank")
                t0 = time.perf_counter()
                losses = self.model.train_step(self._batches(s.epoch, s.step), self._step_seed())
                losses, stop = D.all_mean_dict(losses, self.dist, flag=cancel.cancelled)
                s.step += 1
                s.global_step += 1
                for k, v in losses.items():
                    epoch_sums[k] = epoch_sums.get(k, 0.0) + v
                n_in_epoch += 1
                preview = None
                if main and self.preview is not None and cfg.sample_every and s.global_step % cfg.sample_every == 0:
                    preview = self.preview(self.model)
                total = s.planned_epochs * spe
                progress(Progress(s.epoch * spe + s.step, total,
                                  f"epoch {s.epoch + 1}/{s.planned_epochs} step {s.step}/{spe} "
                                  f"G {losses['G']:.3f} D {losses['D_A'] + losses['D_B']:.3f}",
                                  preview=preview, metrics={**losses, "sec_per_step": time.perf_counter() - t0},
                                  stage="train"))
            row: dict[str, Any] = {"epoch": s.epoch + 1, "global_step": s.global_step, "lr": lr}
            row.update({k: v / max(1, n_in_epoch) for k, v in epoch_sums.items()})
            s.epoch += 1
            s.step = 0
            if main:
                self._end_epoch(row, t_epoch)
            if self.dist.enabled:  # rank 0 decided (evaluation, best, time budget): every rank takes its state
                s.history, s.best, s.planned_epochs, s.elapsed_s = D.broadcast_object(
                    (s.history, s.best, s.planned_epochs, s.elapsed_s), self.dist)
            self.save()
            if main:
                atomic_write_json(self.out / "history.json", {"history": s.history, "best": s.best,
                                                              "planned_epochs": s.planned_epochs, **self.scale()})
            row = s.history[-1]
            progress(Progress(s.epoch * spe, s.planned_epochs * spe, f"epoch {s.epoch} done",
                              preview=self.preview(self.model) if self.preview and main else None,
                              metrics={k: v for k, v in row.items() if isinstance(v, (int, float))}, stage="epoch"))
        return s

    def _end_epoch(self, row: dict[str, Any], t_epoch: float) -> None:
        """Rank 0's end of an epoch: evaluate, record, keep the best generators, re-plan by the time budget."""
        s, cfg = self.state, self.cfg
        if self.evaluate is not None:
            row.update(self.evaluate(self.model, s.epoch))
        s.elapsed_s += time.perf_counter() - t_epoch  # evaluation counts against the time budget too
        row["elapsed_s"] = round(s.elapsed_s, 2)
        row = json_safe(row)  # NaN/inf -> None: history.json and result.json stay JSON
        s.history.append(row)
        if self._is_better(row.get(self.select_key)):
            s.best = {"epoch": s.epoch, self.select_key: row.get(self.select_key),
                      "flagged": bool(row.get("copies_input") or row.get("collapsed"))}
            nets = {k: self.model.nets[k].state_dict() for k in ("G_AB", "G_BA")}
            save_checkpoint(self.best_path, {"config": dataclasses.asdict(cfg), "epoch": s.epoch,
                                             "metrics": row, "extra": self.extra, "nets": nets, **self.scale()})
        self._plan_by_budget()


def sample_grid(real: torch.Tensor, fake: torch.Tensor, rec: torch.Tensor | None = None) -> np.ndarray:
    """RGB uint8 grid: one row per image, columns real | translated | reconstructed."""
    from augbench.gan.data import to_uint8

    cols = [to_uint8(real), to_uint8(fake)] + ([to_uint8(rec)] if rec is not None else [])
    rows = []
    for i in range(len(real)):
        cells = [c[i] if c.shape[-1] == 3 else np.repeat(c[i], 3, axis=-1) for c in cols]
        pad = np.full((cells[0].shape[0], 2, 3), 255, np.uint8)
        row = cells[0]
        for c in cells[1:]:
            row = np.concatenate([row, pad, c], axis=1)
        rows.append(row)
        rows.append(np.full((2, row.shape[1], 3), 255, np.uint8))
    return np.concatenate(rows[:-1], axis=0) if rows else np.zeros((1, 1, 3), np.uint8)


def save_grid(path: str | Path, grid: np.ndarray) -> Path:
    return write_image(path, grid)
