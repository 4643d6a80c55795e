"""Data-parallel scaling: one `classify.train` job file, run as 1 and as 2 CPU processes (torchrun + DDP, gloo).

Timed as a user runs it: the whole ``augbench run job.yaml`` command (with ``launcher: torchrun`` and
``nproc: 2`` for the data-parallel case, which re-executes itself under torchrun), on the same ELPV
ImageFolder, the same global batch and the same epochs. Each process uses one torch thread, so the
2-process run uses both cores and the 1-process run one: this measures what DDP buys on a 2-core desktop,
not intra-op threading. Reported: whole-command seconds, training images/s (from the trainer's own epoch
timing, all ranks together), and the final test macro-F1 (data parallelism must not cost accuracy).

Run: ``python benchmarks/ddp_scaling.py [--per-class 150] [--epochs 2] [--size 64] [--load "..."]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import md_table, write_results  # noqa: E402


def _data(root: Path, per_class: int) -> Path:
    """A balanced two-class ELPV subset (``normal`` vs ``defect``) as an ImageFolder."""
    from augbench.core.elpv import read_elpv_labels
    from augbench.core.imageio import read_image, write_image

    picked = {"normal": 0, "defect": 0}
    for path, prob, _ in read_elpv_labels():
        cls = "normal" if prob == 0 else "defect" if prob >= 0.67 else None
        if cls is None or picked[cls] >= per_class:
            continue
        write_image(root / cls / f"{path.stem}.png", read_image(path))
        picked[cls] += 1
    return root


def _run(job: Path) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NO_ALBUMENTATIONS_UPDATE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "augbench.cli", "run", str(job), "-q"], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"augbench run failed: {proc.stderr[-1500:]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, default=150)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16, help="global batch (split over the processes)")
    ap.add_argument("--model", default="small_cnn")
    ap.add_argument("--load", default="", help="what else ran on the machine (stated in the report)")
    args = ap.parse_args()
    from augbench.classify.jobs import TrainConfig
    from augbench.core.jobs import save_job

    rows, raw = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        data = _data(Path(tmp) / "data", args.per_class)
        for nproc in (1, 2):
            out = Path(tmp) / f"run{nproc}"
            cfg = TrainConfig(data=str(data), out_dir=str(out), model=args.model, epochs=args.epochs,
                              batch_size=args.batch, image_size=args.size, channels=1, select_metric="macro_f1",
                              launcher="torchrun" if nproc > 1 else "none", nproc=nproc)
            job = save_job(cfg, Path(tmp) / f"job{nproc}.yaml")
            wall = _run(job)
            metrics = json.loads((out / "metrics.json").read_text())
            ips = metrics["images_per_s"]
            raw[nproc] = {"wall_s": wall, "images_per_s": ips, "test_macro_f1": metrics["test"]["macro_f1"],
                          "world_size": metrics.get("world_size", 1)}
            rows.append([nproc, f"{wall:.1f}", f"{ips:.1f}", f"{metrics['test']['macro_f1']:.3f}"])
    speedup = raw[2]["images_per_s"] / raw[1]["images_per_s"] if raw[1]["images_per_s"] else 0.0
    load = args.load or "unknown (state it with --load)"
    md = (
        "## Data-parallel classifier training (`benchmarks/ddp_scaling.py`)\n\n"
        f"`augbench run job.yaml` for `classify.train` ({args.model}, {args.size} px, global batch {args.batch}, "
        f"{args.epochs} epochs, {2 * args.per_class} ELPV cells), as 1 process and as 2 torchrun ranks "
        f"(DDP, gloo, one torch thread per process). Load: {load}.\n\n"
        + md_table(["processes", "whole command s", "train images/s", "test macro-F1"], rows)
        + f"\n\nTraining throughput with 2 processes: **{speedup:.2f}x** one process. The whole-command time also "
          "holds interpreter start-up, the torchrun rendezvous and evaluation (done by every rank on the full "
          "validation set, so best-epoch and early-stopping decisions agree without communication)."
    )
    write_results("ddp_scaling", {"runs": raw, "speedup": speedup, "load": load, "args": vars(args)}, md)
    print(md)


if __name__ == "__main__":
    main()
