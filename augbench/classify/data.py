"""Data for the classifier benchmark: splits, an in-memory image data set, augmentation.

A :class:`Split` is three lists of :class:`Sample` (path, class index, origin),
made once per experiment from a seed and shared by every arm and seed, so arms
differ only in what they change. Synthetic images are added to the training
list only (``origin`` says where each came from).

Images are decoded once, resized to the run's size and kept in memory as uint8
(ELPV at 64 px is 10 MB): on a CPU this keeps the data wait near zero without
worker processes. Grey inputs are repeated to RGB for 3-channel models, and RGB
synthetic images are turned grey for 1-channel runs.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from augbench.core.dataset import scan_dataset
from augbench.core.errors import ConfigError, DatasetError, ImageReadError
from augbench.core.imageio import read_image


@dataclass(frozen=True)
class Sample:
    path: str
    label: int
    origin: str = "real"  # real | cyclegan | style | ...
    source: str = ""  # the real image a synthetic one was made from, when known
    # Every real image the generator used for this output besides ``source`` (e.g. the defect a transplant
    # cut its patch from): the leak guard checks these too.
    sources: tuple[str, ...] = ()
    seed: int | None = None  # the training subset (protocol seed) the generator learned from, when per-seed

    def all_sources(self) -> list[str]:
        return [x for x in (self.source, *self.sources) if x]


@dataclass
class Split:
    """Train/val/test samples and the class names (index = label)."""

    classes: list[str]
    train: list[Sample] = field(default_factory=list)
    val: list[Sample] = field(default_factory=list)
    test: list[Sample] = field(default_factory=list)
    # Images dropped before splitting because they cannot be decoded: (path, reason). Never in train/val/test.
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def counts(self, part: str) -> dict[str, int]:
        c = Counter(s.label for s in getattr(self, part))
        return {name: c[i] for i, name in enumerate(self.classes)}

    def to_dict(self) -> dict[str, Any]:
        def rows(items: list[Sample]) -> list[list[Any]]:
            return [[s.path, s.label, s.origin] for s in items]

        return {"classes": self.classes, "train": rows(self.train), "val": rows(self.val), "test": rows(self.test)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Split:
        def items(rows: list[list[Any]]) -> list[Sample]:
            return [Sample(str(r[0]), int(r[1]), str(r[2]) if len(r) > 2 else "real") for r in rows]

        return cls(list(d["classes"]), items(d["train"]), items(d["val"]), items(d["test"]))


def _stratified(items: list[Sample], fracs: Sequence[float], seed: int) -> list[list[Sample]]:
    """Split each class by ``fracs`` (the remainder goes to the first part) with a seeded shuffle."""
    by_class: dict[int, list[Sample]] = defaultdict(list)
    for s in sorted(items, key=lambda s: s.path):
        by_class[s.label].append(s)
    rnd = random.Random(seed)
    parts: list[list[Sample]] = [[] for _ in range(len(fracs) + 1)]
    for label in sorted(by_class):
        group = by_class[label]
        rnd.shuffle(group)
        start = 0
        sizes = [int(round(f * len(group))) for f in fracs]
        # Keep at least one per class in each held-out part when the class allows it.
        sizes = [max(s, 1) if len(group) > len(fracs) and f > 0 else s for s, f in zip(sizes, fracs)]
        held = []
        for sz in sizes:
            held.append(group[start:start + sz])
            start += sz
        parts[0].extend(group[start:])
        for i, h in enumerate(held):
            parts[i + 1].extend(h)
    return parts


def make_split(
    root: str | os.PathLike[str],
    val_frac: float = 0.15,
    test_frac: float = 0.15,
    seed: int = 0,
    eval_exclude: set[str] | None = None,
) -> Split:
    """Read an ImageFolder (stratified seeded split) or train/val/test folders (kept; val carved if missing).

    ``eval_exclude``: file stems that may only be used for training (e.g. the
    real images a generator was trained or conditioned on), never for val/test.
    """
    info = scan_dataset(root)
    if info.layout == "flat":
        raise DatasetError(f"{root} has no class folders; the benchmark needs root/<class>/*.png or root/train/<class>/")
    classes = info.classes
    if len(classes) < 2:
        raise DatasetError(f"{root} has only {len(classes)} class(es); a classifier needs at least 2")
    idx = {c: i for i, c in enumerate(classes)}
    eval_exclude = eval_exclude or set()
    readable, skipped = validate_images([str(it.image) for it in info.items])
    items_ok = [it for it in info.items if str(it.image) in readable]
    if info.layout == "split-imagefolder":
        split = Split(classes, skipped=skipped)
        for it in items_ok:
            getattr(split, it.split or "train").append(Sample(str(it.image), idx[it.label_class]))
        if not split.val:
            split.train, split.val = _stratified(split.train, [val_frac], seed)
        if not split.test:
            raise DatasetError(f"{root} has train/ but no test/ folder")
        return split
    items = [Sample(str(it.image), idx[it.label_class]) for it in items_ok]
    locked = [s for s in items if Path(s.path).stem in eval_exclude]
    free = [s for s in items if Path(s.path).stem not in eval_exclude]
    train, val, test = _stratified(free, [val_frac, test_frac], seed)
    return Split(classes, train + locked, val, test, skipped)


def validate_images(paths: Sequence[str]) -> tuple[set[str], list[tuple[str, str]]]:
    """(decodable paths, [(path, reason)] for the rest): run BEFORE splitting.

    Issue 10: unreadable files used to enter ``split.json`` and be dropped later,
    which left val without defects and ``result.skipped`` empty. Each file is
    fully decoded once here (``read_image`` loads the whole image, so truncation shows).
    """
    ok: set[str] = set()
    bad: list[tuple[str, str]] = []
    for p in paths:
        try:
            read_image(p, mode="rgb")
        except ImageReadError as exc:
            bad.append((p, exc.reason))
            continue
        ok.add(p)
    return ok, bad


def load_image(path: str, size: int, channels: int) -> np.ndarray:
    """Decode, resize (area filter when shrinking) and return HxWxC uint8 with C = ``channels``."""
    img = read_image(path, mode="gray" if channels == 1 else "rgb")
    if img.shape[0] != size or img.shape[1] != size:
        interp = cv2.INTER_AREA if img.shape[0] > size else cv2.INTER_LINEAR
        img = cv2.resize(img, (size, size), interpolation=interp)
    if img.ndim == 2:
        img = img[..., None]
    return np.array(img, dtype=np.uint8, order="C", copy=True)  # writable: torch.from_numpy needs it


class ImageDataset(Dataset):
    """Samples as (float tensor CxHxW in [0, 1], label); decoded once, kept in memory.

    ``transform`` is an Albumentations-style callable ``t(image=HxWxC uint8)["image"]``, applied
    to every sample or, with ``transform_origins``, only to samples of those origins
    (``augcopy``: the augmented-oversampling arm's extra copies).
    Unreadable files are dropped up front and listed in ``skipped``.
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        size: int,
        channels: int = 3,
        transform: Callable[..., dict[str, Any]] | None = None,
        cache: dict[tuple[str, int, int], np.ndarray] | None = None,
        transform_origins: set[str] | None = None,
    ) -> None:
        self.size = size
        self.channels = channels
        self.transform = transform
        self.transform_origins = transform_origins  # None = every sample; else only samples of these origins
        self.samples: list[Sample] = []
        self.images: list[np.ndarray] = []
        self.skipped: list[tuple[str, str]] = []
        cache = cache if cache is not None else {}
        for s in samples:
            key = (s.path, size, channels)
            if key not in cache:
                try:
                    cache[key] = load_image(s.path, size, channels)
                except ImageReadError as exc:
                    self.skipped.append((s.path, exc.reason))
                    continue
            self.samples.append(s)
            self.images.append(cache[key])
        self.labels = [s.label for s in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        img = self.images[i]
        if self.transform is not None and (self.transform_origins is None
                                           or self.samples[i].origin in self.transform_origins):
            img = self.transform(image=img)["image"]
            if img.ndim == 2:
                img = img[..., None]
        t = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().div_(255.0)
        return t, self.labels[i]


def classic_pipeline(size: int, seed: int | None = None) -> Any:
    """The default 'classic augmentation' arm: flips, small rotations/shifts, brightness/contrast.

    Suited to aligned inspection images (solar cells, wafers): flips keep bus
    bars where they run, so there are no 90-degree turns (a turned bus-bar cell is
    an image the test set never shows). ``seed`` makes the draws repeatable
    (issue 10: two runs with one seed must see the same augmented images). Give
    the Augment tab's saved pipeline instead for other data. ``size`` is unused
    (kept for callers that pass it): the ops are size-free.
    """
    from augbench.augment.alb import A

    del size
    return A.Compose([
        A.HorizontalFlip(p=0.5),
        A.VerticalFlip(p=0.5),
        A.Affine(scale=(0.95, 1.05), translate_percent=(-0.03, 0.03), rotate=(-5, 5), border_mode=cv2.BORDER_REFLECT_101,
                 p=0.7),
        A.RandomBrightnessContrast(0.1, 0.1, p=0.7),
    ], seed=seed)


def augmented_copy(pipeline: Any, img: np.ndarray, key: str, seed: int, copy: int) -> np.ndarray:
    """One augmented copy of ``img`` that depends only on (key, seed, copy): re-making it gives the same pixels.

    That is what lets the feature cache (keyed by pixels) serve copies again and
    makes augmented arms reproducible whatever order the copies are made in.
    """
    import zlib

    pipeline.set_random_seed(zlib.crc32(f"{key}|{seed}|{copy}".encode()) & 0x7FFFFFFF)
    out = pipeline(image=img)["image"]
    return np.ascontiguousarray(out)


def load_pipeline_file(path: str | os.PathLike[str], seed: int | None = None) -> Any:
    """An Albumentations pipeline saved by the Augment tab (``A.save`` JSON/YAML), without box parameters."""
    from augbench.augment.alb import A
    from augbench.augment.pipeline import load_compose

    return A.Compose(list(load_compose(path, job_field="aug_pipeline").transforms), seed=seed)


def read_synthetic_manifest(
    manifest: str | os.PathLike[str], origin: str, class_index: dict[str, int], default_class: str | None = None
) -> list[Sample]:
    """Synthetic training images from another tab's ``manifest.jsonl`` (rows with ``origin`` and ``file``).

    The class is the row's ``class``/``label`` key, else the parent folder name,
    else ``default_class``. Relative ``file`` paths are relative to the manifest.
    ``source`` (the translated/background image), ``defect_source(s)``/``sources``
    (images the generator took defects from) and ``subset_seed`` feed the leak guard.
    """
    from augbench.core.runfolder import iter_manifest

    manifest = Path(manifest)
    if not manifest.is_file():
        raise ConfigError("synthetic", f"manifest not found: {manifest}")
    out: list[Sample] = []
    for row in iter_manifest(manifest):
        if str(row.get("origin", "")) != origin or not row.get("file"):
            continue
        f = Path(str(row["file"]))
        if not f.is_absolute():
            f = manifest.parent / f
        cls = row.get("class") or row.get("label") or row.get("target_class")
        if cls not in class_index:
            cls = f.parent.name if f.parent.name in class_index else default_class
        if cls not in class_index or not f.is_file():
            continue
        extra: list[str] = []
        for key in ("defect_source", "defect_sources", "sources", "patch_source", "patch_sources"):
            v = row.get(key)
            extra += [str(x) for x in v] if isinstance(v, list) else ([str(v)] if v else [])
        seed = row.get("subset_seed")
        out.append(Sample(str(f), class_index[cls], origin, str(row.get("source", "")), tuple(extra),
                          int(seed) if isinstance(seed, (int, float)) and not isinstance(seed, bool) else None))
    return out


def save_split(split: Split, path: str | os.PathLike[str]) -> None:
    from augbench.core.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(split.to_dict(), ensure_ascii=False) + "\n")


__all__ = ["ImageDataset", "Sample", "Split", "augmented_copy", "classic_pipeline", "load_image", "load_pipeline_file",
           "make_split", "read_synthetic_manifest", "save_split", "validate_images"]
