"""The real run of issue 6: CycleGAN normal -> defect on ELPV solar cells at 64 px.

``python experiments/elpv_issue6.py OUT [--budget SECONDS]`` exports ELPV (package
``elpv-dataset``; data licence CC BY-NC-SA 4.0, generated images inherit it),
makes a fixed train/test split per class (seed 0, 25 % test), trains one
translator on training-split normals -> training-split defects, and finally
balances the training split with images generated from training-split
normals only (see :mod:`augbench.gan.balance`). Test-split files are listed
in ``OUT/split.json`` and never touch the GAN.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from augbench.core.atomic import atomic_write_json, atomic_write_text


def make_split(export_dir: Path, test_fraction: float = 0.25, seed: int = 0) -> dict[str, dict[str, list[str]]]:
    """Fixed per-class split of an ImageFolder: {"train": {cls: [rel paths]}, "test": {...}}."""
    split: dict[str, dict[str, list[str]]] = {"train": {}, "test": {}}
    for cls_dir in sorted(p for p in export_dir.iterdir() if p.is_dir()):
        files = sorted(f"{cls_dir.name}/{p.name}" for p in cls_dir.glob("*.png"))
        order = np.random.default_rng([seed, len(files)]).permutation(len(files))
        n_test = int(round(len(files) * test_fraction))
        split["test"][cls_dir.name] = sorted(files[i] for i in order[:n_test])
        split["train"][cls_dir.name] = sorted(files[i] for i in order[n_test:])
    return split


def export_docs(out: Path, docs: Path) -> list[Path]:
    """Copy the small artifacts of a finished run into ``docs/`` (curves, grids, metrics JSON)."""
    import json
    import shutil

    from augbench.gan.plots import plot_history

    work = out / "gan" / "defect"
    hist = json.loads((work / "history.json").read_text(encoding="utf-8"))
    best = hist["best"]
    written = [plot_history(hist["history"], docs / "gan_elpv_curves.png",
                            "ELPV 64 px, normal -> defect (CC BY-NC-SA 4.0 data)")]
    sample = work / "samples" / f"epoch_{int(best['epoch']):04d}.png"
    for src, name in ((sample, "gan_elpv_samples.png"), (out / "balanced_report" / "grid_defect.png",
                                                          "gan_elpv_grid.png")):
        if src.exists():
            shutil.copyfile(src, docs / name)
            written.append(docs / name)
    report = out / "balanced_report" / "report.json"
    metrics = {"best": best, "planned_epochs": hist.get("planned_epochs"), "history": hist["history"]}
    if report.exists():
        rep = json.loads(report.read_text(encoding="utf-8"))
        metrics.update({"counts_before": rep["counts_before"], "counts_after": rep["counts_after"]})
    metrics["license"] = "ELPV data and derived images: CC BY-NC-SA 4.0"
    atomic_write_json(docs / "gan_elpv_metrics.json", metrics)
    written.append(docs / "gan_elpv_metrics.json")
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--budget", type=float, default=4000.0, help="training time budget in seconds")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--precision", default="bf16")
    ap.add_argument("--ngf", type=int, default=16)
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--docs", type=Path, default=None, help="only copy a finished run's artifacts into DOCS")
    args = ap.parse_args(argv)
    if args.docs is not None:
        for p in export_docs(args.out, args.docs):
            print(p)
        return 0
    import torch

    torch.set_num_threads(args.threads)
    from augbench.core.elpv import LICENSE, export_elpv
    from augbench.gan.balance import BalanceConfig, run_balance

    out: Path = args.out
    export = out / f"elpv{args.size}"
    counts = export_elpv(export, size=args.size)
    split = make_split(export)
    atomic_write_json(out / "split.json", {"license": LICENSE, "export": str(export), "counts": counts, **split})
    train_root = out / "train_split"
    for cls, files in split["train"].items():
        (train_root / cls).mkdir(parents=True, exist_ok=True)
        for rel in files:
            link = train_root / rel
            if not link.exists():
                os.symlink((export / rel).resolve(), link)
    atomic_write_text(out / "sources.txt", "\n".join(str((export / r).resolve()) for r in split["train"]["normal"]) + "\n")
    cfg = BalanceConfig(
        dataset=str(train_root), out_dir=str(out / "balanced"), work_dir=str(out / "gan"), normal_class="normal",
        defect_classes=("defect",), engine="cyclegan", generator="resnet", quality_gate=False,  # issue-6 setup
        target_mode="fill_to_normal", size=args.size, channels=1, ngf=args.ngf,
        n_blocks=args.blocks,
        epochs=200, steps_per_epoch=100, time_budget_s=args.budget, precision=args.precision, n_holdout=64,
        generated_copy=str(out / "generated"), seed=0,
    )
    from augbench.core.progress import Progress

    def progress(p: Progress) -> None:
        if p.stage != "train" or p.done % 100 == 0:
            print(f"[{p.stage}] {p.done}/{p.total} {p.message} "
                  f"{ {k: round(v, 4) for k, v in p.metrics.items() if isinstance(v, float)} }", flush=True)

    result = run_balance(cfg, progress=progress)
    print(result.to_dict()["metrics"], flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
