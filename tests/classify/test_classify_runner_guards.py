"""Runner guards: new arm names, unreadable images dropped before splitting, seeded augmentation, early stopping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from augbench.classify.experiment import ExperimentConfig, parse_arm, run_path
from augbench.core.errors import ConfigError
from augbench.core.jobs import run_job


def test_new_arm_components_parse() -> None:
    a = parse_arm("class_weights+aug_oversample@300")
    assert (a.loss, a.aug_minority, a.oracle, a.augment) == ("weighted_ce", 300, 0, False)
    assert parse_arm("oracle@150").oracle == 150
    assert parse_arm("transplant@150").synthetic == (("transplant", 150.0),)
    for bad in ("oracle", "aug_oversample@0", "oracle@1.5"):
        with pytest.raises(ConfigError):
            parse_arm(bad)


def test_config_requires_what_the_new_arms_need(tiny_data: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="protocol_split"):
        ExperimentConfig(data=str(tiny_data), out_dir=str(tmp_path), arms=["oracle@5"])
    with pytest.raises(ConfigError, match="transplant_manifest"):
        ExperimentConfig(data=str(tiny_data), out_dir=str(tmp_path), arms=["transplant@5"])
    with pytest.raises(ConfigError, match="linear_probe"):
        ExperimentConfig(data=str(tiny_data), out_dir=str(tmp_path), head="linear_probe")


def test_unreadable_images_are_dropped_before_splitting(tiny_data: Path, tmp_path: Path) -> None:
    """Issue 10: a corrupt file used to enter split.json (val could lose its defects) and result.skipped was empty."""
    (tiny_data / "defect" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (tiny_data / "normal" / "empty.png").write_bytes(b"")
    out = tmp_path / "e"
    cfg = ExperimentConfig(data=str(tiny_data), out_dir=str(out), arms=["baseline"], seeds=[0], epochs=1,
                           batch_size=8, image_size=32, width=8, channels=1)
    res = run_job(cfg)
    reasons = {Path(s.path).name: s.reason for s in res.skipped}
    assert {"broken.png", "empty.png"} <= set(reasons) and "before splitting" in reasons["broken.png"]
    split = json.loads((out / "split.json").read_text())
    listed = [r[0] for part in ("train", "val", "test") for r in split[part]]
    assert not any("broken" in p or "empty" in p for p in listed)
    assert len(listed) == 36  # every readable image placed
    assert "broken.png" in (out / "report.md").read_text()
    rec = json.loads(run_path(out, "small_cnn", "baseline", 0).read_text())
    assert rec["skipped"] == []  # nothing left to drop after the split


def test_classic_aug_runs_with_one_seed_repeat_exactly(tiny_data: Path, tmp_path: Path) -> None:
    """Issue 10: the augmentation is seeded, so the same seed gives the same losses."""
    losses = []
    for k in range(2):
        cfg = ExperimentConfig(data=str(tiny_data), out_dir=str(tmp_path / f"e{k}"),
                               arms=["classic_aug", "aug_oversample@8"], seeds=[3], epochs=2, batch_size=8,
                               image_size=32, width=8, channels=1)
        run_job(cfg)
        losses.append([[h["train_loss"] for h in json.loads(run_path(cfg.out_dir, "small_cnn", a, 3).read_text())
                        ["history"]] for a in cfg.arms])
    assert losses[0] == losses[1]
    other = ExperimentConfig(data=str(tiny_data), out_dir=str(tmp_path / "e9"), arms=["classic_aug"], seeds=[4],
                             epochs=2, batch_size=8, image_size=32, width=8, channels=1)
    run_job(other)
    assert [h["train_loss"] for h in json.loads(run_path(other.out_dir, "small_cnn", "classic_aug", 4)
                                                .read_text())["history"]] != losses[0][0]


def test_early_stopping_stops_after_patience_epochs_without_gain(tiny_data: Path) -> None:
    from augbench.classify.data import ImageDataset, make_split
    from augbench.classify.models import build_model
    from augbench.classify.trainer import Trainer, TrainOptions

    split = make_split(tiny_data, 0.25, 0.25, seed=0)
    cache: dict = {}
    tr, va = ImageDataset(split.train, 32, 1, None, cache), ImageDataset(split.val, 32, 1, None, cache)

    def fit(patience: int, lr: float):
        torch.manual_seed(0)
        model = build_model("small_cnn", 2, in_channels=1, width=8)
        opts = TrainOptions(epochs=12, batch_size=8, lr=lr, device="cpu", patience=patience)
        return Trainer(model, tr, va, split.classes, opts).fit()

    frozen = fit(3, 1e-7)  # the val metric cannot improve after epoch 0
    assert frozen.best_epoch == 0 and len(frozen.history) == 4  # epochs 0..3, then stop
    assert len(fit(0, 1e-7).history) == 12  # patience 0 = run every epoch
    learning = fit(3, 1e-3)
    assert len(learning.history) - 1 - learning.best_epoch <= 3  # never more than patience past the best


def test_finetune_head_trains_each_seed_on_its_protocol_subset(tmp_path: Path) -> None:
    from protocol_data import build_protocol_data

    build_protocol_data(tmp_path, 30, 24, seeds=[0, 1], n_test=5, n_val=4, n_oracle=6, n_major=16, n_minor=6)
    cfg = ExperimentConfig(data=str(tmp_path / "data"), out_dir=str(tmp_path / "e"),
                           arms=["baseline", "oracle@4", "aug_oversample@5"], seeds=[0, 1], epochs=1, batch_size=8,
                           image_size=32, width=8, channels=1, protocol_split=str(tmp_path / "split.json"),
                           synthetic_class="defect")
    assert run_job(cfg).status == "completed"
    for seed in (0, 1):
        rec = json.loads(run_path(cfg.out_dir, "small_cnn", "baseline", seed).read_text())
        assert rec["train_counts"] == {"normal": {"real": 16}, "defect": {"real": 6}} and rec["n_test"] == 10
    oracle = json.loads(run_path(cfg.out_dir, "small_cnn", "oracle@4", 1).read_text())
    assert oracle["train_counts"]["defect"] == {"real": 6, "oracle": 4}
    aug = json.loads(run_path(cfg.out_dir, "small_cnn", "aug_oversample@5", 0).read_text())
    assert aug["train_counts"]["defect"] == {"real": 6, "augcopy": 5}
    assert not (Path(cfg.out_dir) / "split.json").exists()  # the protocol file is the split; nothing is re-drawn
