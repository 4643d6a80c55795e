"""Data-parallel training with PyTorch's own tools (torchrun + DistributedDataParallel).

augbench does not run a cluster of its own: a classifier or GAN job started
under ``torchrun --nproc-per-node N`` (or with ``launcher: torchrun`` /
``nproc: N`` in its job file, which re-executes the command under torchrun)
finds the usual ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` variables, joins the
process group (gloo on CPU, NCCL on CUDA), wraps its networks in
:class:`~torch.nn.parallel.DistributedDataParallel` and gives every rank its
own slice of each global batch. Rank 0 alone writes checkpoints, manifests and
plots; every rank resumes from the same file.

The helpers are generic (nothing here knows a classifier from a GAN), so they
live in ``core`` where both trainers reach them; torch is imported only by the
training packages that import this module, never by ``augbench.cli``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import torch
import torch.distributed as dist
from torch import nn

from augbench.core.errors import ConfigError


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands in a (possibly one-process) data-parallel run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def as_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "world_size": self.world_size, "local_rank": self.local_rank,
                "backend": self.backend}


def env_world() -> DistInfo:
    """Read torchrun's environment without touching the process group."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    return DistInfo(rank=int(os.environ.get("RANK", "0") or 0), world_size=world,
                    local_rank=int(os.environ.get("LOCAL_RANK", "0") or 0))


def setup(device: torch.device) -> DistInfo:
    """Join the process group when started under torchrun (idempotent); a single process gets a no-op DistInfo.

    gloo serves CPU ranks, NCCL CUDA ranks; each CUDA rank binds the GPU of its
    ``LOCAL_RANK`` before the group starts, as NCCL requires.
    """
    info = env_world()
    if not info.enabled:
        return info
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(info.local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistInfo(info.rank, info.world_size, info.local_rank, dist.get_backend())


def rank_device(device: torch.device, info: DistInfo) -> torch.device:
    """The device of this rank: ``cuda:<local_rank>`` on multi-GPU runs, else ``device`` unchanged."""
    if device.type == "cuda" and info.enabled:
        return torch.device("cuda", info.local_rank)
    return device


def wrap(model: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """DistributedDataParallel around ``model`` when running data-parallel; the model itself otherwise."""
    if not info.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    if device.type == "cuda":
        return DDP(model, device_ids=[device.index])
    return DDP(model)


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside a DDP wrapper (what checkpoints store)."""
    return model.module if hasattr(model, "module") and isinstance(model, nn.parallel.DistributedDataParallel) else model


def barrier(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.barrier()


def _reduce_device(info: DistInfo) -> torch.device:
    """NCCL reduces CUDA tensors only; gloo takes CPU ones."""
    return torch.device("cuda", torch.cuda.current_device()) if info.backend == "nccl" else torch.device("cpu")


def all_mean(value: float, info: DistInfo) -> float:
    """The mean of a scalar over ranks (for logged losses); the value itself on one process."""
    if not info.enabled:
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64, device=_reduce_device(info))
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return float(t.item()) / info.world_size


def all_mean_dict(values: dict[str, float], info: DistInfo, *, flag: bool = False) -> tuple[dict[str, float], bool]:
    """(each value averaged over ranks, ``flag`` raised on ANY rank) in one collective per step.

    The flag carries "cancel": a rank that stops alone would leave the others waiting in the next
    gradient all-reduce forever, so every rank learns of a cancel at the same step. Every rank must
    pass the same keys (they run the same code).
    """
    if not info.enabled:
        return dict(values), flag
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys] + [1.0 if flag else 0.0], dtype=torch.float64,
                     device=_reduce_device(info))
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    out = t.cpu().tolist()
    return {k: out[i] / info.world_size for i, k in enumerate(keys)}, out[-1] > 0


def all_gather_object(obj: Any, info: DistInfo) -> list[Any]:
    """Every rank's ``obj``, in rank order, on every rank (``[obj]`` on one process)."""
    if not info.enabled:
        return [obj]
    box: list[Any] = [None] * info.world_size
    dist.all_gather_object(box, obj)
    return box


def broadcast_object(obj: Any, info: DistInfo) -> Any:
    """Rank 0's ``obj`` on every rank (e.g. "stop now" from early stopping decided on rank 0)."""
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def teardown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def process_group(device: torch.device) -> Iterator[DistInfo]:
    """``with process_group(dev) as info:`` joins (when under torchrun) and always leaves the group."""
    info = setup(device)
    try:
        yield info
    finally:
        teardown(info)


def per_rank_batch(global_batch: int, info: DistInfo) -> int:
    """Split a global batch over ranks; the global batch must divide evenly so runs stay comparable."""
    if global_batch % info.world_size:
        raise ConfigError("batch_size", f"the global batch {global_batch} does not divide over "
                                        f"{info.world_size} processes")
    return global_batch // info.world_size


__all__ = ["DistInfo", "all_gather_object", "all_mean", "all_mean_dict", "barrier", "broadcast_object", "env_world",
           "per_rank_batch", "process_group", "rank_device", "setup", "teardown", "unwrap", "wrap"]
