from __future__ import annotations

import pytest

from augbench.core.errors import ConfigError, DatasetError
from augbench.gan.planner import plan_balance, plan_table, target_count


def test_fill_to_n_and_percent_of_normal() -> None:
    plans = plan_balance({"ok": 200, "crack": 30, "spot": 120}, "ok", ["crack", "spot"], "fill_to", 100)
    assert [(p.name, p.current, p.target, p.to_generate) for p in plans] == [("crack", 30, 100, 70),
                                                                             ("spot", 120, 100, 0)]
    plans = plan_balance({"ok": 200, "crack": 30}, "ok", ["crack"], "percent_of_normal", 50)
    assert plans[0].target == 100 and plans[0].to_generate == 70
    assert target_count(3, "percent_of_normal", 50) == 2  # rounds up: never under-fills
    assert plan_balance({"ok": 7, "c": 2}, "ok", ["c"], "fill_to_normal")[0].to_generate == 5


def test_class_already_above_target_gets_nothing() -> None:
    (p,) = plan_balance({"ok": 50, "crack": 80}, "ok", ["crack"], "fill_to_normal")
    assert p.to_generate == 0 and not p.trainable and "already" in p.note


def test_empty_class_is_not_trained() -> None:
    (p,) = plan_balance({"ok": 50}, "ok", ["missing"], "fill_to", 40)
    assert (p.current, p.to_generate, p.trainable) == (0, 0, False)
    assert "no images" in p.note


def test_single_image_class_is_filled_with_a_warning() -> None:
    (p,) = plan_balance({"ok": 12, "rare": 1}, "ok", ["rare"], "fill_to_normal")
    assert p.to_generate == 11 and "repeat them" in p.note
    assert plan_table([p])[0]["after"] == 12


def test_cap_and_bad_input() -> None:
    (p,) = plan_balance({"ok": 1000, "c": 10}, "ok", ["c"], "fill_to_normal", max_generate=100)
    assert p.to_generate == 100 and "capped" in p.note
    with pytest.raises(DatasetError):
        plan_balance({"ok": 0, "c": 3}, "ok", ["c"])
    with pytest.raises(ConfigError):
        plan_balance({"ok": 5, "c": 3}, "ok", ["ok"])
