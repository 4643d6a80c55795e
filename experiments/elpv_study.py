"""Issue 15's ELPV balancing study: can synthetic defects beat the best non-generative arm?

    python experiments/elpv_study.py runs/elpv_study synth      # transplant images per seed (from that seed's subset)
    python experiments/elpv_study.py runs/elpv_study bench      # every arm x seed (frozen Lite0 224 px + LR)
    python experiments/elpv_study.py runs/elpv_study probe      # shortcut probe: real vs synthetic defects
    python experiments/elpv_study.py runs/elpv_study report     # benchmarks/results/elpv_balance.json + figures

Data: ELPV (pip package ``elpv-dataset``), licence CC BY-NC-SA 4.0; every
synthetic image made here inherits it. The split is ``experiments/elpv_split.json``
(``experiments/elpv_split.py``): fixed test 150+150 and val 75+75, an oracle pool
of 300 real defects, and per seed a 600 normal / 150 defect training subset.
The transplant engine for seed s sees only subset s (its normals as backgrounds,
its defects as patch sources); the leak guard of the runner re-checks that.

The ``bench`` stage writes ``job.yaml`` in the run folder: ``augbench bench run
RUN/bench/job.yaml`` reruns the same experiment (finished runs are kept).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPLIT = ROOT / "experiments" / "elpv_split.json"
SEEDS = list(range(20))
AMOUNTS = (150, 300)
BASE = ["baseline", "class_weights", "oversample", "classic_aug"]


def arms(engines: list[str]) -> list[str]:
    """Base arms, then augmented oversampling, oracle and each engine at every amount (plain and + class weights)."""
    out = list(BASE)
    for kind in ["aug_oversample", "oracle", *engines]:
        for n in AMOUNTS:
            out += [f"{kind}@{n}", f"class_weights+{kind}@{n}"]
    return out


def _timing(run: Path, stage: str, wall: float, cpu: float, note: str) -> None:
    path = run / "timings.json"
    data = json.loads(path.read_text()) if path.is_file() else {}
    data[stage] = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "note": note}
    path.write_text(json.dumps(data, indent=1) + "\n")


def stage_synth(run: Path, seeds: list[int]) -> None:
    """Transplant images for each seed from that seed's training subset only, with masks and a manifest."""
    from augbench.core.atomic import atomic_write_text
    from augbench.core.elpv import elpv_root
    from augbench.core.imageio import read_image, write_image
    from augbench.gan.transplant import synthesize

    split = json.loads(SPLIT.read_text())
    root = elpv_root()
    out = run / "transplant"
    rows = []
    t0, c0 = time.time(), time.process_time()
    for seed in seeds:
        sub = split["subsets"][str(seed)]
        normals_ids, defect_ids = sub["normal"], sub["defect"]
        folder = out / f"seed{seed}"
        done = folder / "rows.json"
        if done.is_file():
            rows += json.loads(done.read_text())
            continue
        normals = [read_image(root / i, mode="gray") for i in normals_ids]
        defects = [read_image(root / i, mode="gray") for i in defect_ids]
        made = synthesize(normals, defects, max(AMOUNTS), seed=seed)
        seed_rows = []
        for k, (img, mask, prov) in enumerate(made):
            name = f"defect/ts{seed:02d}_{k:04d}.png"
            write_image(folder / name, img)
            write_image(folder / "masks" / f"ts{seed:02d}_{k:04d}.png", mask)
            seed_rows.append({"file": str((folder / name).relative_to(out)), "origin": "transplant",
                              "class": "defect", "engine": "transplant", "subset_seed": seed,
                              "source": normals_ids[prov["normal"]], "defect_source": defect_ids[prov["defect"]],
                              "mask": str((folder / "masks" / f"ts{seed:02d}_{k:04d}.png").relative_to(out)),
                              "defect_pixels": prov.get("defect_pixels"),
                              "license": "CC BY-NC-SA 4.0 (derived from ELPV)"})
        atomic_write_text(done, json.dumps(seed_rows) + "\n")
        rows += seed_rows
        print(f"seed {seed}: {len(made)} transplant images ({time.time() - t0:.0f} s)", flush=True)
    atomic_write_text(out / "manifest.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    _timing(run, "synth", time.time() - t0, time.process_time() - c0,
            f"{len(seeds)} seeds x {max(AMOUNTS)} transplant images at 300 px (this call; seeds done earlier are reused)")


def bench_config(run: Path, seeds: list[int], cyclegan: str = ""):  # noqa: ANN201 - ExperimentConfig
    from augbench.classify.experiment import ExperimentConfig
    from augbench.core.elpv import elpv_root

    engines = ["transplant"] + (["cyclegan"] if cyclegan else [])
    return ExperimentConfig(
        data=str(elpv_root()), out_dir=str(run / "bench"), models=["efficientnet_lite0"], arms=arms(engines),
        seeds=seeds, head="linear_probe", protocol_split=str(SPLIT), image_size=224, channels=1, aug_copies=1,
        feature_cache=str(run / "features"), synthetic_class="defect", num_threads=1,
        transplant_manifest=str(run / "transplant" / "manifest.jsonl"), cyclegan_manifest=cyclegan)


def stage_bench(run: Path, seeds: list[int], cyclegan: str) -> None:
    from augbench.classify.experiment import run_experiment
    from augbench.core.jobs import save_job

    cfg = bench_config(run, seeds, cyclegan)
    (run / "bench").mkdir(parents=True, exist_ok=True)
    save_job(cfg, run / "bench" / "job.yaml")
    t0, c0 = time.time(), time.process_time()

    def progress(p):  # noqa: ANN001, ANN202
        if p.stage == "run_done":
            print(f"[{time.time() - t0:6.0f}s] {p.message}", flush=True)

    res = run_experiment(cfg, progress=progress)
    for s in res.skipped:
        print(f"note: {s.path}: {s.reason}", flush=True)
    _timing(run, "bench", time.time() - t0, time.process_time() - c0,
            f"{len(cfg.arms)} arms x {len(seeds)} seeds, features cached (new extractions included)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("stage", choices=["synth", "bench", "probe", "report"])
    ap.add_argument("--seeds", type=int, nargs="+", default=SEEDS)
    ap.add_argument("--cyclegan-manifest", default="", help="CycleGAN translations (manifest.jsonl), if any")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    args.run.mkdir(parents=True, exist_ok=True)
    if args.stage == "synth":
        stage_synth(args.run, args.seeds)
    elif args.stage == "bench":
        stage_bench(args.run, args.seeds, args.cyclegan_manifest)
    else:
        sys.path.insert(0, str(ROOT / "experiments"))
        from elpv_report import stage_probe, stage_report

        (stage_probe if args.stage == "probe" else stage_report)(args.run, args.seeds, args.cyclegan_manifest)
    return 0


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    raise SystemExit(main())
