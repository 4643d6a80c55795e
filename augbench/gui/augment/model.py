"""The Augment tab's state without Qt: the pipeline, the previewed image, the export settings -> the job.

The tab (:mod:`augbench.gui.augment.view`) is built from an :class:`AugmentModel` and only
translates clicks into its calls, so what the tab would export or preview can be checked (and is,
in tests/gui/test_qt_free_models.py) with PyQt5 unavailable. Importing this module must never
import Qt (an import-linter contract in pyproject.toml forbids it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from augbench.augment.catalog import catalog
from augbench.augment.export import AugmentJob, read_mask
from augbench.augment.pipeline import Step
from augbench.augment.preview import PreviewRequest, PreviewSource
from augbench.core.dataset import DatasetInfo, Item
from augbench.core.errors import AugbenchError
from augbench.core.imageio import read_image
from augbench.label.io import read_labels

OUTPUT_SUFFIX = "_augmented"  # the default output folder: <input>_augmented next to the input
DEFAULT_P = 0.5  # a ticked transform's probability until the user sets it


@dataclass
class ExportSettings:
    """What the Export box holds (everything of the job except the data set and the pipeline)."""

    out_dir: str = ""
    copies: int = 3
    seed: int = 0
    empty_policy: str = "keep"
    min_visibility: float = 0.1
    include_originals: bool = False


@dataclass
class AugmentModel:
    """The pipeline being built (steps by name, their order), the data set and the previewed image."""

    steps: dict[str, Step] = field(default_factory=dict)  # every step ever ticked keeps its settings
    order: list[str] = field(default_factory=list)  # the ticked ones, applied top to bottom
    info: DatasetInfo | None = None
    source: PreviewSource | None = None
    preview_seed: int = 0

    # ------------------------------------------------------------------ pipeline
    def current_steps(self) -> list[Step]:
        return [self.steps[n] for n in self.order]

    def step(self, name: str) -> Step:
        """The step of transform ``name`` (created with defaults the first time it is asked for)."""
        if name not in catalog():
            raise AugbenchError(f"unknown transform {name!r}")
        return self.steps.setdefault(name, Step(name, {}, DEFAULT_P))

    def enable(self, name: str, on: bool) -> bool:
        """Tick or untick ``name``; True when the pipeline changed (a step keeps its settings when unticked)."""
        if on and name not in self.order:
            self.step(name)
            self.order.append(name)
            return True
        if not on and name in self.order:
            self.order.remove(name)
            return True
        return False

    def move(self, row: int, delta: int) -> bool:
        """Move the step at ``row`` by ``delta`` places; False (nothing moved) at either end."""
        if row < 0 or not 0 <= row + delta < len(self.order):
            return False
        self.order[row], self.order[row + delta] = self.order[row + delta], self.order[row]
        return True

    def set_steps(self, steps: list[Step]) -> None:
        """Replace the pipeline (after loading a file)."""
        self.steps = {s.name: s for s in steps}
        self.order = [s.name for s in steps]

    # ------------------------------------------------------------------ data
    def use_dataset(self, info: DatasetInfo) -> None:
        self.info = info
        self.source = None

    def default_output(self, current: str) -> str:
        """The output folder to show: the user's own choice stays; otherwise ``<input>_augmented``."""
        if self.info is None or (current and not current.endswith(OUTPUT_SUFFIX)):
            return current
        return str(self.info.root.parent / f"{self.info.root.name}{OUTPUT_SUFFIX}")

    def load_source(self, item: Item, max_side: int = 256) -> PreviewSource:
        """Read ``item`` (image, boxes, mask) once, downscaled: every preview is computed from this copy."""
        img = read_image(item.image, mode="auto")
        h, w = img.shape[:2]
        boxes = []
        if item.label_file is not None and self.info is not None:
            boxes = read_labels(item.label_file, item.image, (w, h), self.info.box_classes).boxes
        mask = read_mask(item.mask_file) if item.mask_file else None
        return PreviewSource.from_full(img, boxes, mask, max_side=max_side)

    # ------------------------------------------------------------------ preview and export
    def preview_request(self, n: int, min_visibility: float, force: bool) -> PreviewRequest | None:
        """What the preview thread computes: private copies of the steps, so later edits cannot race it."""
        if self.source is None:
            return None
        steps = [Step(s.name, dict(s.params), s.p, s.enabled) for s in self.current_steps()]
        return PreviewRequest(self.source, steps, n, self.preview_seed, min_visibility, force)

    def build_job(self, settings: ExportSettings) -> AugmentJob:
        """The ``augment`` job the Export button runs (and "Save job…" writes)."""
        if self.info is None:
            raise AugbenchError("open a data set first")
        if not self.order:
            raise AugbenchError("tick at least one transform")
        return AugmentJob(
            input_dir=str(self.info.root), output_dir=settings.out_dir.strip(),
            steps=[s.to_dict() for s in self.current_steps()], copies=settings.copies, seed=settings.seed,
            empty_policy=settings.empty_policy, min_visibility=settings.min_visibility,
            include_originals=settings.include_originals,
        )

