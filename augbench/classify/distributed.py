"""The classifier trainer's data-parallel helpers: re-exported from :mod:`augbench.core.distributed`.

The helpers are generic (the GAN trainer uses the same ones), so they live in
``core``; this module keeps the names classify code and tests already import.
"""

from __future__ import annotations

from augbench.core.distributed import (
    DistInfo,
    all_gather_object,
    all_mean,
    all_mean_dict,
    barrier,
    broadcast_object,
    env_world,
    per_rank_batch,
    process_group,
    rank_device,
    setup,
    teardown,
    unwrap,
    wrap,
)

# Launch decisions are made by the CLI before torch is imported (core.launch imports no torch).
from augbench.core.launch import LAUNCHERS, should_relaunch, torchrun_command

__all__ = ["LAUNCHERS", "DistInfo", "all_gather_object", "all_mean", "all_mean_dict", "barrier", "broadcast_object",
           "env_world", "per_rank_batch", "process_group", "rank_device", "setup", "teardown", "torchrun_command",
           "should_relaunch", "unwrap", "wrap"]
