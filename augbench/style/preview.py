"""Real-time preview on top of :class:`~augbench.style.engine.AdaINEngine`: an alpha change only decodes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from augbench.style.imageops import MaskMode, as_rgb, composite_region, image_key

if TYPE_CHECKING:
    from augbench.style.engine import AdaINEngine, ColorMatch, Target


class PreviewSession:
    """Real-time preview: remembers the last target so an alpha change only decodes.

    ``render`` compares its arguments with the previous call: new content ->
    encode; new style/weights/colour/mask -> recompute the target (style stats
    are cached in the engine); alpha only -> mix + decoder. ``last_stages``
    says what ran, for tests and the benchmark.
    """

    def __init__(self, engine: AdaINEngine) -> None:
        self.engine = engine
        self._key: tuple | None = None
        self._target: Target | None = None
        self._color: ColorMatch | None = None
        self.last_stages: list[str] = []

    def render(
        self,
        content: np.ndarray,
        styles: Sequence[np.ndarray],
        weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        preserve_color: bool = False,
        mask: np.ndarray | None = None,
        mask_mode: MaskMode = "all",
    ) -> np.ndarray:
        stages: list[str] = []
        before = self.engine._content
        state = self.engine.encode_content(content)
        if state is not before:
            stages.append("encode")
        key = (state.key, tuple(image_key(as_rgb(s)) for s in styles), tuple(weights or ()), preserve_color,
               None if mask is None or mask_mode == "all" else image_key(np.asarray(mask)), mask_mode)
        if key != self._key or self._target is None:
            self._target, self._color = self.engine.prepare(state, styles, weights, preserve_color, mask, mask_mode)
            self._key = key
            stages.append("adain")
        out = composite_region(content, self.engine.decode(state, self._target, alpha, self._color), mask,
                               mask_mode)
        stages.append("decode")
        self.last_stages = stages
        return out
