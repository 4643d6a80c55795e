"""A training size the discriminator cannot take is a ConfigError naming the minimum (gan.train, gan.balance
with the cyclegan engine, ``augbench gan train --size``), not torch's "spatial element" ValueError mid-run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from augbench.cli import main
from augbench.core.errors import ConfigError
from augbench.core.jobs import load_job
from augbench.gan.balance import BalanceConfig
from augbench.gan.model import GanConfig, min_train_size
from augbench.gan.networks import PatchDiscriminator


@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
def test_the_minimum_is_what_the_discriminator_really_takes(n_layers: int) -> None:
    least = min_train_size(n_layers)
    d = PatchDiscriminator(1, 4, n_layers).train()
    assert d(torch.zeros(1, 1, least, least)).numel() >= 1
    with pytest.raises(ValueError, match="spatial element"):  # 4 px less: torch refuses at the first step
        d(torch.zeros(1, 1, least - 4, least - 4))


def test_the_default_discriminator_needs_24_px() -> None:
    assert min_train_size() == 24
    with pytest.raises(ConfigError) as exc:
        GanConfig(size=16)
    assert exc.value.field == "size" and "at least 24" in exc.value.message
    assert GanConfig(size=16, n_layers_d=1).size == 16  # a shallower discriminator takes it
    assert GanConfig(size=24).size == 24


def test_a_job_file_names_the_field(tmp_path: Path) -> None:
    job = tmp_path / "job.yaml"
    job.write_text("kind: gan.train\ndomain_a: a\ndomain_b: b\nout_dir: g\nmodel:\n  size: 16\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_job(job)
    assert exc.value.field == "model.size" and "at least 24" in exc.value.message


def test_balance_checks_the_size_only_for_the_cyclegan_engine() -> None:
    kw = dict(dataset="ds", out_dir="out", normal_class="normal", defect_classes=("crack",), size=16)
    with pytest.raises(ConfigError, match="at least 24"):
        BalanceConfig(engine="cyclegan", **kw)
    assert BalanceConfig(engine="transplant", **kw).size == 16  # transplant trains no discriminator


def test_gan_train_size_16_is_one_line_and_exit_2(tmp_path: Path, capfd) -> None:
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
    code = main(["gan", "train", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "g"), "--size", "16"])
    err = capfd.readouterr().err
    assert code == 2 and "Traceback" not in err and "unexpected" not in err
    assert err.strip().splitlines() == ["augbench: config error in size: 16 px is too small for the 3-layer "
                                        "discriminator (n_layers_d 3 halves the image 3 times); give at least 24"]
    assert not (tmp_path / "g").exists()
