"""Closed-loop AdaIN: the output's re-encoded statistics land closer to the style's with a feedback round."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from augbench.core.errors import ConfigError
from augbench.style import functional as Fn
from augbench.style.engine import AdaINEngine
from augbench.style.functional import Stats


def test_feedback_adds_the_shortfall_and_limits_the_std_gain() -> None:
    goal = Stats(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 1.0, 1.0]))
    achieved = Stats(torch.tensor([0.5, 2.0, 4.0]), torch.tensor([0.5, 1.0, 10.0]))
    d = Fn.feedback_stats(goal, goal, achieved)
    assert torch.allclose(d.mean, torch.tensor([1.5, 2.0, 2.0]))
    assert torch.allclose(d.std, torch.tensor([2.0, 1.0, 0.5]))  # 1/0.5 = 2; 1/10 clamped to 1/2
    same = Fn.feedback_stats(goal, goal, goal)
    assert torch.equal(same.mean, goal.mean) and torch.equal(same.std, goal.std)


def _stats_error(eng: AdaINEngine, out: np.ndarray, style: np.ndarray) -> float:
    """Sum over the decoder's levels of MSE(mean) + MSE(std), output vs style (the benchmark's style loss)."""
    got = eng._run_levels(eng._to_tensor(out))
    want = eng._run_levels(eng._to_tensor(style))
    err = 0.0
    for g, w in zip(got, want):
        a, b = Fn.mean_std(g), Fn.mean_std(w)
        err += float(torch.mean((a.mean - b.mean) ** 2) + torch.mean((a.std - b.std) ** 2))
    return err


def test_a_feedback_round_brings_the_shipped_decoders_output_closer_to_the_style(mkphoto) -> None:
    rng = np.random.default_rng(3)
    style = (rng.random((24, 24, 3)) * 255).astype(np.uint8).repeat(4, 0).repeat(4, 1)  # coarse, loud noise
    content = mkphoto(96, 96, 8)
    errs = {}
    for rounds in (0, 1):
        eng = AdaINEngine(device="cpu", max_side=96, style_side=96, precision="fp32", color_match=False,
                          feedback=rounds)
        errs[rounds] = _stats_error(eng, eng.stylize(content, [style], alpha=1.0), style)
    assert errs[1] < 0.9 * errs[0], errs  # measured: 0.81


def test_feedback_rounds_are_checked() -> None:
    with pytest.raises(ConfigError, match="feedback"):
        AdaINEngine(device="cpu", feedback=7)
