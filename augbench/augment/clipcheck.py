"""Which boxes of an image would the current augmentation pipeline clip or drop?

Runs the Augment tab's pipeline (its steps, through the same ``build_compose``
and ``augment_sample`` the export uses) a few times with fixed seeds on a
blank image of the annotation's size, and counts per box how often it
vanished or was cut by the new border. Only geometry matters, so a blank
image is enough; the seeds make the check repeatable. The label tab shows the
result on the canvas before the user exports anything. It lives in
``augment`` (which may use ``label``), not the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from augbench.augment.apply import augment_sample
from augbench.augment.pipeline import build_compose
from augbench.label.types import ImageAnnotation


@dataclass(frozen=True)
class BoxRisk:
    """How often (fraction of trials) box ``index`` was dropped or clipped."""

    index: int
    label: str
    dropped: float
    clipped: float

    @property
    def worst(self) -> float:
        return max(self.dropped, self.clipped)


def pipeline_risks(steps: Sequence[Any], ann: ImageAnnotation, *, trials: int = 12, seed: int = 0,
                   min_visibility: float = 0.1) -> list[BoxRisk]:
    """Per box of ``ann``: the fraction of ``trials`` augmentations that dropped / clipped it.

    ``steps`` are the Augment tab's ``Step`` objects (or a ready Albumentations
    Compose built with label fields ``labels`` and ``box_ids``).
    """
    n = len(ann.boxes)
    if n == 0 or trials <= 0:
        return []
    compose = steps if hasattr(steps, "set_random_seed") else build_compose(list(steps), min_visibility=min_visibility)
    image = np.full((ann.height, ann.width, 3), 127, np.uint8)
    dropped = np.zeros(n)
    clipped = np.zeros(n)
    for t in range(trials):
        out = augment_sample(compose, image, list(ann.boxes), seed=seed + t)
        gone = set(out.dropped)
        kept = [i for i in range(n) if i not in gone]  # albumentations filters, never reorders
        for i in gone:
            dropped[i] += 1
        for j in out.clipped:
            if j < len(kept):
                clipped[kept[j]] += 1
    return [BoxRisk(i, b.label, float(dropped[i] / trials), float(clipped[i] / trials)) for i, b in enumerate(ann.boxes)]
