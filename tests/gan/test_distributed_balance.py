"""`gan.balance` under torchrun: both ranks train every class's translator, then rank 0 alone generates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gan_helpers import write_tiny_imagefolder

from augbench.core.jobs import save_job
from augbench.core.runfolder import iter_manifest
from augbench.gan.balance import BalanceJob
from augbench.gan.trainer import load_checkpoint


@pytest.mark.slow
def test_balance_job_trains_on_two_ranks_and_rank0_writes_the_data_set(tmp_path: Path) -> None:
    root = write_tiny_imagefolder(tmp_path / "ds", {"normal": 8, "crack": 3, "finger": 2})
    out = tmp_path / "out"
    cfg = BalanceJob(dataset=str(root), out_dir=str(out), normal_class="normal", defect_classes=("crack", "finger"),
                     engine="cyclegan", size=32, ngf=4, n_blocks=1, epochs=1, steps_per_epoch=2, d_steps=1,
                     kid_features="pixels", n_holdout=2, sample_every=0, precision="fp32", device="cpu",
                     quality_gate=False, launcher="torchrun", nproc=2)
    job = save_job(cfg, tmp_path / "job.yaml")
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    proc = subprocess.run([sys.executable, "-m", "augbench.cli", "run", str(job), "-q"],
                          env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[:3000]
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "completed" and result["metrics"]["world_size"] == 2
    assert result["metrics"]["counts_after"] == {"crack": 8, "finger": 8, "normal": 8}
    rows = list(iter_manifest(out / "manifest.jsonl"))
    files = [r["file"] for r in rows]
    assert len(files) == len(set(files)) == 8 + 8 + 8  # one writer: no row twice (originals + 5 + 6 generated)
    assert all((out / f).is_file() for f in files)
    for cls in ("crack", "finger"):
        ckpt = load_checkpoint(tmp_path / "out_gan" / cls / "last.pt")
        assert ckpt["world_size"] == 2 and ckpt["global_batch"] == 2 and len(ckpt["pools_by_rank"]) == 2
        assert ckpt["history"][0]["kid"] is not None  # rank 0 evaluated on the held-out normals
    report = json.loads((tmp_path / "out_report" / "report.json").read_text())
    assert [t["world_size"] for t in report["translators"]] == [2, 2]
