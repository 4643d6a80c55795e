"""Worker side of the augment export: one task = one source image, all its copies.

Kept apart from ``export.py`` so a worker process holds only what it needs: it gets paths, decodes
its source once, augments, encodes and writes every copy itself, and returns only the small manifest
rows. Albumentations is imported without torch (see :mod:`augbench.augment.alb`), so a spawned worker
starts in about a second; on Linux the export forks its workers, which then import nothing.
"""

from __future__ import annotations

import hashlib
import os as _os
import sys as _sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from augbench.augment.apply import augment_sample, summarize_params
from augbench.augment.pipeline import build_compose, steps_from_dicts
from augbench.core.atomic import atomic_write_bytes
from augbench.core.errors import AugbenchError, ImageReadError, LabelFormatError
from augbench.core.imageio import encode_image, read_image
from augbench.core.layout import classes_for_label
from augbench.label.formats import for_file
from augbench.label.io import read_labels
from augbench.label.types import ImageAnnotation


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


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this worker when its parent dies (``prctl(PR_SET_PDEATHSIG)``).

    A killed export must not leave workers writing for minutes. Elsewhere (or if prctl is
    unavailable) the per-task parent check in :func:`_process` still stops the worker.
    """
    if not _sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):  # no libc prctl: rely on the parent check
        pass


def keep_freed_memory() -> bool:
    """Let this worker's ``malloc`` reuse freed image buffers instead of returning them to the kernel.

    Every transform allocates a fresh image (768 KB at 512 px); glibc serves such blocks with ``mmap``
    and gives them back on ``free``, so each one costs ~190 page faults: a quarter of an export
    worker's CPU time went to the kernel. Raising the mmap and trim thresholds (32 MB / 128 MB) keeps
    them on the heap: the faults drop ~100x and a worker holds at most ~128 MB it does not use. Only
    for pool workers, which exit with the job (a GUI process keeps its defaults). Returns whether set.
    """
    if not _sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(libc.mallopt(m_trim_threshold, 128 << 20))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): keep the defaults
        return False


def _init_worker(cfg_dict: dict[str, Any], steps: list[dict[str, Any]], classes: list[str], root: str,
                 parent_pid: int | None = None) -> None:
    """Set up a worker; never raises (a raising initializer breaks the whole pool with a traceback)."""
    import cv2

    cv2.setNumThreads(1)
    _STATE.clear()
    if parent_pid is not None:
        die_with_parent()
        keep_freed_memory()
        if _os.getppid() != parent_pid and _os.getppid() == 1:  # the parent died before prctl took effect
            _os._exit(1)
    _STATE.update(cfg=cfg_dict, classes=classes, root=Path(root), out=Path(cfg_dict["output_dir"]),
                  parent_pid=_os.getppid() if parent_pid is not None else None, folder_classes={})
    try:
        _STATE["compose"] = build_compose(steps_from_dicts(steps), min_visibility=cfg_dict["min_visibility"])
    except Exception as exc:  # noqa: BLE001 - reported by every task instead (the parent validates first)
        _STATE["init_error"] = f"cannot build the pipeline: {exc}"


def _classes_for(label_file: Path) -> list[str]:
    """Class names for a YOLO file's ids: the ``classes.txt`` of ITS folder (ImageFolder classes may each have
    one), else the data set's; cached per folder. VOC files name their classes and need none."""
    if label_file.suffix.lower() != ".txt":
        return _STATE["classes"]
    cache: dict[Path, list[str]] = _STATE.setdefault("folder_classes", {})
    if label_file.parent not in cache:
        cache[label_file.parent] = classes_for_label(label_file) or list(_STATE["classes"])
    return cache[label_file.parent]


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


def _encode(image: np.ndarray, ext: str, quality: int) -> bytes:
    """JPEG through OpenCV's encoder (~30% faster than Pillow's here, same libjpeg quality scale and
    4:2:0 chroma), every other format through :func:`encode_image`."""
    if ext in (".jpg", ".jpeg") and image.dtype == np.uint8 and (image.ndim == 2 or image.shape[2] == 3):
        import cv2

        bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if ok:
            return buf.tobytes()
    return encode_image(image, ext, quality)


def _mirror(root: Path, out: Path, path: Path, new_stem: str, ext: str | None = None) -> Path:
    rel = path.relative_to(root)
    return out / rel.parent / f"{new_stem}{ext if ext is not None else path.suffix}"


def _process(task: _Task) -> _TaskResult:
    if "init_error" in _STATE:
        raise AugbenchError(_STATE["init_error"])
    parent = _STATE.get("parent_pid")
    if parent is not None and _os.getppid() != parent:  # orphaned: the export was killed
        _os._exit(1)
    cfg = _STATE["cfg"]
    root: Path = _STATE["root"]
    out: Path = _STATE["out"]
    res = _TaskResult(task.index)
    src = Path(task.image)
    classes: list[str] = _STATE["classes"]
    try:
        image = read_image(src, mode="auto")
        h, w = image.shape[:2]
        ann = ImageAnnotation(src, w, h)
        label_file = Path(task.label_file) if task.label_file else None
        if label_file is not None:
            classes = _classes_for(label_file)
            ann = read_labels(label_file, src, (w, h), classes)
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
        atomic_write_bytes(img_path, _encode(aug.image, ext, cfg["jpeg_quality"]), durable=False)
        res.outputs.append(str(img_path))
        row["file"] = str(img_path.relative_to(out))
        if label_file is not None:
            oh, ow = aug.image.shape[:2]
            new_ann = ImageAnnotation(img_path, ow, oh, 1 if aug.image.ndim == 2 else 3, aug.boxes)
            lbl_path = _mirror(root, out, label_file, stem)
            text = for_file(lbl_path).dumps(new_ann, classes)
            atomic_write_bytes(lbl_path, text.encode("utf-8"), durable=False)  # regenerable, like the image
            row["label"] = str(lbl_path.relative_to(out))
        if aug.mask is not None and task.mask_file:
            m_path = _mirror(root, out, Path(task.mask_file), stem if Path(task.mask_file).parent.name == "masks"
                             else f"{stem}_mask", ".png")
            atomic_write_bytes(m_path, encode_image(aug.mask, ".png"), durable=False)
            row["mask"] = str(m_path.relative_to(out))
        row["status"] = "empty_labels" if emptied else "ok"
        res.rows.append(row)
    return res


