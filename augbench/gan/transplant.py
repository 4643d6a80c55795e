"""The defect transplant engine: cut real defects out, blend them into other normals.

A crack of 1-3 px survives this exactly, which no 64 px GAN does; it costs
milliseconds per image and needs no training, so any generator must beat it.

    patches = extract_defect_regions(defects, normals)            # regions.py
    img, mask = transplant(normal, patches[:2], rng)               # one synthetic defect image
    out = synthesize(normals, defects, n=100, seed=0)              # n x (image, mask, provenance)

Blends (``blend=``):

* ``ratio`` (default): multiply the new normal by the defect's attenuation
  (defect / its background), feathered at the rim. Dark cracks and dead areas
  keep their contrast and darken the new cell's own texture; nothing of the
  source cell's texture comes along. Right for EL, X-ray and other images where
  a defect removes light.
* ``mixed`` / ``normal``: ``cv2.seamlessClone`` (gradient-domain). ``mixed``
  keeps whichever gradient is stronger, so thin lines carry over and the
  background stays the new cell's; large flat dark areas fade (a Poisson blend
  keeps gradients, not levels).
* ``alpha``: the source pixels, brightness-matched, feathered at the rim.

The returned mask is uint8 with 255 on the defect itself, 128 on the blend rim
and 0 elsewhere: pixels where it is 0 are exactly the normal's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import cv2
import numpy as np

from augbench.core.errors import ConfigError, DatasetError
from augbench.gan.regions import (
    BackgroundModel,
    Box,
    DefectPatch,
    bus_bar_mask,
    extract_defect_regions,
    gain,
    grey,
    object_mask,
)

BLENDS = ("ratio", "mixed", "normal", "alpha")
PLACEMENTS = ("random", "source")


@dataclass(frozen=True)
class PlaceOptions:
    """How a patch may be moved: rotation, flips, scale, where it may land."""

    max_angle: float = 10.0  # uniform in [-max_angle, max_angle] degrees
    flips: bool = True  # horizontal / vertical / 180 degrees
    rot90: bool = False  # 90-degree turns: only for rotation-symmetric data (no bus bars)
    scale: tuple[float, float] = (0.85, 1.2)
    placement: str = "random"  # random | source (the defect's own place, jittered)
    jitter: float = 0.05  # source placement: +- this fraction of the image size
    on_object: bool = True  # the pasted region must lie on the object (the cell), not the dark surround
    avoid: np.ndarray | None = None  # bool HxW pixels a defect may not cover (e.g. bus bars)
    tries: int = 40
    margin: int = 2

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ConfigError("placement", f"must be one of {PLACEMENTS}, not {self.placement!r}")
        if not 0 < self.scale[0] <= self.scale[1]:
            raise ConfigError("scale", "needs 0 < min <= max")


def _match_channels(img: np.ndarray, like: np.ndarray) -> np.ndarray:
    if like.ndim == 2:
        return grey(img)
    c = like.shape[2]
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[2] == c:
        return img
    if c == 1:
        return grey(img)[..., None]
    base = np.repeat(img[..., :1], 3, axis=2) if img.shape[2] == 1 else img[..., :3]
    return base if c == 3 else np.concatenate([base, np.full(base.shape[:2] + (c - 3,), 255, np.uint8)], axis=2)


def _warp(p: DefectPatch, angle: float, scale: float, flip: str, k90: int) -> dict[str, np.ndarray]:
    """The patch's image/region/mask/background flipped, turned and scaled, on a padded canvas."""
    arrs = {"image": p.image, "region": p.region, "mask": p.mask, "background": p.background}
    for key, a in arrs.items():
        if flip in ("h", "hv"):
            a = a[:, ::-1]
        if flip in ("v", "hv"):
            a = a[::-1]
        arrs[key] = np.ascontiguousarray(np.rot90(a, k90) if k90 else a)
    h, w = arrs["region"].shape
    rad = math.radians(angle)
    cos, sin = abs(math.cos(rad)) * scale, abs(math.sin(rad)) * scale
    nw, nh = int(math.ceil(w * cos + h * sin)) + 4, int(math.ceil(h * cos + w * sin)) + 4
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = {}
    for key, a in arrs.items():
        if key in ("region", "mask"):
            out[key] = (cv2.warpAffine(a, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=0) > 127).astype(
                np.uint8) * 255
        else:
            out[key] = cv2.warpAffine(a, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    out["region"] |= out["mask"]
    if out["region"].ndim == 2:  # a one-pixel frame of zeros: seamlessClone needs the region off the border
        out["region"][[0, -1], :] = 0
        out["region"][:, [0, -1]] = 0
        out["mask"] &= out["region"]
    return out


def _fits(region: np.ndarray, x: int, y: int, allowed: np.ndarray | None, tol: float) -> bool:
    if allowed is None:
        return True
    h, w = region.shape
    r = region > 0
    bad = np.count_nonzero(r & ~allowed[y:y + h, x:x + w])
    return bad <= tol * max(1, np.count_nonzero(r))


def _place(w_patch: dict[str, np.ndarray], p: DefectPatch, dst_shape: tuple[int, int], opts: PlaceOptions,
           allowed: list[tuple[str, np.ndarray | None]], rng: np.random.Generator) -> tuple[int, int, str]:
    """Top-left corner for the warped patch: random (or near its source) under the allowed-area masks.

    ``allowed`` is tried strictest first (object and not avoid, then object only, then anywhere);
    returns the name of the level that fitted.
    """
    H, W = dst_shape
    h, w = w_patch["region"].shape
    mg = opts.margin
    xmax, ymax = W - w - mg, H - h - mg
    if xmax < mg or ymax < mg:
        raise ValueError("patch larger than the image")
    if opts.placement == "source":
        sx = (p.box[0] + p.box[2]) / 2 * W / p.image_size[1] - w / 2
        sy = (p.box[1] + p.box[3]) / 2 * H / p.image_size[0] - h / 2
    for name, mask in allowed:
        for _ in range(opts.tries):
            if opts.placement == "source":
                x = int(round(sx + rng.uniform(-1, 1) * opts.jitter * W))
                y = int(round(sy + rng.uniform(-1, 1) * opts.jitter * H))
                x, y = min(max(x, mg), xmax), min(max(y, mg), ymax)
            else:
                x, y = int(rng.integers(mg, xmax + 1)), int(rng.integers(mg, ymax + 1))
            if _fits(w_patch["region"], x, y, mask, 0.03):
                return x, y, name
    return x, y, "anywhere"


def _feather(region: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    a = region.astype(np.float32) / 255.0
    if sigma > 0:
        a = cv2.GaussianBlur(a, (0, 0), sigma) * a  # fades at the rim, zero outside the region
    return np.maximum(a, mask.astype(np.float32) / 255.0)


def _blend(dst: np.ndarray, wp: dict[str, np.ndarray], x: int, y: int, blend: str, feather: float) -> np.ndarray:
    """``dst`` (HxWxC uint8) with the warped patch blended in at (x, y); only region pixels change."""
    h, w = wp["region"].shape
    roi = dst[y:y + h, x:x + w].astype(np.float32)
    src = _match_channels(wp["image"], dst).astype(np.float32)
    if src.ndim == 2:
        src = src[..., None]
    if blend in ("mixed", "normal"):
        d3 = dst if dst.shape[2] == 3 else np.repeat(dst[..., :1], 3, axis=2)
        s3 = src[..., :3] if src.shape[2] >= 3 else np.repeat(src, 3, axis=2)
        bx, by, bw, bh = cv2.boundingRect(wp["region"])
        flag = cv2.MIXED_CLONE if blend == "mixed" else cv2.NORMAL_CLONE
        cloned = cv2.seamlessClone(np.ascontiguousarray(s3.astype(np.uint8)), np.ascontiguousarray(d3[..., :3]),
                                   wp["region"].copy(), (x + bx + bw // 2, y + by + bh // 2), flag)
        new = cloned[y:y + h, x:x + w].astype(np.float32)
        new = new[..., :1] if dst.shape[2] == 1 else (
            np.concatenate([new, roi[..., 3:]], axis=2) if dst.shape[2] > 3 else new)
        a = (wp["region"] > 0).astype(np.float32)[..., None]
    elif blend == "ratio":
        bg = np.maximum(wp["background"], 1.0)
        att = np.clip(grey(np.clip(src, 0, 255).astype(np.uint8)).astype(np.float32) / bg, 0.0, 1.5)
        new = roi * att[..., None]
        a = _feather(wp["region"], wp["mask"], feather)[..., None]
    elif blend == "alpha":
        r = wp["region"] > 0
        level = np.median(grey(roi.astype(np.uint8))[r]) / max(float(np.median(wp["background"][r])), 1.0)
        new = src * level
        a = _feather(wp["region"], wp["mask"], feather)[..., None]
    else:
        raise ConfigError("blend", f"must be one of {BLENDS}, not {blend!r}")
    out = dst.copy()
    mixed = roi * (1 - a) + new * a
    keep = (wp["region"] > 0)[..., None]
    out[y:y + h, x:x + w] = np.where(keep, np.clip(np.round(mixed), 0, 255), roi).astype(np.uint8)
    return out


def transplant(normal: np.ndarray, patches: Sequence[DefectPatch], rng: np.random.Generator, *,
               blend: str = "ratio", options: PlaceOptions | None = None, feather: float = 1.5,
               info: list[dict[str, Any]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Paste every patch into ``normal``; returns (image like ``normal``, uint8 mask 255 defect / 128 rim / 0).

    Each patch gets its own flip/turn/angle/scale and place drawn from
    ``rng``; what was drawn is appended to ``info`` (one dict per patch).
    A patch that cannot fit (bigger than the image even at the smallest scale)
    is skipped and recorded with ``"skipped"``.
    """
    if not patches:
        raise ConfigError("patches", "nothing to transplant: no defect patches")
    opts = options or PlaceOptions()
    if blend not in BLENDS:
        raise ConfigError("blend", f"must be one of {BLENDS}, not {blend!r}")
    squeeze = normal.ndim == 2
    out = normal[..., None] if squeeze else normal
    H, W = out.shape[:2]
    obj = object_mask(normal) if opts.on_object else None
    avoid = opts.avoid
    if avoid is not None and avoid.shape != (H, W):
        avoid = cv2.resize(avoid.astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST) > 0
    allowed: list[tuple[str, np.ndarray | None]] = []
    if obj is not None and avoid is not None:
        allowed.append(("on_object_avoiding", obj & ~avoid))
    elif avoid is not None:
        allowed.append(("avoiding", ~avoid))
    if obj is not None:
        allowed.append(("on_object", obj))
    allowed.append(("anywhere", None))
    mask = np.zeros((H, W), np.uint8)
    for p in patches:
        flip = str(rng.choice(["none", "h", "v", "hv"])) if opts.flips else "none"
        k90 = int(rng.integers(0, 4)) if opts.rot90 else 0
        angle = float(rng.uniform(-opts.max_angle, opts.max_angle)) if opts.max_angle > 0 else 0.0
        rel = min(H / p.image_size[0], W / p.image_size[1])  # keep the defect's size relative to the object
        scale = float(rng.uniform(*opts.scale)) * rel
        wp = _warp(p, angle, scale, flip, k90)
        rh, rw = wp["region"].shape
        if rh + 2 * opts.margin > H or rw + 2 * opts.margin > W:  # too big: shrink to fit
            shrink = min((H - 2 * opts.margin - 1) / rh, (W - 2 * opts.margin - 1) / rw)
            if shrink <= 0.1:
                if info is not None:
                    info.append({"source": p.source, "skipped": "patch larger than the image"})
                continue
            scale *= shrink
            wp = _warp(p, angle, scale, flip, k90)
        x, y, fit = _place(wp, p, (H, W), opts, allowed, rng)
        out = _blend(out, wp, x, y, blend, feather)
        h, w = wp["region"].shape
        sub = mask[y:y + h, x:x + w]
        sub[(wp["region"] > 0) & (sub == 0)] = 128
        sub[wp["mask"] > 0] = 255
        if info is not None:
            info.append({"source": p.source, "box": list(p.box), "x": x, "y": y, "w": w, "h": h,
                         "angle": round(angle, 3), "scale": round(scale, 4), "flip": flip, "rot90": k90,
                         "fit": fit, "blend": blend})
    return (out[..., 0] if squeeze else out), mask


def synthesize(normals: Sequence[np.ndarray], defects: Sequence[np.ndarray], n: int, *, seed: int,
               masks: list[np.ndarray | None] | None = None, boxes: list[list[Box] | None] | None = None,
               blend: str = "ratio", patches_per_image: int = 2, avoid_bus_bars: bool = False,
               extract: dict[str, Any] | None = None, patches: list[DefectPatch] | None = None,
               start: int = 0, **place: Any) -> list[tuple[np.ndarray, np.ndarray, dict]]:
    """``n`` synthetic defect images from ``normals`` x the defects' regions, reproducible by ``seed``.

    Image ``k`` depends only on (seed, k): ``start`` skips the first images,
    so a resumed run writes the same files. ``patches`` (from an earlier
    :func:`extract_defect_regions` call) saves the extraction. Each output takes one defect image's regions (up to
    ``patches_per_image``, largest first, so a crack network stays whole) into a
    normal; provenance: ``normal`` and ``defect`` indices, ``patches`` (place,
    angle, flip, scale of each), ``engine``, ``seed``, ``blend``.
    ``extract`` passes options to :func:`extract_defect_regions`, ``place`` to
    :class:`PlaceOptions`. Raises DatasetError when no defect yields a region.
    """
    if n < 0:
        raise ConfigError("n", "must be >= 0")
    if not normals:
        raise DatasetError("the transplant engine needs normal images to paste into")
    if patches is None:
        patches = extract_defect_regions(list(defects), list(normals), masks=masks, boxes=boxes,
                                         **(extract or {}))
    by_source: dict[int, list[DefectPatch]] = {}
    for p in patches:
        by_source.setdefault(p.source, []).append(p)
    if not by_source:
        raise DatasetError(f"no defect region found in any of the {len(defects)} defect images "
                           "(give masks or boxes, or lower the threshold k / min_contrast)")
    sources = sorted(by_source)
    if avoid_bus_bars and "avoid" not in place:
        place["avoid"] = bus_bar_mask(BackgroundModel(list(normals), k=len(normals)).reference(normals[0]))
    opts = PlaceOptions(**place)
    out = []
    for k in range(start, start + n):
        rng = np.random.default_rng([seed, k, 17])
        ni = int(rng.integers(0, len(normals)))
        di = sources[int(rng.integers(0, len(sources)))]
        chosen = by_source[di][:max(1, patches_per_image)]
        info: list[dict[str, Any]] = []
        img, mask = transplant(normals[ni], chosen, rng, blend=blend, options=opts, info=info)
        out.append((img, mask, {"engine": "transplant", "seed": seed, "index": k, "normal": ni, "defect": di,
                                "blend": blend, "patches": info, "defect_pixels": int(np.count_nonzero(mask == 255))}))
    return out


def region_summary(patches: Sequence[DefectPatch]) -> dict[str, Any]:
    """Counts for reports: patches, source images covered, area percentiles."""
    areas = np.array([p.area for p in patches]) if patches else np.zeros(0)
    return {"patches": len(patches), "sources": len({p.source for p in patches}),
            "area_p50": float(np.median(areas)) if len(areas) else 0.0,
            "area_p90": float(np.percentile(areas, 90)) if len(areas) else 0.0,
            "origins": sorted({p.origin for p in patches})}


__all__ = ["BLENDS", "DefectPatch", "PlaceOptions", "bus_bar_mask", "extract_defect_regions", "gain",
           "region_summary", "synthesize", "transplant"]
