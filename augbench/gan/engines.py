"""The balance job's synthesis engines and what they share: loading, writing, provenance, the gate.

Two engines fill a defect class from the training split's normals:

* ``transplant`` (:mod:`augbench.gan.transplant`): real defect regions blended
  into other normals; no training, milliseconds per image, writes the mask of
  every pasted defect.
* ``cyclegan``: a translator trained per class (optionally at native
  resolution on crops, with an attention generator whose mask is written).

Every generated file is written at its source normal's resolution and in its
format, with ``masks/<stem>.png`` beside it and a manifest row naming the
translated ``source``, every real ``defect_sources`` image the generator used,
the engine and the seed. A probe batch passes the realism gate
(:mod:`augbench.gan.quality`) before anything is written.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import cv2
import numpy as np

from augbench.core.atomic import atomic_path, safe_join
from augbench.core.dataset import Item
from augbench.core.errors import ImageReadError
from augbench.core.imageio import read_image, write_image
from augbench.core.jobs import Skipped
from augbench.core.layout import MASK_SUBDIR, find_mask
from augbench.core.progress import CancelToken, Progress, ProgressFn
from augbench.core.runfolder import RunFolder
from augbench.gan.planner import ClassPlan
from augbench.gan.quality import GateReport, QualityGateError, realism_gate

if TYPE_CHECKING:
    from augbench.gan.balance import BalanceConfig

WRITE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


@dataclass
class Loaded:
    """A decoded training image: its path, the path relative to the data set, pixels (grey or RGB)."""

    path: Path
    rel: str
    image: np.ndarray


def load_items(items: list[Item], root: Path, cancel: CancelToken) -> tuple[dict[str, list[Loaded]], list[Skipped]]:
    """Decode every item (a truncated file fails here, not mid-run); bad ones are skipped and reported."""
    by_class: dict[str, list[Loaded]] = {}
    skipped: list[Skipped] = []
    for n, it in enumerate(items):
        if n % 100 == 0:
            cancel.check()
        try:
            img = read_image(it.image, mode="auto")
        except ImageReadError as exc:
            skipped.append(Skipped(str(it.image), f"unreadable, left out of the plan: {exc.reason}"))
            continue
        if min(img.shape[:2]) < 8:
            skipped.append(Skipped(str(it.image), f"{img.shape[1]}x{img.shape[0]} px is too small to use"))
            continue
        by_class.setdefault(it.label_class or "", []).append(Loaded(it.image, it.image.relative_to(root).as_posix(),
                                                                    img))
    return by_class, skipped


def out_name(plan: ClassPlan, k: int, source: Path) -> str:
    ext = source.suffix.lower() if source.suffix.lower() in WRITE_EXTS else ".png"
    return f"gen_{plan.name}_{k:05d}{ext}"


def write_output(out_cls: Path, name: str, img: np.ndarray, mask: np.ndarray | None, copy_dir: Path | None
                 ) -> tuple[Path, str | None]:
    """Write the image (format from ``name``) and its mask PNG under ``masks/``; returns (path, mask rel)."""
    dest = write_image(safe_join(out_cls, name), img)
    mask_rel = None
    if mask is not None:
        mask_rel = f"{MASK_SUBDIR}/{Path(name).stem}.png"
        write_image(safe_join(out_cls, MASK_SUBDIR, f"{Path(name).stem}.png"), mask)
    if copy_dir is not None:
        write_image(copy_dir / name, img)
        if mask is not None:
            write_image(copy_dir / MASK_SUBDIR / f"{Path(name).stem}.png", mask)
    return dest, mask_rel


def gate_or_raise(cfg: BalanceConfig, cls: str, probe: list[np.ndarray], sources: list[np.ndarray],
                  real: list[np.ndarray], progress: ProgressFn) -> GateReport | None:
    """Run the realism gate on the probe; raise QualityGateError when it fails and the user did not consent."""
    if not cfg.quality_gate:
        return None
    progress(Progress(0, 0, f"realism gate: {len(probe)} {cls} outputs vs {len(real)} real", stage=f"gate:{cls}"))
    report = realism_gate(probe, real, sources, features=cfg.kid_features, seed=cfg.seed)
    progress(Progress(0, 0, f"realism gate {cls}: {report.summary()}", stage=f"gate:{cls}"))
    if not report.passed and not cfg.allow_failed_quality:
        raise QualityGateError(report)
    return report


# --------------------------------------------------------------------------- transplant


def defect_hints(defects: list[Loaded]) -> tuple[list[np.ndarray | None], list[list[tuple] | None]]:
    """User masks (``masks/<stem>.png`` or ``<stem>_mask.png``) and boxes (YOLO/VOC) of the defect images."""
    from augbench.core.layout import find_label
    from augbench.label.formats import for_file

    masks: list[np.ndarray | None] = []
    boxes: list[list[tuple] | None] = []
    for d in defects:
        mp = find_mask(d.path)
        m = None
        if mp is not None:
            try:
                m = read_image(mp, mode="gray")
                m = m if m.shape == d.image.shape[:2] else None
            except ImageReadError:
                m = None
        masks.append(m)
        b = None
        lf = find_label(d.path) if m is None else None
        if lf is not None:
            try:
                ann = for_file(lf).read(lf, d.path, (d.image.shape[1], d.image.shape[0]), [])
                b = [tuple(float(v) for v in (bx.x1, bx.y1, bx.x2, bx.y2)) for bx in ann.boxes] or None
            except Exception:  # an unreadable label only costs the hint, the difference still works
                b = None
        boxes.append(b)
    return masks, boxes


def generate_transplant(cfg: BalanceConfig, plan: ClassPlan, normals: list[Loaded], defects: list[Loaded],
                        out_cls: Path, run: RunFolder, progress: ProgressFn, cancel: CancelToken,
                        done_files: set[str]) -> tuple[list[str], dict[str, Any]]:
    """Fill ``plan`` with transplants; returns (written paths, summary with regions and the gate report)."""
    from augbench.gan.transplant import extract_defect_regions, region_summary, synthesize

    masks, boxes = defect_hints(defects)
    ref = normals
    if len(ref) > cfg.max_reference_normals:  # the background model needs a few hundred at most
        keep = np.random.default_rng([cfg.seed, 31]).choice(len(ref), cfg.max_reference_normals, replace=False)
        ref = [normals[i] for i in sorted(keep)]
    progress(Progress(0, plan.to_generate, f"finding defect regions in {len(defects)} {plan.name} images",
                      stage=f"regions:{plan.name}"))
    chosen: dict[str, str] = {}
    missing: list[tuple[int, str]] = []
    patches = extract_defect_regions([d.image for d in defects], [n.image for n in ref], masks=masks, boxes=boxes,
                                     polarity=cfg.polarity, chosen=chosen, skipped=missing)
    summary: dict[str, Any] = {"class": plan.name, "engine": "transplant", "regions": region_summary(patches),
                               "polarity": chosen.get("polarity"),
                               "defects_without_region": [defects[i].rel for i, _ in missing]}
    if not patches:
        from augbench.core.errors import DatasetError

        raise DatasetError(f"no defect region found in the {len(defects)} {plan.name!r} images: give masks or "
                           "boxes (Label tab), or check that the normals are of the same kind")
    place = {"max_angle": cfg.max_angle, "flips": True, "rot90": cfg.rot90, "scale": (cfg.scale_min, cfg.scale_max),
             "placement": cfg.placement}
    imgs = [n.image for n in normals]

    def make(start: int, n: int) -> list[tuple[np.ndarray, np.ndarray, dict]]:
        return synthesize(imgs, [d.image for d in defects], n, seed=cfg.seed, patches=patches, blend=cfg.blend,
                          patches_per_image=cfg.patches_per_image, avoid_bus_bars=cfg.avoid_bus_bars, start=start,
                          **place)

    probe = make(0, min(cfg.gate_n, plan.to_generate))
    gate = gate_or_raise(cfg, plan.name, [o[0] for o in probe], [imgs[o[2]["normal"]] for o in probe],
                         [d.image for d in defects], progress)
    summary["gate"] = gate.as_dict() if gate else None
    cached = {o[2]["index"]: o for o in probe}
    rel_dir = out_cls.relative_to(run.root.resolve()).as_posix()
    copy_dir = Path(cfg.generated_copy) / plan.name if cfg.generated_copy else None
    written: list[str] = []
    for k in range(plan.to_generate):
        if k % 16 == 0:
            cancel.check()
        img, mask, prov = cached.pop(k, None) or make(k, 1)[0]
        src = normals[prov["normal"]]
        name = out_name(plan, k, src.path)
        if f"{rel_dir}/{name}" in done_files:
            continue
        dest, mask_rel = write_output(out_cls, name, img, mask, copy_dir)
        run.manifest.append({"file": f"{rel_dir}/{name}", "class": plan.name, "origin": "transplant",
                             "engine": "transplant", "synthetic": True, "source": src.rel,
                             "defect_sources": [defects[prov["defect"]].rel],
                             "mask": f"{rel_dir}/{mask_rel}" if mask_rel else None, "seed": cfg.seed,
                             "index": k, "blend": prov["blend"], "patches": prov["patches"]})
        written.append(str(dest))
        if len(written) % 16 == 0 or k == plan.to_generate - 1:
            progress(Progress(k + 1, plan.to_generate, f"transplanted {k + 1}/{plan.to_generate} {plan.name}",
                              stage=f"generate:{plan.name}"))
    return written, summary


# --------------------------------------------------------------------------- copies of the originals


def copy_items(items: list[Item], root: Path, out: Path, prefix: str, run: RunFolder, done: set[str],
               cancel: CancelToken, skip: set[str], whiten_mode: str = "none") -> tuple[list[str], list[Skipped]]:
    """Copy originals into ``out/<prefix><split>/<class>/`` (a manifest row each); files in ``skip`` (already
    reported as unreadable) are left out. With whitening, originals are written whitened too, so real and
    generated images differ only by the defect."""
    written, skipped = [], []
    for n, item in enumerate(items):
        if n % 200 == 0:
            cancel.check()
        if str(item.image) in skip:
            continue
        split = f"{item.split}/" if item.split else prefix
        rel = f"{split}{item.label_class}/{item.image.name}"
        if rel in done:
            continue
        dest = safe_join(out, *rel.split("/"))
        try:
            if whiten_mode != "none":
                write_image(dest, whitened(item.image, whiten_mode))
            else:
                with atomic_path(dest) as tmp:
                    shutil.copyfile(item.image, tmp)
        except (OSError, ImageReadError) as exc:
            skipped.append(Skipped(str(item.image), f"copy failed: {getattr(exc, 'strerror', None) or exc}"))
            continue
        run.manifest.append({"file": rel, "class": item.label_class, "origin": "original", "synthetic": False,
                             "source": str(item.image.relative_to(root)),
                             **({"whiten": whiten_mode} if whiten_mode != "none" else {})})
        written.append(str(dest))
    return written, skipped


def whitened(path: Path, mode: str) -> np.ndarray:
    """``path`` decoded and whitened at its own resolution (the same rule the GAN's inputs get)."""
    from augbench.gan.whiten import foreground, whiten

    img = read_image(path, mode="auto")
    mask = None
    if mode == "mask":
        mp = find_mask(path)
        mask = read_image(mp, mode="gray") if mp is not None else None
    return whiten(img, foreground(img, mode, mask=mask))  # type: ignore[arg-type]


def resize_to(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``img`` (HxW or HxWxC) resized to ``shape`` (h, w): cubic up, area down."""
    if img.shape[:2] == shape:
        return img
    interp = cv2.INTER_AREA if img.shape[0] > shape[0] else cv2.INTER_CUBIC
    out = cv2.resize(img, (shape[1], shape[0]), interpolation=interp)
    return out[..., None] if img.ndim == 3 and out.ndim == 2 else out


def chunks(seq: list[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]

