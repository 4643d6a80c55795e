"""Classifier trainer under DDP: a cancel on one rank stops every rank before the same step (2 gloo ranks),
only rank 0 writes checkpoints, and the weighted sampler gives every rank the same number of steps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from ports import free_port
from torch import nn
from torch.utils.data import TensorDataset

from augbench.classify.trainer import Trainer, TrainOptions
from augbench.core.distributed import DistInfo
from augbench.core.errors import Cancelled
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress

N_TRAIN, GLOBAL_BATCH = 16, 4  # 2 ranks x 2 images: 4 steps an epoch on every rank


class _Labelled(TensorDataset):
    """A TensorDataset with the ``labels`` list the trainer's class counts and weighted sampler read."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        super().__init__(x, y)
        self.labels = y.tolist()


def _data(n: int) -> _Labelled:
    g = torch.Generator().manual_seed(n)
    x = torch.randn(n, 6, generator=g)
    return _Labelled(x, (x[:, 0] > 0).long())


def _trainer(ckpt: Path | None, **opts: object) -> Trainer:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
    o = TrainOptions(**{"epochs": 3, "batch_size": GLOBAL_BATCH, "device": "cpu", **opts})  # type: ignore[arg-type]
    return Trainer(model, _data(N_TRAIN), _data(8), ["neg", "pos"], o, ckpt_dir=ckpt)  # type: ignore[arg-type]


def _counted_fit(t: Trainer, cancel: CancelToken, progress: ProgressFn = null_progress) -> tuple[int, bool]:
    """(training forward passes this rank ran, whether fit raised Cancelled)."""
    steps = [0]
    t.model.register_forward_hook(lambda m, i, o: steps.__setitem__(0, steps[0] + m.training))
    try:
        t.fit(progress, cancel)
    except Cancelled:
        return steps[0], True
    return steps[0], False


def _rank(rank: int, world: int, port: int, out_dir: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    import augbench.classify.trainer as T
    from augbench.core import distributed as D

    writes: list[str] = []
    write = T.atomic_write_bytes
    T.atomic_write_bytes = lambda path, data: (writes.append(Path(path).name), write(path, data))[1]
    ckpt = Path(out_dir) / "ckpt"
    ckpt.mkdir(exist_ok=True)
    cancel = CancelToken()

    def cancel_on_rank0_in_epoch_2(p: Progress) -> None:  # rank 1 gets no progress calls: only rank 0 cancels
        if p.stage == "train" and p.done == 5:  # the first step of the second epoch
            cancel.cancel()

    t = _trainer(ckpt)
    steps, raised = _counted_fit(t, cancel, cancel_on_rank0_in_epoch_2)
    # A token cancelled before fit on rank 0 only: both ranks stop before their first step.
    early = CancelToken()
    if rank == 0:
        early.cancel()
    steps0, raised0 = _counted_fit(_trainer(None), early)
    torch.save({"steps": steps, "raised": raised, "own_cancel": cancel.cancelled, "writes": writes,
                "steps_early": steps0, "raised_early": raised0}, Path(out_dir) / f"rank{rank}.pt")
    D.teardown(t.dist)


@pytest.mark.slow
def test_a_cancel_on_rank0_stops_both_ranks_at_the_same_step(tmp_path: Path) -> None:
    mp.spawn(_rank, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    # Rank 0 cancels during step 1 of epoch 2 (global step 5); the flag rides on that step's all-reduce, so
    # both ranks run step 6 and stop before step 7, rank 1 although its own token was never set.
    assert r0["own_cancel"] and not r1["own_cancel"]
    assert r0["raised"] and r1["raised"]
    assert r0["steps"] == r1["steps"] == 6
    # Epoch 1 ended before the cancel: rank 0 wrote best.pt and last.pt, rank 1 wrote nothing.
    assert r1["writes"] == [] and sorted(r0["writes"]) == ["best.pt", "last.pt"]
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["best.pt", "last.pt"]
    last = torch.load(tmp_path / "ckpt" / "last.pt", weights_only=True)
    assert last["epoch"] == 0 and len(last["history"]) == 1
    # A cancel set before fit on rank 0 alone: the ranks agree before the first step and neither trains.
    assert r0["raised_early"] and r1["raised_early"] and r0["steps_early"] == r1["steps_early"] == 0


def test_weighted_sampler_gives_every_rank_the_same_number_of_steps() -> None:
    """An odd training set over 2 ranks at 1 image a rank: without padding rank 0 would take one step more
    and wait forever in the step's all-reduce."""
    t = _trainer(None, sampler="weighted", batch_size=2)
    t.train_ds = _data(9)
    t.rank_batch = 1
    lengths = []
    for rank in range(2):
        t.dist = DistInfo(rank=rank, world_size=2)
        lengths.append(len(t._train_loader(0)))
    assert lengths == [5, 5]


def test_a_single_process_still_cancels_before_the_next_step() -> None:
    cancel = CancelToken()

    def cancel_after_first(p: Progress) -> None:
        if p.stage == "train" and p.done == 1:
            cancel.cancel()

    steps, raised = _counted_fit(_trainer(None), cancel, cancel_after_first)
    assert raised and steps == 1
