"""Splits, the imbalance maker, synthetic manifests and augmentation pipelines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from augbench.classify.data import (
    ImageDataset,
    Sample,
    classic_pipeline,
    load_pipeline_file,
    make_split,
    read_synthetic_manifest,
)
from augbench.classify.imbalance import make_imbalanced
from augbench.core.errors import ConfigError, DatasetError
from augbench.core.imageio import write_image


def test_split_is_stratified_seeded_and_disjoint(tiny_data: Path) -> None:
    a = make_split(tiny_data, 0.25, 0.25, seed=3)
    b = make_split(tiny_data, 0.25, 0.25, seed=3)
    c = make_split(tiny_data, 0.25, 0.25, seed=4)
    assert a.to_dict() == b.to_dict()
    assert a.to_dict() != c.to_dict()
    parts = [{s.path for s in getattr(a, p)} for p in ("train", "val", "test")]
    assert sum(map(len, parts)) == 36 and len(set.union(*parts)) == 36
    assert a.counts("test") == {"defect": 3, "normal": 6}  # 25 % of each class
    assert a.classes == ["defect", "normal"]


def test_eval_exclude_keeps_files_in_training(tiny_data: Path) -> None:
    locked = {f"normal_{i:03d}" for i in range(12)} | {"defect_000"}
    s = make_split(tiny_data, 0.25, 0.25, seed=0, eval_exclude=locked)
    held = {Path(x.path).stem for x in s.val + s.test}
    assert not held & locked
    assert locked <= {Path(x.path).stem for x in s.train}


def test_split_folders_are_kept(tmp_path: Path, tiny_data: Path) -> None:
    out = tmp_path / "imb"
    summary = make_imbalanced(tiny_data, out, majority="normal", n_majority=10, m_minority=3, k_test=4, k_val=2,
                              seed=1, train_only={"defect_000", "defect_001"})
    assert summary["counts"]["train"] == {"defect": 3, "normal": 10}
    assert summary["counts"]["test"] == {"defect": 4, "normal": 4}
    assert not {"defect_000.png", "defect_001.png"} & set(summary["files"]["test"]["defect"] + summary["files"]["val"]["defect"])
    s = make_split(out)
    assert s.counts("train") == {"defect": 3, "normal": 10}
    assert s.counts("val") == {"defect": 2, "normal": 2}
    assert json.loads((out / "imbalance.json").read_text())["seed"] == 1
    with pytest.raises(DatasetError, match="needs"):
        make_imbalanced(tiny_data, tmp_path / "x", majority="normal", n_majority=10, m_minority=30, k_test=4)
    with pytest.raises(ConfigError):
        make_imbalanced(tiny_data, tmp_path / "x", majority="cat", n_majority=1, m_minority=1, k_test=1)


def test_flat_folder_is_refused(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(DatasetError, match="class folders"):
        make_split(tmp_path)


def test_dataset_handles_grey_rgb_and_bad_files(tmp_path: Path) -> None:
    write_image(tmp_path / "g.png", np.full((20, 30), 100, np.uint8))
    write_image(tmp_path / "c.png", np.full((40, 40, 3), (255, 0, 0), np.uint8))
    (tmp_path / "bad.png").write_bytes(b"not an image")
    samples = [Sample(str(tmp_path / n), 0) for n in ("g.png", "c.png", "bad.png")]
    rgb = ImageDataset(samples, 16, channels=3)
    grey = ImageDataset(samples, 16, channels=1)
    assert len(rgb) == 2 and rgb.skipped[0][0].endswith("bad.png")
    x, y = rgb[0]
    assert x.shape == (3, 16, 16) and y == 0 and float(x.max()) <= 1.0
    assert torch_allclose_channels(x)
    xg, _ = grey[1]
    assert xg.shape == (1, 16, 16)
    aug = ImageDataset(samples[:2], 16, channels=1, transform=classic_pipeline(16))
    assert aug[0][0].shape == (1, 16, 16)


def torch_allclose_channels(x) -> bool:
    return bool((x[0] == x[1]).all() and (x[1] == x[2]).all())


def test_pipeline_file_from_the_augment_tab(tmp_path: Path) -> None:
    from augbench.augment.alb import A

    pipe = A.Compose([A.HorizontalFlip(p=1.0)], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]))
    A.save(pipe, str(tmp_path / "p.json"), data_format="json")
    loaded = load_pipeline_file(tmp_path / "p.json")
    img = np.arange(16, dtype=np.uint8).reshape(4, 4, 1)
    assert np.array_equal(loaded(image=img)["image"], img[:, ::-1])
    with pytest.raises(ConfigError):
        load_pipeline_file(tmp_path / "missing.json")


def test_synthetic_manifest_rows(tmp_path: Path) -> None:
    gen = tmp_path / "balanced"
    write_image(gen / "defect" / "gen_0.png", np.zeros((8, 8), np.uint8))
    write_image(gen / "defect" / "gen_1.png", np.zeros((8, 8), np.uint8))
    rows = [{"file": "defect/gen_0.png", "class": "defect", "origin": "cyclegan", "source": "/x/normal_001.png"},
            {"file": "defect/gen_1.png", "origin": "cyclegan"},
            {"file": "normal/orig.png", "class": "normal", "origin": "original"},
            {"file": "defect/missing.png", "class": "defect", "origin": "cyclegan"}]
    (gen / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{torn")
    got = read_synthetic_manifest(gen / "manifest.jsonl", "cyclegan", {"defect": 0, "normal": 1})
    assert [Path(s.path).name for s in got] == ["gen_0.png", "gen_1.png"]
    assert all(s.label == 0 and s.origin == "cyclegan" for s in got)
    assert got[0].source == "/x/normal_001.png"
