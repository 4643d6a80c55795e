"""`classify.compare` under torchrun: every rank trains each run with DDP, rank 0 alone writes, and a run
finished earlier is skipped by all ranks alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from augbench.classify.experiment import CompareJob, run_experiment, run_path
from augbench.core.jobs import save_job


def _job(data: Path, out: Path, arms: list[str], **kw) -> CompareJob:
    return CompareJob(data=str(data), out_dir=str(out), models=["small_cnn"], arms=arms, seeds=[0], epochs=1,
                      batch_size=4, image_size=32, channels=1, width=4, device="cpu", **kw)


@pytest.mark.slow
def test_compare_job_runs_under_torchrun_and_skips_runs_done_earlier(tmp_path: Path, tiny_data: Path) -> None:
    out = tmp_path / "bench"
    run_experiment(_job(tiny_data, out, ["baseline"]))  # one process first: the baseline run is on disk
    baseline = run_path(out, "small_cnn", "baseline", 0)
    before = baseline.read_bytes()
    job = save_job(_job(tiny_data, out, ["baseline", "oversample"], launcher="torchrun", nproc=2),
                   tmp_path / "job.yaml")
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    proc = subprocess.run([sys.executable, "-m", "augbench.cli", "run", str(job), "-q"],
                          env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "completed"
    assert result["metrics"]["runs"] == 2 and result["metrics"]["new_runs"] == 1  # both ranks skipped the baseline
    assert baseline.read_bytes() == before
    rec = json.loads(run_path(out, "small_cnn", "oversample", 0).read_text())
    assert rec["world_size"] == 2 and rec["global_batch"] == 4 and len(rec["history"]) == 1
    assert (out / "report.md").is_file() and not list(out.glob(".augbench*.lock"))
    assert json.loads(baseline.read_text())["world_size"] == 1
