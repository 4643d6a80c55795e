"""CycleGAN under DDP: 2 CPU ranks (gloo) stay identical, match one process with the same global batch,
resume from rank 0's checkpoint, and only rank 0 writes files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from ports import free_port

from augbench.core.errors import Cancelled
from augbench.core.progress import CancelToken, ListProgress, Progress
from augbench.gan.data import UnpairedData
from augbench.gan.trainer import GanConfig, Trainer, load_checkpoint

GLOBAL_BATCH = 4
# pool_size 50 never fills in these few steps (4 x 2 fakes a step at most), so the pools return their input
# on one process and on two: the only difference left between the runs is where the batch is split.
CFG = dict(channels=1, size=16, load_size=20, ngf=4, n_blocks=1, ndf=4, n_layers_d=1, pool_size=50,
           sample_every=0, precision="fp32", device="cpu", batch_size=GLOBAL_BATCH, epochs=2, steps_per_epoch=2,
           d_steps=2, flip=True, detect=False)


def _data() -> UnpairedData:
    r = np.random.default_rng(3)
    a = r.integers(0, 255, (8, 20, 20, 1), dtype=np.uint8)
    b = r.integers(0, 120, (6, 20, 20, 1), dtype=np.uint8)
    return UnpairedData(a, b, crop_size=16, seed=0)


def _flat(t: Trainer) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for net in t.model.nets.values() for p in net.parameters()])


def _step_losses(lp: ListProgress) -> list[float]:
    return [r.metrics["G"] for r in lp.reports if r.stage == "train"]


def _train(out: Path, epochs: int = 2) -> tuple[Trainer, list[float]]:
    lp = ListProgress()
    t = Trainer(GanConfig(**{**CFG, "epochs": epochs}), _data(), out)
    t.resume()
    t.fit(lp)
    return t, _step_losses(lp)


def _rank(rank: int, world: int, port: int, out_dir: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    import augbench.gan.trainer as T
    from augbench.core import distributed as D

    writes: list[str] = []
    save, write_json = T.save_checkpoint, T.atomic_write_json
    T.save_checkpoint = lambda path, payload: (writes.append(Path(path).name), save(path, payload))[1]
    T.atomic_write_json = lambda path, obj: (writes.append(Path(path).name), write_json(path, obj))[1]
    run = Path(out_dir) / "run"
    t, losses = _train(run)
    assert t.dist.world_size == world and t.rank_batch == GLOBAL_BATCH // world
    first = _flat(t)
    t2, more = _train(run, epochs=3)  # every rank resumes from rank 0's last.pt and trains one epoch more
    cancel = CancelToken()

    def cancel_on_rank0(p: Progress) -> None:  # rank 1 gets no progress calls: only rank 0's token is set
        if p.stage == "train" and p.done == 1:
            cancel.cancel()

    t3 = Trainer(GanConfig(**CFG), _data(), Path(out_dir) / "cancel")
    stopped_at = -1
    try:
        t3.fit(cancel_on_rank0, cancel)
    except Cancelled:
        stopped_at = t3.state.global_step
    torch.save({"losses": losses, "more": more, "params": first, "params3": _flat(t2), "writes": writes,
                "step": t2.state.global_step, "stopped_at": stopped_at, "own_cancel": cancel.cancelled},
               Path(out_dir) / f"rank{rank}.pt")
    D.teardown(t.dist)


@pytest.mark.slow
def test_two_gloo_ranks_stay_identical_match_one_process_and_resume(tmp_path: Path) -> None:
    mp.spawn(_rank, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert torch.equal(r0["params"], r1["params"]) and torch.equal(r0["params3"], r1["params3"])
    assert r0["step"] == r1["step"] == 6  # 2 epochs + 1 resumed epoch of 2 steps
    single, single_losses = _train(tmp_path / "single")
    assert r0["losses"] == pytest.approx(single_losses, rel=1e-3, abs=1e-4)  # rank-mean losses == global ones
    # Conv biases ahead of an instance norm have an exact gradient of 0; what autograd gives them is rounding
    # noise that depends on how the batch was split, and Adam turns any noise into a step of ~lr. Everything
    # else matches one process; those few move at most lr per step (2 steps at 3e-4, 2 at 1.5e-4), in opposite
    # directions at worst.
    diff = (r0["params"] - _flat(single)).abs()
    assert (diff <= 1e-4).float().mean() > 0.98 and diff.max() <= 2 * (2 * 3e-4 + 2 * 1.5e-4) + 1e-6
    assert len(r0["more"]) == 2  # the resumed run trained only the new epoch
    # Only rank 0 wrote: last.pt, best.pt and history.json, at every epoch; rank 1 wrote nothing.
    assert r1["writes"] == [] and {"last.pt", "best.pt", "history.json"} <= set(r0["writes"])
    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    assert ckpt["world_size"] == 2 and ckpt["global_batch"] == GLOBAL_BATCH and ckpt["per_rank_batch"] == 2
    pools = ckpt["pools_by_rank"]
    assert len(pools) == 2 and len(pools[0]["A"]["images"]) == len(pools[1]["A"]["images"]) > 0
    assert not torch.equal(pools[0]["A"]["images"][0], pools[1]["A"]["images"][0])  # each rank pools its own fakes
    # A cancel on rank 0 reaches rank 1 through the step's all-reduce: both stop after the same step (no rank
    # is left waiting in a collective) and last.pt holds that step.
    assert r0["own_cancel"] and not r1["own_cancel"] and r0["stopped_at"] == r1["stopped_at"] == 2
    assert load_checkpoint(tmp_path / "cancel" / "last.pt")["global_step"] == 2
    hist = json.loads((tmp_path / "run" / "history.json").read_text())
    assert hist["world_size"] == 2 and [h["epoch"] for h in hist["history"]] == [1, 2, 3]


@pytest.mark.slow
def test_gan_train_job_runs_under_torchrun_from_its_job_file(tmp_path: Path) -> None:
    """`launcher: torchrun, nproc: 2` re-executes `augbench run job.yaml` as 2 gloo ranks; rank 0 writes the files."""
    import subprocess
    import sys

    from gan_helpers import write_tiny_imagefolder

    from augbench.core.jobs import save_job
    from augbench.gan.jobs import TrainJob

    ds = write_tiny_imagefolder(tmp_path / "ds", {"normal": 6, "defect": 4})
    out = tmp_path / "run"
    model = GanConfig(**{**CFG, "batch_size": 2})
    job = save_job(TrainJob(domain_a=str(ds / "normal"), domain_b=str(ds / "defect"), out_dir=str(out), model=model,
                            n_holdout=0, launcher="torchrun", nproc=2), tmp_path / "job.yaml")
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    proc = subprocess.run([sys.executable, "-m", "augbench.cli", "run", str(job), "-q"],
                          env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "completed" and result["metrics"]["epochs"] == 2
    assert result["metrics"]["world_size"] == 2 and result["metrics"]["global_batch"] == 2
    assert result["metrics"]["per_rank_batch"] == 1
    assert sorted(p.name for p in out.iterdir()) == ["best.pt", "history.json", "job.yaml", "last.pt", "result.json"]
