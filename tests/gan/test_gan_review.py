"""Issue 15 review bugs and the native-resolution / attention CycleGAN (each test fails on the old code)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from gan_helpers import TINY

from augbench.core.errors import ConfigError
from augbench.gan import detectors
from augbench.gan.data import UnpairedData
from augbench.gan.networks import AttentionResnetGenerator, ResnetGenerator
from augbench.gan.trainer import CycleGAN, GanConfig, Trainer, json_safe


def _data(full: int = 36, crop: int = 32) -> UnpairedData:
    r = np.random.default_rng(0)
    a = r.integers(0, 255, (6, full, full, 1), dtype=np.uint8)
    b = r.integers(0, 120, (3, full, full, 1), dtype=np.uint8)
    return UnpairedData(a, b, crop_size=crop, seed=0)


def _strict_json(path: Path) -> dict:
    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_nan_kid_at_epoch_one_is_replaced_by_a_finite_one_and_history_is_json(tmp_path: Path) -> None:
    kids = iter([math.nan, 0.5, 0.7])
    t = Trainer(GanConfig(**{**TINY, "epochs": 3, "steps_per_epoch": 1}), _data(), tmp_path,
                evaluate=lambda model, epoch: {"kid": next(kids)})
    state = t.fit()
    assert state.best["epoch"] == 2 and state.best["kid"] == 0.5
    ckpt = torch.load(t.best_path, weights_only=True)
    assert ckpt["epoch"] == 2
    hist = _strict_json(tmp_path / "history.json")
    assert hist["history"][0]["kid"] is None


def test_without_any_finite_kid_the_latest_epoch_is_best(tmp_path: Path) -> None:
    t = Trainer(GanConfig(**{**TINY, "epochs": 2, "steps_per_epoch": 1}), _data(), tmp_path,
                evaluate=lambda model, epoch: {"kid": math.nan})
    assert t.fit().best["epoch"] == 2


def test_json_safe_replaces_non_finite_floats() -> None:
    assert json_safe({"a": [1.0, math.nan, {"b": math.inf}], "c": "x"}) == {"a": [1.0, None, {"b": None}], "c": "x"}


def test_zero_epochs_and_bad_sizes_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="epochs"):
        GanConfig(epochs=0)
    for size in (0, 3, 30):
        with pytest.raises(ConfigError, match="size"):
            GanConfig(size=size)
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        cv2.imwrite(str(d / "x.png"), np.full((40, 40), 100, np.uint8))
    out = subprocess.run([sys.executable, "-m", "augbench.cli", "gan", "train", str(a), str(b), "-o",
                          str(tmp_path / "o"), "--epochs", "0"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "epochs" in out.stderr
    assert not (tmp_path / "o" / "result.json").exists()


def test_d_loss_log_weights_every_d_step_equally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = CycleGAN(GanConfig(**{**TINY, "d_steps": 3}))
    values = iter([1.0, 2.0, 3.0])

    def fake_backward_d(*_args, **_kw) -> dict[str, float]:
        v = next(values)
        return {"D_A": v, "D_B": 10 * v}

    monkeypatch.setattr(model, "backward_D", fake_backward_d)
    data = _data()
    losses = model.train_step([data.batch(0, 0, 1, stream=k) for k in range(3)], 1)
    assert losses["D_A"] == pytest.approx(2.0) and losses["D_B"] == pytest.approx(20.0)


def test_attention_generator_keeps_input_where_mask_is_zero() -> None:
    g = AttentionResnetGenerator(1, 1, ngf=8, n_blocks=1)
    last = g.trunk.model[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias[:] = torch.tensor([0.3, -30.0])  # content 0.3, mask sigmoid(-30) ~ 0
    x = torch.rand(2, 1, 20, 20) * 2 - 1
    with torch.no_grad():
        out, m = g.forward_with_mask(x)
    assert out.shape == x.shape and float(m.max()) < 1e-9
    assert torch.allclose(out, x, atol=1e-6)
    with torch.no_grad():
        last.bias[1] = 30.0  # mask ~ 1: the content everywhere
        out, _ = g.forward_with_mask(x)
    assert torch.allclose(out, torch.full_like(x, math.tanh(0.3)), atol=1e-5)


def test_attention_training_logs_the_mask_penalty_and_translates_whole_images(tmp_path: Path) -> None:
    cfg = GanConfig(**{**TINY, "epochs": 1, "steps_per_epoch": 2, "generator": "attention", "full_size": 44,
                       "size": 32})
    seen = []
    t = Trainer(cfg, _data(full=44, crop=32), tmp_path, evaluate=lambda m, e: seen.append(e) or {"kid": 0.1})
    t.fit()
    assert "mask" in t.state.history[0] and t.state.history[0]["mask"] > 0
    x = torch.rand(3, 1, 46, 50) * 2 - 1  # not a multiple of 4: padded and cropped back
    y, m = t.model.translate_with_mask(x)
    assert y.shape == x.shape and m is not None and m.shape == (3, 1, 46, 50)
    assert float(m.min()) >= 0 and float(m.max()) <= 1
    assert ResnetGenerator(1, 1, 8, 1)(torch.zeros(1, 1, 44, 44)).shape[-1] == 44


def test_copy_detector_is_a_fraction_of_changed_pixels() -> None:
    x = torch.zeros(4, 1, 100, 100)
    crack = x.clone()
    crack[:, :, 50, 10:90] = -1.0  # a dark line: 0.8 % of the pixels changed by half the range
    faint = x + 0.04  # every pixel changed by 2 %: a mean says "changed", but nothing visible happened
    assert detectors.copy_score(x, crack) == pytest.approx(0.008)
    assert detectors.copy_score(x, faint) == 0.0
    assert detectors.mean_change(x, faint) > detectors.mean_change(x, crack)
    rep = detectors.DetectorReport(detectors.copy_score(x, faint), 1.0, 0.0, "pixels")
    assert rep.copies_input
    assert not detectors.DetectorReport(detectors.copy_score(x, crack), 1.0, 0.0, "pixels").copies_input


def test_n_holdout_zero_holds_nothing_out_and_the_last_epoch_is_best(tmp_path: Path) -> None:
    from gan_helpers import write_tiny_imagefolder

    from augbench.gan.balance import BalanceConfig, run_balance
    from augbench.gan.cyclegan_engine import split_holdout

    paths = [Path(f"n{i}.png") for i in range(10)]
    train, hold = split_holdout(paths, 0, 0)
    assert hold == [] and train == paths  # the old code returned paths[:1]: a training image posing as held-out
    train, hold = split_holdout(paths, 2, 0)
    assert len(hold) == 2 and not set(hold) & set(train)
    root = write_tiny_imagefolder(tmp_path / "ds", {"normal": 6, "defect": 2})
    res = run_balance(BalanceConfig(dataset=str(root), out_dir=str(tmp_path / "o"), normal_class="normal",
                                    defect_classes=("defect",), engine="cyclegan", size=32, ngf=8, n_blocks=1,
                                    epochs=2, steps_per_epoch=1, n_holdout=0, sample_every=0, device="cpu",
                                    quality_gate=False))
    assert res.status == "completed" and res.metrics["best_epoch_defect"] == 2
    _strict_json(tmp_path / "o" / "result.json")


def test_an_epoch_that_copies_its_input_is_never_chosen_over_one_that_does_not(tmp_path: Path) -> None:
    rows = iter([{"kid": 0.5, "copies_input": False}, {"kid": 0.01, "copies_input": True},
                 {"kid": 0.4, "copies_input": False}])
    t = Trainer(GanConfig(**{**TINY, "epochs": 3, "steps_per_epoch": 1}), _data(), tmp_path,
                evaluate=lambda model, epoch: next(rows))
    assert t.fit().best["epoch"] == 3  # epoch 2 has the lowest KID but is an identity map


def test_attention_mask_penalty_is_a_hinge_above_the_target_area() -> None:
    model = CycleGAN(GanConfig(**{**TINY, "generator": "attention", "mask_target": 0.5, "lambda_mask": 100.0}))
    g = model.G_AB.trunk.model[-1]
    with torch.no_grad():
        g.weight.zero_()
        g.bias[1] = 0.0  # mask 0.5 everywhere: exactly at the target, so the penalty is 0
    data = _data()
    losses = model.train_step([data.batch(0, 0, 1, stream=k) for k in range(2)], 1)
    assert 0.0 < losses["mask"] < 1.0 and losses["G"] < 100  # a plain L1 (x100) would add ~25 to G


def test_defect_aware_crops_are_centred_on_the_defect() -> None:
    from augbench.gan.data import focus_indices

    r = np.random.default_rng(0)
    a = r.integers(0, 255, (4, 64, 64, 1), dtype=np.uint8)
    b = np.full((3, 64, 64, 1), 200, np.uint8)
    mask = np.zeros((64, 64), bool)
    mask[50, 10] = True  # one defect pixel near a corner
    b[:, 50, 10] = 0
    assert [len(f) for f in focus_indices([mask, None], 64)] == [1, 0]
    focus = focus_indices([mask, mask, mask], 64)
    data = UnpairedData(a, b, crop_size=16, seed=0, b_focus=focus, focus_p=1.0, flip=False)
    hits = [float(data.batch(0, s, 1)[1].min()) == -1.0 for s in range(40)]
    assert all(hits)  # every crop holds the defect ...
    plain = UnpairedData(a, b, crop_size=16, seed=0, flip=False)
    assert sum(float(plain.batch(0, s, 1)[1].min()) == -1.0 for s in range(40)) < 15  # ... uniform crops rarely
    again = UnpairedData(a, b, crop_size=16, seed=0, b_focus=focus, focus_p=1.0, flip=False)
    assert torch.equal(again.batch(3, 7, 1)[1], data.batch(3, 7, 1)[1])  # still a pure function of the step
