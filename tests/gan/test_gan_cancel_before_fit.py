"""A cancel that is already set on rank 0 when ``fit`` starts stops every rank before the first step (the
ranks agree on it in one collective), instead of rank 0 leaving while rank 1 waits in the first all-reduce."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from ports import free_port

GLOBAL_BATCH = 2
CFG = dict(channels=1, size=16, load_size=20, ngf=4, n_blocks=1, ndf=4, n_layers_d=1, pool_size=4, sample_every=0,
           precision="fp32", device="cpu", batch_size=GLOBAL_BATCH, epochs=1, steps_per_epoch=2, detect=False)


def _rank(rank: int, port: int, out_dir: str) -> None:
    """One gloo rank: rank 0's token is cancelled before ``fit``; record how each rank's ``fit`` ended."""
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from augbench.core import distributed as D
    from augbench.core.errors import Cancelled
    from augbench.core.progress import CancelToken
    from augbench.gan.data import UnpairedData
    from augbench.gan.trainer import GanConfig, Trainer

    r = np.random.default_rng(3)
    data = UnpairedData(r.integers(0, 255, (4, 20, 20, 1), dtype=np.uint8),
                        r.integers(0, 120, (4, 20, 20, 1), dtype=np.uint8), crop_size=16, seed=0)
    t = Trainer(GanConfig(**CFG), data, Path(out_dir) / "run")
    cancel = CancelToken()
    if rank == 0:
        cancel.cancel()
    try:
        t.fit(cancel=cancel)
        ended = "finished"
    except Cancelled as exc:
        ended = str(exc)
    except Exception as exc:  # noqa: BLE001 - a peer that left mid-collective: record it for the assertion
        ended = f"error: {type(exc).__name__}"
    (Path(out_dir) / f"rank{rank}.txt").write_text(f"{ended}|{t.state.global_step}", encoding="utf-8")
    D.teardown(t.dist)


@pytest.mark.slow
def test_a_cancel_set_before_fit_on_rank_0_stops_both_ranks_before_any_step(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    port = free_port()
    procs = [ctx.Process(target=_rank, args=(rank, port, str(tmp_path))) for rank in (0, 1)]
    for p in procs:
        p.start()
    deadline = time.monotonic() + 60
    for p in procs:
        p.join(timeout=max(0.1, deadline - time.monotonic()))
    hung = [p for p in procs if p.is_alive()]
    for p in hung:  # a rank left waiting in a collective: end it, then fail
        p.kill()
        p.join()
    assert not hung, "a rank hung waiting for its peer"
    ends = [(tmp_path / f"rank{rank}.txt").read_text(encoding="utf-8") for rank in (0, 1)]
    assert ends == ["cancelled by the user|0", "cancelled on another rank|0"], ends
