"""The classifier trainer: AdamW, best checkpoint by validation metric, resumable, cancellable.

Paper defaults: AdamW, lr 1e-3, batch 4, keep the epoch with the best
validation accuracy (macro-F1 is an option, better for imbalanced data).
``device="auto"`` takes CUDA when present. Speed options (measured in
``benchmarks/train_speed.py``, off by default so fp32 results are comparable):
bf16/fp16 autocast and channels-last memory format.

Checkpoints describe themselves (nanoGPT's habit): ``model_args`` rebuild the
network with :func:`load_checkpoint`, and ``classes``/``image_size``/``channels``
say how to feed it. ``last.pt`` (with the optimizer) is written at every epoch
end so a re-run resumes; ``best.pt`` holds the selected weights. Both writes
are atomic. Cancel is checked every step; the last finished epoch survives.

Under torchrun the step's loss is averaged over ranks in one all-reduce that
also carries "cancel" (:func:`augbench.core.distributed.all_mean_dict`, as in the
CycleGAN trainer): a cancel on any rank stops every rank before the same step,
instead of one rank leaving while the others wait in DDP's gradient all-reduce.

The trainer also measures how long each step waited for data (``data_wait_s``),
so a slow input pipeline shows up instead of hiding inside "training is slow".
"""

from __future__ import annotations

import copy
import io
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, WeightedRandomSampler

from augbench.classify import distributed as dist_
from augbench.classify.losses import make_loss
from augbench.classify.metrics import classification_metrics
from augbench.classify.models import ClassifierNet, build_model
from augbench.core.atomic import atomic_write_bytes
from augbench.core.errors import Cancelled, WeightsError
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress


@dataclass
class TrainOptions:
    """Everything that changes how one model is trained (saved into the checkpoint)."""

    epochs: int = 30
    batch_size: int = 4
    lr: float = 1e-3
    weight_decay: float = 0.01
    select_metric: Literal["accuracy", "macro_f1"] = "accuracy"
    loss: Literal["ce", "weighted_ce", "focal"] = "ce"
    focal_gamma: float = 2.0
    sampler: Literal["shuffle", "weighted"] = "shuffle"
    device: str = "auto"
    amp: Literal["off", "bf16", "fp16", "auto"] = "off"  # auto: bf16 where supported, else fp16 (+ GradScaler)
    channels_last: bool = False
    num_workers: int = 0
    seed: int = 0
    patience: int = 0  # stop after this many epochs without a better val metric; 0 = never
    eval_batch_size: int = 64


def resolve_amp(amp: str, device: torch.device) -> str:
    """``auto`` -> bf16 on CPU and on GPUs that support it, fp16 (with a GradScaler) on older GPUs."""
    if amp != "auto":
        return amp
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if device.type == "cpu" else "off"


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` -> CUDA if available, else Apple MPS, else CPU."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(device)


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    val_accuracy: float
    val_macro_f1: float
    seconds: float
    data_wait_s: float
    images: int
    cpu_s: float = 0.0  # process CPU time of the training loop: a load-independent cost on a shared CPU


@dataclass
class TrainOutcome:
    history: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = -1
    best_metric: float = -1.0
    images_per_s: float = 0.0
    data_wait_s: float = 0.0
    train_s: float = 0.0
    cpu_s: float = 0.0
    resumed_from: int = 0
    world_size: int = 1  # data-parallel processes (torchrun); the batch below is the global one
    global_batch: int = 0


def _autocast(device: torch.device, amp: str) -> Any:
    if amp == "off":
        return torch.autocast(device.type, enabled=False)
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)


def _state_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


class Trainer:
    """Train ``model`` on ``train_ds``, select on ``val_ds``; see the module docstring."""

    def __init__(
        self,
        model: ClassifierNet,
        train_ds: Dataset,
        val_ds: Dataset,
        classes: list[str],
        opts: TrainOptions,
        *,
        ckpt_dir: str | Path | None = None,
        model_args: dict[str, Any] | None = None,
        extra_meta: dict[str, Any] | None = None,
    ) -> None:
        self.opts = opts
        base_device = resolve_device(opts.device)
        # Under torchrun: join the process group (gloo on CPU, NCCL on CUDA); a single process gets a no-op.
        self.dist = dist_.setup(base_device)
        self.device = dist_.rank_device(base_device, self.dist)
        self.amp = resolve_amp(opts.amp, self.device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input sizes: let cuDNN pick the fastest kernels once
        self.rank_batch = dist_.per_rank_batch(opts.batch_size, self.dist)
        self.model = model.to(self.device)
        if opts.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.net = dist_.wrap(self.model, self.dist, self.device)  # what training calls (DDP syncs gradients)
        self.train_ds, self.val_ds = train_ds, val_ds
        self.classes = classes
        self.ckpt_dir = Path(ckpt_dir) if ckpt_dir else None
        self.model_args = model_args or {}
        self.extra_meta = extra_meta or {}
        labels = list(getattr(train_ds, "labels", []))
        self.train_counts = [labels.count(i) for i in range(len(classes))]
        self.criterion = make_loss(opts.loss, self.train_counts, opts.focal_gamma).to(self.device)
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=opts.lr, weight_decay=opts.weight_decay)
        self.scaler = torch.amp.GradScaler(enabled=self.amp == "fp16" and self.device.type == "cuda")
        self.best_state: dict[str, torch.Tensor] | None = None

    # ----------------------------------------------------------------- data

    def _train_loader(self, epoch: int) -> DataLoader:
        g = torch.Generator().manual_seed(self.opts.seed * 1000 + epoch)
        pin = self.device.type == "cuda"
        bs, drop = self.rank_batch, len(self.train_ds) > self.opts.batch_size
        if self.opts.sampler == "weighted":
            counts = np.maximum(np.array(self.train_counts, dtype=np.float64), 1)
            w = torch.as_tensor([1.0 / counts[y] for y in self.train_ds.labels], dtype=torch.double)
            if self.dist.enabled:  # every rank draws the same weighted epoch (same generator), then takes its slice
                order = torch.multinomial(w, len(w), replacement=True, generator=g).tolist()
                # pad to a multiple of the world size (as DistributedSampler does): every rank takes the same
                # number of steps, or the ranks with one step more would wait forever in the step's all-reduce
                order += [order[i % len(order)] for i in range(-len(order) % self.dist.world_size)]
                mine = order[self.dist.rank::self.dist.world_size]
                return DataLoader(self.train_ds, bs, sampler=mine, num_workers=self.opts.num_workers, pin_memory=pin,
                                  drop_last=drop)
            sampler = WeightedRandomSampler(w, num_samples=len(w), replacement=True, generator=g)
            return DataLoader(self.train_ds, bs, sampler=sampler, num_workers=self.opts.num_workers,
                              pin_memory=pin, drop_last=drop)
        if self.dist.enabled:
            ds_sampler = DistributedSampler(self.train_ds, self.dist.world_size, self.dist.rank, shuffle=True,
                                            seed=self.opts.seed, drop_last=drop)
            ds_sampler.set_epoch(epoch)  # a different shuffle every epoch, the same on every rank
            return DataLoader(self.train_ds, bs, sampler=ds_sampler, num_workers=self.opts.num_workers,
                              pin_memory=pin, drop_last=drop)
        return DataLoader(self.train_ds, bs, shuffle=True, generator=g,
                          num_workers=self.opts.num_workers, pin_memory=pin, drop_last=drop)

    def _to_device(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if self.opts.channels_last else x

    # ----------------------------------------------------------------- evaluation

    @torch.no_grad()
    def predict(self, ds: Dataset, model: nn.Module | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(true labels, predicted labels, class probabilities) over ``ds``."""
        net = model or self.model
        was = net.training
        net.eval()
        ys, ps, probs = [], [], []
        loader = DataLoader(ds, self.opts.eval_batch_size, shuffle=False, num_workers=self.opts.num_workers)
        for x, y in loader:
            with _autocast(self.device, self.amp):
                logits = net(self._to_device(x))
            pr = logits.float().softmax(1).cpu()
            ys.append(y.numpy())
            ps.append(pr.argmax(1).numpy())
            probs.append(pr.numpy())
        net.train(was)
        if not ys:
            return np.zeros(0, int), np.zeros(0, int), np.zeros((0, len(self.classes)))
        return np.concatenate(ys), np.concatenate(ps), np.concatenate(probs)

    def evaluate(self, ds: Dataset, model: nn.Module | None = None) -> dict[str, Any]:
        y, p, _ = self.predict(ds, model)
        return classification_metrics(y, p, self.classes)

    # ----------------------------------------------------------------- checkpoints

    def checkpoint_dict(self, state: dict[str, torch.Tensor], epoch: int, metric: float) -> dict[str, Any]:
        return {
            "format": "augbench.classifier/1",
            "model_state": state,
            "model_args": self.model_args,
            "classes": self.classes,
            "train_options": asdict(self.opts),
            "world_size": self.dist.world_size,
            "global_batch": self.opts.batch_size,
            "epoch": epoch,
            "metric": {self.opts.select_metric: metric},
            **self.extra_meta,
        }

    def _save_last(self, epoch: int, outcome: TrainOutcome) -> None:
        if self.ckpt_dir is None or not self.dist.is_main:  # rank 0 alone writes; every rank resumes from it
            return
        blob = {
            "model_state": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "epoch": epoch,
            "best_epoch": outcome.best_epoch,
            "best_metric": outcome.best_metric,
            "best_state": self.best_state,
            "history": [asdict(r) for r in outcome.history],
        }
        atomic_write_bytes(self.ckpt_dir / "last.pt", _state_bytes(blob))

    def _try_resume(self, outcome: TrainOutcome) -> int:
        path = self.ckpt_dir / "last.pt" if self.ckpt_dir else None
        if path is None or not path.is_file():
            return 0
        blob = torch.load(path, map_location=self.device, weights_only=True)
        self.model.load_state_dict(blob["model_state"])
        self.optimizer.load_state_dict(blob["optimizer"])
        self.best_state = blob.get("best_state")
        outcome.best_epoch = int(blob["best_epoch"])
        outcome.best_metric = float(blob["best_metric"])
        outcome.history = [EpochRecord(**r) for r in blob["history"]]
        outcome.resumed_from = int(blob["epoch"]) + 1
        return outcome.resumed_from

    # ----------------------------------------------------------------- training

    def fit(
        self,
        progress: ProgressFn = null_progress,
        cancel: CancelToken | None = None,
        resume: bool = True,
    ) -> TrainOutcome:
        """Train for ``opts.epochs`` epochs; afterwards ``self.model`` holds the best weights."""
        cancel = cancel or CancelToken()
        torch.manual_seed(self.opts.seed)
        if not self.dist.is_main:
            progress = null_progress  # one progress bar, from rank 0
        outcome = TrainOutcome(world_size=self.dist.world_size, global_batch=self.opts.batch_size)
        start = self._try_resume(outcome) if resume else 0
        n_batches = len(self._train_loader(0))
        total = self.opts.epochs * n_batches
        key = "val_accuracy" if self.opts.select_metric == "accuracy" else "val_macro_f1"
        # Under DDP the ranks agree on a cancel before the first step, then through each step's loss all-reduce.
        _, stop = dist_.all_mean_dict({}, self.dist, flag=cancel.cancelled)
        for epoch in range(start, self.opts.epochs):
            self.net.train()
            t0 = time.perf_counter()
            c0 = time.process_time()
            wait = 0.0
            losses: list[float] = []
            images = 0
            t_wait = time.perf_counter()
            for step, (x, y) in enumerate(self._train_loader(epoch)):
                x, y = self._to_device(x), y.to(self.device, non_blocking=True)
                wait += time.perf_counter() - t_wait
                if stop or (cancel.cancelled and not self.dist.enabled):
                    cancel.check()
                    raise Cancelled("cancelled on another rank")
                with _autocast(self.device, self.amp):
                    logits = self.net(x)
                loss = self.criterion(logits.float(), y)
                self.optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
                step_loss, stop = dist_.all_mean_dict({"loss": float(loss.detach())}, self.dist,
                                                      flag=cancel.cancelled)
                losses.append(step_loss["loss"])  # the rank mean: what one process on the global batch logs
                images += int(x.shape[0]) * self.dist.world_size
                done = epoch * n_batches + step + 1
                if step % 10 == 0 or step == n_batches - 1:
                    progress(Progress(done, total, f"epoch {epoch + 1}/{self.opts.epochs}", stage="train",
                                      metrics={"loss": losses[-1]}))
                t_wait = time.perf_counter()
            train_s = time.perf_counter() - t0
            cpu_s = time.process_time() - c0
            # Replicas are identical, so every rank evaluates the same weights and takes the same best/stop decisions.
            val = self.evaluate(self.val_ds)
            mean_loss = float(np.mean(losses)) if losses else float("nan")  # step losses are rank means already
            rec = EpochRecord(epoch, mean_loss, val["accuracy"],
                              val["macro_f1"], train_s, wait, images, cpu_s)
            outcome.history.append(rec)
            metric = getattr(rec, key)
            if metric > outcome.best_metric:
                outcome.best_metric, outcome.best_epoch = metric, epoch
                self.best_state = copy.deepcopy(self.model.state_dict())
                if self.ckpt_dir is not None and self.dist.is_main:
                    atomic_write_bytes(self.ckpt_dir / "best.pt",
                                       _state_bytes(self.checkpoint_dict(self.best_state, epoch, metric)))
            self._save_last(epoch, outcome)
            progress(Progress((epoch + 1) * n_batches, total, f"epoch {epoch + 1}: val acc {rec.val_accuracy:.3f}",
                              stage="epoch", metrics={"epoch": epoch, "train_loss": rec.train_loss,
                                                      "val_accuracy": rec.val_accuracy,
                                                      "val_macro_f1": rec.val_macro_f1}))
            if self.opts.patience and epoch - outcome.best_epoch >= self.opts.patience:
                break
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        outcome.train_s = sum(r.seconds for r in outcome.history)
        outcome.data_wait_s = sum(r.data_wait_s for r in outcome.history)
        outcome.cpu_s = sum(r.cpu_s for r in outcome.history)
        n_img = sum(r.images for r in outcome.history)
        outcome.images_per_s = n_img / outcome.train_s if outcome.train_s > 0 else 0.0
        return outcome


def load_checkpoint(path: str | Path, device: str = "cpu") -> tuple[ClassifierNet, dict[str, Any]]:
    """Rebuild the network of a ``best.pt`` from the file alone; returns (model in eval mode, metadata)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"checkpoint not found: {path}")
    try:
        blob = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file is a weights problem for the user
        raise WeightsError(f"cannot read checkpoint {path}: {exc}") from None
    if not isinstance(blob, dict) or blob.get("format") != "augbench.classifier/1":
        raise WeightsError(f"{path} is not an augbench classifier checkpoint")
    args = dict(blob["model_args"])
    args["pretrained"] = "none"  # the state dict carries the weights
    model = build_model(**args)
    model.load_state_dict(blob["model_state"])
    model.eval()
    meta = {k: v for k, v in blob.items() if k != "model_state"}
    return model, meta


__all__ = ["EpochRecord", "TrainOptions", "TrainOutcome", "Trainer", "load_checkpoint", "resolve_device"]
