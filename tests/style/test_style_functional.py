"""The AdaIN maths, tested by property."""

from __future__ import annotations

import pytest
import torch

from augbench.style import functional as Fn


def _feat(seed: int, shape=(2, 8, 12, 10)) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g) * (seed + 1) + seed


def test_adain_output_has_style_mean_and_std() -> None:
    content, style = _feat(0), _feat(3, (2, 8, 7, 9))
    out = Fn.adain(content, Fn.mean_std(style))
    got, want = Fn.mean_std(out), Fn.mean_std(style)
    assert torch.allclose(got.mean, want.mean, atol=1e-4)
    assert torch.allclose(got.std, want.std, atol=1e-3)


def test_adain_keeps_the_content_structure() -> None:
    content = _feat(1)
    out = Fn.adain(content, Fn.mean_std(_feat(5)))
    # per channel the map is an increasing affine function of the content
    corr = torch.corrcoef(torch.stack([content[0, 0].flatten(), out[0, 0].flatten()]))[0, 1]
    assert corr > 0.999


def test_mix_endpoints() -> None:
    c, s = _feat(0), _feat(1)
    assert torch.equal(Fn.mix(c, s, 0.0), c)
    assert torch.equal(Fn.mix(c, s, 1.0), s)
    assert torch.allclose(Fn.mix(c, s, 0.25), 0.75 * c + 0.25 * s)


def test_interpolate_stats_weights_are_normalised() -> None:
    a, b = Fn.mean_std(_feat(0)), Fn.mean_std(_feat(4))
    mid = Fn.interpolate_stats([a, b], [2, 2])
    assert torch.allclose(mid.mean, (a.mean + b.mean) / 2)
    only_b = Fn.interpolate_stats([a, b], [0, 3])
    assert torch.allclose(only_b.std, b.std)
    with pytest.raises(ValueError):
        Fn.interpolate_stats([a, b], [1])
    with pytest.raises(ValueError):
        Fn.interpolate_stats([a, b], [0, 0])


def test_masked_adain_styles_only_the_chosen_region() -> None:
    content, style = _feat(0, (1, 4, 16, 16)), _feat(6, (1, 4, 8, 8))
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., :, :8] = 1  # left half is foreground
    fg_only = Fn.masked_adain(content, mask, Fn.mean_std(style), None)
    assert torch.equal(fg_only[..., 8:], content[..., 8:])  # background untouched
    left = Fn.mean_std(fg_only[..., :8].contiguous())
    assert torch.allclose(left.mean, Fn.mean_std(style).mean, atol=1e-4)
    bg_only = Fn.masked_adain(content, mask, None, Fn.mean_std(style))
    assert torch.equal(bg_only[..., :8], content[..., :8])
    right = Fn.mean_std(bg_only[..., 8:].contiguous())
    assert torch.allclose(right.std, Fn.mean_std(style).std, atol=1e-3)


def test_masked_stats_of_an_empty_mask_fall_back_to_the_whole_map() -> None:
    f = _feat(2, (1, 3, 5, 5))
    s = Fn.masked_mean_std(f, torch.zeros(1, 1, 5, 5))
    assert torch.allclose(s.mean, Fn.mean_std(f).mean)


def test_coral_matches_the_target_colour_statistics() -> None:
    g = torch.Generator().manual_seed(0)
    src = torch.rand(3, 32, 32, generator=g) * 0.3  # dark, narrow
    tgt = 0.4 + torch.rand(3, 32, 32, generator=g) * 0.4
    tgt[0] += 0.1
    out = Fn.coral(src, tgt)
    assert out.shape == src.shape
    assert torch.allclose(out.reshape(3, -1).mean(1), tgt.reshape(3, -1).mean(1), atol=0.02)


def _colour_stats(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x = img.reshape(3, -1).double()
    mean, std = x.mean(1), x.std(1, unbiased=False)
    z = (x - mean[:, None]) / std[:, None]
    return mean, std, z @ z.T / z.shape[1]


def test_coral_transfers_the_full_cross_channel_correlation() -> None:
    """Mean, std and the channel correlation matrix of the output equal the target's (issue 11)."""
    g = torch.Generator().manual_seed(1)
    base = torch.rand(1, 48, 48, generator=g)
    # target: strongly correlated channels (correlation ~0.7); source: independent channels
    tgt = (0.3 + 0.4 * (0.7 * base + 0.3 * torch.rand(3, 48, 48, generator=g))).clamp(0, 1)
    src = 0.35 + 0.3 * torch.rand(3, 48, 48, generator=g)
    out = Fn.coral(src, tgt)
    assert float(out.min()) > 0 and float(out.max()) < 1  # no clipping, so the match must be exact
    om, os_, oc = _colour_stats(out)
    tm, ts, tc = _colour_stats(tgt)
    _, _, sc = _colour_stats(src)
    assert float(tc[0, 1]) > 0.6 and abs(float(sc[0, 1])) < 0.2  # the test really asks for a transfer
    assert torch.allclose(om, tm, atol=1e-4)
    assert torch.allclose(os_, ts, rtol=1e-3)
    assert torch.allclose(oc, tc, atol=1e-3)


def test_coral_survives_a_grey_source() -> None:
    grey = torch.rand(1, 16, 16).repeat(3, 1, 1)
    out = Fn.coral(grey, torch.rand(3, 16, 16))
    assert torch.isfinite(out).all()


def test_keep_luminance_keeps_the_content_chroma() -> None:
    content = torch.zeros(1, 3, 4, 4)
    content[:, 0] = 0.8  # reddish
    stylized = torch.full((1, 3, 4, 4), 0.5)  # grey
    out = Fn.keep_luminance(content, stylized)
    assert float(out[0, 0].mean()) > float(out[0, 2].mean())  # red survives


def test_mean_std_rejects_wrong_rank() -> None:
    with pytest.raises(ValueError, match="N, C, H, W"):
        Fn.mean_std(torch.zeros(3, 4, 4))
