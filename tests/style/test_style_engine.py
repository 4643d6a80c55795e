"""The cached AdaIN engine: stages, size cap, masks, colours, bad style images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from augbench.core.errors import ConfigError
from augbench.style import functional as Fn
from augbench.style.engine import PreviewSession, as_rgb, boxes_to_mask, fit_side


def test_alpha_change_runs_only_the_decoder(tiny_engine, mkphoto) -> None:
    content, style = mkphoto(80, 64, 1), mkphoto(50, 50, 2)
    ps = PreviewSession(tiny_engine)
    a = ps.render(content, [style], alpha=0.2)
    assert ps.last_stages == ["encode", "adain", "decode"]
    b = ps.render(content, [style], alpha=0.9)
    assert ps.last_stages == ["decode"]
    assert not np.array_equal(a, b)
    ps.render(content, [style, content], weights=[1, 1], alpha=0.9)
    assert ps.last_stages == ["adain", "decode"]  # new style mix, content cached
    ps.render(mkphoto(80, 64, 3), [style], alpha=0.9)
    assert ps.last_stages[0] == "encode"


def test_preview_equals_full_transfer(tiny_engine, mkphoto) -> None:
    content, style = mkphoto(64, 64, 4), mkphoto(64, 64, 5)
    ps = PreviewSession(tiny_engine)
    ps.render(content, [style], alpha=1.0)
    cached = ps.render(content, [style], alpha=0.4)
    full = tiny_engine.stylize(content, [style], alpha=0.4)
    assert np.array_equal(cached, full)


def test_style_stats_are_the_encoded_style_stats(tiny_engine, mkphoto) -> None:
    """The property of the issue, through the engine: AdaIN target stats == style stats."""
    content, style = mkphoto(64, 64, 6), mkphoto(64, 64, 7)
    tiny_engine.feedback = 0  # open loop: the target carries the style's statistics exactly
    state = tiny_engine.encode_content(content)
    stats = tiny_engine.style_stats(style)
    t = tiny_engine.target(state, [stats], None, None, "all")
    got = Fn.mean_std(t)
    live = state.stats.std > 1e-2  # a random net has dead (constant) channels; AdaIN cannot give them a std
    assert live.float().mean() > 0.5
    assert torch.allclose(got.mean, stats.mean, rtol=1e-3, atol=1e-3)
    assert torch.allclose(got.std[live], stats.std[live], rtol=1e-3, atol=1e-3)


def test_grayscale_tiny_and_huge_style_images(tiny_engine, mkphoto) -> None:
    content = mkphoto(70, 50, 8)
    gray16 = mkphoto(16, 16, 9)[..., 0]  # 16x16 grayscale
    huge = np.zeros((8000, 8000, 3), np.uint8)
    huge[::7] = 200
    for style in (gray16, huge):
        out = tiny_engine.stylize(content, [style], alpha=1.0)
        assert out.shape == content.shape


def test_huge_content_is_capped_and_resized_back(tiny_engine, mkphoto) -> None:
    big = np.full((1500, 900, 3), 90, np.uint8)
    state = tiny_engine.encode_content(big)
    assert max(state.net_hw) <= tiny_engine.max_side
    out = tiny_engine.stylize(big, [mkphoto(32, 32, 1)])
    assert out.shape == big.shape


def test_foreground_mode_keeps_background_features(tiny_engine, mkphoto) -> None:
    content, style = mkphoto(96, 96, 10), mkphoto(64, 64, 11)
    mask = boxes_to_mask([(0, 0, 48, 96)], 96, 96)
    state = tiny_engine.encode_content(content)
    stats = tiny_engine.style_stats(style)
    t = tiny_engine.target(state, [stats], None, mask, "foreground")
    w = state.feat.shape[-1]
    assert torch.equal(t[..., w // 2 + 1 :], state.feat[..., w // 2 + 1 :])
    assert not torch.equal(t[..., : w // 2], state.feat[..., : w // 2])
    tb = tiny_engine.target(state, [stats], None, mask, "background")
    assert torch.equal(tb[..., : w // 2 - 1], state.feat[..., : w // 2 - 1])


def test_keep_colours_changes_the_result(tiny_engine, mkphoto) -> None:
    content, style = mkphoto(64, 64, 12), mkphoto(64, 64, 13)
    a = tiny_engine.stylize(content, [style], preserve_color=False)
    b = tiny_engine.stylize(content, [style], preserve_color=True)
    assert not np.array_equal(a, b)


def test_bad_arguments(tiny_engine, mkphoto) -> None:
    with pytest.raises(ConfigError, match="alpha"):
        tiny_engine.stylize(mkphoto(), [mkphoto()], alpha=1.5)
    with pytest.raises(ConfigError, match="styles"):
        tiny_engine.stylize(mkphoto(), [])


def test_helpers() -> None:
    assert as_rgb(np.zeros((5, 6), np.uint8)).shape == (5, 6, 3)
    assert as_rgb(np.zeros((5, 6, 4), np.uint8)).shape == (5, 6, 3)
    assert max(fit_side(np.zeros((400, 200, 3), np.uint8), 100).shape[:2]) == 100
    assert min(fit_side(np.zeros((16, 16, 3), np.uint8), 512).shape[:2]) >= 64
    m = boxes_to_mask([(2, 3, 5, 9)], 10, 10)
    assert m.sum() == 255 * 3 * 6


def test_magenta_engine_same_interface(mkphoto) -> None:
    from augbench.style.magenta import MagentaEngine

    eng = MagentaEngine(device="cpu", threads=1)
    content, style = mkphoto(64, 48, 20), mkphoto(40, 40, 21)
    mask = boxes_to_mask([(0, 0, 32, 48)], 48, 64)
    out = eng.stylize(content, [style, content], weights=[3, 1], alpha=0.7, mask=mask, mask_mode="foreground")
    assert out.shape == content.shape
    assert np.array_equal(out[:, 33:], content[:, 33:])  # background kept exactly
    assert not np.array_equal(out[:, :32], content[:, :32])
    assert len(eng.weights_sha256) == 64


def test_bf16_path_agrees_with_fp32(mkphoto) -> None:
    import copy

    from augbench.style.engine import AdaINEngine
    from augbench.style.networks import build_decoder, build_encoder

    torch.manual_seed(1)
    enc, dec = build_encoder("vgg16", weights=None), build_decoder("vgg16")
    with torch.no_grad():
        dec[-1].weight.mul_(60.0)
        dec[-1].bias.fill_(0.5)
    # the networks' precision is under test: the colour match (fp64, after the decoder) would re-amplify the
    # random decoder's nearly flat output and its bf16 rounding
    e32 = AdaINEngine(device="cpu", max_side=64, precision="fp32", color_match=False,
                      _encoder=copy.deepcopy(enc), _decoder=copy.deepcopy(dec))
    e16 = AdaINEngine(device="cpu", max_side=64, precision="bf16", color_match=False, _encoder=enc, _decoder=dec)
    content, style = mkphoto(64, 64, 30), mkphoto(64, 64, 31)
    a = e32.stylize(content, [style], alpha=0.8).astype(np.float32)
    b = e16.stylize(content, [style], alpha=0.8).astype(np.float32)
    assert e16.decoder[1].weight.dtype == torch.bfloat16
    assert np.abs(a - b).mean() < 12.0  # bf16 has ~3 significant digits; images agree to a few levels


def test_objects_only_leaves_the_background_pixels_alone(tiny_engine, mkphoto) -> None:
    """Issue 14: "objects only" used to repaint the background (mean change 37 outside vs 55 inside)."""
    content, style = mkphoto(96, 96, 20), mkphoto(64, 64, 21)
    mask = boxes_to_mask([(24, 24, 72, 72)], 96, 96)
    inside = mask > 0
    fg = tiny_engine.stylize(content, [style], mask=mask, mask_mode="foreground").astype(float)
    change = np.abs(fg - content.astype(float)).mean(axis=2)
    assert change[~inside].mean() < 0.01  # outside: the content, untouched
    assert change[inside].mean() > 5.0  # inside: really stylized
    bg = tiny_engine.stylize(content, [style], mask=mask, mask_mode="background").astype(float)
    change_bg = np.abs(bg - content.astype(float)).mean(axis=2)
    assert change_bg[inside].mean() < 0.01 and change_bg[~inside].mean() > 5.0
    sess = PreviewSession(tiny_engine)  # the GUI preview composites the same way
    prev = sess.render(content, [style], mask=mask, mask_mode="foreground")
    assert np.array_equal(prev, fg.astype(np.uint8))


def test_a_one_pixel_thin_image_is_refused_with_a_reason(tiny_engine, mkphoto) -> None:
    from augbench.core.errors import AugbenchError

    with pytest.raises(AugbenchError, match="too thin"):
        tiny_engine.stylize(np.zeros((1, 300, 3), np.uint8), [mkphoto(32, 32, 1)])
