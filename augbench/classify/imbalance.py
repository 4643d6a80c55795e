"""The imbalance maker: the paper's protocol from any (balanced or not) ImageFolder.

The paper trains on an imbalanced set (e.g. 1,200 normal vs 300 defect) and
tests on 200 images per class. :func:`make_imbalanced` draws, with a seed, K test
and V validation images per class first (so the evaluation sets are balanced
and fixed), then N images of the majority class and M of every other class for
training, and writes them as ``out/{train,val,test}/<class>/`` (hard links when
possible, else copies) plus ``imbalance.json`` saying what was drawn.

``train_only`` names file stems that must never land in val/test, e.g. the
real images a CycleGAN translated into synthetic defects: a classifier tested
on an image whose translated twin it trained on would be flattered.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

from augbench.core.atomic import atomic_write_text
from augbench.core.dataset import scan_dataset
from augbench.core.errors import ConfigError, DatasetError


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        return
    try:
        os.link(src, dst)
    except OSError:
        tmp = dst.with_name(dst.name + ".tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)


def make_imbalanced(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    majority: str,
    n_majority: int,
    m_minority: int,
    k_test: int,
    k_val: int = 0,
    seed: int = 0,
    train_only: set[str] | None = None,
) -> dict[str, Any]:
    """Build the imbalanced split; returns the counts per split and class (also in ``out/imbalance.json``)."""
    info = scan_dataset(src)
    if info.layout != "imagefolder":
        raise DatasetError(f"{src} must be an ImageFolder (root/<class>/images) for the imbalance maker")
    if majority not in info.classes:
        raise ConfigError("majority", f"{majority!r} is not a class of {src}; classes: {info.classes}")
    train_only = train_only or set()
    by_class: dict[str, list[Path]] = defaultdict(list)
    for it in sorted(info.items, key=lambda i: str(i.image)):
        by_class[str(it.label_class)].append(it.image)
    rnd = random.Random(seed)
    plan: dict[str, dict[str, list[Path]]] = {"train": {}, "val": {}, "test": {}}
    for cls in info.classes:
        files = by_class[cls][:]
        rnd.shuffle(files)
        evalable = [f for f in files if f.stem not in train_only]
        locked = [f for f in files if f.stem in train_only]
        n_train = n_majority if cls == majority else m_minority
        if len(evalable) < k_test + k_val:
            raise DatasetError(f"class {cls!r} has {len(evalable)} images usable for val/test, needs {k_test + k_val}")
        plan["test"][cls] = evalable[:k_test]
        plan["val"][cls] = evalable[k_test:k_test + k_val]
        pool = locked + evalable[k_test + k_val:]
        if len(pool) < n_train:
            raise DatasetError(f"class {cls!r} has {len(pool)} images left for training, needs {n_train}")
        plan["train"][cls] = pool[:n_train]
    out = Path(out)
    counts: dict[str, dict[str, int]] = {}
    files: dict[str, dict[str, list[str]]] = {}
    for part, per_class in plan.items():
        counts[part] = {c: len(v) for c, v in per_class.items()}
        files[part] = {c: [p.name for p in v] for c, v in per_class.items()}
        for cls, paths in per_class.items():
            for p in paths:
                _link_or_copy(p, out / part / cls / p.name)
    summary = {"source": str(Path(src).resolve()), "majority": majority, "n_majority": n_majority,
               "m_minority": m_minority, "k_test": k_test, "k_val": k_val, "seed": seed,
               "n_train_only": len(train_only), "counts": counts, "files": files}
    atomic_write_text(out / "imbalance.json", json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    return summary


__all__ = ["make_imbalanced"]
