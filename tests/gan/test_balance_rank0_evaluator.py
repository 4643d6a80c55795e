"""gan.balance under torchrun: only rank 0 builds the KID evaluator (it loads a feature network); the other
ranks train without one, since the trainer evaluates on rank 0 alone."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gan_helpers import write_tiny_imagefolder

import augbench.gan.cyclegan_engine as E
from augbench.core.progress import CancelToken
from augbench.gan.balance import BalanceJob


class _FakeTrainer:
    """Stands in for the CycleGAN trainer (whose constructor would join a process group): records its hooks."""

    made: list[dict[str, Any]] = []

    def __init__(self, cfg: Any, data: Any, out: Path, evaluate: Any = None, preview: Any = None,
                 extra: Any = None) -> None:
        self.best_path = Path(out) / "best.pt"
        _FakeTrainer.made.append({"evaluate": evaluate, "preview": preview})

    def resume(self) -> bool:
        return False

    def fit(self, progress: Any, cancel: Any) -> SimpleNamespace:
        return SimpleNamespace(epoch=1, best={}, history=[])


@pytest.mark.parametrize("rank, builds", [("0", True), ("1", False)])
def test_only_rank0_builds_the_kid_evaluator(tmp_path: Path, monkeypatch, rank: str, builds: bool) -> None:
    root = write_tiny_imagefolder(tmp_path / "ds", {"normal": 8, "crack": 3}, size=32)
    cfg = BalanceJob(dataset=str(root), out_dir=str(tmp_path / "out"), normal_class="normal",
                     defect_classes=("crack",), engine="cyclegan", size=32, n_holdout=2, kid_features="pixels",
                     device="cpu")
    built: list[str] = []
    monkeypatch.setattr(E, "make_evaluator", lambda *a, **k: built.append("kid") or (lambda m, e: {}))
    monkeypatch.setattr(E, "Trainer", _FakeTrainer)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", rank)
    monkeypatch.setenv("LOCAL_RANK", rank)
    _FakeTrainer.made = []
    normals = sorted((root / "normal").glob("*.png"))
    summary = E.train_translator(cfg, "crack", normals, sorted((root / "crack").glob("*.png")), 1, 0,
                                 lambda p: None, CancelToken())
    assert summary["n_holdout"] == 2 and summary["n_train_normals"] == 6  # every rank trains on the same split
    assert (built == ["kid"]) is builds
    assert (_FakeTrainer.made[0]["evaluate"] is not None) is builds
    assert (_FakeTrainer.made[0]["preview"] is not None) is builds
