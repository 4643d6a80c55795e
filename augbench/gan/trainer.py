"""CycleGAN training with self-describing checkpoints, exact resume and cancel at a step boundary.

Reads like the reference model file (``backward_G``/``backward_D``, named
losses, image pools) but with one config dataclass instead of option parsing.
Every random draw is a function of (seed, epoch, step): batches come from
:class:`UnpairedData`, the pool and DiffAugment use a ``torch.Generator``
re-seeded each step. A checkpoint (config + counters + weights + optimizer
states + pools + history) therefore resumes to exactly the run that was not
interrupted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import torch

from augbench.core.atomic import atomic_path, atomic_write_json
from augbench.core.errors import ConfigError, WeightsError
from augbench.core.imageio import write_image
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.gan.diffaugment import diff_augment
from augbench.gan.losses import cycle_loss, gan_loss, identity_loss
from augbench.gan.networks import PatchDiscriminator, ResnetGenerator, init_weights
from augbench.gan.pool import ImagePool

CKPT_FORMAT = "augbench.cyclegan/1"
PAPER_LR = 3e-4
REFERENCE_LR = 2e-4


@dataclass(frozen=True)
class GanConfig:
    """Everything that defines a CycleGAN model and its training (stored in every checkpoint).

    Defaults follow the paper where it says something (lr 3e-4, 2 discriminator
    updates per generator update) and the reference code elsewhere (lambda 10,
    identity 0.5, pool 50, Adam betas (0.5, 0.999), linear decay over the second half).
    """

    channels: int = field(default=3, metadata={"choices": [1, 3]})
    size: int = field(default=64, metadata={"range": (16, 1024)})
    load_size: int = field(default=0, metadata={"range": (0, 1200)})  # 0: size * 1.125 (reference 286/256)
    flip: bool = True
    ngf: int = field(default=64, metadata={"range": (4, 256)})
    n_blocks: int = field(default=9, metadata={"range": (0, 32)})
    ndf: int = field(default=64, metadata={"range": (4, 256)})
    n_layers_d: int = field(default=3, metadata={"range": (1, 6)})
    upsample: str = field(default="deconv", metadata={"choices": ["deconv", "resize"]})
    gan_mode: str = field(default="lsgan", metadata={"choices": ["lsgan", "vanilla"]})
    lr: float = field(default=PAPER_LR, metadata={"range": (1e-7, 1.0)})
    beta1: float = field(default=0.5, metadata={"range": (0.0, 1.0)})
    beta2: float = field(default=0.999, metadata={"range": (0.0, 1.0)})
    lambda_cycle: float = field(default=10.0, metadata={"range": (0.0, None)})
    lambda_identity: float = field(default=0.5, metadata={"range": (0.0, None)})
    pool_size: int = field(default=50, metadata={"range": (0, 10000)})
    d_steps: int = field(default=2, metadata={"range": (1, 10)})
    batch_size: int = field(default=1, metadata={"range": (1, 256)})
    epochs: int = field(default=20, metadata={"range": (1, 100000)})
    decay_fraction: float = field(default=0.5, metadata={"range": (0.0, 1.0)})
    steps_per_epoch: int = field(default=0, metadata={"range": (0, None)})  # 0: one pass over domain A
    time_budget_s: float = field(default=0.0, metadata={"range": (0.0, None)})  # 0: no budget
    diffaugment: str = ""
    seed: int = 0
    device: str = "auto"
    precision: str = field(default="fp32", metadata={"choices": ["fp32", "bf16", "fp16", "auto"]})
    channels_last: bool = False
    batch_passes: bool = False  # run G_AB(a, b) and G_BA(b, a, G_AB(a)) as batched calls: same maths, fewer calls
    sample_every: int = field(default=50, metadata={"range": (0, None)})
    detect: bool = True
    kid_features: str = field(default="lite0", metadata={"choices": ["lite0", "pixels"]})

    @property
    def effective_load_size(self) -> int:
        return self.load_size or int(round(self.size * 1.125))

    def __post_init__(self) -> None:
        if self.load_size and self.load_size < self.size:
            raise ConfigError("load_size", f"must be 0 or >= size ({self.size})")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def resolve_precision(precision: str, device: torch.device) -> str:
    if precision == "auto":
        return "bf16" if device.type == "cpu" or torch.cuda.is_bf16_supported() else "fp16"
    if precision == "fp16" and device.type != "cuda":
        return "bf16"  # fp16 autocast is a CUDA thing; bf16 is what helps on CPU
    return precision


def lr_factor(epoch: int, planned_epochs: int, decay_fraction: float) -> float:
    """Reference linear schedule: constant, then linearly to ~0 over the last ``decay_fraction``."""
    n_decay = int(round(planned_epochs * decay_fraction))
    n_keep = planned_epochs - n_decay
    if epoch < n_keep or n_decay == 0:
        return 1.0
    return max(0.0, 1.0 - (epoch - n_keep + 1) / (n_decay + 1))


def _step_seed(seed: int, global_step: int) -> int:
    return (seed * 1_000_003 + global_step * 7919 + 12345) % (2**63 - 1)


def build_generator(cfg: GanConfig) -> ResnetGenerator:
    return ResnetGenerator(cfg.channels, cfg.channels, cfg.ngf, cfg.n_blocks, cfg.upsample)  # type: ignore[arg-type]


class CycleGAN:
    """The two generators (A->B, B->A), two PatchGANs, their optimizers and pools."""

    def __init__(self, cfg: GanConfig, device: torch.device | str | None = None) -> None:
        self.cfg = cfg
        self.device = resolve_device(cfg.device) if device is None else torch.device(device)
        self.precision = resolve_precision(cfg.precision, self.device)
        g = torch.Generator().manual_seed(cfg.seed)
        self.G_AB = init_weights(build_generator(cfg), generator=g)
        self.G_BA = init_weights(build_generator(cfg), generator=g)
        self.D_A = init_weights(PatchDiscriminator(cfg.channels, cfg.ndf, cfg.n_layers_d), generator=g)
        self.D_B = init_weights(PatchDiscriminator(cfg.channels, cfg.ndf, cfg.n_layers_d), generator=g)
        fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
        for net in self.nets.values():
            net.to(self.device, memory_format=fmt)
        betas = (cfg.beta1, cfg.beta2)
        self.opt_G = torch.optim.Adam(list(self.G_AB.parameters()) + list(self.G_BA.parameters()), cfg.lr, betas=betas)
        self.opt_D = torch.optim.Adam(list(self.D_A.parameters()) + list(self.D_B.parameters()), cfg.lr, betas=betas)
        self.pool_A, self.pool_B = ImagePool(cfg.pool_size), ImagePool(cfg.pool_size)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.precision == "fp16" and self.device.type == "cuda")
        self.rng = torch.Generator()

    @property
    def nets(self) -> dict[str, torch.nn.Module]:
        return {"G_AB": self.G_AB, "G_BA": self.G_BA, "D_A": self.D_A, "D_B": self.D_B}

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def set_lr(self, lr: float) -> None:
        for opt in (self.opt_G, self.opt_D):
            for group in opt.param_groups:
                group["lr"] = lr

    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if self.cfg.channels_last else x

    def _d_in(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.cfg.diffaugment, self.rng) if self.cfg.diffaugment else x

    def _d_loss(self, d: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, mode: str) -> torch.Tensor:
        """0.5 * (loss(D(real), real) + loss(D(fake), fake)); one batched D call when ``batch_passes``."""
        if self.cfg.batch_passes:  # instance norm is per sample, so the batched call computes the same thing
            out = d(self._d_in(torch.cat([real, fake.to(real.dtype)])))
            n = len(real)
            return 0.5 * (gan_loss(out[:n], True, mode) + gan_loss(out[n:], False, mode))  # type: ignore[arg-type]
        return 0.5 * (gan_loss(d(self._d_in(real)), True, mode)  # type: ignore[arg-type]
                      + gan_loss(d(self._d_in(fake)), False, mode))  # type: ignore[arg-type]

    def backward_D(self, real_a: torch.Tensor, real_b: torch.Tensor, fake_a: torch.Tensor,
                   fake_b: torch.Tensor) -> dict[str, float]:
        """Update both discriminators once: real vs (pooled) fake, each term weighted 0.5."""
        mode = self.cfg.gan_mode
        fake_b = self.pool_B.query(fake_b, self.rng)
        fake_a = self.pool_A.query(fake_a, self.rng)
        self.opt_D.zero_grad(set_to_none=True)
        with self.autocast():
            loss_d_b = self._d_loss(self.D_B, real_b, fake_b.detach(), mode)
            loss_d_a = self._d_loss(self.D_A, real_a, fake_a.detach(), mode)
        self.scaler.scale(loss_d_a + loss_d_b).backward()
        self.scaler.step(self.opt_D)
        self.scaler.update()
        return {"D_A": loss_d_a.item(), "D_B": loss_d_b.item()}

    def backward_G(self, real_a: torch.Tensor, real_b: torch.Tensor) -> tuple[dict[str, float], torch.Tensor,
                                                                                 torch.Tensor]:
        """One generator update: adversarial + lambda * cycle + lambda * lambda_id * identity."""
        cfg = self.cfg
        for d in (self.D_A, self.D_B):
            d.requires_grad_(False)
        self.opt_G.zero_grad(set_to_none=True)
        with self.autocast():
            use_idt = cfg.lambda_identity > 0
            if cfg.batch_passes and use_idt:
                n = len(real_a)
                out_ab = self.G_AB(torch.cat([real_a, real_b]))
                fake_b, idt_b = out_ab[:n], out_ab[n:]
                out_ba = self.G_BA(torch.cat([real_b, real_a, fake_b]))
                fake_a, idt_a, rec_a = out_ba[:n], out_ba[n:2 * n], out_ba[2 * n:]
                rec_b = self.G_AB(fake_a)
            else:
                fake_b = self.G_AB(real_a)
                rec_a = self.G_BA(fake_b)
                fake_a = self.G_BA(real_b)
                rec_b = self.G_AB(fake_a)
                if use_idt:
                    idt_b, idt_a = self.G_AB(real_b), self.G_BA(real_a)
            loss_gan_ab = gan_loss(self.D_B(self._d_in(fake_b)), True, cfg.gan_mode)  # type: ignore[arg-type]
            loss_gan_ba = gan_loss(self.D_A(self._d_in(fake_a)), True, cfg.gan_mode)  # type: ignore[arg-type]
            loss_cyc = cycle_loss(rec_a, real_a) + cycle_loss(rec_b, real_b)
            loss = loss_gan_ab + loss_gan_ba + cfg.lambda_cycle * loss_cyc
            loss_idt = torch.zeros((), device=self.device)
            if use_idt:
                loss_idt = identity_loss(idt_b, real_b) + identity_loss(idt_a, real_a)
                loss = loss + cfg.lambda_cycle * cfg.lambda_identity * loss_idt
        self.scaler.scale(loss).backward()
        self.scaler.step(self.opt_G)
        self.scaler.update()
        for d in (self.D_A, self.D_B):
            d.requires_grad_(True)
        losses = {"G_AB": loss_gan_ab.item(), "G_BA": loss_gan_ba.item(), "cycle": loss_cyc.item(),
                  "identity": loss_idt.item(), "G": loss.item()}
        return losses, fake_a.detach(), fake_b.detach()

    def train_step(self, batches: list[tuple[torch.Tensor, torch.Tensor]], step_seed: int) -> dict[str, float]:
        """One G update on ``batches[0]`` then one D update per batch (``d_steps`` batches)."""
        self.rng.manual_seed(step_seed)
        real_a, real_b = (self._prep(t) for t in batches[0])
        losses, fake_a, fake_b = self.backward_G(real_a, real_b)
        losses.update(self.backward_D(real_a, real_b, fake_a, fake_b))
        for extra_a, extra_b in batches[1:]:
            ea, eb = self._prep(extra_a), self._prep(extra_b)
            with torch.no_grad(), self.autocast():
                fb, fa = self.G_AB(ea), self.G_BA(eb)
            d = self.backward_D(ea, eb, fa.float(), fb.float())
            losses["D_A"] = (losses["D_A"] + d["D_A"]) / 2
            losses["D_B"] = (losses["D_B"] + d["D_B"]) / 2
        return losses

    @torch.no_grad()
    def translate(self, x: torch.Tensor, direction: Literal["AB", "BA"] = "AB", batch: int = 16) -> torch.Tensor:
        net = self.G_AB if direction == "AB" else self.G_BA
        out = []
        for i in range(0, len(x), batch):
            with self.autocast():
                out.append(net(self._prep(x[i:i + batch])).float().cpu())
        return torch.cat(out)

    # ------------------------------------------------------------------ checkpoints

    def state(self) -> dict[str, Any]:
        return {"nets": {k: v.state_dict() for k, v in self.nets.items()},
                "optim": {"G": self.opt_G.state_dict(), "D": self.opt_D.state_dict()},
                "pools": {"A": self.pool_A.state_dict(), "B": self.pool_B.state_dict()},
                "scaler": self.scaler.state_dict()}

    def load_state(self, state: dict[str, Any]) -> None:
        for k, net in self.nets.items():
            if k in state["nets"]:
                net.load_state_dict(state["nets"][k])
        if "optim" in state:
            self.opt_G.load_state_dict(state["optim"]["G"])
            self.opt_D.load_state_dict(state["optim"]["D"])
        if "pools" in state:
            self.pool_A.load_state_dict(state["pools"]["A"], self.device)
            self.pool_B.load_state_dict(state["pools"]["B"], self.device)
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])


def config_from_checkpoint(ckpt: dict[str, Any]) -> GanConfig:
    names = {f.name for f in dataclasses.fields(GanConfig)}
    return GanConfig(**{k: v for k, v in ckpt["config"].items() if k in names})


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load and check a checkpoint written by :func:`save_checkpoint` (weights_only: no code runs)."""
    try:
        ckpt = torch.load(Path(path), map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:
        raise WeightsError(f"cannot read checkpoint {path}: {exc}") from None
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
        self.model = CycleGAN(cfg)
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
                "extra": self.extra, **self.model.state()}

    def save(self) -> Path:
        return save_checkpoint(self.last_path, self.payload())

    def resume(self, path: str | Path | None = None) -> bool:
        """Continue from ``path`` (default ``last.pt``); False when there is nothing to resume."""
        path = Path(path) if path else self.last_path
        if not path.exists():
            return False
        ckpt = load_checkpoint(path)
        old = config_from_checkpoint(ckpt)
        for name in ("channels", "ngf", "n_blocks", "ndf", "n_layers_d", "upsample"):
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
        bs = self.cfg.batch_size
        return [self.data.batch(epoch, step, bs, stream=k) for k in range(self.cfg.d_steps)]

    def _plan_by_budget(self) -> None:
        s, budget = self.state, self.cfg.time_budget_s
        if budget and s.epoch >= 1:
            per_epoch = s.elapsed_s / s.epoch
            fit = max(s.epoch, int(budget // per_epoch)) if per_epoch > 0 else self.cfg.epochs
            s.planned_epochs = max(s.epoch, min(self.cfg.epochs, fit))

    def fit(self, progress: ProgressFn = null_progress, cancel: CancelToken | None = None) -> TrainState:
        """Train until ``planned_epochs`` (or the time budget); raises Cancelled after saving ``last.pt``."""
        cancel = cancel or CancelToken()
        cfg, s, spe = self.cfg, self.state, self.steps_per_epoch
        self.out.mkdir(parents=True, exist_ok=True)
        while s.epoch < s.planned_epochs:
            epoch_sums: dict[str, float] = {}
            n_in_epoch = 0
            lr = cfg.lr * lr_factor(s.epoch, s.planned_epochs, cfg.decay_fraction)
            self.model.set_lr(lr)
            t_epoch = time.perf_counter()
            while s.step < spe:
                if cancel.cancelled:
                    s.elapsed_s += time.perf_counter() - t_epoch
                    self.save()
                    cancel.check()
                t0 = time.perf_counter()
                losses = self.model.train_step(self._batches(s.epoch, s.step), _step_seed(cfg.seed, s.global_step))
                s.step += 1
                s.global_step += 1
                for k, v in losses.items():
                    epoch_sums[k] = epoch_sums.get(k, 0.0) + v
                n_in_epoch += 1
                preview = None
                if self.preview is not None and cfg.sample_every and s.global_step % cfg.sample_every == 0:
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
            if self.evaluate is not None:
                row.update(self.evaluate(self.model, s.epoch))
            s.elapsed_s += time.perf_counter() - t_epoch  # evaluation counts against the time budget too
            row["elapsed_s"] = round(s.elapsed_s, 2)
            s.history.append(row)
            value = row.get(self.select_key)
            improved = value is not None and not (isinstance(value, float) and math.isnan(value)) and (
                not s.best or value < s.best.get(self.select_key, math.inf))
            if improved or (self.evaluate is None) or not s.best:
                s.best = {"epoch": s.epoch, self.select_key: value}
                nets = {k: self.model.nets[k].state_dict() for k in ("G_AB", "G_BA")}
                save_checkpoint(self.best_path, {"config": dataclasses.asdict(cfg), "epoch": s.epoch,
                                                 "metrics": row, "extra": self.extra, "nets": nets})
            self._plan_by_budget()
            self.save()
            atomic_write_json(self.out / "history.json", {"history": s.history, "best": s.best,
                                                          "planned_epochs": s.planned_epochs})
            progress(Progress(s.epoch * spe, s.planned_epochs * spe, f"epoch {s.epoch} done",
                              preview=self.preview(self.model) if self.preview else None,
                              metrics={k: v for k, v in row.items() if isinstance(v, (int, float))}, stage="epoch"))
        return s


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
