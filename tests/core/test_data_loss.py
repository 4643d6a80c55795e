"""The data-loss cases of issue 10, each through the real job kind: refused before a byte is written.

Each of these destroyed or corrupted user data before core/guard.py existed (the old code wrote
into the input folder), so each test fails on that code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from augbench.core.errors import ConfigError
from augbench.core.imageio import write_image
from augbench.core.jobs import run_job


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def imagefolder(tmp_path: Path) -> Path:
    root = tmp_path / "set"
    for cls in ("normal", "crack"):
        for i in range(3):
            write_image(root / cls / f"{cls}{i}.png", np.full((24, 24), 40 * i + 10, np.uint8))
    return root


def test_gan_translate_into_its_own_input_folder_is_refused(tmp_path: Path, imagefolder: Path) -> None:
    from augbench.gan.jobs import GanTranslateJob

    ckpt = tmp_path / "g.pt"
    ckpt.write_bytes(b"a checkpoint would be here")
    before = _snapshot(imagefolder)
    folder = imagefolder / "normal"
    with pytest.raises(ConfigError) as exc:
        run_job(GanTranslateJob(checkpoint=str(ckpt), input_dir=str(folder), out_dir=str(folder)))
    assert exc.value.field == "out_dir" and "input folder" in exc.value.message
    assert _snapshot(imagefolder) == before


def test_balance_into_the_data_set_is_refused(imagefolder: Path) -> None:
    from augbench.gan.balance import BalanceConfig

    before = _snapshot(imagefolder)
    for out in (imagefolder, imagefolder / "crack", imagefolder / "balanced"):
        with pytest.raises(ConfigError) as exc:
            run_job(BalanceConfig(dataset=str(imagefolder), out_dir=str(out), normal_class="normal",
                                  defect_classes=("crack",), epochs=1))
        assert exc.value.field == "out_dir"
    assert _snapshot(imagefolder) == before  # no gen_* image became "original" data


def test_balance_generated_copy_inside_the_data_set_is_refused(tmp_path: Path, imagefolder: Path) -> None:
    from augbench.gan.balance import BalanceConfig

    with pytest.raises(ConfigError) as exc:
        run_job(BalanceConfig(dataset=str(imagefolder), out_dir=str(tmp_path / "bal"), normal_class="normal",
                              defect_classes=("crack",), generated_copy=str(imagefolder / "crack"), epochs=1))
    assert exc.value.field == "generated_copy"


def test_bench_and_style_outputs_inside_their_data_are_refused(tmp_path: Path, imagefolder: Path) -> None:
    from augbench.classify.jobs import TrainConfig
    from augbench.style.apply import StyleApplyConfig

    with pytest.raises(ConfigError, match="inside the input folder"):
        run_job(TrainConfig(data=str(imagefolder), out_dir=str(imagefolder / "runs")))
    with pytest.raises(ConfigError, match="input folder"):
        run_job(StyleApplyConfig(input_dir=str(imagefolder / "normal"), out_dir=str(imagefolder),
                                 styles=[str(imagefolder / "crack" / "crack0.png")]))


def test_style_config_uses_the_shared_nesting_rule_at_construction(tmp_path: Path, imagefolder: Path) -> None:
    """One rule (core/guard.check_nesting), raised as soon as the form builds the config, in both directions."""
    from augbench.style.apply import StyleApplyConfig

    style = str(imagefolder / "crack" / "crack0.png")
    with pytest.raises(ConfigError, match="inside the input folder"):
        StyleApplyConfig(input_dir=str(imagefolder), out_dir=str(imagefolder / "normal" / "out"), styles=[style])
    with pytest.raises(ConfigError, match="contains the input folder"):
        StyleApplyConfig(input_dir=str(imagefolder / "normal"), out_dir=str(imagefolder), styles=[style])
    ok = StyleApplyConfig(input_dir=str(imagefolder), out_dir=str(tmp_path / "styled"), styles=[style])
    assert ok.out_dir.endswith("styled")
