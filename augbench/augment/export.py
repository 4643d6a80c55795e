"""The augment export job: N augmented copies of every image, labels rewritten.

Work is spread over processes (both cores) with one task per source image.
Each output's seed is derived from the job seed, the image's relative path
and the copy number, so the result does not depend on which worker ran it and
a re-run resumes (outputs already in the manifest are not redone).
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageOps

from augbench.augment.apply import augment_sample, summarize_params
from augbench.augment.pipeline import Step, build_compose, load_pipeline, steps_from_dicts
from augbench.core.atomic import atomic_write_bytes
from augbench.core.dataset import Item, scan_dataset
from augbench.core.errors import AugbenchError, Cancelled, ConfigError, ImageReadError, LabelFormatError
from augbench.core.imageio import encode_image, read_image
from augbench.core.jobs import JobResult, Skipped, job_runner, register_job
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.core.runfolder import RunFolder
from augbench.label.io import read_labels, write_labels
from augbench.label.types import ImageAnnotation


@register_job("augment", summary="Export N augmented copies of a data set with labels and masks rewritten")
@dataclass(frozen=True)
class AugmentJob:
    """Augment every image of ``input_dir`` into ``output_dir`` (same layout)."""

    input_dir: str
    output_dir: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    pipeline_file: str | None = None
    copies: int = field(default=3, metadata={"range": (1, 10000)})
    seed: int = 0
    workers: int = field(default=0, metadata={"range": (0, 256)})  # 0 = one per core
    empty_policy: Literal["keep", "drop"] = "keep"
    min_visibility: float = field(default=0.1, metadata={"range": (0.0, 1.0)})
    include_originals: bool = False
    image_format: Literal["same", "jpg", "png"] = "same"
    jpeg_quality: int = field(default=95, metadata={"range": (1, 100)})

    def __post_init__(self) -> None:
        if not self.steps and not self.pipeline_file:
            raise ConfigError("steps", "give the transforms as 'steps' or a 'pipeline_file'")
        if Path(self.output_dir).resolve() == Path(self.input_dir).resolve():
            raise ConfigError("output_dir", "must differ from input_dir (originals are never overwritten)")

    def resolved_steps(self) -> list[Step]:
        return load_pipeline(self.pipeline_file) if self.pipeline_file else steps_from_dicts(self.steps)


def output_seed(base: int, rel: str, copy: int) -> int:
    """A 32-bit seed from (job seed, relative path, copy number): stable across runs and workers."""
    h = hashlib.blake2b(f"{base}|{rel}|{copy}".encode(), digest_size=4).digest()
    return int.from_bytes(h, "little")


@dataclass
class _Task:
    index: int
    image: str
    rel: str
    label_file: str | None
    mask_file: str | None
    copies: list[int]


@dataclass
class _TaskResult:
    index: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# Per-process state, set by _init_worker (spawned workers) or directly (in-process).
_STATE: dict[str, Any] = {}


def _init_worker(cfg_dict: dict[str, Any], steps: list[dict[str, Any]], classes: list[str], root: str) -> None:
    import cv2

    cv2.setNumThreads(1)
    _STATE.clear()
    _STATE.update(
        cfg=cfg_dict,
        compose=build_compose(steps_from_dicts(steps), min_visibility=cfg_dict["min_visibility"]),
        classes=classes,
        root=Path(root),
        out=Path(cfg_dict["output_dir"]),
    )


def read_mask(path: Path) -> np.ndarray:
    """A mask as its stored values (palette indices stay indices), EXIF-aligned with its image."""
    try:
        with Image.open(path) as im:
            im.load()
            im = ImageOps.exif_transpose(im)
            arr = np.asarray(im)
    except (OSError, ValueError) as exc:
        raise ImageReadError(path, f"mask: {exc}") from None
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    return np.ascontiguousarray(arr)


def _out_ext(src: Path, image_format: str) -> str:
    if image_format == "jpg":
        return ".jpg"
    if image_format == "png":
        return ".png"
    ext = src.suffix.lower()
    return ext if ext in (".jpg", ".jpeg", ".png", ".bmp", ".webp") else ".png"


def _mirror(root: Path, out: Path, path: Path, new_stem: str, ext: str | None = None) -> Path:
    rel = path.relative_to(root)
    return out / rel.parent / f"{new_stem}{ext if ext is not None else path.suffix}"


def _process(task: _Task) -> _TaskResult:
    cfg = _STATE["cfg"]
    root: Path = _STATE["root"]
    out: Path = _STATE["out"]
    res = _TaskResult(task.index)
    src = Path(task.image)
    try:
        image = read_image(src, mode="auto")
        h, w = image.shape[:2]
        ann = ImageAnnotation(src, w, h)
        label_file = Path(task.label_file) if task.label_file else None
        if label_file is not None:
            ann = read_labels(label_file, src, (w, h), _STATE["classes"])
            res.warnings += [f"{label_file}: {m}" for m in ann.warnings]
        mask = read_mask(Path(task.mask_file)) if task.mask_file else None
        if mask is not None and mask.shape[:2] != (h, w):
            raise ImageReadError(task.mask_file, f"mask is {mask.shape[1]}x{mask.shape[0]}, image is {w}x{h}")
    except (ImageReadError, LabelFormatError) as exc:
        res.skipped.append((task.image, str(exc)))
        return res
    ext = _out_ext(src, cfg["image_format"])
    for k in task.copies:
        seed = output_seed(cfg["seed"], task.rel, k)
        stem = f"{src.stem}_aug{k:03d}"
        try:
            aug = augment_sample(_STATE["compose"], image, ann.boxes, mask, seed=seed)
        except Exception as exc:  # noqa: BLE001 - a transform failing on one image must not kill the batch
            res.skipped.append((task.image, f"copy {k}: transform failed: {type(exc).__name__}: {exc}"))
            continue
        row: dict[str, Any] = {
            "source": task.rel, "copy": k, "seed": seed, "origin": "augment",
            "boxes_in": len(ann.boxes), "boxes_out": len(aug.boxes),
            "dropped_boxes": aug.dropped, "clipped_boxes": aug.clipped,
            "applied": summarize_params(aug.applied),
        }
        emptied = bool(ann.boxes) and not aug.boxes
        if emptied and cfg["empty_policy"] == "drop":
            row["status"] = "dropped_empty"
            res.rows.append(row)
            continue
        img_path = _mirror(root, out, src, stem, ext)
        atomic_write_bytes(img_path, encode_image(aug.image, ext, cfg["jpeg_quality"]))
        res.outputs.append(str(img_path))
        row["file"] = str(img_path.relative_to(out))
        if label_file is not None:
            oh, ow = aug.image.shape[:2]
            new_ann = ImageAnnotation(img_path, ow, oh, 1 if aug.image.ndim == 2 else 3, aug.boxes)
            lbl_path = _mirror(root, out, label_file, stem)
            write_labels(lbl_path, new_ann, _STATE["classes"])
            row["label"] = str(lbl_path.relative_to(out))
        if aug.mask is not None and task.mask_file:
            m_path = _mirror(root, out, Path(task.mask_file), stem if Path(task.mask_file).parent.name == "masks"
                             else f"{stem}_mask", ".png")
            atomic_write_bytes(m_path, encode_image(aug.mask, ".png"))
            row["mask"] = str(m_path.relative_to(out))
        row["status"] = "empty_labels" if emptied else "ok"
        res.rows.append(row)
    return res


def _copy_original(item: Item, root: Path, out: Path) -> list[str]:
    written = []
    for p in (item.image, item.label_file, item.mask_file):
        if p is not None:
            dest = out / p.relative_to(root)
            if not dest.exists():
                atomic_write_bytes(dest, p.read_bytes())
            written.append(str(dest))
    return written


def _classes_files(root: Path) -> list[Path]:
    return [p for p in (root / "classes.txt", root / "labels" / "classes.txt") if p.is_file()]


@job_runner(AugmentJob)
def run_export(cfg: AugmentJob, *, progress: ProgressFn = null_progress, cancel: CancelToken | None = None) -> JobResult:
    """Run the export; returns counts, skipped files with reasons, and box statistics."""
    cancel = cancel or CancelToken()
    t0 = time.perf_counter()
    root = Path(cfg.input_dir)
    out = Path(cfg.output_dir)
    steps = cfg.resolved_steps()
    info = scan_dataset(root)
    run = RunFolder(out)
    run.write_job(cfg)
    result = JobResult(kind="augment", out_dir=str(out))
    for cf in _classes_files(root):
        dest = out / cf.relative_to(root)
        if not dest.exists():
            atomic_write_bytes(dest, cf.read_bytes())
    done: set[tuple[str, int]] = {
        (r["source"], int(r["copy"])) for r in run.manifest.rows() if r.get("status") in ("ok", "empty_labels", "dropped_empty")
    }
    tasks: list[_Task] = []
    for i, item in enumerate(info.items):
        rel = item.image.relative_to(root).as_posix()
        todo = [k for k in range(cfg.copies) if (rel, k) not in done]
        if cfg.include_originals:
            result.outputs += _copy_original(item, root, out)
        if todo:
            tasks.append(_Task(i, str(item.image), rel, str(item.label_file) if item.label_file else None,
                               str(item.mask_file) if item.mask_file else None, todo))
    resumed = len(info.items) * cfg.copies - sum(len(t.copies) for t in tasks)
    step_dicts = [s.to_dict() for s in steps if s.enabled]
    cfg_dict = {"output_dir": str(out), "seed": cfg.seed, "min_visibility": cfg.min_visibility,
                "empty_policy": cfg.empty_policy, "image_format": cfg.image_format, "jpeg_quality": cfg.jpeg_quality}
    workers = cfg.workers or (os.cpu_count() or 1)
    workers = max(1, min(workers, len(tasks)))
    stats = {"boxes_in": 0, "boxes_out": 0, "dropped_boxes": 0, "clipped_boxes": 0, "empty_after_aug": 0,
             "dropped_images": 0}
    warnings: list[str] = []
    total = len(tasks)

    def absorb(r: _TaskResult) -> None:
        for row in r.rows:
            run.manifest.append(row)
            stats["boxes_in"] += row["boxes_in"]
            stats["boxes_out"] += row["boxes_out"]
            stats["dropped_boxes"] += len(row["dropped_boxes"])
            stats["clipped_boxes"] += len(row["clipped_boxes"])
            stats["empty_after_aug"] += row["status"] in ("empty_labels", "dropped_empty")
            stats["dropped_images"] += row["status"] == "dropped_empty"
        result.outputs += r.outputs
        result.skipped += [Skipped(p, reason) for p, reason in r.skipped]
        warnings.extend(r.warnings)

    def finish(status: str) -> JobResult:
        result.status = status  # type: ignore[assignment]
        result.metrics = {**stats, "images": len(info.items), "copies": cfg.copies, "resumed_outputs": resumed,
                          "written_images": sum(1 for o in result.outputs if Path(o).suffix.lower() != ".txt"),
                          "seconds": round(time.perf_counter() - t0, 3), "workers": workers,
                          "label_format": info.label_format, "warnings": warnings[:200]}
        n_ok = stats["boxes_out"]
        result.message = (f"{len(result.outputs)} files written from {len(info.items)} images"
                          f" ({len(result.skipped)} skipped, {stats['dropped_boxes']} boxes dropped,"
                          f" {stats['clipped_boxes']} clipped, {n_ok} boxes out)")
        run.write_result(result)
        return result

    progress(Progress(0, total, f"augmenting {total} images × {cfg.copies} copies"))
    done_count = 0
    try:
        if workers == 1 or total * cfg.copies < 24:  # spawning workers costs ~2 s: not worth it for tiny jobs
            _init_worker(cfg_dict, step_dicts, info.box_classes, str(root))
            for task in tasks:
                cancel.check()
                absorb(_process(task))
                done_count += 1
                progress(Progress(done_count, total, f"{done_count}/{total} images"))
        else:
            ctx = mp.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                     initargs=(cfg_dict, step_dicts, info.box_classes, str(root))) as pool:
                pending: set[Future[_TaskResult]] = set()
                queue = iter(tasks)
                try:
                    for task in queue:  # keep a small window in flight so cancel is prompt
                        pending.add(pool.submit(_process, task))
                        if len(pending) >= workers * 4:
                            break
                    while pending:
                        finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                        for fut in finished:
                            absorb(fut.result())
                            done_count += 1
                            progress(Progress(done_count, total, f"{done_count}/{total} images"))
                        cancel.check()
                        for task in queue:
                            pending.add(pool.submit(_process, task))
                            if len(pending) >= workers * 4:
                                break
                except Cancelled:
                    # Let in-flight images finish (their files are complete), start nothing new.
                    for fut in pending:
                        fut.cancel()
                    for fut in pending:
                        if not fut.cancelled():
                            try:
                                absorb(fut.result())
                            except Exception:  # noqa: BLE001
                                pass
                    raise
    except Cancelled as exc:
        exc.result = finish("cancelled")  # type: ignore[attr-defined]
        raise
    except AugbenchError:
        raise
    return finish("completed")
