from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from gan_helpers import TINY

from augbench.core.errors import Cancelled, ConfigError, WeightsError
from augbench.core.progress import CancelToken, ListProgress
from augbench.gan.data import UnpairedData
from augbench.gan.trainer import (
    PAPER_LR,
    GanConfig,
    Trainer,
    load_checkpoint,
    load_model,
    lr_factor,
    resolve_device,
)


def _data(seed: int = 0) -> UnpairedData:
    r = np.random.default_rng(seed)
    a = r.integers(0, 255, (6, 36, 36, 1), dtype=np.uint8)
    b = r.integers(0, 120, (3, 36, 36, 1), dtype=np.uint8)
    return UnpairedData(a, b, crop_size=32, seed=seed)


def _cfg(**kw) -> GanConfig:
    return GanConfig(**{**TINY, "epochs": 2, "steps_per_epoch": 3, **kw})


def _weights(t: Trainer) -> dict[str, torch.Tensor]:
    return {f"{n}.{k}": v.clone() for n, net in t.model.nets.items() for k, v in net.state_dict().items()}


def test_defaults_follow_paper_and_reference() -> None:
    cfg = GanConfig()
    assert cfg.lr == PAPER_LR == 3e-4
    assert (cfg.beta1, cfg.beta2, cfg.lambda_cycle, cfg.lambda_identity, cfg.pool_size) == (0.5, 0.999, 10, 0.5, 50)
    assert cfg.d_steps == 2 and cfg.effective_load_size == 72
    assert resolve_device("auto").type in ("cpu", "cuda")
    assert [round(lr_factor(e, 4, 0.5), 3) for e in range(4)] == [1.0, 1.0, 0.667, 0.333]
    with pytest.raises(ConfigError):
        GanConfig(size=64, load_size=32)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_few_steps_give_finite_losses_and_checkpoints(tmp_path: Path, precision: str) -> None:
    lp = ListProgress()
    t = Trainer(_cfg(precision=precision, diffaugment="color,translation" if precision == "bf16" else ""), _data(),
                tmp_path)
    state = t.fit(lp)
    assert state.epoch == 2 and state.global_step == 6
    losses = [r.metrics for r in lp.reports if r.stage == "train"]
    assert len(losses) == 6
    assert all(math.isfinite(v) for m in losses for k, v in m.items() if k != "sec_per_step")
    assert {"G_AB", "G_BA", "cycle", "identity", "D_A", "D_B"} <= set(losses[0])
    assert t.last_path.exists() and t.best_path.exists()
    assert [h["epoch"] for h in state.history] == [1, 2]


def test_checkpoint_is_self_describing_round_trip(tmp_path: Path) -> None:
    t = Trainer(_cfg(epochs=1), _data(), tmp_path)
    t.fit()
    ckpt = load_checkpoint(t.last_path)
    assert ckpt["config"]["ngf"] == 8 and ckpt["epoch"] == 1 and ckpt["global_step"] == 3
    assert set(ckpt["optim"]) == {"G", "D"} and ckpt["optim"]["G"]["state"]  # Adam moments are saved
    model, _ = load_model(t.last_path, "cpu")  # rebuilt from the file alone
    for name, net in t.model.nets.items():
        for (k, v), v2 in zip(net.state_dict().items(), model.nets[name].state_dict().values()):
            assert torch.equal(v, v2), k
    x = torch.rand(1, 1, 32, 32) * 2 - 1
    assert torch.equal(t.model.translate(x), model.translate(x))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError):
        load_checkpoint(tmp_path / "junk.pt")


def test_resume_equals_uninterrupted_run(tmp_path: Path) -> None:
    cfg = _cfg(epochs=2, steps_per_epoch=3, d_steps=2, pool_size=2, diffaugment="translation,cutout")
    full = Trainer(cfg, _data(), tmp_path / "full")
    full.fit()

    cancel = CancelToken()

    def stop_after_four(p) -> None:
        if p.stage == "train" and p.done == 4:
            cancel.cancel()

    part = Trainer(cfg, _data(), tmp_path / "part")
    with pytest.raises(Cancelled):
        part.fit(stop_after_four, cancel)
    assert load_checkpoint(part.last_path)["global_step"] == 4  # saved at the step boundary

    resumed = Trainer(cfg, _data(), tmp_path / "part")
    assert resumed.resume()
    assert (resumed.state.epoch, resumed.state.step) == (1, 1)
    resumed.fit()
    a, b = _weights(full), _weights(resumed)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [h["G"] for h in full.state.history][0] == resumed.state.history[0]["G"]


def test_cancel_keeps_last_good_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    t = Trainer(_cfg(epochs=3), _data(), tmp_path)
    cancel = CancelToken()

    def crash_in_epoch_two(p) -> None:
        if p.stage == "epoch" and p.done == 3:
            # the next save (on cancel) dies half-way: the previous file must survive
            def broken_save(obj, f, *a, **k):
                Path(f).write_bytes(b"half")
                raise OSError("disk full")

            monkeypatch.setattr(torch, "save", broken_save)
            cancel.cancel()

    with pytest.raises(OSError):
        t.fit(crash_in_epoch_two, cancel)
    monkeypatch.undo()
    ckpt = load_checkpoint(t.last_path)
    assert ckpt["epoch"] == 1 and ckpt["global_step"] == 3
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]  # no temp files left behind


def test_resume_refuses_other_architecture(tmp_path: Path) -> None:
    Trainer(_cfg(epochs=1), _data(), tmp_path).fit()
    with pytest.raises(ConfigError):
        Trainer(_cfg(epochs=1, ngf=16), _data(), tmp_path).resume()


def test_time_budget_replans_epochs(tmp_path: Path) -> None:
    t = Trainer(_cfg(epochs=50, time_budget_s=1e-6), _data(), tmp_path)
    state = t.fit()
    assert state.epoch == 1 and state.planned_epochs == 1  # the budget was spent after the first epoch


def test_seeded_runs_are_reproducible(tmp_path: Path) -> None:
    a = Trainer(_cfg(epochs=1), _data(), tmp_path / "a")
    b = Trainer(_cfg(epochs=1), _data(), tmp_path / "b")
    a.fit()
    b.fit()
    wa, wb = _weights(a), _weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    c = Trainer(_cfg(epochs=1, seed=1), _data(), tmp_path / "c")
    c.fit()
    assert not torch.equal(_weights(c)["G_AB.model.1.weight"], wa["G_AB.model.1.weight"])


def test_batched_passes_compute_the_same_step(tmp_path: Path) -> None:
    """Instance norm is per sample, so batching the generator/discriminator calls changes no maths."""
    from augbench.gan.trainer import CycleGAN

    batch = [(torch.rand(1, 1, 32, 32) * 2 - 1, torch.rand(1, 1, 32, 32) * 2 - 1)]
    plain, batched = CycleGAN(_cfg()), CycleGAN(_cfg(batch_passes=True))
    la, lb = plain.train_step(batch, 1), batched.train_step(batch, 1)
    for k in ("G", "cycle", "identity", "D_A", "D_B"):
        assert la[k] == pytest.approx(lb[k], rel=1e-4, abs=1e-6), k
    # Adam's first step is ~lr * sign(grad), so compare the gradients themselves (first moments = 0.5 * grad)
    for opt_a, opt_b in ((plain.opt_G, batched.opt_G), (plain.opt_D, batched.opt_D)):
        for pa, pb in zip(opt_a.param_groups[0]["params"], opt_b.param_groups[0]["params"]):
            if pa.ndim == 1:  # biases before instance norm: true gradient 0, only rounding noise (~1e-7)
                continue
            ga, gb = opt_a.state[pa]["exp_avg"].flatten(), opt_b.state[pb]["exp_avg"].flatten()
            # direction of the whole gradient: elementwise/relative checks trip on 2-thread summation-order noise
            # in near-zero gradients; a real mismatch (wrong pairing, a norm shared across samples) is far off
            cos = float(ga @ gb / (ga.norm() * gb.norm() + 1e-20))
            assert cos > 0.995, cos
