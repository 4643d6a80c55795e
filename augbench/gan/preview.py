"""A look before the full run: a few outputs of the chosen engine, each beside its mask.

The Synthesize tab's Preview button runs this in the worker: for the
transplant engine it cuts regions from the first defect class and pastes
``n`` of them (nothing is written); for CycleGAN it translates ``n``
training normals with the class's existing checkpoint (``best.pt``, else
``last.pt``), or says that there is none yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from augbench.core.errors import DatasetError
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.gan.engines import load_items

if TYPE_CHECKING:
    from augbench.gan.balance import BalanceConfig

TILE = 160


def _rgb(img: np.ndarray) -> np.ndarray:
    img = img if img.ndim == 3 else img[..., None]
    return np.repeat(img[..., :1], 3, axis=2) if img.shape[2] == 1 else np.ascontiguousarray(img[..., :3])


def overlay(img: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The image with its mask in red (defect 255 strong, blend rim 128 faint); RGB uint8."""
    out = _rgb(img).astype(np.float32)
    if mask is not None:
        a = (mask.astype(np.float32) / 255.0 * 0.55)[..., None]
        out = out * (1 - a) + np.array([230.0, 30.0, 30.0]) * a
    return out.clip(0, 255).astype(np.uint8)


def preview_grid(images: list[np.ndarray], masks: list[np.ndarray | None], tile: int = TILE) -> np.ndarray:
    """Two rows: the outputs, then the same outputs with their masks overlaid."""
    def cell(a: np.ndarray) -> np.ndarray:
        return cv2.resize(a, (tile, tile), interpolation=cv2.INTER_AREA)

    gap = np.full((tile, 4, 3), 255, np.uint8)
    top = [cell(_rgb(im)) for im in images]
    bottom = [cell(overlay(im, m)) for im, m in zip(images, masks)]

    def row(cells: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(sum(([c, gap] for c in cells), [])[:-1], axis=1)

    return np.concatenate([row(top), np.full((4, row(top).shape[1], 3), 255, np.uint8), row(bottom)], axis=0)


def preview_outputs(cfg: BalanceConfig, n: int = 4, *, progress: ProgressFn = null_progress,
                    cancel: CancelToken | None = None) -> dict[str, Any]:
    """``{"grid": RGB array, "message": str, "masks": int}`` for the first checked defect class."""
    from augbench.gan.balance import training_items

    cancel = cancel or CancelToken()
    train, _, _ = training_items(cfg)
    cls = cfg.defect_classes[0]
    wanted = [it for it in train if it.label_class in (cfg.normal_class, cls)]
    progress(Progress(0, 0, f"loading {len(wanted)} images for the preview", stage="preview"))
    loaded, _ = load_items(wanted, Path(cfg.dataset), cancel)
    normals, defects = loaded.get(cfg.normal_class, []), loaded.get(cls, [])
    if not normals or not defects:
        raise DatasetError(f"the preview needs images of {cfg.normal_class!r} and {cls!r}")
    if cfg.engine == "transplant":
        from augbench.gan.engines import defect_hints
        from augbench.gan.transplant import extract_defect_regions, synthesize

        masks, boxes = defect_hints(defects)
        ref = [x.image for x in normals[:cfg.max_reference_normals]]
        patches = extract_defect_regions([d.image for d in defects], ref, masks=masks, boxes=boxes,
                                         polarity=cfg.polarity)
        if not patches:
            raise DatasetError(f"no defect region found in the {cls!r} images: give masks or boxes (Label tab)")
        outs = synthesize([x.image for x in normals], [d.image for d in defects], n, seed=cfg.seed, patches=patches,
                          blend=cfg.blend, patches_per_image=cfg.patches_per_image, avoid_bus_bars=cfg.avoid_bus_bars,
                          max_angle=cfg.max_angle, rot90=cfg.rot90, scale=(cfg.scale_min, cfg.scale_max),
                          placement=cfg.placement)
        return {"grid": preview_grid([o[0] for o in outs], [o[1] for o in outs]), "masks": len(outs),
                "message": f"transplant preview: {n} {cls} outputs from {len(patches)} defect regions "
                           "(top: images, bottom: their masks in red); nothing written"}
    work = cfg.resolved_work_dir / cls
    ckpt = next((p for p in (work / "best.pt", work / "last.pt") if p.exists()), None)
    if ckpt is None:
        return {"grid": None, "masks": 0, "message": f"no CycleGAN checkpoint for {cls!r} yet in {work}: the "
                                                     "sample grid appears while it trains"}
    from augbench.gan.data import load_image, to_tensor, to_uint8
    from augbench.gan.trainer import load_model

    model, meta = load_model(ckpt, cfg.device)
    c, view = model.cfg.channels, model.cfg.translate_size
    x = to_tensor(np.stack([load_image(s.path, c, view, cfg.whiten) for s in normals[:n]]))  # type: ignore[arg-type]
    fake, mask = model.translate_with_mask(x)
    imgs = list(to_uint8(fake))
    ms = [(m[0].numpy() * 255).round().astype(np.uint8) for m in mask] if mask is not None else [None] * len(imgs)
    return {"grid": preview_grid(imgs, ms), "masks": sum(m is not None for m in ms),
            "message": f"CycleGAN preview from {ckpt.name} (epoch {meta.get('epoch')}): {len(imgs)} {cls} outputs"
                       + ("" if mask is not None else " (a plain ResNet generator has no mask)")}
