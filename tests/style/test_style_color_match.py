"""The image-level end of the transfer: the output's colours are matched to the style's, weighted by alpha."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from augbench.style import functional as Fn


def _stats(img: np.ndarray, region: np.ndarray | None = None) -> Fn.ColorStats:
    t = torch.from_numpy(img.astype(np.float32) / 255.0).permute(2, 0, 1)
    return Fn.color_stats(t, None if region is None else torch.from_numpy(region))


def test_coral_to_matches_the_target_inside_the_region_only_statistics() -> None:
    g = torch.Generator().manual_seed(0)
    src = torch.rand(3, 40, 40, generator=g) * 0.5
    src[:, :, 20:] += 0.4  # the right half is brighter: whole-image and region statistics differ
    target = Fn.color_stats(0.35 + 0.3 * torch.rand(3, 30, 30, generator=g))  # no clipping at 0 or 1
    region = torch.zeros(40, 40, dtype=torch.bool)
    region[:, :20] = True
    out = Fn.coral_to(src, target, region)
    got = Fn.color_stats(out, region)
    assert torch.allclose(got.mean, target.mean, atol=2e-3)
    assert torch.allclose(got.std, target.std, atol=2e-3)
    assert torch.allclose(got.corr, target.corr, atol=5e-3)
    whole = Fn.color_stats(Fn.coral_to(src, target))  # without the region the whole image is matched
    assert torch.allclose(whole.mean, target.mean, atol=2e-3)
    assert not torch.allclose(Fn.color_stats(out).mean, target.mean, atol=2e-2)


def test_mixed_colour_statistics_follow_the_weights() -> None:
    a = Fn.color_stats(torch.full((3, 8, 8), 0.2) + torch.rand(3, 8, 8) * 0.1)
    b = Fn.color_stats(torch.full((3, 8, 8), 0.8) + torch.rand(3, 8, 8) * 0.1)
    m = Fn.mix_color_stats([a, b], [3, 1])
    assert torch.allclose(m.mean, 0.75 * a.mean + 0.25 * b.mean)
    assert torch.allclose(m.corr, 0.75 * a.corr + 0.25 * b.corr)
    with pytest.raises(ValueError):
        Fn.mix_color_stats([a, b], [0, 0])


def test_alpha_one_gives_the_styles_colours_and_alpha_zero_is_untouched(tiny_engine, mkphoto) -> None:
    content = mkphoto(96, 96, 40)
    style = np.zeros((64, 64, 3), np.uint8)
    style[..., 0] = 40 + (np.arange(64)[None, :] * 2)  # a dark, red-ramped style, far from the content
    style[..., 1] = 30
    style[..., 2] = 90
    out = tiny_engine.stylize(content, [style], alpha=1.0)
    got, want = _stats(out), _stats(style)
    assert torch.allclose(got.mean, want.mean, atol=3 / 255)
    assert torch.allclose(got.std, want.std, atol=3 / 255)
    tiny_engine.color_match = False
    plain = tiny_engine.stylize(content, [style], alpha=1.0)
    assert np.abs(plain.astype(float).mean((0, 1)) - style.mean((0, 1))).max() > 10  # the decoder alone misses
    plain0 = tiny_engine.stylize(content, [style], alpha=0.0)
    tiny_engine.color_match = True
    assert np.array_equal(tiny_engine.stylize(content, [style], alpha=0.0), plain0)


def test_keep_colours_targets_the_contents_colours(tiny_engine, mkphoto) -> None:
    content, style = mkphoto(96, 96, 41), mkphoto(64, 64, 42)[..., ::-1].copy()
    out = tiny_engine.stylize(content, [style], alpha=1.0, preserve_color=True)
    assert np.abs(out.astype(float).mean((0, 1)) - content.astype(float).mean((0, 1))).max() < 6


def test_the_colour_match_uses_the_styled_region(tiny_engine, mkphoto) -> None:
    content = mkphoto(96, 96, 43)
    style = np.full((64, 64, 3), (200, 60, 20), np.uint8)
    style[::2] = (180, 70, 30)
    mask = np.zeros((96, 96), np.uint8)
    mask[:, :48] = 255
    out = tiny_engine.stylize(content, [style], alpha=1.0, mask=mask, mask_mode="foreground")
    inside = out[:, :44].reshape(-1, 3).astype(float).mean(0)  # clear of the feathered seam
    assert np.abs(inside - style.reshape(-1, 3).mean(0)).max() < 6
    assert np.array_equal(out[:, 49:], content[:, 49:])


def test_the_preview_gives_the_same_pixels_as_a_full_transfer(tiny_engine, mkphoto) -> None:
    from augbench.style.engine import PreviewSession

    content, style = mkphoto(96, 96, 44), mkphoto(64, 64, 45)
    session = PreviewSession(tiny_engine)
    session.render(content, [style], alpha=0.2)
    fast = session.render(content, [style], alpha=0.6)
    assert session.last_stages == ["decode"]
    assert np.array_equal(fast, tiny_engine.stylize(content, [style], alpha=0.6))
