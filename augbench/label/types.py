"""The one box type inside augbench: pixel xyxy floats plus the image size.

Conversion to YOLO (normalised cx cy w h), Pascal VOC (integer pixel
corners) or albumentations' formats happens only at the file edge and when
calling a library, the way torchvision v2 keeps box metadata with the boxes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels (x1 < x2, y1 < y2) with its class name."""

    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    difficult: bool = False
    truncated: bool = False

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    def clipped(self, width: int, height: int) -> Box:
        """This box clipped to the image canvas."""
        return replace(
            self,
            x1=min(max(self.x1, 0.0), float(width)),
            y1=min(max(self.y1, 0.0), float(height)),
            x2=min(max(self.x2, 0.0), float(width)),
            y2=min(max(self.y2, 0.0), float(height)),
        )

    def is_inside(self, width: int, height: int, tol: float = 1e-6) -> bool:
        return self.x1 >= -tol and self.y1 >= -tol and self.x2 <= width + tol and self.y2 <= height + tol

    def normalized(self) -> Box:
        """Corners ordered so that x1 <= x2 and y1 <= y2."""
        return replace(
            self,
            x1=min(self.x1, self.x2),
            x2=max(self.x1, self.x2),
            y1=min(self.y1, self.y2),
            y2=max(self.y1, self.y2),
        )

    def xyxy(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)


@dataclass
class ImageAnnotation:
    """All boxes of one image plus what a label file records about the image."""

    image_path: Path
    width: int
    height: int
    depth: int = 3
    boxes: list[Box] = field(default_factory=list)
    verified: bool = False
    warnings: list[str] = field(default_factory=list)  # fixes applied while reading (e.g. clipping)

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.boxes]
