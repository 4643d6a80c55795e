"""The experiment report, rebuilt from the per-run JSON files alone.

Per model and arm: mean ± std over seeds and a percentile-bootstrap 95% CI of
the mean (resampling seeds; with 3 seeds it is wide, as it should be), per-class
F1, and the difference to ``baseline`` paired by seed with a paired t-test and a
Wilcoxon signed-rank test (with fewer than 6 seeds no Wilcoxon p can fall below
0.05: the report says how many seeds stand behind each number). Figures: a bar
chart with error bars, confusion matrices summed over seeds, learning curves.
Outputs: ``summary.json``, ``runs.csv``, ``summary.csv``, ``report.md``, ``report.html``, ``figures/*.png``.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from augbench.core.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from augbench.core.errors import DatasetError

METRICS = ("accuracy", "macro_f1", "balanced_accuracy")
# Written by the linear-probe head (scores, not only labels): summarised when every run of an arm has them.
SCORE_METRICS = ("auroc", "auprc", "macro_f1_tuned", "recall_tuned")


def load_runs(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every ``runs/<model>/<arm>/seed<k>.json`` under ``run_dir`` (unreadable files are ignored)."""
    out = []
    for p in sorted(Path(run_dir).glob("runs/*/*/seed*.json")):
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(rec, dict) and "test" in rec:
            rec["_path"] = str(p)
            out.append(rec)
    return out


def bootstrap_ci(values: list[float], n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean; one value gives a zero-width interval."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        m = float(v.mean()) if len(v) else float("nan")
        return m, m
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(1)
    lo, hi = np.percentile(means, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return float(lo), float(hi)


def paired_tests(a: list[float], b: list[float]) -> dict[str, float | None]:
    """Paired t-test and Wilcoxon p-values for a - b (None where undefined, e.g. n < 2 or all equal)."""
    from scipy import stats

    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    out: dict[str, float | None] = {"diff_mean": float(d.mean()) if len(d) else None,
                                    "diff_std": float(d.std(ddof=1)) if len(d) > 1 else None,
                                    "t_p": None, "wilcoxon_p": None, "n_pairs": len(d)}
    if len(d) >= 2 and np.any(d != 0):
        if np.std(d) > 0:
            out["t_p"] = float(stats.ttest_rel(a, b).pvalue)
        try:
            out["wilcoxon_p"] = float(stats.wilcoxon(a, b).pvalue)
        except ValueError:
            pass
    return out


def job_arm_order(run_dir: str | os.PathLike[str]) -> list[str]:
    """The arms in the order the job listed them (``job.yaml``), so tables read as the user set them up."""
    import yaml

    path = Path(run_dir) / "job.yaml"
    try:
        arms = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("arms", [])
    except (OSError, yaml.YAMLError, AttributeError):
        return []
    return [str(a) for a in arms] if isinstance(arms, list) else []


def summarize(runs: list[dict[str, Any]], arm_order: list[str] | None = None) -> dict[str, Any]:
    """Aggregate runs per (model, arm) and compare each arm with the same model's baseline."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    arm_order = [a for a in (arm_order or []) if any(r["arm"] == a for r in runs)]
    for r in runs:
        groups[(r["model"], r["arm"])].append(r)
        if r["arm"] not in arm_order:
            arm_order.append(r["arm"])
    if "baseline" in arm_order:
        arm_order.remove("baseline")
        arm_order.insert(0, "baseline")
    rows = []
    for model in sorted({m for m, _ in groups}):
        base = {r["seed"]: r for r in groups.get((model, "baseline"), [])}
        for arm in arm_order:
            rs = sorted(groups.get((model, arm), []), key=lambda r: r["seed"])
            if not rs:
                continue
            classes = rs[0]["classes"]
            row: dict[str, Any] = {"model": model, "arm": arm, "n_seeds": len(rs), "seeds": [r["seed"] for r in rs]}
            for m in METRICS + tuple(k for k in SCORE_METRICS if all(k in r["test"] for r in rs)):
                vals = [float(r["test"].get(m, float("nan"))) for r in rs]
                row[f"{m}_mean"] = float(np.mean(vals))
                row[f"{m}_std"] = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
                row[f"{m}_ci"] = bootstrap_ci(vals)
                row[f"{m}_values"] = vals
                if arm != "baseline" and base:
                    common = [r for r in rs if r["seed"] in base and m in base[r["seed"]]["test"]]
                    row[f"{m}_vs_baseline"] = paired_tests(
                        [float(r["test"][m]) for r in common], [float(base[r["seed"]]["test"][m]) for r in common])
            row["per_class_f1"] = {c: float(np.mean([r["test"]["per_class"][c]["f1"] for r in rs])) for c in classes}
            row["per_class_recall"] = {c: float(np.mean([r["test"]["per_class"][c]["recall"] for r in rs]))
                                       for c in classes}
            row["confusion_matrix"] = np.sum([np.asarray(r["test"]["confusion_matrix"]) for r in rs], 0).tolist()
            row["classes"] = classes
            row["train_counts"] = rs[0].get("train_counts", {})
            row["best_epoch_mean"] = float(np.mean([r.get("best_epoch", 0) for r in rs]))
            row["train_seconds_mean"] = float(np.mean([r.get("train_seconds", 0) for r in rs]))
            rows.append(row)
    return {"rows": rows, "arms": arm_order, "n_runs": len(runs)}


# --------------------------------------------------------------------------- figures


def _fig_bytes(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def plot_bars(rows: list[dict[str, Any]], model: str) -> bytes:
    """Accuracy and macro-F1 per arm, mean with std error bars and the seeds as dots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = [r for r in rows if r["model"] == model]
    fig, axes = plt.subplots(1, 2, figsize=(max(6, 1.3 * len(rs) * 2), 3.6))
    for ax, m, title in zip(axes, ("accuracy", "macro_f1"), ("test accuracy", "test macro-F1")):
        x = np.arange(len(rs))
        ax.bar(x, [r[f"{m}_mean"] for r in rs], yerr=[r[f"{m}_std"] for r in rs], capsize=4,
               color=["#888888" if r["arm"] == "baseline" else "#4c72b0" for r in rs])
        for i, r in enumerate(rs):
            ax.plot([i] * len(r[f"{m}_values"]), r[f"{m}_values"], "k.", ms=4)
        lo = min(min(r[f"{m}_values"]) for r in rs)
        ax.set_ylim(max(0.0, lo - 0.1), 1.0)
        ax.set_xticks(x, [r["arm"] for r in rs], rotation=30, ha="right", fontsize=8)
        ax.set_title(f"{model}: {title} (mean ± std, n={rs[0]['n_seeds']})", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    return _fig_bytes(fig)


def plot_confusions(rows: list[dict[str, Any]], model: str) -> bytes:
    """Row-normalised confusion matrices (summed over seeds), one panel per arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = [r for r in rows if r["model"] == model]
    fig, axes = plt.subplots(1, len(rs), figsize=(2.6 * len(rs), 2.8), squeeze=False)
    for ax, r in zip(axes[0], rs):
        cm = np.asarray(r["confusion_matrix"], dtype=np.float64)
        norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
        ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                ax.text(j, i, f"{int(cm[i, j])}\n{norm[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] > 0.6 else "black")
        ax.set_xticks(range(len(r["classes"])), r["classes"], fontsize=7, rotation=30)
        ax.set_yticks(range(len(r["classes"])), r["classes"], fontsize=7)
        ax.set_title(r["arm"], fontsize=8)
        ax.set_xlabel("predicted", fontsize=7)
    axes[0][0].set_ylabel("true", fontsize=7)
    return _fig_bytes(fig)


def plot_curves(runs: list[dict[str, Any]], model: str, arms: list[str]) -> bytes:
    """Validation macro-F1 and training loss per epoch, mean over seeds, one line per arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for arm in arms:
        rs = [r for r in runs if r["model"] == model and r["arm"] == arm and r.get("history")]
        if not rs:
            continue
        n = min(len(r["history"]) for r in rs)
        ep = np.arange(1, n + 1)
        f1 = np.mean([[h["val_macro_f1"] for h in r["history"][:n]] for r in rs], 0)
        loss = np.mean([[h["train_loss"] for h in r["history"][:n]] for r in rs], 0)
        axes[0].plot(ep, f1, label=arm)
        axes[1].plot(ep, loss, label=arm)
    axes[0].set_title(f"{model}: validation macro-F1", fontsize=9)
    axes[1].set_title("training loss", fontsize=9)
    for ax in axes:
        ax.set_xlabel("epoch", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    return _fig_bytes(fig)


# --------------------------------------------------------------------------- tables


def _pm(row: dict[str, Any], m: str) -> str:
    lo, hi = row[f"{m}_ci"]
    return f"{row[f'{m}_mean']:.3f} ± {row[f'{m}_std']:.3f} [{lo:.3f}, {hi:.3f}]"


def _diff(row: dict[str, Any], m: str) -> str:
    d = row.get(f"{m}_vs_baseline")
    if not d or d["diff_mean"] is None:
        return "—"
    tp = "n/a" if d["t_p"] is None else f"{d['t_p']:.3f}"
    wp = "n/a" if d["wilcoxon_p"] is None else f"{d['wilcoxon_p']:.3f}"
    return f"{d['diff_mean']:+.3f} (t p={tp}, W p={wp})"


def markdown_tables(summary: dict[str, Any]) -> str:
    rows = summary["rows"]
    lines = ["| model | arm | seeds | accuracy mean ± std [95% CI] | macro-F1 mean ± std [95% CI] | "
             "Δ macro-F1 vs baseline (paired) | Δ accuracy vs baseline | per-class F1 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        pc = ", ".join(f"{c} {v:.3f}" for c, v in r["per_class_f1"].items())
        lines.append(f"| {r['model']} | {r['arm']} | {r['n_seeds']} | {_pm(r, 'accuracy')} | {_pm(r, 'macro_f1')} | "
                     f"{_diff(r, 'macro_f1')} | {_diff(r, 'accuracy')} | {pc} |")
    return "\n".join(lines)


def _write_csvs(out: Path, runs: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["model", "arm", "seed", "accuracy", "macro_f1", "balanced_accuracy", "best_epoch", "train_seconds"]
               + [f"f1_{c}" for c in (runs[0]["classes"] if runs else [])])
    for r in sorted(runs, key=lambda r: (r["model"], r["arm"], r["seed"])):
        w.writerow([r["model"], r["arm"], r["seed"], r["test"]["accuracy"], r["test"]["macro_f1"],
                    r["test"].get("balanced_accuracy"), r.get("best_epoch"), r.get("train_seconds")]
                   + [r["test"]["per_class"][c]["f1"] for c in r["classes"]])
    atomic_write_text(out / "runs.csv", buf.getvalue())
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["model", "arm", "n_seeds", "accuracy_mean", "accuracy_std", "accuracy_ci_lo", "accuracy_ci_hi",
                "macro_f1_mean", "macro_f1_std", "macro_f1_ci_lo", "macro_f1_ci_hi", "macro_f1_diff_vs_baseline",
                "macro_f1_t_p", "macro_f1_wilcoxon_p"])
    for r in summary["rows"]:
        d = r.get("macro_f1_vs_baseline") or {}
        w.writerow([r["model"], r["arm"], r["n_seeds"], r["accuracy_mean"], r["accuracy_std"], *r["accuracy_ci"],
                    r["macro_f1_mean"], r["macro_f1_std"], *r["macro_f1_ci"], d.get("diff_mean"), d.get("t_p"),
                    d.get("wilcoxon_p")])
    atomic_write_text(out / "summary.csv", buf.getvalue())


def _unreadable(out: Path) -> list[list[str]]:
    """Images the runner dropped before splitting (``unreadable.json``), for the report."""
    try:
        rows = json.loads((out / "unreadable.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return [[str(r[0]), str(r[1])] for r in rows if isinstance(r, list) and len(r) == 2]


def leak_guard_summary(run_dir: str | os.PathLike[str]) -> str:
    """One line for the Benchmark tab: what the leak guard and the image check left out of an experiment.

    Reads ``result.json`` (synthetic images made from val/test/oracle images,
    unreadable images dropped before splitting) and the run JSONs (synthetic
    images whose generator saw real images outside the seed's training subset).
    """
    out = Path(run_dir)
    try:
        skipped = json.loads((out / "result.json").read_text(encoding="utf-8")).get("skipped", [])
    except (OSError, json.JSONDecodeError, AttributeError):
        skipped = []
    reasons = [str(s.get("reason", "")) for s in skipped if isinstance(s, dict)]
    guard = [r.removeprefix("leak guard: ") for r in reasons if r.startswith("leak guard")]
    unreadable = sum(r.startswith("unreadable") for r in reasons) or len(_unreadable(out))
    privileged: dict[str, int] = defaultdict(int)
    for r in load_runs(out):
        for origin, n in (r.get("leak_guard_privileged_left_out") or {}).items():
            privileged[origin] = max(privileged[origin], int(n))
    parts = guard + [f"up to {n} {o} images per seed made from images outside that seed's training subset "
                     "were left out" for o, n in sorted(privileged.items()) if n]
    if unreadable:
        parts.append(f"{unreadable} unreadable image(s) dropped before splitting")
    if not parts:
        return "Leak guard: nothing left out (no synthetic image was made from a val/test image)"
    return "Leak guard: " + "; ".join(parts)


def build_report(run_dir: str | os.PathLike[str], title: str = "Balancing benchmark") -> dict[str, Any]:
    """Rebuild every report file of ``run_dir`` from its run JSONs; returns the summary."""
    out = Path(run_dir)
    runs = load_runs(out)
    if not runs:
        raise DatasetError(f"no finished runs under {out / 'runs'}")
    summary = summarize(runs, job_arm_order(out))
    figs: list[tuple[str, str]] = []
    for model in sorted({r["model"] for r in runs}):
        kinds = [("bars", plot_bars(summary["rows"], model)), ("confusion", plot_confusions(summary["rows"], model))]
        if any(r.get("history") for r in runs if r["model"] == model):  # a linear probe has no epochs
            kinds.append(("curves", plot_curves(runs, model, summary["arms"])))
        for kind, data in kinds:
            name = f"figures/{kind}_{model}.png"
            atomic_write_bytes(out / name, data)
            figs.append((f"{model}: {kind}", name))
    summary["figures"] = [f for _, f in figs]
    atomic_write_json(out / "summary.json", summary)
    _write_csvs(out, runs, summary)
    table = markdown_tables(summary)
    md = [f"# {title}", "", f"{len(runs)} runs from `{out}`. Mean ± sample std over seeds, [bootstrap 95% CI of the "
          "mean over seeds]; Δ = arm − baseline paired by seed (t = paired t-test, W = Wilcoxon signed-rank).", "",
          table, ""]
    unreadable = _unreadable(out)
    summary["unreadable"] = unreadable
    if unreadable:
        md += [f"**{len(unreadable)} unreadable image(s) were left out before splitting** (never in `split.json`):",
               ""] + [f"- `{p}`: {why}" for p, why in unreadable] + [""]
    md += [f"![{t}]({f})\n" for t, f in figs]
    atomic_write_text(out / "report.md", "\n".join(md) + "\n")
    body = [f"<h1>{html.escape(title)}</h1>", f"<p>{len(runs)} runs. Mean ± std over seeds [bootstrap 95% CI]; "
            "Δ vs baseline paired by seed.</p>", "<table border='1' cellspacing='0' cellpadding='4'>"]
    for i, line in enumerate(table.splitlines()):
        if i == 1:
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        tag = "th" if i == 0 else "td"
        body.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>")
    body.append("</table>")
    body += [f"<h3>{html.escape(t)}</h3><img src='{html.escape(f)}'>" for t, f in figs]
    atomic_write_text(out / "report.html", "<!doctype html><meta charset='utf-8'><title>" + html.escape(title)
                      + "</title><body>" + "\n".join(body) + "</body>\n")
    return summary


__all__ = ["bootstrap_ci", "build_report", "job_arm_order", "leak_guard_summary", "load_runs", "markdown_tables",
           "paired_tests", "summarize"]
