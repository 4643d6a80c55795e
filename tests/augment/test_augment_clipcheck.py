"""The augmentation clip/drop warning, with the Augment package's own pipeline."""

from pathlib import Path

import pytest

from augbench.label.types import Box, ImageAnnotation

pipeline = pytest.importorskip("augbench.augment.pipeline")


def test_crop_risks_edge_boxes_not_central_ones() -> None:
    from augbench.augment.clipcheck import pipeline_risks

    ann = ImageAnnotation(Path("x.png"), 200, 100, 3, [Box(2, 2, 30, 30, "edge"), Box(90, 40, 110, 60, "centre")])
    crop = [pipeline.Step("RandomCrop", {"height": 60, "width": 120}, p=1.0)]
    edge, centre = pipeline_risks(crop, ann, trials=8)
    assert edge.worst > 0.5 and edge.dropped + edge.clipped > 0
    assert centre.dropped == 0 and centre.clipped == 0  # every 120x60 crop contains it
    flip = pipeline_risks([pipeline.Step("HorizontalFlip", {}, p=1.0)], ann, trials=4)
    assert all(r.worst == 0 for r in flip)
    assert pipeline_risks(crop, ImageAnnotation(Path("y.png"), 10, 10)) == []
