"""The trainer on a tiny data set: learns, selects the best epoch, checkpoints describe themselves, resume, cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from augbench.classify.data import ImageDataset, make_split
from augbench.classify.models import build_model
from augbench.classify.trainer import Trainer, TrainOptions, load_checkpoint, resolve_device
from augbench.core.errors import Cancelled, WeightsError
from augbench.core.progress import CancelToken, ListProgress


def _setup(tiny_data: Path, **opts) -> tuple[Trainer, ImageDataset]:
    split = make_split(tiny_data, 0.25, 0.25, seed=0)
    cache: dict = {}
    tr = ImageDataset(split.train, 32, 1, None, cache)
    va = ImageDataset(split.val, 32, 1, None, cache)
    te = ImageDataset(split.test, 32, 1, None, cache)
    torch.manual_seed(0)
    args = {"name": "small_cnn", "num_classes": 2, "in_channels": 1, "width": 8}
    model = build_model(**args)
    o = TrainOptions(**{"epochs": 3, "batch_size": 4, "device": "cpu", **{k: v for k, v in opts.items() if k != "ckpt"}})
    return Trainer(model, tr, va, split.classes, o, ckpt_dir=opts.get("ckpt"), model_args=args,
                   extra_meta={"image_size": 32, "channels": 1}), te


def test_trainer_learns_and_checkpoint_rebuilds_the_model(tiny_data: Path, tmp_path: Path) -> None:
    trainer, test = _setup(tiny_data, ckpt=tmp_path / "ck", select_metric="macro_f1")
    prog = ListProgress()
    out = trainer.fit(prog)
    assert len(out.history) == 3
    assert out.best_metric == max(r.val_macro_f1 for r in out.history)
    assert out.best_epoch == [r.val_macro_f1 for r in out.history].index(out.best_metric)
    assert out.images_per_s > 0 and 0 <= out.data_wait_s < out.train_s
    assert any(p.stage == "epoch" for p in prog.reports) and prog.last.done == prog.last.total
    m = trainer.evaluate(test)
    assert m["accuracy"] > 0.66  # the bright square is easy: better than the majority class
    model, meta = load_checkpoint(tmp_path / "ck" / "best.pt")
    assert meta["classes"] == ["defect", "normal"] and meta["image_size"] == 32
    assert meta["train_options"]["select_metric"] == "macro_f1"
    y, p, probs = trainer.predict(test)
    _, p2, _ = trainer.predict(test, model)
    assert np.array_equal(p, p2)
    assert np.allclose(probs.sum(1), 1, atol=1e-5)


def test_resume_continues_after_the_last_epoch(tiny_data: Path, tmp_path: Path) -> None:
    t1, _ = _setup(tiny_data, ckpt=tmp_path / "ck", epochs=1)
    t1.fit()
    t2, _ = _setup(tiny_data, ckpt=tmp_path / "ck", epochs=2)
    out = t2.fit()
    assert out.resumed_from == 1
    assert [r.epoch for r in out.history] == [0, 1]


def test_cancel_stops_at_a_step(tiny_data: Path) -> None:
    trainer, _ = _setup(tiny_data)
    token = CancelToken()
    seen = []

    def prog(p):
        seen.append(p)
        token.cancel()

    with pytest.raises(Cancelled):
        trainer.fit(prog, token)
    assert len(seen) == 1


@pytest.mark.parametrize("opts", [{"loss": "focal", "sampler": "weighted"}, {"amp": "bf16", "channels_last": True},
                                  {"loss": "weighted_ce", "patience": 1, "epochs": 4}])
def test_options_train(tiny_data: Path, opts: dict) -> None:
    trainer, test = _setup(tiny_data, **opts)
    out = trainer.fit()
    assert out.best_epoch >= 0
    assert 0.0 <= trainer.evaluate(test)["accuracy"] <= 1.0


def test_weighted_sampler_balances_batches(tiny_data: Path) -> None:
    trainer, _ = _setup(tiny_data, sampler="weighted")
    labels = [int(y) for e in range(10) for _, ys in trainer._train_loader(e) for y in ys]
    shuffled, _ = _setup(tiny_data)
    plain = [int(y) for e in range(10) for _, ys in shuffled._train_loader(e) for y in ys]
    # Train set is 1:2; over 10 epochs the sampler draws the minority (0) ~90 times, shuffling ~60.
    assert labels.count(0) > plain.count(0)


def test_device_auto_and_bad_checkpoint(tmp_path: Path) -> None:
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    (tmp_path / "x.pt").write_bytes(b"junk")
    with pytest.raises(WeightsError):
        load_checkpoint(tmp_path / "x.pt")
    with pytest.raises(WeightsError):
        load_checkpoint(tmp_path / "none.pt")
