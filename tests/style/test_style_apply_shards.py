"""style.apply in shards: the same files as one run, because each image's draws depend on its path only."""

from __future__ import annotations

import hashlib
from pathlib import Path

from augbench.core.imageio import write_image
from augbench.core.progress import CancelToken
from augbench.core.runfolder import iter_manifest
from augbench.core.shard import manifest_parts
from augbench.style.apply import StyleApplyConfig, run_style_apply


def _files(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*_style*"))}


def test_two_shards_write_the_files_of_one_run(tmp_path, mkphoto, tiny_engine):
    data, styles = tmp_path / "data", tmp_path / "styles"
    for i in range(6):
        write_image(data / ("a" if i % 2 else "b") / f"img{i}.png", mkphoto(48, 40, i))
    write_image(styles / "s1.png", mkphoto(40, 40, 20))
    write_image(styles / "s2.png", mkphoto(40, 40, 21))

    def cfg(out: Path, shard: str = "") -> StyleApplyConfig:
        return StyleApplyConfig(input_dir=str(data), out_dir=str(out), styles=[str(styles)], copies=2,
                                alpha_min=0.3, alpha_max=1.0, seed=3, shard=shard)

    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    run_style_apply(cfg(whole), progress=lambda p: None, cancel=CancelToken(), engine=tiny_engine)
    sizes = []
    for i in range(2):
        res = run_style_apply(cfg(sharded, f"{i}/2"), progress=lambda p: None, cancel=CancelToken(), engine=tiny_engine)
        sizes.append(len(res.outputs))
    assert 0 not in sizes and sum(sizes) == 12  # both shards did part of the work, no image twice
    assert _files(sharded) == _files(whole) and len(_files(whole)) == 12
    assert not manifest_parts(sharded)
    rows = list(iter_manifest(sharded / "manifest.jsonl"))
    assert {r["output"] for r in rows} == {r["output"] for r in iter_manifest(whole / "manifest.jsonl")}
