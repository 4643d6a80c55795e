"""Pipelines save and load in Albumentations' own format; boxes and masks follow geometry exactly."""

from __future__ import annotations

import numpy as np
import pytest
from imgfactory import make_photo

from augbench.augment.alb import A
from augbench.augment.apply import augment_sample
from augbench.augment.pipeline import Step, build_compose, load_pipeline, save_pipeline, steps_from_dicts
from augbench.core.errors import ConfigError
from augbench.label.types import Box


@pytest.mark.parametrize("ext", [".json", ".yaml"])
def test_round_trip_and_albumentations_can_load_it(tmp_path, ext) -> None:
    steps = [Step("HorizontalFlip", {}, 0.5), Step("Rotate", {"limit": (-15.0, 15.0)}, 0.8),
             Step("GaussNoise", {"std_range": (0.1, 0.2)}, 0.3)]
    path = save_pipeline(steps, tmp_path / f"p{ext}")
    back = load_pipeline(path)
    assert [s.name for s in back] == ["HorizontalFlip", "Rotate", "GaussNoise"]
    assert back[1].params["limit"] == (-15.0, 15.0) and back[1].p == 0.8
    # the same file works in a user's training code
    compose = A.load(str(path), data_format="yaml" if ext == ".yaml" else "json")
    assert isinstance(compose.transforms[1], A.Rotate)


def test_bad_step_dicts() -> None:
    with pytest.raises(ConfigError, match=r"steps\[0\]\.p"):
        steps_from_dicts([{"name": "Rotate", "p": 2}])
    with pytest.raises(ConfigError):
        steps_from_dicts([{"name": "Nope"}])
    with pytest.raises(ConfigError, match="unknown step key"):
        steps_from_dicts([{"name": "Rotate", "prob": 1}])


def test_not_a_pipeline_file(tmp_path) -> None:
    p = tmp_path / "x.json"
    p.write_text('{"hello": 1}')
    with pytest.raises(ConfigError, match="not an Albumentations pipeline"):
        load_pipeline(p)


def test_flip_moves_boxes_and_mask_exactly() -> None:
    img = make_photo(100, 60, 1)
    mask = np.zeros((60, 100), np.uint8)
    mask[10:30, 5:25] = 1
    compose = build_compose([Step("HorizontalFlip", {}, 1.0)])
    out = augment_sample(compose, img, [Box(5, 10, 25, 30, "a")], mask, seed=0)
    b = out.boxes[0]
    assert (b.x1, b.y1, b.x2, b.y2) == pytest.approx((75, 10, 95, 30))
    assert out.mask[10:30, 75:95].all() and out.mask.sum() == 400
    assert np.array_equal(out.image, img[:, ::-1])


def test_rotation_keeps_box_around_mask() -> None:
    img = make_photo(120, 120, 2)
    mask = np.zeros((120, 120), np.uint8)
    mask[40:80, 30:70] = 1
    compose = build_compose([Step("Rotate", {"limit": (30, 30)}, 1.0)])
    out = augment_sample(compose, img, [Box(30, 40, 70, 80, "a")], mask, seed=0)
    ys, xs = np.nonzero(out.mask)
    b = out.boxes[0]
    assert b.x1 <= xs.min() + 1 and b.x2 >= xs.max() and b.y1 <= ys.min() + 1 and b.y2 >= ys.max()


def test_dropped_and_clipped_boxes_are_reported() -> None:
    img = make_photo(100, 100, 3)
    boxes = [Box(0, 0, 20, 20, "corner"), Box(40, 40, 60, 60, "centre"), Box(25, 40, 45, 60, "edge")]
    compose = build_compose([Step("Crop" if False else "CenterCrop", {"height": 40, "width": 40}, 1.0)],
                            min_visibility=0.3)
    out = augment_sample(compose, img, boxes, seed=0)
    assert out.dropped == [0]  # the corner box is outside the crop
    labels = [b.label for b in out.boxes]
    assert labels == ["centre", "edge"]
    assert out.clipped == [1]  # 'edge' was cut by the new border
