"""Stages ``probe`` and ``report`` of ``experiments/elpv_study.py`` (see there for the commands).

* probe: a shortcut probe per engine — a logistic regression on the same frozen
  Lite0 features, 5-fold cross-validated, telling real unseen defects (the oracle
  pool) from synthetic ones. AUROC near 0.5 = no give-away cue; near 1 = the
  images are recognisably synthetic. Real-vs-real (oracle pool vs the seed-0
  training defects) is the reference for "indistinguishable".
* report: ``benchmarks/results/elpv_balance.json`` (per arm: seeds, means,
  deltas and p-values against the baseline and against the best non-generative
  arm, paired by seed, plus per-image tests), the bar chart with 95 % CIs and the
  full-resolution image grid in ``docs/bench_elpv/``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPLIT = ROOT / "experiments" / "elpv_split.json"
DOCS = ROOT / "docs" / "bench_elpv"
RESULT = ROOT / "benchmarks" / "results" / "elpv_balance.json"
NONGEN = re.compile(r"^(class_weights|oversample|classic_aug|(class_weights\+)?aug_oversample@\d+)$")
SYNTH = re.compile(r"(transplant|cyclegan)")
ORACLE = re.compile(r"oracle@")


def _manifest_rows(path: Path, seed: int | None = None) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    return [r for r in rows if seed is None or r.get("subset_seed") in (None, seed)]


def _cv_auroc(X: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int = 0) -> float:
    """Out-of-fold AUROC with folds grouped by source image: two copies made from one image never sit on both
    sides of a fold (the probe would then recognise the sibling, not a synthetic cue)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from augbench.classify.metrics import auroc

    oof = np.zeros(len(y))
    for tr, te in StratifiedGroupKFold(5, shuffle=True, random_state=seed).split(X, y, groups):
        m = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000)).fit(X[tr], y[tr])
        oof[te] = m.predict_proba(X[te])[:, 1]
    return auroc(y, oof)


def stage_probe(run: Path, seeds: list[int], cyclegan: str) -> None:
    from augbench.classify.data import augmented_copy, classic_pipeline
    from augbench.classify.features import FeatureCache, Lite0Features, extract
    from augbench.core.elpv import elpv_root
    from augbench.core.imageio import read_image

    t0, c0 = time.time(), time.process_time()
    split = json.loads(SPLIT.read_text())
    root = elpv_root()
    ex, cache = Lite0Features(224), FeatureCache(run / "features")

    def feats(imgs: list[np.ndarray]) -> np.ndarray:
        return extract(imgs, ex, cache)

    seed = seeds[0]
    real = feats([read_image(root / i, mode="gray") for i in split["oracle_pool"]["defect"]])
    train_ids = split["subsets"][str(seed)]["defect"]
    train_imgs = [read_image(root / i, mode="gray") for i in train_ids]
    pipe = classic_pipeline(224)
    # (features, group = the real image each one was made from: its background normal for generated images)
    engines: dict[str, tuple[np.ndarray, list[str]]] = {
        "real training defects (reference)": (feats(train_imgs), list(train_ids)),
        "augmented copies": (feats([augmented_copy(pipe, im, Path(i).name, seed, c)
                                    for c in range(2) for i, im in zip(train_ids, train_imgs)]), list(train_ids) * 2),
    }
    rows = _manifest_rows(run / "transplant" / "manifest.jsonl", seed)
    if rows:
        engines["transplant"] = (feats([read_image(run / "transplant" / r["file"], mode="gray") for r in rows]),
                                 [r["source"] for r in rows])
    if cyclegan:
        crow = _manifest_rows(Path(cyclegan), seed)
        if crow:
            engines["cyclegan"] = (feats([read_image(Path(cyclegan).parent / r["file"], mode="gray") for r in crow]),
                                   [str(r.get("source", i)) for i, r in enumerate(crow)])
    out = {}
    real_groups = [f"oracle:{i}" for i in split["oracle_pool"]["defect"]]
    for name, (X, groups) in engines.items():
        y = np.r_[np.zeros(len(real)), np.ones(len(X))].astype(int)
        g = np.array(real_groups + [f"src:{x}" for x in groups])
        out[name] = {"auroc": round(_cv_auroc(np.vstack([real, X]), y, g), 4), "n_real": len(real), "n_other": len(X),
                     "groups_other": len(set(groups))}
        print(f"shortcut probe, oracle real defects vs {name}: AUROC {out[name]['auroc']:.3f}", flush=True)
    (run / "probe.json").write_text(json.dumps({"seed": seed, "real": "oracle pool (300 unseen real defects)",
                                                "cv": "5-fold, stratified, grouped by source image",
                                                "engines": out}, indent=1) + "\n")
    from elpv_study import _timing

    _timing(run, "probe", time.time() - t0, time.process_time() - c0, "features + 5-fold CV per engine")


def _arm_group(arm: str) -> str:
    if arm == "baseline":
        return "baseline"
    if SYNTH.search(arm):
        return "synthetic"
    if ORACLE.search(arm):
        return "oracle"
    return "non-generative" if NONGEN.match(arm) else "other"


def _per_seed(runs: list[dict], arm: str, key: str = "macro_f1") -> dict[int, float]:
    return {r["seed"]: float(r["test"][key]) for r in runs if r["arm"] == arm}


def _preds(runs: list[dict], arm: str, seeds: list[int]) -> tuple[np.ndarray, np.ndarray]:
    by = {r["seed"]: r for r in runs if r["arm"] == arm}
    y = np.asarray(by[seeds[0]]["test_predictions"]["y_true"])
    return y, np.stack([np.asarray(by[s]["test_predictions"]["y_pred"]) for s in seeds])


def compare(runs: list[dict], arm: str, ref: str) -> dict:
    """Seed-paired (t, Wilcoxon) and per-image (bootstrap, McNemar on the seed-majority vote) tests of arm - ref."""
    from augbench.classify.report import paired_tests
    from augbench.classify.stats import bootstrap_images, mcnemar_exact

    a, b = _per_seed(runs, arm), _per_seed(runs, ref)
    seeds = sorted(set(a) & set(b))
    t = paired_tests([a[s] for s in seeds], [b[s] for s in seeds])
    y, pa = _preds(runs, arm, seeds)
    _, pb = _preds(runs, ref, seeds)
    boot = bootstrap_images(y, pa, pb, n_boot=1000)
    vote_a, vote_b = pa.mean(0) >= 0.5, pb.mean(0) >= 0.5
    mc = mcnemar_exact(vote_a == y.astype(bool), vote_b == y.astype(bool))
    return {"delta": t["diff_mean"], "p_t": t["t_p"], "p_wilcoxon": t["wilcoxon_p"], "n_pairs": len(seeds),
            "image_bootstrap": boot, "mcnemar_majority_vote": mc}


def stage_report(run: Path, seeds: list[int], cyclegan: str) -> None:
    from augbench.classify.report import bootstrap_ci, load_runs

    runs = [r for r in load_runs(run / "bench") if r["seed"] in seeds]
    job_arms = __import__("elpv_study").bench_config(run, seeds, cyclegan).arms
    arms = [a for a in job_arms if any(r["arm"] == a for r in runs)]
    nongen = [a for a in arms if _arm_group(a) == "non-generative"]

    def mean(arm: str, key: str) -> float:
        return float(np.mean(list(_per_seed(runs, arm, key).values())))

    best = max(nongen, key=lambda a: mean(a, "macro_f1"))
    per_arm = {}
    for arm in arms:
        vals = _per_seed(runs, arm)
        row = {"group": _arm_group(arm), "seeds": sorted(vals), "macro_f1_mean": mean(arm, "macro_f1"),
               "macro_f1_std": float(np.std(list(vals.values()), ddof=1)) if len(vals) > 1 else 0.0,
               "macro_f1_ci95": bootstrap_ci(list(vals.values())),
               **{f"{k}_mean": mean(arm, k) for k in ("accuracy", "auroc", "auprc", "macro_f1_tuned",
                                                       "recall_tuned")}}
        if arm != "baseline":
            c = compare(runs, arm, "baseline")
            row.update({"delta_vs_baseline": c["delta"], "p_vs_baseline": c["p_t"],
                        "wilcoxon_p_vs_baseline": c["p_wilcoxon"]})
        if arm != best:
            c = compare(runs, arm, best)
            row.update({"delta_vs_best_baseline": c["delta"], "p_vs_best_baseline": c["p_t"],
                        "wilcoxon_p_vs_best_baseline": c["p_wilcoxon"],
                        "image_bootstrap_vs_best_baseline": c["image_bootstrap"],
                        "mcnemar_vs_best_baseline": c["mcnemar_majority_vote"]})
        else:
            row.update({"delta_vs_best_baseline": 0.0, "p_vs_best_baseline": None})
        per_arm[arm] = row
    synth = [a for a in arms if per_arm[a]["group"] == "synthetic"]
    oracle = [a for a in arms if per_arm[a]["group"] == "oracle"]
    best_syn = max(synth, key=lambda a: per_arm[a]["macro_f1_mean"]) if synth else None
    goal = {"rule": "best synthetic arm - best non-generative arm >= 0.015 macro-F1, paired t p < 0.05, >= 10 seeds",
            "best_non_generative": best, "best_synthetic": best_syn}
    if best_syn:
        d, p = per_arm[best_syn]["delta_vs_best_baseline"], per_arm[best_syn]["p_vs_best_baseline"]
        goal.update({"delta": d, "p": p, "n_seeds": len(per_arm[best_syn]["seeds"]),
                     "reached": bool(d >= 0.015 and p is not None and p < 0.05 and len(per_arm[best_syn]["seeds"]) >= 10)})
    probe = json.loads((run / "probe.json").read_text()) if (run / "probe.json").is_file() else {}
    timings = json.loads((run / "timings.json").read_text()) if (run / "timings.json").is_file() else {}
    result = {
        "title": "ELPV balancing study (issue 15): frozen EfficientNet-Lite0 224 px + logistic regression",
        "license": "ELPV data and every image derived from it: CC BY-NC-SA 4.0",
        "protocol": "experiments/elpv_split.json: test 150+150, val 75+75, oracle pool 300 defects, per seed 600 "
                    "normal / 150 defect training subset; generators see only the seed's subset",
        "model": "efficientnet_lite0 (ImageNet, frozen) features at 224 px, L-BFGS logistic regression, C chosen "
                 "on val log-loss from 7 values, converged",
        "metric_notes": "macro_f1/accuracy at argmax; macro_f1_tuned/recall_tuned at a threshold tuned on val; "
                        "p_* = paired t-test over seeds",
        "arms": per_arm, "synthetic_arms": synth, "oracle_arms": oracle, "non_generative_arms": nongen,
        "best_baseline": best, "goal": goal, "shortcut_probe": probe.get("engines", {}), "cpu_timings": timings,
        "cyclegan": (json.loads((run / "cyclegan_seed0.json").read_text()) if (run / "cyclegan_seed0.json").is_file()
                     else "no CycleGAN translations of the training subsets were available"),
    }
    RESULT.write_text(json.dumps(result, indent=1, default=float) + "\n")
    DOCS.mkdir(parents=True, exist_ok=True)
    plot_bars(per_arm, arms, DOCS / "bars_macro_f1.png")
    image_grid(run, seeds[0], cyclegan, DOCS / "grid_real_transplant.png")
    (run / "table.md").write_text(markdown_table(result) + "\n")
    print(json.dumps(goal, indent=1))


def plot_bars(per_arm: dict, arms: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"baseline": "#888888", "non-generative": "#4c72b0", "oracle": "#55a868", "synthetic": "#dd8452",
              "other": "#aaaaaa"}
    fig, ax = plt.subplots(figsize=(9.5, 0.32 * len(arms) + 1.2))
    for i, arm in enumerate(arms):
        r = per_arm[arm]
        lo, hi = r["macro_f1_ci95"]
        ax.barh(i, r["macro_f1_mean"], color=colors[r["group"]])
        ax.errorbar(r["macro_f1_mean"], i, xerr=[[r["macro_f1_mean"] - lo], [hi - r["macro_f1_mean"]]],
                    color="black", capsize=2, lw=1)
    ax.set_yticks(range(len(arms)), arms, fontsize=8)
    ax.invert_yaxis()
    vals = [per_arm[a]["macro_f1_mean"] for a in arms]
    ax.set_xlim(min(vals) - 0.05, max(vals) + 0.05)
    ax.set_xlabel("test macro-F1 (mean over seeds, 95% bootstrap CI)", fontsize=9)
    ax.set_title("ELPV, frozen Lite0 224 px + LR, 600/150 train (CC BY-NC-SA 4.0 data)", fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors.values()][:4]
    best = max((per_arm[a]["macro_f1_mean"] for a in arms if per_arm[a]["group"] == "non-generative"), default=None)
    if best is not None:
        ax.axvline(best, color="#4c72b0", ls="--", lw=0.8)
        ax.axvline(best + 0.015, color="#dd8452", ls=":", lw=0.8)
    for i, arm in enumerate(arms):
        ax.text(per_arm[arm]["macro_f1_ci95"][1] + 0.002, i, f"{per_arm[arm]['macro_f1_mean']:.3f}", va="center",
                fontsize=7)
    ax.legend(handles + [plt.Line2D([], [], color="#4c72b0", ls="--"), plt.Line2D([], [], color="#dd8452", ls=":")],
              list(colors)[:4] + ["best non-generative", "goal (+0.015)"], fontsize=7, loc="upper left",
              bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def image_grid(run: Path, seed: int, cyclegan: str, path: Path, n: int = 5) -> None:
    """Full-resolution (300 px, no resampling) rows: background normal, transplant output with its mask outline,
    the real defect the patch came from, real unseen defects, and CycleGAN outputs when there are any."""
    from augbench.core.elpv import elpv_root
    from augbench.core.imageio import read_image

    split = json.loads(SPLIT.read_text())
    root = elpv_root()
    rows_t = _manifest_rows(run / "transplant" / "manifest.jsonl", seed)[:n]
    grid_rows: list[tuple[str, list[np.ndarray]]] = []
    bgr = lambda g: cv2.cvtColor(g, cv2.COLOR_GRAY2BGR) if g.ndim == 2 else g  # noqa: E731
    grid_rows.append(("transplant: background normal (training subset)",
                      [bgr(read_image(root / r["source"], mode="gray")) for r in rows_t]))
    outs = []
    for r in rows_t:
        img = bgr(read_image(run / "transplant" / r["file"], mode="gray"))
        mask = read_image(run / "transplant" / r["mask"], mode="gray")
        cnts, _ = cv2.findContours((mask == 255).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        outline = img.copy()
        cv2.drawContours(outline, cnts, -1, (0, 0, 255), 1)
        outs.append((img, outline))
    grid_rows.append(("transplant output (as the classifier sees it)", [o[0] for o in outs]))
    grid_rows.append(("same, pasted-defect mask outlined in red", [o[1] for o in outs]))
    grid_rows.append(("real defect the patch was cut from (training subset)",
                      [bgr(read_image(root / r["defect_source"], mode="gray")) for r in rows_t]))
    grid_rows.append(("real unseen defects (oracle pool)",
                      [bgr(read_image(root / i, mode="gray")) for i in split["oracle_pool"]["defect"][:n]]))
    if cyclegan:
        crow = _manifest_rows(Path(cyclegan), seed)[:n]
        grid_rows.append(("CycleGAN output", [bgr(read_image(Path(cyclegan).parent / r["file"], mode="gray"))
                                              for r in crow]))
    tile, gap, head = 300, 6, 26
    width = n * tile + (n + 1) * gap
    canvas = np.full((len(grid_rows) * (tile + head + gap) + gap, width, 3), 255, np.uint8)
    for ri, (label, imgs) in enumerate(grid_rows):
        y0 = gap + ri * (tile + head + gap)
        cv2.putText(canvas, label, (gap, y0 + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
        for ci, im in enumerate(imgs[:n]):
            x0 = gap + ci * (tile + gap)
            canvas[y0 + head:y0 + head + im.shape[0], x0:x0 + im.shape[1]] = im[:tile, :tile]
    cv2.imwrite(str(path), canvas)


def markdown_table(result: dict) -> str:
    """The per-arm table of docs/bench_elpv.md, generated from elpv_balance.json (no hand copying)."""
    def p(v: float | None) -> str:
        if v is None:
            return "—"
        return "<0.001" if v < 0.001 else f"{v:.3f}"

    lines = ["| arm | group | seeds | macro-F1 [95% CI] | AUPRC | AUROC | defect recall @ val thr | "
             "Δ vs baseline (p) | Δ vs best non-generative (p t / W / image bootstrap) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for arm, r in result["arms"].items():
        lo, hi = r["macro_f1_ci95"]
        dvb = "—" if "delta_vs_baseline" not in r else f"{r['delta_vs_baseline']:+.3f} ({p(r['p_vs_baseline'])})"
        if arm == result["best_baseline"]:
            dbest = "(best non-generative)"
        else:
            boot = r.get("image_bootstrap_vs_best_baseline", {})
            dbest = (f"{r['delta_vs_best_baseline']:+.3f} ({p(r['p_vs_best_baseline'])} / "
                     f"{p(r.get('wilcoxon_p_vs_best_baseline'))} / {p(boot.get('p'))})")
        lines.append(f"| {arm} | {r['group']} | {len(r['seeds'])} | {r['macro_f1_mean']:.3f} [{lo:.3f}, {hi:.3f}] | "
                     f"{r['auprc_mean']:.3f} | {r['auroc_mean']:.3f} | {r['recall_tuned_mean']:.3f} | {dvb} | {dbest} |")
    return "\n".join(lines)
