"""Deterministic shards and the merge of their manifest parts."""

from __future__ import annotations

import json

import pytest

from augbench.core.errors import ConfigError
from augbench.core.shard import Shard, manifest_parts, merge_manifests, parse_shard


def test_parse_shard_accepts_i_of_n_and_rejects_nonsense():
    assert parse_shard("") == Shard() and parse_shard(None).whole
    assert parse_shard(" 3 / 8 ") == Shard(3, 8)
    for bad in ("8/8", "1/0", "a/b", "-1/4", "2"):
        with pytest.raises(ConfigError):
            parse_shard(bad)


def test_shards_partition_the_work_exactly_and_stably():
    keys = [f"cls{i % 3}/img_{i:04d}.jpg" for i in range(500)]
    parts = [Shard(i, 4).select(keys, key=str) for i in range(4)]
    assert sorted(k for p in parts for k in p) == sorted(keys)  # every item once, none twice
    assert all(60 < len(p) < 190 for p in parts)  # roughly balanced
    assert Shard(2, 4).select(keys, key=str) == parts[2]  # same answer on every call / machine
    assert Shard(0, 1).select(keys, key=str) == keys


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"torn', encoding="utf-8")


def test_merge_folds_parts_once_and_is_idempotent(tmp_path):
    _write(tmp_path / "manifest.part-0000-of-0002.jsonl", [{"file": "a.jpg"}, {"file": "b.jpg"}])
    _write(tmp_path / "manifest.part-0001-of-0002.jsonl", [{"file": "c.jpg"}, {"file": "a.jpg"}])
    assert set(manifest_parts(tmp_path)) == {2}
    info = merge_manifests(tmp_path, expect=2)
    assert info["rows_added"] == 3 and info["rows_total"] == 3 and info["missing_shards"] == []
    rows = [json.loads(x) for x in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert [r["file"] for r in rows] == ["a.jpg", "b.jpg", "c.jpg"]
    assert not manifest_parts(tmp_path)  # parts removed after a successful merge
    _write(tmp_path / "manifest.part-0001-of-0002.jsonl", [{"file": "c.jpg"}])  # a resumed shard re-wrote its part
    assert merge_manifests(tmp_path)["rows_added"] == 0
    assert len((tmp_path / "manifest.jsonl").read_text().splitlines()) == 3


def test_merge_refuses_missing_shards_and_mixed_splits(tmp_path):
    _write(tmp_path / "manifest.part-0000-of-0003.jsonl", [{"file": "a.jpg"}])
    with pytest.raises(ConfigError, match=r"shards \[1, 2\] of 3"):
        merge_manifests(tmp_path, expect=3)
    _write(tmp_path / "manifest.part-0000-of-0002.jsonl", [{"file": "b.jpg"}])
    with pytest.raises(ConfigError, match="different shard counts"):
        merge_manifests(tmp_path)
    assert not (tmp_path / "manifest.jsonl").exists()  # nothing half-merged
