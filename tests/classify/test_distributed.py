"""Data-parallel primitives: 2 CPU ranks with gloo match one process with the same global batch."""

from __future__ import annotations

import os

import pytest
import torch
import torch.multiprocessing as mp
from ports import free_port
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from augbench.classify import distributed as D
from augbench.core.errors import ConfigError

STEPS, GLOBAL_BATCH, N = 6, 8, 48


def _data() -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, 10, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return TensorDataset(x, y)


def _model() -> nn.Module:
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 2))


def _train(info: D.DistInfo) -> tuple[list[float], torch.Tensor]:
    ds = _data()
    model = D.wrap(_model(), info, torch.device("cpu"))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    batch = D.per_rank_batch(GLOBAL_BATCH, info)
    sampler = DistributedSampler(ds, info.world_size, info.rank, shuffle=False) if info.enabled else None
    loader = DataLoader(ds, batch_size=batch, sampler=sampler, shuffle=False)
    losses = []
    for step, (x, y) in enumerate(loader):
        if step == STEPS:
            break
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(D.all_mean(loss.item(), info))
    flat = torch.cat([p.detach().flatten() for p in D.unwrap(model).parameters()])
    return losses, flat


def _rank(rank: int, world: int, port: int, out_dir: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    with D.process_group(torch.device("cpu")) as info:
        assert info.backend == "gloo" and info.world_size == world
        losses, flat = _train(info)
    torch.save({"losses": losses, "params": flat}, os.path.join(out_dir, f"rank{rank}.pt"))


@pytest.mark.slow
def test_two_gloo_ranks_keep_identical_params_and_match_one_process(tmp_path):
    mp.spawn(_rank, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert torch.equal(r0["params"], r1["params"])  # DDP keeps the replicas bit-identical
    single_losses, single_params = _train(D.DistInfo())
    assert r0["losses"] == pytest.approx(single_losses, rel=1e-4, abs=1e-5)
    assert torch.allclose(r0["params"], single_params, atol=1e-5)
    assert single_losses[-1] < single_losses[0]  # it did learn something


def test_single_process_is_a_no_op(monkeypatch):
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    info = D.setup(torch.device("cpu"))
    assert not info.enabled and info.is_main
    m = nn.Linear(2, 2)
    assert D.wrap(m, info, torch.device("cpu")) is m
    assert D.all_mean(3.0, info) == 3.0 and D.broadcast_object({"a": 1}, info) == {"a": 1}


def test_global_batch_must_divide_over_ranks():
    assert D.per_rank_batch(8, D.DistInfo(0, 2)) == 4
    with pytest.raises(ConfigError, match="does not divide"):
        D.per_rank_batch(9, D.DistInfo(0, 2))


def test_relaunch_decision_and_command(monkeypatch):
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert D.should_relaunch("torchrun", 2) and not D.should_relaunch("torchrun", 1)
    assert not D.should_relaunch("none", 4)
    with pytest.raises(ConfigError, match="unknown launcher"):
        D.should_relaunch("slurm", 2)
    cmd = D.torchrun_command(["run", "job.yaml"], 2)
    assert "--nproc-per-node=2" in cmd and cmd[-3:] == ["augbench.cli", "run", "job.yaml"]
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert not D.should_relaunch("torchrun", 2)  # already a rank: never relaunch recursively


@pytest.mark.slow
def test_bench_train_job_runs_under_torchrun_from_its_job_file(tmp_path, tiny_data):
    """`launcher: torchrun, nproc: 2` re-executes `augbench run job.yaml` as 2 gloo ranks; rank 0 writes the files."""
    import json
    import subprocess
    import sys

    from augbench.classify.jobs import TrainConfig
    from augbench.core.jobs import save_job

    out = tmp_path / "run"
    job = save_job(TrainConfig(data=str(tiny_data), out_dir=str(out), epochs=2, batch_size=4, image_size=32,
                               channels=1, launcher="torchrun", nproc=2), tmp_path / "job.yaml")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        env.pop(k, None)
    proc = subprocess.run([sys.executable, "-m", "augbench.cli", "run", str(job), "-q"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "completed"
    assert result["metrics"]["world_size"] == 2 and result["metrics"]["global_batch"] == 4
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["history"]) == 2 and metrics["world_size"] == 2
    assert (out / "best.pt").is_file() and not list(out.glob(".augbench*.lock"))
