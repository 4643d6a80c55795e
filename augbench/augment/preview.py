"""Live preview tiles: random augmentations of one image with boxes and masks drawn.

Previews run on a downscaled copy (longest side ``max_side``) so a slider
change repaints in tens of milliseconds even for large photos; boxes and the
mask are scaled with the image. Clipped boxes are drawn orange, dropped
boxes are listed in red on the tile, kept boxes green.

A :class:`PreviewRequest` carries everything one preview needs (a private copy
of the steps), so :func:`compute_previews` can run in a background thread
while the user keeps editing the live pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from augbench.augment.apply import augment_sample
from augbench.augment.pipeline import Step, build_compose
from augbench.label.types import Box

OK = (60, 200, 60)
CLIPPED = (255, 150, 0)
DROPPED = (230, 40, 40)
MASK_COLOURS = np.array(
    [[0, 0, 0], [0, 160, 255], [255, 80, 200], [255, 220, 0], [120, 255, 120], [180, 120, 255]], np.uint8
)


@dataclass
class PreviewSource:
    """A downscaled image with its boxes and mask, cached between slider moves."""

    image: np.ndarray
    boxes: list[Box] = field(default_factory=list)
    mask: np.ndarray | None = None
    scale: float = 1.0

    @classmethod
    def from_full(cls, image: np.ndarray, boxes: list[Box] | None = None, mask: np.ndarray | None = None,
                  max_side: int = 320) -> PreviewSource:
        h, w = image.shape[:2]
        s = min(1.0, max_side / max(h, w))
        if s < 1.0:
            size = (max(1, round(w * s)), max(1, round(h * s)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            if mask is not None:
                mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
        sb = [Box(b.x1 * s, b.y1 * s, b.x2 * s, b.y2 * s, b.label, b.difficult, b.truncated) for b in (boxes or [])]
        return cls(np.ascontiguousarray(image), sb, mask, s)


@dataclass
class PreviewTile:
    image: np.ndarray  # RGB with overlays drawn
    n_boxes: int
    dropped: list[str]
    clipped: list[str]


def overlay_mask(img: np.ndarray, mask: np.ndarray, alpha: float = 0.35) -> np.ndarray:
    """Blend a label mask (values = class ids) over an RGB image."""
    m = mask if mask.ndim == 2 else mask[..., 0]
    ids = np.clip(m.astype(np.int64), 0, None) % len(MASK_COLOURS)
    if m.max() > len(MASK_COLOURS) - 1 and len(np.unique(m)) <= 2:
        ids = (m > 0).astype(np.int64)  # a 0/255 binary mask
    colour = MASK_COLOURS[ids]
    sel = m > 0
    out = img.copy()
    out[sel] = (img[sel] * (1 - alpha) + colour[sel] * alpha).astype(np.uint8)
    return out


def draw_boxes(img: np.ndarray, boxes: list[Box], clipped: set[int] | None = None) -> np.ndarray:
    clipped = clipped or set()
    out = np.ascontiguousarray(img if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)).copy()
    thick = max(1, round(max(out.shape[:2]) / 250))
    for i, b in enumerate(boxes):
        c = CLIPPED if i in clipped else OK
        p1, p2 = (int(round(b.x1)), int(round(b.y1))), (int(round(b.x2)) - 1, int(round(b.y2)) - 1)
        cv2.rectangle(out, p1, p2, c, thick)
        cv2.putText(out, b.label, (p1[0] + 2, max(10, p1[1] + 11)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, c, 1, cv2.LINE_AA)
    return out


def render_tile(img: np.ndarray, boxes: list[Box], mask: np.ndarray | None, clipped: list[int],
                dropped_labels: list[str]) -> np.ndarray:
    base = img if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if mask is not None:
        base = overlay_mask(base, mask)
    out = draw_boxes(base, boxes, set(clipped))
    if dropped_labels:
        text = "dropped: " + ", ".join(dropped_labels)
        cv2.rectangle(out, (0, out.shape[0] - 14), (out.shape[1], out.shape[0]), (0, 0, 0), -1)
        cv2.putText(out, text, (2, out.shape[0] - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.35, DROPPED, 1, cv2.LINE_AA)
    return out


def make_previews(src: PreviewSource, steps: list[Step], n: int = 6, seed: int = 0, min_visibility: float = 0.1,
                  force: bool = False) -> list[PreviewTile]:
    """``n`` random augmentations of ``src``; ``force`` applies every step (p=1) to show its effect."""
    compose = build_compose(steps, min_visibility=min_visibility, p_override=1.0 if force else None)
    tiles = []
    for i in range(n):
        aug = augment_sample(compose, src.image, src.boxes, src.mask, seed=seed * 1000 + i)
        dropped = [src.boxes[j].label for j in aug.dropped]
        tiles.append(PreviewTile(render_tile(aug.image, aug.boxes, aug.mask, aug.clipped, dropped),
                                 len(aug.boxes), dropped, [aug.boxes[j].label for j in aug.clipped]))
    return tiles


@dataclass(frozen=True)
class PreviewRequest:
    """One preview's inputs, detached from the editor (the steps are copies)."""

    source: PreviewSource
    steps: list[Step]
    n: int = 6
    seed: int = 0
    min_visibility: float = 0.1
    force: bool = False


def compute_previews(req: PreviewRequest) -> list[PreviewTile]:
    """:func:`make_previews` for a request (what the GUI's background thread runs)."""
    return make_previews(req.source, req.steps, req.n, req.seed, req.min_visibility, force=req.force)


def contact_sheet(images: list[np.ndarray], cols: int = 3, cell: int = 256, pad: int = 4) -> np.ndarray:
    """Tile images (letterboxed to ``cell`` px squares) into one RGB sheet."""
    rows = max(1, -(-len(images) // cols))
    sheet = np.full((rows * (cell + pad) + pad, cols * (cell + pad) + pad, 3), 255, np.uint8)
    for i, im in enumerate(images):
        if im.ndim == 2:
            im = cv2.cvtColor(im, cv2.COLOR_GRAY2RGB)
        h, w = im.shape[:2]
        s = cell / max(h, w)
        im = cv2.resize(im, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        r, c = divmod(i, cols)
        y = pad + r * (cell + pad) + (cell - im.shape[0]) // 2
        x = pad + c * (cell + pad) + (cell - im.shape[1]) // 2
        sheet[y:y + im.shape[0], x:x + im.shape[1]] = im
    return sheet
