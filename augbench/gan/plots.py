"""Static plots of a training history (for reports and docs; matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from augbench.core.atomic import atomic_path


def plot_history(history: Sequence[dict[str, Any]], out_png: str | Path, title: str = "") -> Path:
    """Two panels: mean losses per epoch, and the detectors (KID, copy, diversity) per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for key in ("G_AB", "G_BA", "cycle", "identity", "D_A", "D_B"):
        if any(key in h for h in history):
            ax1.plot(ep, [h.get(key, float("nan")) for h in history], label=key, marker=".")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("mean loss")
    ax1.set_title("losses")
    ax1.legend(fontsize=7, ncol=2)
    if any("kid" in h for h in history):
        ax2.plot(ep, [h.get("kid", float("nan")) for h in history], color="C3", marker="o", label="KID")
        ax2.set_ylabel("KID (lower is better)", color="C3")
        best = min((h for h in history if h.get("kid") is not None), key=lambda h: h["kid"])
        ax2.axvline(best["epoch"], color="C3", ls=":", lw=1)
        ax3 = ax2.twinx()
        ax3.plot(ep, [h.get("copy", float("nan")) for h in history], color="C0", marker=".", label="copy")
        ax3.plot(ep, [h.get("diversity", float("nan")) for h in history], color="C2", marker=".", label="diversity")
        ax3.set_ylabel("copy score / diversity ratio")
        ax3.legend(fontsize=7, loc="upper right")
        ax2.set_title("detectors on held-out normals (dotted: chosen epoch)")
    ax2.set_xlabel("epoch")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(out_png, keep_suffix=True) as tmp:  # matplotlib picks the format from the suffix
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return Path(out_png)
