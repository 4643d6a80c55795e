"""The arm grammar of the experiment runner: ``component[+component...]`` -> :class:`Arm`.

See :mod:`augbench.classify.experiment` for what each component does. Kept apart
so the GUI and the CLI can validate arm names without importing the runner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from augbench.core.errors import ConfigError

BASE_COMPONENTS = ("baseline", "class_weights", "oversample", "focal", "classic_aug")
SYNTH_COMPONENTS = ("style", "cyclegan", "transplant")
DEFAULT_ARMS = ["baseline", "class_weights", "oversample", "classic_aug"]
_AMOUNT = re.compile(r"^(style|cyclegan|transplant)(?:@(\d+(?:\.\d+)?))?$")
_COUNT = re.compile(r"^(aug_oversample|oracle)@(\d+)$")


@dataclass(frozen=True)
class Arm:
    """A parsed arm name: the loss, the sampler, augmentation and synthetic additions."""

    name: str
    loss: str = "ce"
    sampler: str = "shuffle"
    augment: bool = False
    synthetic: tuple[tuple[str, float | None], ...] = ()  # (origin, amount) — amount None = all
    aug_minority: int = 0  # + this many classic-augmented copies of the real training minority images
    oracle: int = 0  # + this many real unseen minority images (protocol oracle pool)


def parse_arm(name: str) -> Arm:
    """``'oversample+cyclegan@100'`` -> Arm; raises ConfigError naming the bad part."""
    loss, sampler, augment = "ce", "shuffle", False
    synth: list[tuple[str, float | None]] = []
    counts = {"aug_oversample": 0, "oracle": 0}
    parts = [p.strip() for p in name.split("+") if p.strip()]
    if not parts:
        raise ConfigError("arms", "an arm needs at least one component")
    for part in parts:
        m = _AMOUNT.match(part)
        if m:
            amount = None if m.group(2) is None else float(m.group(2))
            if amount is not None and amount <= 0:
                raise ConfigError("arms", f"{part}: the amount must be positive")
            synth.append((m.group(1), amount))
        elif _COUNT.match(part):
            cm = _COUNT.match(part)
            assert cm is not None
            if int(cm.group(2)) <= 0:
                raise ConfigError("arms", f"{part}: the amount must be a positive number of images")
            counts[cm.group(1)] = int(cm.group(2))
        elif part == "class_weights":
            loss = "weighted_ce"
        elif part == "focal":
            loss = "focal"
        elif part == "oversample":
            sampler = "weighted"
        elif part == "classic_aug":
            augment = True
        elif part != "baseline":
            raise ConfigError("arms", f"unknown arm component {part!r}; use {', '.join(BASE_COMPONENTS)}, "
                                      "style[@N], cyclegan[@N], transplant[@N], aug_oversample@N, oracle@N "
                                      "joined by '+'")
    if "class_weights" in parts and "focal" in parts:
        raise ConfigError("arms", f"{name}: choose class_weights or focal, not both")
    return Arm(name, loss, sampler, augment, tuple(synth), counts["aug_oversample"], counts["oracle"])


__all__ = ["BASE_COMPONENTS", "DEFAULT_ARMS", "SYNTH_COMPONENTS", "Arm", "parse_arm"]
