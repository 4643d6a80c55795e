"""The balancing plan: how many images to generate for each defect class.

Pure arithmetic on class counts so it can be tested on its own and shown in
the GUI before anything trains. Targets:

* ``fill_to`` N: each defect class up to N images;
* ``percent_of_normal`` x: each defect class up to x % of the normal class;
* ``fill_to_normal``: each defect class up to the normal count (x = 100).

A class already at or above its target gets 0; an empty class gets 0 with a
note (there is nothing to learn the defect from); a class with fewer than
``min_images`` gets its images but a warning that the outputs will repeat
them (a translator memorises them, a transplant reuses their few regions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

from augbench.core.errors import ConfigError, DatasetError

TargetMode = Literal["fill_to", "percent_of_normal", "fill_to_normal"]


@dataclass(frozen=True)
class ClassPlan:
    name: str
    current: int
    target: int
    to_generate: int
    note: str = ""

    @property
    def trainable(self) -> bool:
        return self.to_generate > 0


def target_count(normal_count: int, mode: TargetMode, value: float) -> int:
    if mode == "fill_to":
        return int(value)
    if mode == "percent_of_normal":
        return int(math.ceil(normal_count * value / 100.0 - 1e-9))
    if mode == "fill_to_normal":
        return normal_count
    raise ConfigError("target_mode", f"unknown target mode {mode!r}")


def plan_balance(counts: Mapping[str, int], normal: str, defects: Sequence[str], mode: TargetMode = "fill_to_normal",
                 value: float = 100.0, min_images: int = 10, max_generate: int | None = None) -> list[ClassPlan]:
    """One :class:`ClassPlan` per defect class, in the order given."""
    if normal not in counts or counts[normal] == 0:
        raise DatasetError(f"the normal class {normal!r} has no images: nothing to translate from")
    if normal in defects:
        raise ConfigError("defect_classes", f"{normal!r} is the normal class; it cannot also be a defect class")
    if value < 0:
        raise ConfigError("target_value", "must be >= 0")
    target = target_count(counts[normal], mode, value)
    plans = []
    for name in defects:
        n = int(counts.get(name, 0))
        if n == 0:
            plans.append(ClassPlan(name, 0, target, 0, "no images: a translator needs examples of the defect"))
            continue
        gen = max(0, target - n)
        note = ""
        if gen == 0:
            note = f"already {n} >= target {target}"
        elif max_generate is not None and gen > max_generate:
            gen, note = max_generate, f"capped at {max_generate} generated images"
        if gen and n < min_images:
            note = (note + "; " if note else "") + f"only {n} image(s): expect outputs that repeat them"
        plans.append(ClassPlan(name, n, target, gen, note))
    return plans


def plan_table(plans: Sequence[ClassPlan]) -> list[dict[str, object]]:
    return [{"class": p.name, "current": p.current, "target": p.target, "generate": p.to_generate,
             "after": p.current + p.to_generate, "note": p.note} for p in plans]
