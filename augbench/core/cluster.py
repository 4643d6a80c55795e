"""Run one big batch job as shards on a Dask cluster (``dask.distributed``).

augbench brings no scheduler of its own: a job whose config has a ``shard``
field (augment, style apply, crawl) is cut into ``N`` shards (see
:mod:`augbench.core.shard`), each shard is submitted to a
``dask.distributed`` cluster as one task that runs the ordinary job runner,
and when every shard has finished the manifest parts are merged. The cluster
is either a scheduler address (``tcp://host:8786``: real use, workers on other
machines that see the same output folder) or a ``LocalCluster`` started for
the run (tests, one big machine). Outputs are file-for-file those of a local
run with the same seed, because the split and the per-output seeds depend on
the work items' keys only.

Job configs cross the wire as their YAML text (the same text ``augbench run``
reads), so workers rebuild them with the normal validation.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from augbench.core.errors import AugbenchError, ConfigError
from augbench.core.jobs import dump_job, job_from_dict, run_job
from augbench.core.progress import Progress, ProgressFn, null_progress
from augbench.core.shard import merge_manifests, parse_shard


def shard_configs(cfg: Any, shards: int) -> list[Any]:
    """``shards`` copies of ``cfg``, shard ``i/shards`` each; the config must have a ``shard`` field."""
    names = {f.name for f in dataclasses.fields(cfg)}
    if "shard" not in names:
        raise ConfigError("shard", f"job kind {type(cfg).kind!r} cannot be sharded (no shard field)")
    if shards < 1:
        raise ConfigError("shards", "must be at least 1")
    if parse_shard(getattr(cfg, "shard", "")).count != 1:
        raise ConfigError("shard", "give the whole job (shard empty); the executor does the split")
    return [dataclasses.replace(cfg, shard=f"{i}/{shards}") for i in range(shards)]


def _run_shard(job_yaml: str, threads: int) -> dict[str, Any]:
    """Worker side: rebuild the config from its YAML and run it (one shard)."""
    import yaml

    if threads:
        try:
            import torch

            torch.set_num_threads(threads)
        except ImportError:  # a worker without torch still runs non-torch jobs
            pass
    cfg = job_from_dict(yaml.safe_load(job_yaml))
    return run_job(cfg).to_dict()


def run_on_dask(cfg: Any, shards: int, *, scheduler: str = "", local_workers: int = 2, threads_per_worker: int = 1,
                progress: ProgressFn = null_progress) -> dict[str, Any]:
    """Run ``cfg`` as ``shards`` shards on a Dask cluster; merge the manifests; return a summary.

    ``scheduler`` empty starts a ``LocalCluster`` of ``local_workers``
    processes (one thread each) for the duration of the run.
    """
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a declared dependency
        raise AugbenchError("the cluster executor needs dask.distributed (pip install 'dask[distributed]')") from exc
    parts = shard_configs(cfg, shards)
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    results: list[dict[str, Any]] = []
    try:
        futures = [client.submit(_run_shard, dump_job(p), threads_per_worker, pure=False, key=f"augbench-shard-{i}")
                   for i, p in enumerate(parts)]
        progress(Progress(0, shards, f"{shards} shards submitted", stage="cluster"))
        for n, fut in enumerate(as_completed(futures), 1):
            results.append(fut.result())
            progress(Progress(n, shards, f"shard {n}/{shards} finished", stage="cluster"))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    out_dir = str(getattr(cfg, "out_dir", "") or "")
    merged = merge_manifests(out_dir, expect=shards) if out_dir and Path(out_dir).is_dir() else {}
    status = "completed" if all(r.get("status") == "completed" for r in results) else "errored"
    return {"status": status, "shards": shards, "outputs": sum(r.get("n_outputs", 0) for r in results),
            "skipped": sum(len(r.get("skipped", [])) for r in results), "merge": merged,
            "scheduler": scheduler or f"LocalCluster({local_workers} processes)"}
