"""The CycleGAN arm of the ELPV study, seed 0 only (the one subset a CycleGAN was trained on).

    python experiments/elpv_cyclegan_seed0.py runs/elpv_study [--manifest runs/gan_elpv/cyclegan/manifest.jsonl]

The synthesis work trained one attention CycleGAN on ``subsets["0"]`` of
``experiments/elpv_split.json`` and translated that subset's 600 normals
(``experiments/gan_elpv.py``). A translator learned on subset 0 would be
privileged for every other seed (the leak guard drops such rows), so this arm
has ONE seed: a point estimate beside the same-seed transplant, oracle and
non-generative arms, not a test of the goal (which needs >= 10 seeds).
Data: ELPV, CC BY-NC-SA 4.0; derived images inherit it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ARMS = ["baseline", "class_weights", "class_weights+aug_oversample@150", "class_weights+oracle@150",
        "class_weights+oracle@300", "transplant@150", "class_weights+transplant@150", "cyclegan@150",
        "class_weights+cyclegan@150", "cyclegan@300", "class_weights+cyclegan@300"]


def main(argv: list[str] | None = None) -> int:
    from dataclasses import replace

    import elpv_study as st
    import torch

    from augbench.classify.experiment import run_experiment

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--manifest", default="runs/gan_elpv/cyclegan/manifest.jsonl")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    cfg = replace(st.bench_config(args.run, [0], args.manifest), arms=ARMS, out_dir=str(args.run / "bench_cyclegan_seed0"))
    res = run_experiment(cfg)
    rows = {}
    for arm in ARMS:
        rec = json.loads((Path(cfg.out_dir) / "runs" / "efficientnet_lite0" / arm.replace("/", "_") / "seed0.json")
                         .read_text())
        rows[arm] = {k: round(rec["test"][k], 4) for k in ("macro_f1", "auroc", "auprc", "recall_tuned")}
        rows[arm]["added"] = rec["synthetic_added"]
    out = {"seed": 0, "note": "one seed only: a point estimate, not a test", "arms": rows,
           "leak_guard": [s.reason for s in res.skipped]}
    (args.run / "cyclegan_seed0.json").write_text(json.dumps(out, indent=1) + "\n")
    for arm, r in rows.items():
        print(f"| {arm} | {r['macro_f1']:.3f} | {r['auroc']:.3f} | {r['auprc']:.3f} | {r['recall_tuned']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
