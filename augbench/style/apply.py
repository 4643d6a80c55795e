"""The ``style.apply`` job: stylize a folder (or classes of an ImageFolder) as augmentation.

For every content image, ``copies`` stylized versions are written, each with
style(s) drawn from the style bank and alpha drawn from ``[alpha_min,
alpha_max]``. Style transfer is not geometric, so labels are carried over
unchanged (YOLO copied, VOC rewritten with the new file name) and masks are
copied; with ``mask_mode`` foreground/background the masks (or the boxes) limit
where the style goes. One bad image never stops the batch; a re-run resumes
(existing outputs are kept, not recomputed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from augbench.core.atomic import atomic_write_bytes, safe_join
from augbench.core.dataset import Item, scan_dataset
from augbench.core.errors import AugbenchError, Cancelled, ConfigError, ImageReadError
from augbench.core.guard import check_nesting
from augbench.core.imageio import read_image, write_image
from augbench.core.jobs import JobResult, Skipped
from augbench.core.layout import classes_for_label, list_images
from augbench.core.progress import CancelToken, Progress, ProgressFn
from augbench.core.runfolder import RunFolder
from augbench.core.shard import parse_shard
from augbench.style.engine import AdaINEngine, StyleEngine, boxes_to_mask, fit_side


@dataclass(frozen=True)
class ApplyJob:
    """Stylize images with AdaIN (or Magenta) as data augmentation."""

    input_dir: str = field(metadata={"role": "input"})
    out_dir: str = field(metadata={"role": "output"})
    # style image files and/or folders of style images (the style bank)
    styles: list[str] = field(metadata={"role": "input"})
    classes: list[str] = field(default_factory=list)  # ImageFolder classes to stylize (empty: all)
    copies: int = field(default=1, metadata={"range": (1, 100)})
    alpha_min: float = field(default=1.0, metadata={"range": (0.0, 1.0)})
    alpha_max: float = field(default=1.0, metadata={"range": (0.0, 1.0)})
    styles_per_copy: int = field(default=1, metadata={"range": (1, 8)})  # >1: blend with random weights
    preserve_color: bool = False
    # AdaIN only: also match the output's pixel colours to the style's (alpha-weighted); off = the decoder alone
    color_match: bool = True
    # AdaIN only: closed-loop rounds (re-encode the output, push the statistics past the style's by the shortfall);
    # 0 = plain AdaIN, each round costs one more encode + decode per image
    feedback: int = field(default=1, metadata={"range": (0, 3)})
    mask_mode: Literal["all", "foreground", "background"] = "all"
    engine: Literal["adain", "magenta"] = "adain"
    encoder: Literal["vgg16", "vgg19"] = "vgg16"
    encoder_weights: str = field(default="", metadata={"role": "input"})
    decoder_weights: str = field(default="", metadata={"role": "input"})
    max_side: int = field(default=1024, metadata={"range": (64, 8192)})
    style_side: int = field(default=512, metadata={"range": (64, 2048)})
    precision: Literal["auto", "fp32", "bf16"] = "auto"  # auto: bf16 where the CPU/GPU runs it fast
    device: str = "auto"
    seed: int = 0
    # "I/N": stylize only shard I of N (by image path) into the same out_dir; see augbench.core.shard
    shard: str = field(default="", metadata={"rerun": "free"})

    def __post_init__(self) -> None:
        parse_shard(self.shard)
        if self.alpha_min > self.alpha_max:
            raise ConfigError("alpha_min", f"alpha_min {self.alpha_min} is larger than alpha_max {self.alpha_max}")
        if not self.styles:
            raise ConfigError("styles", "give at least one style image or folder")
        if not self.out_dir:
            raise ConfigError("out_dir", "an output folder is required")
        check_nesting(self)  # the shared rule (core/guard.py), at construction so forms fail early


def build_engine(cfg: ApplyJob) -> StyleEngine:
    """The engine a config asks for (networks load lazily on first use)."""
    if cfg.engine == "magenta":
        from augbench.style.magenta import MagentaEngine

        return MagentaEngine(device=cfg.device)
    return AdaINEngine(encoder=cfg.encoder, encoder_weights=cfg.encoder_weights or None,
                       decoder_weights=cfg.decoder_weights or None, device=cfg.device,
                       max_side=cfg.max_side, style_side=cfg.style_side, precision=cfg.precision,
                       color_match=cfg.color_match, feedback=cfg.feedback)


def load_style_bank(specs: list[str], side: int) -> tuple[list[tuple[str, np.ndarray]], list[Skipped]]:
    """Read style images (files or folders), downscaled to ``side``; bad ones are skipped with a reason."""
    paths: list[Path] = []
    skipped: list[Skipped] = []
    for s in specs:
        p = Path(s)
        if p.is_dir():
            paths += list_images(p, recursive=True)
        elif p.is_file():
            paths.append(p)
        else:
            skipped.append(Skipped(str(p), "style image not found"))
    bank = []
    for p in paths:
        try:
            bank.append((str(p), fit_side(read_image(p), side)))
        except ImageReadError as exc:
            skipped.append(Skipped(str(p), f"style image unreadable: {exc}"))
    return bank, skipped


def _region_mask(item: Item, shape: tuple[int, int], box_classes: list[str]) -> np.ndarray | None:
    """Foreground mask for ``item``: its mask PNG, else its boxes; None when it has neither."""
    h, w = shape
    if item.mask_file is not None:
        m = read_image(item.mask_file, mode="gray")
        if m.shape[:2] != (h, w):
            import cv2

            m = cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST)
        return m
    if item.label_file is not None:
        from augbench.label.io import read_labels

        ann = read_labels(item.label_file, item.image, (w, h), box_classes)
        return boxes_to_mask([(b.x1, b.y1, b.x2, b.y2) for b in ann.boxes], h, w)
    return None


def _carry_labels(item: Item, out_img: Path, box_classes: list[str], size: tuple[int, int]) -> list[str]:
    """Write the item's label/mask next to ``out_img`` unchanged (boxes stay valid)."""
    written = []
    if item.label_file is not None:
        if item.label_file.suffix.lower() == ".xml":
            from augbench.label.voc import read_voc, write_voc

            ann = read_voc(item.label_file, image_path=item.image, image_size=size)
            ann.image_path = out_img
            dst = out_img.with_suffix(".xml")
            write_voc(dst, ann)
        else:
            dst = out_img.with_suffix(".txt")
            atomic_write_bytes(dst, item.label_file.read_bytes())
            classes_txt = out_img.parent / "classes.txt"
            names = classes_for_label(item.label_file) or box_classes
            if names and not classes_txt.exists():
                atomic_write_bytes(classes_txt, ("\n".join(names) + "\n").encode("utf-8"))
        written.append(str(dst))
    if item.mask_file is not None:
        dst = out_img.parent / "masks" / f"{out_img.stem}.png"
        dst.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(dst, item.mask_file.read_bytes())
        written.append(str(dst))
    return written


def _out_name(root: Path, out_root: Path, item: Item, k: int) -> Path:
    rel = item.image.relative_to(root)
    ext = item.image.suffix.lower() if item.image.suffix.lower() in (".jpg", ".jpeg", ".png") else ".png"
    return safe_join(out_root, *rel.parent.parts, f"{item.image.stem}_style{k:02d}{ext}")


def run_style_apply(cfg: ApplyJob, *, progress: ProgressFn, cancel: CancelToken,
                    engine: StyleEngine | None = None) -> JobResult:
    """Run the batch. ``engine`` may be injected (tests use tiny random networks)."""
    info = scan_dataset(cfg.input_dir)
    root = info.root
    items = [i for i in info.items if not cfg.classes or i.label_class in cfg.classes]
    if cfg.classes and not items:
        raise ConfigError("classes", f"no images in classes {cfg.classes}; found classes {info.classes}")
    shard = parse_shard(cfg.shard)
    items = shard.select(items, key=lambda it: it.image.relative_to(root).as_posix())
    run = RunFolder(cfg.out_dir, shard)
    run.write_job(cfg)
    out_root = Path(run.root).resolve()  # outputs are joined absolutely: a relative --out must compare equal
    result = JobResult(kind="style.apply", out_dir=str(out_root))
    bank, result.skipped = load_style_bank(list(cfg.styles), cfg.style_side)
    if not bank:
        raise ConfigError("styles", "no readable style image: " + "; ".join(s.reason for s in result.skipped))
    engine = engine or build_engine(cfg)
    box_classes = info.box_classes or []
    done_before = {row.get("output") for row in run.done_rows()}
    total = len(items) * cfg.copies
    n = 0
    sha = ""
    try:
        for item in items:
            # Each image's random choices come from (seed, its path) alone, so a resumed run, a shard and a
            # whole run all make the same choices for it, whatever else is in the batch.
            rel_key = item.image.relative_to(root).as_posix()
            rng = np.random.default_rng([cfg.seed, int.from_bytes(hashlib.blake2b(
                rel_key.encode("utf-8"), digest_size=8).digest(), "big")])
            draws = []
            for _ in range(cfg.copies):
                idx = rng.choice(len(bank), size=min(cfg.styles_per_copy, len(bank)), replace=False)
                wts = rng.dirichlet(np.ones(len(idx))) if len(idx) > 1 else np.ones(1)
                draws.append((idx, wts, float(rng.uniform(cfg.alpha_min, cfg.alpha_max))))
            cancel.check()
            outs = [_out_name(root, out_root, item, k) for k in range(cfg.copies)]
            if all(str(o.relative_to(out_root)) in done_before and o.exists() for o in outs):
                result.outputs += [str(o) for o in outs]
                n += cfg.copies
                progress(Progress(n, total, f"{item.image.name}: already done"))
                continue
            try:
                content = read_image(item.image)
                mask = None
                if cfg.mask_mode != "all":
                    mask = _region_mask(item, content.shape[:2], box_classes)
                    if mask is None:
                        raise AugbenchError("no mask or boxes for this image (mask_mode needs them)")
            except AugbenchError as exc:
                result.skipped.append(Skipped(str(item.image), str(exc)))
                n += cfg.copies
                progress(Progress(n, total, f"skipped {item.image.name}"))
                continue
            for k, (idx, wts, alpha) in enumerate(draws):
                cancel.check()
                styles = [bank[int(i)][1] for i in idx]
                try:
                    out = engine.stylize(content, styles, weights=[float(w) for w in wts], alpha=alpha,
                                         preserve_color=cfg.preserve_color, mask=mask, mask_mode=cfg.mask_mode)
                except Cancelled:
                    raise
                except (AugbenchError, ValueError, RuntimeError) as exc:  # one bad image must not stop the batch
                    result.skipped.append(Skipped(str(item.image), str(exc).splitlines()[0] if str(exc) else
                                                  type(exc).__name__))
                    n += cfg.copies - k
                    progress(Progress(n, total, f"skipped {item.image.name}"))
                    break
                write_image(outs[k], out)
                carried = _carry_labels(item, outs[k], box_classes, (content.shape[1], content.shape[0]))
                sha = sha or engine.weights_sha256
                run.manifest.append({
                    "origin": "style",  # the Benchmark tab's "+style" arm reads rows by origin/file/source
                    "file": str(outs[k].relative_to(out_root)),
                    "source": str(item.image),
                    "output": str(outs[k].relative_to(out_root)),
                    "content": str(item.image),
                    "class": item.label_class,
                    "style": [bank[int(i)][0] for i in idx],
                    "style_weights": [round(float(w), 4) for w in wts],
                    "alpha": round(alpha, 4),
                    "engine": engine.name,
                    "weights_sha256": sha,
                    "preserve_color": cfg.preserve_color,
                    "mask_mode": cfg.mask_mode,
                    "labels": [str(Path(c).relative_to(out_root)) for c in carried],
                    "seed": cfg.seed,
                    "copy": k,
                })
                result.outputs.append(str(outs[k]))
                n += 1
                progress(Progress(n, total, f"{item.image.name} #{k + 1}", preview=out))
    except Cancelled as exc:
        result.status = "cancelled"
        result.message = f"cancelled after {len(result.outputs)} of {total} images"
        run.write_result(result)
        exc.result = result  # type: ignore[attr-defined]
        raise
    result.metrics = {"images": len(items), "written": len(result.outputs), "skipped": len(result.skipped),
                      "engine": engine.name}
    result.message = (f"wrote {len(result.outputs)} stylized images ({len(items)} inputs x {cfg.copies} copies) "
                      f"to {out_root}" + (f"; skipped {len(result.skipped)}" if result.skipped else ""))
    run.write_result(result)
    return result


StyleApplyConfig = ApplyJob  # the class's name before the kinds were renamed (issue 12)
