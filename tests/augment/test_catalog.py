"""The catalogue walks Albumentations' schemas; every entry must build and run on image+boxes+mask."""

from __future__ import annotations

import numpy as np
import pytest
from imgfactory import make_photo

from augbench.augment.alb import A
from augbench.augment.apply import augment_sample
from augbench.augment.catalog import catalog, get_spec
from augbench.augment.pipeline import build_compose
from augbench.core.errors import ConfigError, UnknownKindError
from augbench.label.types import Box

SAMPLE = make_photo(128, 96, seed=3)
MASK = np.zeros((96, 128), np.uint8)
MASK[20:60, 30:90] = 1
BOXES = [Box(30, 20, 90, 60, "cat"), Box(5, 5, 25, 30, "dog")]


def test_catalogue_covers_the_issue_list() -> None:
    names = set(catalog())
    wanted = {"HorizontalFlip", "VerticalFlip", "Rotate", "Affine", "RandomResizedCrop", "RandomCrop",
              "RandomBrightnessContrast", "HueSaturationValue", "GaussianBlur", "GaussNoise", "CLAHE",
              "CoarseDropout", "ElasticTransform", "Perspective", "Equalize", "ToGray", "Resize"}
    assert wanted <= names
    assert len(names) >= 60


@pytest.mark.parametrize("name", sorted(catalog()))
def test_every_entry_builds_and_runs_with_its_defaults(name) -> None:
    """Walks the whole registry (a new entry without usable defaults fails here)."""
    spec = get_spec(name)
    params = spec.defaults()
    for p in spec.params:  # crops and resizes must fit the 128x96 sample
        if p.name in ("height", "width"):
            params[p.name] = 64
        if p.name == "size":
            params[p.name] = (64, 64)
    compose = build_compose([spec.build(params, p=1.0)], min_visibility=0.0)
    out = augment_sample(compose, SAMPLE, BOXES, MASK, seed=1)
    assert out.image.dtype == np.uint8 and out.image.ndim == 3
    assert out.mask is not None and out.mask.shape[:2] == out.image.shape[:2]
    assert len(out.source_ids) == len(out.boxes)  # a grid shuffle may split one box into several
    assert set(out.source_ids) | set(out.dropped) == set(range(len(BOXES)))
    assert not set(out.source_ids) & set(out.dropped)
    oh, ow = out.image.shape[:2]
    for b in out.boxes:
        assert -0.01 <= b.x1 < b.x2 <= ow + 0.01 and -0.01 <= b.y1 < b.y2 <= oh + 0.01


def test_bounds_come_from_the_library_schema() -> None:
    gn = get_spec("GaussNoise").param("std_range")
    assert (gn.lo, gn.hi) == (0.0, 1.0)  # check_range_bounds(0, 1) in the schema
    clahe = get_spec("CLAHE").param("clip_limit")
    assert clahe.lo == 1.0  # convert_to_1plus_range
    rot = get_spec("Rotate").param("limit")
    assert rot.symmetric and rot.default == (-90.0, 90.0)
    interp = get_spec("Rotate").param("interpolation")
    assert interp.kind == "choice" and "linear" in interp.choice_names


def test_clamp_keeps_sliders_inside_bounds() -> None:
    p = get_spec("GaussNoise").param("std_range")
    assert p.clamp((-1, 5)) == (0.0, 1.0)
    assert get_spec("Rotate").param("limit").clamp(30) == (-30.0, 30.0)


def test_library_rejects_bad_values_at_build_time() -> None:
    with pytest.raises(ConfigError):
        get_spec("GaussNoise").build({"std_range": (0.5, 2.0)})
    with pytest.raises(ConfigError, match="unknown parameter"):
        get_spec("Rotate").build({"angle": 3})
    with pytest.raises(UnknownKindError):
        get_spec("NotATransform")


def test_built_transform_is_the_albumentations_class() -> None:
    t = get_spec("Rotate").build({"limit": (-10, 10)}, p=0.3)
    assert isinstance(t, A.Rotate) and t.p == 0.3
