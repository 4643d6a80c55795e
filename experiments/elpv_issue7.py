"""The real benchmark of issue 7: the paper's imbalanced protocol on ELPV solar cells.

``python experiments/elpv_issue7.py OUT [--gan RUN] [--pass 1|2]``

1. Export ELPV (package ``elpv-dataset``; data licence CC BY-NC-SA 4.0 —
   generated images inherit it) at ``--size`` px, grey.
2. Reproduce the CycleGAN run's fixed split (:func:`elpv_issue6.make_split`, ``experiments/elpv_issue6.py``,
   seed 0, 25 % test per class). Its *train* part is where the GAN learned and
   which normals it translated; only its *test* part may feed our val/test sets,
   so no GAN source image and no image the GAN learned from is ever evaluated on.
3. The imbalance maker draws the paper's protocol scaled to this CPU:
   ``--normal`` normal and ``--defect`` defect training images, ``--k-test`` test
   and ``--k-val`` validation images per class (balanced, fixed for every arm).
4. Pass 1 runs the arms that need nothing external; pass 2 adds CycleGAN arms
   when ``RUN/balanced/result.json`` and its manifest exist (finished runs are
   skipped, so pass 2 only trains the new arms).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from augbench.classify.experiment import ExperimentConfig, run_experiment
from augbench.classify.imbalance import make_imbalanced
from augbench.core.atomic import atomic_write_text
from augbench.core.jobs import save_job
from augbench.core.progress import Progress

BASE_ARMS = ["baseline", "class_weights", "oversample", "classic_aug"]


def prepare(out: Path, size: int, normal: int, defect: int, k_test: int, k_val: int) -> Path:
    from elpv_issue6 import make_split as gan_split

    from augbench.core.elpv import LICENSE, export_elpv

    export = out / f"elpv{size}"
    counts = export_elpv(export, size=size)
    gan = gan_split(export)
    gan_train = {Path(f).stem for files in gan["train"].values() for f in files}
    data = out / "imbalanced"
    summary = make_imbalanced(export, data, majority="normal", n_majority=normal, m_minority=defect,
                              k_test=k_test, k_val=k_val, seed=0, train_only=gan_train)
    atomic_write_text(out / "DATA_LICENSE.txt", LICENSE + "\n")
    atomic_write_text(out / "protocol.json", json.dumps({"export_counts": counts, "imbalance": summary["counts"],
                                                         "gan_split_train": len(gan_train)}, indent=1) + "\n")
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--gan", type=Path, default=None, help="the CycleGAN run folder (with balanced/manifest.jsonl)")
    ap.add_argument("--pass", dest="pass_", type=int, default=1, choices=[1, 2])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--normal", type=int, default=600)
    ap.add_argument("--defect", type=int, default=150)
    ap.add_argument("--k-test", type=int, default=125)
    ap.add_argument("--k-val", type=int, default=75)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--model", default="small_cnn")
    ap.add_argument("--width", type=int, default=8, help="small_cnn base width")
    ap.add_argument("--gan-amounts", nargs="+", default=["50", "450"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--aug-pipeline", default="", help="Albumentations JSON for classic_aug (Augment tab)")
    ap.add_argument("--freeze", action="store_true", help="frozen pretrained backbone (train the head only)")
    ap.add_argument("--exp-name", default="experiment", help="results sub-folder of OUT")
    ap.add_argument("--arms", nargs="+", default=BASE_ARMS, help="the arms of pass 1")
    ap.add_argument("--extra-arms", nargs="*", default=[], help="more arms, e.g. focal oversample+classic_aug")
    args = ap.parse_args(argv)
    out: Path = args.out
    data = prepare(out, args.size, args.normal, args.defect, args.k_test, args.k_val)
    arms = list(args.arms) + list(args.extra_arms)
    gan_manifest = ""
    if args.pass_ == 2:
        if args.gan is None or not (args.gan / "balanced" / "result.json").is_file():
            print(f"pass 2: no finished CycleGAN run under {args.gan}; nothing to add", flush=True)
            return 1
        gan_manifest = str(args.gan / "balanced" / "manifest.jsonl")
        arms += [f"cyclegan@{a}" for a in args.gan_amounts]
    cfg = ExperimentConfig(
        data=str(data), out_dir=str(out / args.exp_name), models=[args.model], arms=arms, seeds=args.seeds,
        pretrained="imagenet" if args.model == "efficientnet_lite0" else "none", epochs=args.epochs,
        freeze_backbone=args.freeze, aug_pipeline=args.aug_pipeline,
        batch_size=args.batch, image_size=args.size, width=args.width, channels=3, select_metric="accuracy",
        cyclegan_manifest=gan_manifest, synthetic_class="defect", num_threads=args.threads,
    )
    save_job(cfg, out / f"job_{args.exp_name}_pass{args.pass_}.yaml")
    t0 = time.time()

    def progress(p: Progress) -> None:
        if p.stage in ("run_done", "epoch"):
            print(f"[{time.time() - t0:7.0f}s] {p.message}", flush=True)

    result = run_experiment(cfg, progress=progress)
    print(json.dumps(result.to_dict()["metrics"], indent=1), flush=True)
    for s in result.skipped:
        print(f"note: {s.path}: {s.reason}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
