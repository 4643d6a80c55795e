"""Write ``experiments/elpv_split.json``: the fixed ELPV protocol split of issue 15.

``python experiments/elpv_split.py [--out experiments/elpv_split.json]``

ELPV (package ``elpv-dataset``; data licence CC BY-NC-SA 4.0, anything derived
inherits it): 2,624 300x300 EL images of solar cells. normal = defect
probability 0 (1,508 cells), defect = probability >= 2/3 (821 cells); the 295
cells at 1/3 (experts undecided) are left out. Image ids are paths relative to
the package's data folder (``augbench.core.elpv.elpv_root()``), e.g.
``images/cell0001.png``. Strata = cell type (mono/poly), kept in proportion.

Parts (see :mod:`augbench.classify.protocol`): test 150 + 150, val 75 + 75,
oracle pool 300 defects (never seen by a generator or a training subset),
train pool = the rest; ``subsets[seed]`` = 600 normals + 150 defects per seed.
A generator for seed s may learn only from ``subsets[s]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from augbench.classify.protocol import Item, check_protocol_split, make_protocol_split
from augbench.core.atomic import atomic_write_text
from augbench.core.elpv import LICENSE, read_elpv_labels

SEEDS = list(range(20))


def elpv_items() -> list[Item]:
    """Every usable ELPV cell as an Item (id relative to the package data folder)."""
    items = []
    for path, prob, ctype in read_elpv_labels():
        if prob == 0:
            cls = "normal"
        elif prob >= 0.5:
            cls = "defect"
        else:
            continue
        items.append(Item(f"{path.parent.name}/{path.name}", cls, ctype))
    return items


def build() -> dict:
    split = make_protocol_split(elpv_items(), minority="defect", n_test=150, n_val=75, n_oracle=300,
                                n_major=600, n_minor=150, seeds=SEEDS, split_seed=0)
    problems = check_protocol_split(split)
    if problems:
        raise RuntimeError("; ".join(problems))
    return {"license": LICENSE, "source": "pip package elpv-dataset 1.0.0.post1, ids relative to its data/ folder",
            "labels": "normal = probability 0; defect = probability >= 2/3; probability 1/3 excluded",
            "rule": "a generator for seed s learns only from subsets[s]; val/test/oracle_pool never reach a generator",
            **split}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("elpv_split.json"))
    args = ap.parse_args(argv)
    split = build()
    lines = [f" {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in split.items()]
    atomic_write_text(args.out, "{\n" + ",\n".join(lines) + "\n}\n")  # one line per part: diffable, small
    counts = {k: {c: len(v) for c, v in split[k].items()} for k in ("test", "val", "oracle_pool", "train_pool")}
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
