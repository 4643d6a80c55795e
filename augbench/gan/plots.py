"""Static plots of a training history (for reports and docs; matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from augbench.core.atomic import atomic_path


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else float("nan")


def plot_history(history: Sequence[dict[str, Any]], out_png: str | Path, title: str = "",
                 best_epoch: int | None = None) -> Path:
    """Four panels: mean losses per epoch, then KID, pixels changed and diversity, each on its own axis
    (their scales differ by orders of magnitude); the chosen epoch (``best_epoch``, else the lowest KID)
    is dotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    ax1 = axes[0]
    for key in ("G_AB", "G_BA", "cycle", "identity", "D_A", "D_B", "mask"):
        if any(key in h for h in history):
            ax1.plot(ep, [_num(h.get(key)) for h in history], label=key, marker=".")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("mean loss")
    ax1.set_title("losses")
    ax1.legend(fontsize=7, ncol=2)
    kids = [h for h in history if _num(h.get("kid")) == _num(h.get("kid"))]
    best = best_epoch if best_epoch is not None else (min(kids, key=lambda h: h["kid"])["epoch"] if kids else None)
    for ax, key, label, color in ((axes[1], "kid", "KID vs real defects (lower is better)", "C3"),
                                  (axes[2], "copy", "fraction of pixels changed", "C0"),
                                  (axes[3], "diversity", "diversity (outputs / inputs)", "C2")):
        ax.plot(ep, [_num(h.get(key)) for h in history], color=color, marker="o", ms=3)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("epoch")
        if best is not None:
            ax.axvline(best, color="k", ls=":", lw=1)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(out_png, keep_suffix=True) as tmp:  # matplotlib picks the format from the suffix
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return Path(out_png)
