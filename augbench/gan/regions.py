"""Defect regions for the transplant engine: where, in a defect image, the defect is.

Three sources, best first:

* a user mask (PNG next to the image, or from the Label tab): used as it is;
* user boxes (pixel ``x0, y0, x1, y1``): the box, narrowed to the pixels that
  differ from the background model when ``refine_boxes`` (a box also holds
  background; pasting it whole pastes the source cell's texture);
* nothing: the difference to an *aligned median normal*, thresholded. Solar
  cells, wafers and textiles are aligned (bus bars, edges at fixed places), so
  the per-pixel median of the normals most like the defect image (same cell
  type, e.g. mono vs poly) is a background model; whatever differs from it by
  more than a robust threshold is defect.

Every region carries a background estimate under it (the aligned median
normal when normals are given, else an inpainting of the defect image), so a
multiplicative ("ratio") blend can transplant the defect's *attenuation*
rather than its pixels: a crack then darkens the new cell's own texture.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from augbench.core.errors import ConfigError

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class DefectPatch:
    """One defect region cut from a defect image.

    ``image`` is the crop (same channels as the source), ``mask`` the defect
    pixels (uint8 0/255), ``region`` the pixels to paste (the mask grown by a
    few pixels so the blend boundary lies in background), ``background`` the
    estimated defect-free grey intensity under the crop (float32), ``source``
    the index of the defect image, ``box`` the crop in source pixels
    (x0, y0, x1, y1; exclusive end) and ``image_size`` the source (h, w).
    """

    image: np.ndarray
    mask: np.ndarray
    region: np.ndarray
    background: np.ndarray
    source: int
    box: tuple[int, int, int, int]
    image_size: tuple[int, int]
    origin: str = "difference"  # "mask" | "box" | "difference"

    @property
    def area(self) -> int:
        return int(np.count_nonzero(self.mask))


def grey(img: np.ndarray) -> np.ndarray:
    """HxW uint8 grey view of a grey or RGB(A) image."""
    if img.ndim == 2:
        return img
    if img.shape[2] == 1:
        return img[..., 0]
    return cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_RGB2GRAY)


def gain(g: np.ndarray) -> float:
    """A robust brightness level (90th percentile): large dark defects do not pull it down."""
    return max(float(np.percentile(g, 90)), 1.0)


class BackgroundModel:
    """Median of the ``k`` normals nearest to an image (by a 64 px thumbnail), aligned to it.

    Intensities are divided by each image's :func:`gain`, so a dimmer cell of
    the same type still matches; ``reference(img)`` returns the background in
    ``img``'s own intensity units (float32, HxW).
    """

    def __init__(self, normals: list[np.ndarray], k: int = 15, max_shift: float = 0.1) -> None:
        if not normals:
            raise ConfigError("normals", "the background model needs at least one normal image")
        self.k, self.max_shift = max(1, k), max_shift
        self._norm = [grey(n).astype(np.float32) / gain(grey(n)) for n in normals]
        self._thumbs = np.stack([self._thumb(n) for n in self._norm])

    @staticmethod
    def _thumb(g: np.ndarray) -> np.ndarray:
        """64 px thumbnail: coarse enough to ignore the defect, fine enough to tell bus-bar designs apart."""
        return cv2.resize(g, (64, 64), interpolation=cv2.INTER_AREA).ravel()

    def nearest(self, img: np.ndarray) -> np.ndarray:
        g = grey(img).astype(np.float32) / gain(grey(img))
        dist = ((self._thumbs - self._thumb(g)) ** 2).sum(1)
        return np.argsort(dist, kind="stable")[:self.k]

    def reference(self, img: np.ndarray) -> np.ndarray:
        g = grey(img).astype(np.float32)
        h, w = g.shape
        level = gain(g)
        stack = []
        for i in self.nearest(img):
            n = self._norm[int(i)]
            stack.append(n if n.shape == (h, w) else cv2.resize(n, (w, h), interpolation=cv2.INTER_AREA))
        ref = np.median(np.stack(stack), axis=0).astype(np.float32)
        (dx, dy), _ = cv2.phaseCorrelate(ref, g / level)
        if abs(dx) < self.max_shift * w and abs(dy) < self.max_shift * h and (abs(dx) > 0.5 or abs(dy) > 0.5):
            m = np.float32([[1, 0, dx], [0, 1, dy]])
            ref = cv2.warpAffine(ref, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return ref * level


def difference_maps(img: np.ndarray, reference: np.ndarray, *, k: float = 4.0, min_contrast: float = 0.12,
                    sigma: float = 0.7, tolerance: int = 3, exclude_structure: bool = True, border: float = 0.04,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dark, bright, structure): pixels darker / brighter than ``reference`` beyond the threshold, and the
    design structure that was ignored; bool HxW each.

    The threshold is max(median + k * MAD of the difference, ``min_contrast``
    of the bright level). ``tolerance`` px of misregistration are forgiven: a
    pixel is dark-defect only when darker than the darkest reference pixel
    within that distance (bright: brighter than the brightest), so a bus bar
    or cell edge a few pixels off its median position is not a defect.
    ``exclude_structure`` also ignores full-length dark lines of either image
    (:func:`bus_bar_mask`), the dark surround of the object and an outer
    ``border`` band (cell edges never align to the pixel); fragments of one
    defect split by a bus bar are joined again when regions are grouped.
    """
    g = grey(img).astype(np.float32)
    if sigma > 0:
        g = cv2.GaussianBlur(g, (0, 0), sigma)
    level = gain(reference)
    ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tolerance + 1,) * 2) if tolerance > 0 else None
    lo = cv2.erode(reference, ker) if ker is not None else reference
    hi = cv2.dilate(reference, ker) if ker is not None else reference
    skip = np.zeros(g.shape, bool)
    if exclude_structure:  # bus bars of either image and the surround are design, not defect
        skip = bus_bar_mask(reference) | bus_bar_mask(g) | ~object_mask(reference, erode=tolerance)
        b = max(1, int(round(border * min(g.shape))))
        skip[:b], skip[-b:], skip[:, :b], skip[:, -b:] = True, True, True, True
    out = []
    for diff in ((lo - g) / level, (g - hi) / level):
        diff = np.where(skip, 0.0, diff)
        med = float(np.median(diff))
        mad = float(np.median(np.abs(diff - med))) * 1.4826
        out.append(diff > max(med + k * mad, min_contrast))
    return out[0], out[1], skip


def difference_mask(img: np.ndarray, reference: np.ndarray, *, polarity: str = "both", **opts: float) -> np.ndarray:
    """Defect pixels by difference to ``reference`` (see :func:`difference_maps`) of one polarity, or both."""
    if polarity not in ("both", "dark", "bright"):
        raise ConfigError("polarity", f"must be auto, both, dark or bright, not {polarity!r}")
    dark, bright, _ = difference_maps(img, reference, **opts)  # type: ignore[arg-type]
    return dark if polarity == "dark" else bright if polarity == "bright" else dark | bright


def choose_polarity(dark_area: int, bright_area: int, ratio: float = 4.0) -> str:
    """``dark`` (``bright``) when that polarity holds ``ratio`` times the other's area over the set, else both.

    EL images, X-rays and most surface defects remove light: deciding once per
    data set keeps stray bright specks of a dark-defect set from being pasted.
    """
    if dark_area >= ratio * max(bright_area, 1):
        return "dark"
    if bright_area >= ratio * max(dark_area, 1):
        return "bright"
    return "both"


def _groups(core: np.ndarray, *, min_area: int, merge_px: int, close_px: int) -> list[np.ndarray]:
    """Connected defect groups (bool masks), tiny specks dropped, nearby fragments joined."""
    m = core.astype(np.uint8)
    if close_px > 0:
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close_px, close_px)))
    n, lab, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    keep = np.zeros_like(m)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] >= min_area:
            keep[lab == i] = 1
    if not keep.any():
        return []
    joined = keep
    if merge_px > 0:
        joined = cv2.dilate(keep, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * merge_px + 1,) * 2))
    n, lab = cv2.connectedComponents(joined, connectivity=8)
    return [(lab == i) & (keep > 0) for i in range(1, n)]


def _crop(idx: int, img: np.ndarray, core: np.ndarray, background: np.ndarray, *, grow: int, pad: int,
          origin: str) -> DefectPatch:
    h, w = core.shape
    region = core.astype(np.uint8)
    if grow > 0:
        region = cv2.dilate(region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    ys, xs = np.nonzero(region)
    x0, y0 = max(0, int(xs.min()) - pad), max(0, int(ys.min()) - pad)
    x1, y1 = min(w, int(xs.max()) + 1 + pad), min(h, int(ys.max()) + 1 + pad)
    sl = (slice(y0, y1), slice(x0, x1))
    return DefectPatch(image=np.ascontiguousarray(img[sl]), mask=(core[sl] > 0).astype(np.uint8) * 255,
                       region=(region[sl] > 0).astype(np.uint8) * 255,
                       background=np.ascontiguousarray(background[sl], dtype=np.float32), source=idx,
                       box=(x0, y0, x1, y1), image_size=(h, w), origin=origin)


def inpainted_background(img: np.ndarray, core: np.ndarray, grow: int = 3) -> np.ndarray:
    """Defect-free estimate of ``img`` under ``core`` (Telea inpainting), grey float32: used without normals."""
    m = cv2.dilate(core.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    return cv2.inpaint(grey(img), m * 255, 5, cv2.INPAINT_TELEA).astype(np.float32)


def extract_defect_regions(defects: list[np.ndarray], normals: list[np.ndarray], *,
                           masks: list[np.ndarray | None] | None = None,
                           boxes: list[list[Box] | None] | None = None, refine_boxes: bool = True,
                           polarity: str = "auto", k: float = 4.0, min_contrast: float = 0.12,
                           min_area: int = 20, merge_px: int = 8, close_px: int = 5, grow: int = 3, pad: int = 4,
                           max_area_fraction: float = 0.5, max_patches_per_image: int = 4,
                           n_reference: int = 15, skipped: list[tuple[int, str]] | None = None,
                           chosen: dict[str, str] | None = None) -> list[DefectPatch]:
    """Cut the defect regions out of ``defects`` (see the module doc for the three sources).

    ``masks[i]`` (nonzero = defect) and ``boxes[i]`` override the difference
    for image ``i``. Images where nothing is found are listed in ``skipped`` as
    (index, reason) and yield no patch, so a normal-looking "defect" is never
    pasted. At most ``max_patches_per_image`` groups per image, largest first;
    groups larger than ``max_area_fraction`` of the image are dropped (a
    global brightness or cell-type mismatch, not a local defect).
    ``polarity="auto"`` picks dark, bright or both once for the whole set
    (:func:`choose_polarity`); the choice is written to ``chosen``.
    """
    masks = list(masks) if masks is not None else [None] * len(defects)
    boxes = list(boxes) if boxes is not None else [None] * len(defects)
    if len(masks) != len(defects) or len(boxes) != len(defects):
        raise ConfigError("masks", "masks and boxes need one entry (or None) per defect image")
    if polarity not in ("auto", "both", "dark", "bright"):
        raise ConfigError("polarity", f"must be auto, both, dark or bright, not {polarity!r}")
    model = BackgroundModel(normals, k=n_reference) if normals else None
    dopts = {"k": k, "min_contrast": min_contrast}
    refs: list[np.ndarray | None] = []
    maps: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for i, img in enumerate(defects):
        refs.append(model.reference(img) if model is not None else None)
        if masks[i] is None and refs[i] is not None:
            maps[i] = difference_maps(img, refs[i], **dopts)  # type: ignore[arg-type]
    if polarity == "auto":
        polarity = choose_polarity(sum(int(m[0].sum()) for m in maps.values()),
                                   sum(int(m[1].sum()) for m in maps.values()))
    if chosen is not None:
        chosen["polarity"] = polarity

    def pick(i: int) -> np.ndarray:
        dark, bright, _ = maps[i]
        return dark if polarity == "dark" else bright if polarity == "bright" else dark | bright

    patches: list[DefectPatch] = []
    for i, img in enumerate(defects):
        h, w = img.shape[:2]
        ref = refs[i]
        origin = "difference"
        if masks[i] is not None:
            m = masks[i]
            core = grey(m) > 0 if m.ndim == 3 else m > 0
            if core.shape != (h, w):
                raise ConfigError("masks", f"mask {i} is {core.shape[1]}x{core.shape[0]}, its image {w}x{h}")
            origin = "mask"
        elif boxes[i]:
            core = np.zeros((h, w), bool)
            for x0, y0, x1, y1 in boxes[i] or []:
                xa, ya = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
                xb, yb = min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
                box = np.zeros((h, w), bool)
                box[ya:yb, xa:xb] = True
                if refine_boxes and i in maps:
                    inner = box & pick(i)
                    box = inner if inner.sum() >= min_area else box
                core |= box
            origin = "box"
        elif i in maps:
            core = pick(i)
        else:
            raise ConfigError("normals", "without masks or boxes, regions come from the difference to normals: "
                                         "give normal images")
        groups = _groups(core, min_area=1 if origin != "difference" else min_area, merge_px=merge_px,
                         close_px=close_px if origin == "difference" else 0)
        limit = max_area_fraction * h * w if origin == "difference" else h * w
        groups = sorted((g for g in groups if g.sum() <= limit), key=lambda g: -int(g.sum()))[:max_patches_per_image]
        if not groups:
            if skipped is not None:
                skipped.append((i, "no defect region found" if origin == "difference" else f"empty {origin}"))
            continue
        src = img
        if origin == "difference":  # give back the bus-bar pixels a defect spans, so it is pasted whole
            groups = [_bridge(g, maps[i][2], merge_px) for g in groups]
            src = _continue_under_structure(img, ref, np.any(np.stack(groups), axis=0), maps[i][2])  # type: ignore
        union = np.any(np.stack(groups), axis=0)
        background = ref if ref is not None else inpainted_background(img, union, grow)
        patches += [_crop(i, src, g, background, grow=grow, pad=pad, origin=origin) for g in groups]
    return patches


def _continue_under_structure(img: np.ndarray, ref: np.ndarray, region: np.ndarray, structure: np.ndarray,
                              sigma: float = 4.0) -> np.ndarray:
    """``img`` with the defect's attenuation (img / ref) carried across the structure pixels it spans.

    A dead area under a bus bar is dark there too; pasting the source's own bus
    bar into a cell whose bus bars sit elsewhere would draw a stray line. The
    attenuation on structure pixels becomes the Gaussian-weighted mean of the
    attenuation around them, and the pixel = that times the background.
    """
    hole = region & structure
    if not hole.any():
        return img
    att = grey(img).astype(np.float32) / np.maximum(ref, 1.0)
    w = (region & ~structure).astype(np.float32)
    num = cv2.GaussianBlur(att * w, (0, 0), sigma)
    den = cv2.GaussianBlur(w, (0, 0), sigma)
    filled = np.where(den > 1e-3, num / np.maximum(den, 1e-3), 1.0)
    new_g = np.clip(filled * ref, 0, 255)
    out = img.astype(np.float32).copy()
    if out.ndim == 2:
        out[hole] = new_g[hole]
    else:  # keep the hue: scale every channel by the same factor
        scale = new_g / np.maximum(grey(img).astype(np.float32), 1.0)
        out[hole] = out[hole] * scale[hole][:, None]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _bridge(group: np.ndarray, structure: np.ndarray, merge_px: int) -> np.ndarray:
    """``group`` plus the ignored structure pixels enclosed by it (closing limited to the structure)."""
    if merge_px <= 0 or not structure.any():
        return group
    ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * merge_px + 1,) * 2)
    closed = cv2.morphologyEx(group.astype(np.uint8), cv2.MORPH_CLOSE, ker) > 0
    return group | (closed & structure)


def bus_bar_mask(reference: np.ndarray, *, k: float = 3.0, min_dip: float = 0.15, border: float = 0.04,
                 width: int = 4) -> np.ndarray:
    """Dark full-length lines (bus bars, ribbon edges) of an aligned background, as bool HxW.

    A row (column) belongs to a bus bar when its mean over the central part,
    minus a running median of that profile (so a wide dark defect is not a
    line), is far below the typical row: by more than k * MAD and more than
    ``min_dip`` of the bright level.
    The outer ``border`` fraction is left to the on-object test.
    """
    g = grey(reference).astype(np.float32) if reference.dtype == np.uint8 else reference.astype(np.float32)
    h, w = g.shape
    out = np.zeros((h, w), bool)
    for axis in (1, 0):
        n = h if axis == 1 else w
        cut = slice(int(0.15 * (w if axis == 1 else h)), int(0.85 * (w if axis == 1 else h)))
        prof = g[:, cut].mean(1) if axis == 1 else g[cut, :].mean(0)
        half = 2 if n < 64 else 10
        windows = np.lib.stride_tricks.sliding_window_view(np.pad(prof, half, mode="edge"), 2 * half + 1)
        prof = prof - np.median(windows, axis=1)
        med = float(np.median(prof))
        mad = float(np.median(np.abs(prof - med))) * 1.4826 + 1e-6
        lines = prof < med - max(k * mad, min_dip * gain(g))
        b = int(border * n)
        lines[:b] = lines[n - b:] = False
        idx = np.nonzero(lines)[0]
        for j in idx:
            lo, hi = max(0, j - width), min(n, j + width + 1)
            if axis == 1:
                out[lo:hi, :] = True
            else:
                out[:, lo:hi] = True
    return out


def object_mask(img: np.ndarray, fraction: float = 0.35, erode: int = 3) -> np.ndarray:
    """Where the object (the cell) is: brighter than ``fraction`` of its bright level; bool HxW."""
    g = cv2.GaussianBlur(grey(img), (0, 0), 2.0)
    m = (g > fraction * gain(g)).astype(np.uint8)
    if erode > 0:
        m = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode + 1,) * 2))
    return m > 0


def defect_masks(patches: list[DefectPatch], n_images: int) -> list[np.ndarray | None]:
    """Each source image's defect pixels (bool, full size) from its patches; None where it has none."""
    out: list[np.ndarray | None] = [None] * n_images
    for p in patches:
        if out[p.source] is None:
            out[p.source] = np.zeros(p.image_size, bool)
        x0, y0, x1, y1 = p.box
        out[p.source][y0:y1, x0:x1] |= p.mask > 0  # type: ignore[index]
    return out
