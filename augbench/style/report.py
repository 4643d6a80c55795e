"""Plot a decoder training history (``history.json`` of ``style train-decoder``) as a PNG.

Run: ``python -m augbench.style.report RUN_DIR OUT.png``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def plot_history(history: list[dict], out_png: str | Path) -> Path:
    """Two panels: reconstruction warm-up (pixel MSE) and the AdaIN content/style losses (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recon = [h for h in history if h.get("phase") == "recon"]
    adain = [h for h in history if h.get("phase", "adain") == "adain" and "content" in h]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    if recon:
        axes[0].plot([h["step"] for h in recon], [h["recon"] for h in recon], alpha=0.35, label="pixel MSE")
        axes[0].plot([h["step"] for h in recon], [h["recon_ema"] for h in recon], label="EMA")
    ident = [h for h in adain if h.get("identity")]
    if ident:  # the identity term of the AdaIN phase is the same pixel MSE: the curve continues
        axes[0].plot([h["step"] for h in ident], [h["identity"] for h in ident], alpha=0.35, color="C2",
                     label="identity term (AdaIN phase)")
        axes[0].plot([h["step"] for h in ident], _ema([h["identity"] for h in ident]), color="C2")
    axes[0].set_title("pixel MSE of decoder(encoder(x)) vs x")
    axes[0].set_xlabel("step")
    axes[0].set_yscale("log")
    axes[0].legend()
    if adain:
        steps = [h["step"] for h in adain]
        axes[1].plot(steps, [h["content"] for h in adain], alpha=0.3, color="C0")
        axes[1].plot(steps, [h["style"] * 10 for h in adain], alpha=0.3, color="C1")
        axes[1].plot(steps, [_ema([h["content"] for h in adain])][0], color="C0", label="content loss")
        axes[1].plot(steps, _ema([h["style"] * 10 for h in adain]), color="C1", label="10 x style loss")
    axes[1].set_title("AdaIN losses (VGG-16 feature space)")
    axes[1].set_xlabel("step")
    axes[1].set_yscale("log")
    axes[1].legend()
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
    return out_png


def _ema(xs: list[float], k: float = 0.9) -> list[float]:
    out, m = [], None
    for x in xs:
        m = x if m is None else k * m + (1 - k) * x
        out.append(m)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 2:
        print("usage: python -m augbench.style.report RUN_DIR OUT.png", file=sys.stderr)
        return 2
    history = json.loads((Path(argv[0]) / "history.json").read_text(encoding="utf-8"))
    print(plot_history(history, argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
