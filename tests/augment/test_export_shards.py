"""Sharded export: N shards into one folder give the files of one unsharded run, manifests merged once."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from augbench.augment.export import AugmentJob
from augbench.core.errors import ConfigError
from augbench.core.jobs import run_job
from augbench.core.runfolder import iter_manifest
from augbench.core.shard import manifest_parts
from augbench.testing.images import encode, make_photo

STEPS = [{"name": "HorizontalFlip", "p": 0.5}, {"name": "RandomBrightnessContrast", "p": 1.0}]


def _dataset(root: Path, n: int = 12) -> Path:
    for i in range(n):
        cls = root / ("cat" if i % 2 else "dog")
        cls.mkdir(parents=True, exist_ok=True)
        (cls / f"img_{i:02d}.png").write_bytes(encode(make_photo(48, 40, seed=i), "PNG"))
    return root


def _images(out: Path) -> dict[str, str]:
    """Relative path -> sha256 of every image under ``out``."""
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*.png"))}


def _job(src: Path, out: Path, shard: str = "") -> AugmentJob:
    return AugmentJob(input_dir=str(src), output_dir=str(out), steps=STEPS, copies=2, workers=1, seed=7, shard=shard)


def test_three_shards_equal_one_run_file_for_file(tmp_path):
    src = _dataset(tmp_path / "in")
    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    run_job(_job(src, whole))
    counts = []
    for i in range(3):
        res = run_job(_job(src, sharded, f"{i}/3"))
        assert res.status == "completed"
        counts.append(res.metrics["images"])
        if i < 2:
            assert manifest_parts(sharded)  # not merged before the last shard finishes
    assert sum(counts) == 12 and all(c < 12 for c in counts)  # every image done once, by one shard
    assert _images(sharded) == _images(whole)  # same names, same bytes
    assert not manifest_parts(sharded)  # merged automatically at the end
    rows = list(iter_manifest(sharded / "manifest.jsonl"))
    assert len(rows) == 24 == len({(r["source"], r["copy"]) for r in rows})
    result = json.loads((sharded / "result.json").read_text())
    assert result["metrics"]["shards"] == 3 and result["n_outputs"] == sum(
        json.loads((sharded / f"result.part-{i:04d}-of-0003.json").read_text())["n_outputs"] for i in range(3))
    job = (sharded / "job.yaml").read_text()
    assert "shard: ''" in job or 'shard: ""' in job  # job.yaml describes the whole job, not one shard


def test_rerunning_a_finished_shard_resumes_from_the_merged_manifest(tmp_path):
    src = _dataset(tmp_path / "in", 6)
    out = tmp_path / "out"
    for i in range(2):
        run_job(_job(src, out, f"{i}/2"))
    again = run_job(_job(src, out, "0/2"))
    assert again.outputs == [] and again.metrics["resumed_outputs"] == again.metrics["images"] * 2
    assert len(list(iter_manifest(out / "manifest.jsonl"))) == 12


def test_bad_shard_spec_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="shard"):
        _job(tmp_path, tmp_path / "o", "3/3")


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_files(tmp_path):
    pytest.importorskip("dask.distributed")
    from augbench.core.cluster import run_on_dask

    src = _dataset(tmp_path / "in", 8)
    whole, dask_out = tmp_path / "whole", tmp_path / "dask"
    run_job(_job(src, whole))
    summary = run_on_dask(_job(src, dask_out), 2, local_workers=2)
    assert summary["status"] == "completed" and summary["shards"] == 2
    assert _images(dask_out) == _images(whole)
    assert len(list(iter_manifest(dask_out / "manifest.jsonl"))) == 16
    assert np.all([not p.name.startswith("manifest.part") for p in dask_out.iterdir()])
