"""The defect transplant engine: regions, placement, blends, masks, determinism."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from gan_helpers import BARS, CELL, cell

from augbench.core.errors import ConfigError, DatasetError
from augbench.gan.regions import bus_bar_mask, choose_polarity, extract_defect_regions
from augbench.gan.transplant import BLENDS, PlaceOptions, synthesize, transplant

SIZE = CELL


def crack_mask(seed: int) -> np.ndarray:
    m = np.zeros((SIZE, SIZE), np.uint8)
    cv2.line(m, (25, 20 + seed % 5), (95, 100), 255, 2)
    return m


@pytest.fixture(scope="module")
def normals() -> list[np.ndarray]:
    return [cell(100 + i) for i in range(10)]


@pytest.fixture(scope="module")
def defects() -> list[np.ndarray]:
    return [cell(i, crack=True, blob=i % 2 == 0) for i in range(6)]


def test_difference_regions_find_the_crack_not_the_bus_bars(normals, defects):
    skipped: list[tuple[int, str]] = []
    chosen: dict[str, str] = {}
    patches = extract_defect_regions(defects, normals, skipped=skipped, chosen=chosen)
    assert chosen["polarity"] == "dark"
    for i in range(len(defects)):
        found = np.zeros((SIZE, SIZE), bool)
        for p in (q for q in patches if q.source == i):
            x0, y0, x1, y1 = p.box
            found[y0:y1, x0:x1] |= p.mask > 0
        truth = crack_mask(i) > 0
        assert (found & truth).sum() / truth.sum() > 0.6  # most of the crack is found
        off_bars = found.copy()
        off_bars[:, :] &= ~cv2.dilate(truth.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        if i % 2:  # no blob: whatever else was marked must be tiny (bus bars are structure, not defect)
            assert off_bars.sum() < 0.1 * truth.sum()
    assert not skipped


def test_a_normal_given_as_defect_yields_no_patch(normals):
    skipped: list[tuple[int, str]] = []
    patches = extract_defect_regions([cell(999)], normals, skipped=skipped)
    assert patches == [] and skipped and skipped[0][0] == 0


@pytest.mark.parametrize("blend", BLENDS)
@pytest.mark.parametrize("rgb", [False, True])
def test_transplant_keeps_shape_dtype_and_changes_only_masked_pixels(normals, defects, blend, rgb):
    src = [cell(i, crack=True, rgb=rgb).astype(np.uint8) for i in range(4)]
    base = [cell(100 + i, rgb=rgb).astype(np.uint8) for i in range(6)]
    patches = extract_defect_regions(src, base)
    normal = base[0]
    img, mask = transplant(normal, patches[:2], np.random.default_rng(3), blend=blend)
    assert img.shape == normal.shape and img.dtype == np.uint8
    assert mask.shape == normal.shape[:2] and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 128, 255}
    changed = np.any(img != normal, axis=-1) if rgb else img != normal
    assert not (changed & (mask == 0)).any()  # outside the mask: exactly the normal
    core = mask == 255
    assert core.sum() > 20 and changed[core].mean() > 0.5  # the defect itself did change the image
    if blend in ("ratio", "alpha"):  # these keep the defect dark: the pasted crack is darker than the cell
        g = img if img.ndim == 2 else img.mean(-1)
        n = normal if normal.ndim == 2 else normal.mean(-1)
        assert g[core].mean() < n[core].mean() - 20


def test_synthesize_is_deterministic_by_seed_and_resumable(normals, defects):
    a = synthesize(normals, defects, 4, seed=7)
    b = synthesize(normals, defects, 4, seed=7)
    c = synthesize(normals, defects, 4, seed=8)
    tail = synthesize(normals, defects, 2, seed=7, start=2)
    assert all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    assert any(not np.array_equal(x[0], y[0]) for x, y in zip(a, c))
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a[2:], tail))
    prov = a[0][2]
    assert prov["engine"] == "transplant" and 0 <= prov["normal"] < len(normals) and 0 <= prov["defect"] < 6
    assert {"x", "y", "angle", "scale", "flip"} <= set(prov["patches"][0])


def test_user_masks_are_used_as_given(normals):
    img = cell(3, blob=True)
    m = np.zeros((SIZE, SIZE), np.uint8)
    m[50:70, 45:75] = 255  # the user marks a rectangle that is not where the difference would be largest
    patches = extract_defect_regions([img], normals, masks=[m])
    assert len(patches) == 1 and patches[0].origin == "mask"
    x0, y0, x1, y1 = patches[0].box
    full = np.zeros_like(m)
    full[y0:y1, x0:x1] = patches[0].mask
    assert np.array_equal(full > 0, m > 0)
    with pytest.raises(ConfigError):
        extract_defect_regions([img], normals, masks=[m[:10]])


def test_boxes_are_refined_to_the_defect_inside_them(normals):
    img = cell(2, crack=True)
    box = (20.0, 15.0, 100.0, 105.0)
    patches = extract_defect_regions([img], normals, boxes=[[box]])
    assert patches and all(p.origin == "box" for p in patches)
    for p in patches:
        x0, y0, x1, y1 = p.box
        ys, xs = np.nonzero(p.mask)
        assert xs.min() + x0 >= 20 and xs.max() + x0 < 100 and ys.min() + y0 >= 15 and ys.max() + y0 < 105
    area = sum(p.area for p in patches)
    assert area < 0.5 * 80 * 90  # refined to the crack, not the whole box
    raw = extract_defect_regions([img], normals, boxes=[[box]], refine_boxes=False)
    assert sum(p.area for p in raw) == 80 * 90


def test_placement_avoids_forbidden_pixels_and_90_degree_turns_are_opt_in(normals, defects):
    patches = extract_defect_regions(defects, normals)
    avoid = np.zeros((SIZE, SIZE), bool)
    avoid[:, :60] = True  # only the right half is allowed
    small = [p for p in patches if p.region.shape[1] < 40][:1] or patches[:1]
    for s in range(5):
        info: list[dict] = []
        _, mask = transplant(normals[0], small, np.random.default_rng(s), options=PlaceOptions(avoid=avoid),
                             info=info)
        if info[0]["fit"] == "on_object_avoiding":
            assert not (mask[:, :60] == 255).any()
        assert info[0]["rot90"] == 0
    turns = set()
    for s in range(12):
        info = []
        transplant(normals[0], small, np.random.default_rng(s), options=PlaceOptions(rot90=True), info=info)
        turns.add(info[0]["rot90"])
    assert len(turns) > 1


def test_no_region_anywhere_is_a_clear_error(normals):
    with pytest.raises(DatasetError, match="no defect region"):
        synthesize(normals, [cell(500), cell(501)], 3, seed=0)
    with pytest.raises(ConfigError):
        transplant(normals[0], [], np.random.default_rng(0))


def test_bus_bar_mask_and_polarity_choice():
    bars = bus_bar_mask(cell(1))
    rows = np.nonzero(bars[:, SIZE // 2])[0]
    assert all(any(abs(r - y) <= 5 for y in BARS) for r in rows) and {y for y in BARS if bars[y, SIZE // 2]} == set(BARS)
    assert choose_polarity(1000, 10) == "dark" and choose_polarity(10, 1000) == "bright"
    assert choose_polarity(500, 400) == "both"
