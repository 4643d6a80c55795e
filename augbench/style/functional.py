"""The AdaIN maths as small pure functions (Huang & Belongie 2017).

Everything here works on feature tensors shaped ``(N, C, H, W)`` and has no
state, so each piece can be tested by property (e.g. after :func:`adain` the
features' per-channel mean/std equal the style's) and re-used by the cached
preview: the expensive encoder runs once, these functions run on every slider
move.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F

EPS = 1e-5


class Stats(NamedTuple):
    """Per-channel mean and std of a feature map, each ``(N, C, 1, 1)``."""

    mean: torch.Tensor
    std: torch.Tensor


def mean_std(feat: torch.Tensor, eps: float = EPS) -> Stats:
    """Per-sample, per-channel mean and standard deviation over the spatial axes."""
    if feat.dim() != 4:
        raise ValueError(f"expected a (N, C, H, W) feature map, got shape {tuple(feat.shape)}")
    n, c = feat.shape[:2]
    flat = feat.reshape(n, c, -1)
    mean = flat.mean(dim=2)
    if flat.dtype in (torch.float32, torch.float64):
        # E[x^2] - E[x]^2 with the squares summed by einsum: ~20x faster than Tensor.var on CPU (which was 10 %
        # of a 256 px transfer); ReLU features have mean^2/var of order 1-10, so fp32 cancellation stays ~1e-6
        var = (torch.einsum("ncl,ncl->nc", flat, flat) / flat.shape[2] - mean * mean).clamp_min(0.0) + eps
    else:  # half precision (autocast): the two-pass reduction keeps its accuracy
        var = flat.var(dim=2, unbiased=False) + eps
    return Stats(mean.view(n, c, 1, 1), var.sqrt().view(n, c, 1, 1))


def masked_mean_std(feat: torch.Tensor, mask: torch.Tensor, eps: float = EPS) -> Stats:
    """Mean/std of ``feat`` restricted to where ``mask`` (N, 1, H, W, values 0..1) is set.

    An empty mask gives the unmasked statistics rather than a division by zero,
    so a box that vanishes at feature resolution degrades gracefully.
    """
    w = mask.to(feat.dtype)
    total = w.sum(dim=(2, 3), keepdim=True)
    full = mean_std(feat, eps)
    safe = total.clamp_min(1e-6)
    mean = (feat * w).sum(dim=(2, 3), keepdim=True) / safe
    var = ((feat - mean) ** 2 * w).sum(dim=(2, 3), keepdim=True) / safe + eps
    empty = total < 0.5
    return Stats(torch.where(empty, full.mean, mean), torch.where(empty, full.std, var.sqrt()))


def adain(content: torch.Tensor, style: Stats, content_stats: Stats | None = None) -> torch.Tensor:
    """Normalise ``content`` per channel, then re-scale/shift it to the style's statistics."""
    cs = content_stats if content_stats is not None else mean_std(content)
    return (content - cs.mean) / cs.std * style.std + style.mean


def mix(content: torch.Tensor, stylized: torch.Tensor, alpha: float) -> torch.Tensor:
    """Blend in feature space: alpha 0 gives the content features back, 1 full style.

    The two ends return their input as is (no copy): at alpha 1, the common
    case, the blend of three full-resolution feature maps was ~4 % of a 256 px
    transfer. Callers must not modify the result in place.
    """
    if alpha == 1.0:
        return stylized
    if alpha == 0.0:
        return content
    return alpha * stylized + (1.0 - alpha) * content


def _blend_weights(weights: Sequence[float], n: int, like: torch.Tensor | None) -> torch.Tensor:
    """Blend weights normalised to sum 1 (dtype/device of ``like``); one per style, >= 0, not all zero."""
    if n == 0 or len(weights) != n:
        raise ValueError("need one weight per style and at least one style")
    w = torch.tensor([float(x) for x in weights], dtype=like.dtype if like is not None else torch.float64,
                     device=like.device if like is not None else None)
    if (w < 0).any() or float(w.sum()) <= 0:
        raise ValueError("style weights must be >= 0 and not all zero")
    return w / w.sum()


def interpolate_stats(stats: Sequence[Stats], weights: Sequence[float]) -> Stats:
    """Weighted mix of several styles' statistics (weights are normalised to sum 1)."""
    w = _blend_weights(weights, len(stats), stats[0].mean if stats else None)
    mean = sum(wi * s.mean for wi, s in zip(w, stats))
    std = sum(wi * s.std for wi, s in zip(w, stats))
    return Stats(mean, std)  # type: ignore[arg-type]


def feedback_stats(drive: Stats, goal: Stats, achieved: Stats, max_gain: float = 2.0) -> Stats:
    """One round of closed-loop AdaIN: push the statistics fed to the decoder past the goal by the shortfall.

    ``drive`` produced an output whose re-encoded statistics are ``achieved``;
    the next drive adds the mean's error and scales the std by the std's ratio
    (limited to ``1/max_gain .. max_gain`` per round, so a flat style cannot
    blow up). Where the decoder already meets the goal nothing changes.
    """
    ratio = (goal.std / achieved.std).clamp(1.0 / max_gain, max_gain)
    return Stats(drive.mean + (goal.mean - achieved.mean), drive.std * ratio)


def resize_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bring a (N, 1, H, W) mask to feature resolution (area average, values stay in 0..1)."""
    return F.interpolate(mask.float(), size=size, mode="area" if mask.shape[-1] >= size[-1] else "nearest")


def masked_adain(
    content: torch.Tensor,
    mask: torch.Tensor,
    fg_style: Stats | None,
    bg_style: Stats | None,
) -> torch.Tensor:
    """AdaIN applied separately inside (foreground) and outside (background) ``mask``.

    ``None`` for a region keeps that region's content features unchanged, which
    is how "style only the background" and "style only the objects" work. Each
    region is normalised with its own statistics so the other region does not
    leak into it.
    """
    m = resize_mask(mask, content.shape[-2:]).clamp(0, 1)
    out = content
    if fg_style is not None:
        fg = adain(content, fg_style, masked_mean_std(content, m))
        out = out * (1 - m) + fg * m
    if bg_style is not None:
        bg = adain(content, bg_style, masked_mean_std(content, 1 - m))
        out = out * m + bg * (1 - m)
    return out


def _sym_pow(x: torch.Tensor, power: float, eps: float = 1e-5) -> torch.Tensor:
    """``x ** power`` of a symmetric positive semi-definite matrix (eigenvalues clamped at ``eps``).

    The clamp keeps the inverse square root finite for a grey image, whose
    channel correlation matrix is singular.
    """
    vals, vecs = torch.linalg.eigh(x)
    return vecs @ torch.diag(vals.clamp_min(eps) ** power) @ vecs.T


class ColorStats(NamedTuple):
    """An image's colour statistics: per-channel mean and std ``(3, 1)``, channel correlation ``(3, 3)``."""

    mean: torch.Tensor
    std: torch.Tensor
    corr: torch.Tensor


def _pixels(img: torch.Tensor, region: torch.Tensor | None) -> torch.Tensor:
    """(3, H, W) -> (3, P): only the pixels where ``region`` (H, W) is set (all of them if it is empty)."""
    if img.dim() != 3 or img.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) image, got shape {tuple(img.shape)}")
    flat = img.reshape(3, -1)
    if region is not None:
        keep = region.reshape(-1).to(torch.bool)
        if int(keep.sum()) >= 2:
            flat = flat[:, keep]
    return flat


def color_stats(img: torch.Tensor, region: torch.Tensor | None = None) -> ColorStats:
    """Colour mean, std and correlation of a (3, H, W) image (optionally of the pixels in ``region``).

    Centred sums in float64 (a nearly flat image must not lose its variance to
    cancellation); one 3 x P product instead of ``Tensor.std``'s slow reduction.
    """
    x = _pixels(img, region).double()
    mean = x.mean(1, keepdim=True)
    d = x - mean
    cov = d @ d.T / d.shape[1]
    std = cov.diagonal().clamp_min(0).sqrt().unsqueeze(1) + 1e-5
    return ColorStats(mean, std, cov / (std @ std.T))


def mix_color_stats(stats: Sequence[ColorStats], weights: Sequence[float] | None = None) -> ColorStats:
    """Weighted mix of several styles' colour statistics, as :func:`interpolate_stats` mixes features."""
    w = _blend_weights(weights or [1.0] * len(stats), len(stats), stats[0].mean if stats else None)
    return ColorStats(*(sum(wi * getattr(s, f) for wi, s in zip(w, stats)) for f in ColorStats._fields))


def coral_to(source: torch.Tensor, target: ColorStats, region: torch.Tensor | None = None) -> torch.Tensor:
    """Give ``source`` (3, H, W in 0..1) the ``target`` colour mean, std and cross-channel correlation.

    The source is standardised per channel, its channel *correlation* matrix
    (covariance / N) is whitened away and the target's is coloured in, then the
    target's means/stds are restored. The whole chain is one 3x3 affine map,
    built in float64 and applied in the image's dtype. With ``region`` the
    source statistics are those of the region's pixels (the map still applies
    to every pixel; the caller composites).
    """
    src = color_stats(source, region)
    m = target.std * (_sym_pow(target.corr, 0.5) @ _sym_pow(src.corr, -0.5)) / src.std.T
    b = target.mean - m @ src.mean
    out = torch.addmm(b.to(source.dtype), m.to(source.dtype), source.reshape(3, -1))
    return out.reshape(source.shape).clamp(0, 1)


def coral(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Colour transfer (CORAL) of ``source`` (3, H, W in 0..1) to ``target``'s colour statistics.

    Used for "keep content colours": the style image is re-coloured to the
    content's colour mean/covariance before its statistics are taken (the
    paper's colour-preservation section). The result's mean, std and
    cross-channel correlation all equal the target's (up to clipping to 0..1).
    The correlation is covariance / N with only a tiny ridge: adding an identity
    to the covariance, as an earlier version did, halved the transferred
    correlations.
    """
    if source.dim() != 3 or source.shape[0] != 3 or target.dim() != 3 or target.shape[0] != 3:
        raise ValueError("coral expects two (3, H, W) images")
    return coral_to(source, color_stats(target))


def keep_luminance(content: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor:
    """Colour preservation after the fact: stylized luminance with the content's chroma (YIQ).

    Works on (N, 3, H, W) images in 0..1; cheap enough to toggle per preview.
    """
    m = torch.tensor(
        [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
        dtype=content.dtype,
        device=content.device,
    )
    yiq_c = torch.einsum("ij,njhw->nihw", m, content)
    yiq_s = torch.einsum("ij,njhw->nihw", m, stylized)
    yiq = torch.cat([yiq_s[:, :1], yiq_c[:, 1:]], dim=1)
    rgb = torch.einsum("ij,njhw->nihw", torch.linalg.inv(m), yiq)
    return rgb.clamp(0, 1)
