"""Style transfer quality on held-out pairs: our offline AdaIN vs the Magenta engine.

For every held-out (content, style) pair (see ``augbench.style.data.HELDOUT_*``;
none of them was used to train the decoder) both engines stylize the content at
256 px and we measure, in VGG feature space (the offline VGG-16, relu1_1..relu4_1):

* content loss: MSE between the output's and the content image's relu4_1 features;
* style loss: the AdaIN paper's statistic loss, sum over layers of MSE(mean) + MSE(std)
  between the output's and the style image's features.

Lower is better for both; they trade off (alpha 0 = the content itself: content loss 0,
style loss high). Caveat: our decoder was trained against this same VGG-16, which
favours AdaIN in this feature space; the contact sheet is the check a person can make.

Writes ``docs/style_contact_sheet.png`` (content, style, AdaIN alpha 0.5 / 1.0, Magenta)
and a section of docs/benchmarks.md. Run: ``python benchmarks/style_quality.py``
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from augbench.style.data import content_images, style_images  # noqa: E402
from augbench.style.engine import AdaINEngine  # noqa: E402
from augbench.style.functional import mean_std  # noqa: E402
from augbench.style.magenta import MagentaEngine  # noqa: E402
from augbench.style.networks import build_encoder  # noqa: E402
from augbench.style.weights import resolve, sha256_file  # noqa: E402
from benchmarks._report import md_table, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def resize_long(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = side / max(h, w)
    return cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


@torch.inference_mode()
def feats(enc, img: np.ndarray) -> list[torch.Tensor]:
    x = torch.from_numpy(np.array(img)).permute(2, 0, 1)[None].float() / 255.0
    return enc(x)


def losses(enc, out: np.ndarray, content_f: list[torch.Tensor], style_f: list[torch.Tensor]) -> tuple[float, float]:
    of = feats(enc, out)
    c = float(torch.mean((of[3] - content_f[3]) ** 2))
    s = 0.0
    for a, b in zip(of, style_f):
        ma, mb = mean_std(a), mean_std(b)
        s += float(torch.mean((ma.mean - mb.mean) ** 2) + torch.mean((ma.std - mb.std) ** 2))
    return c, s


def tile(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = side / max(h, w)
    small = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    canvas = np.full((side, side, 3), 255, np.uint8)
    y, x = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


def label(img: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((22, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, img], 0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sheet-rows", type=int, default=6)
    ap.add_argument("--decoder", default=None, help="decoder file to evaluate (default: the resolved one)")
    ap.add_argument("--no-write", action="store_true", help="print only (for comparing candidate decoders)")
    ap.add_argument("--no-magenta", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    contents, styles = content_images(heldout=True), style_images(heldout=True)
    enc = build_encoder("vgg16")
    adain = AdaINEngine(device="cpu", max_side=args.size, style_side=args.size, precision="fp32",
                        decoder_weights=args.decoder)
    magenta = MagentaEngine(device="cpu", threads=args.threads)
    dec_path = resolve("decoder_vgg16.pt", args.decoder)
    arms = {"content unchanged (alpha 0 reference)": [], "AdaIN alpha 0.5 (ours)": [], "AdaIN alpha 1.0 (ours)": [],
            "Magenta alpha 1.0 (peer)": []}
    sheet_rows = []
    pairs = [(c, s) for c in contents for s in styles]
    ns = len(styles)
    # sheet: every content once with a different style each, then more pairs until sheet_rows
    order = [ci * ns + (ci % ns) for ci in range(len(contents))] + [ci * ns + ((ci + 1) % ns)
                                                                    for ci in range(len(contents))]
    sheet_pick = set(order[: args.sheet_rows])
    for i, (c, s) in enumerate(pairs):
        content = resize_long(c.image, args.size)
        style = resize_long(s.image, args.size)
        cf, sf = feats(enc, content), feats(enc, style)
        outs = {
            "content unchanged (alpha 0 reference)": content,
            "AdaIN alpha 0.5 (ours)": adain.stylize(content, [style], alpha=0.5),
            "AdaIN alpha 1.0 (ours)": adain.stylize(content, [style], alpha=1.0),
            "Magenta alpha 1.0 (peer)": content if args.no_magenta else magenta.stylize(content, [style], alpha=1.0),
        }
        for name, out in outs.items():
            arms[name].append(losses(enc, out, cf, sf))
        if i in sheet_pick:
            side = 200
            row = [label(tile(content, side), f"content: {c.name}"), label(tile(style, side), f"style: {s.name}"),
                   label(tile(outs["AdaIN alpha 0.5 (ours)"], side), "AdaIN a=0.5"),
                   label(tile(outs["AdaIN alpha 1.0 (ours)"], side), "AdaIN a=1.0"),
                   label(tile(outs["Magenta alpha 1.0 (peer)"], side), "Magenta")]
            sheet_rows.append(np.concatenate(row, 1))
    sheet = np.concatenate(sheet_rows, 0)
    out_png = ROOT / "docs" / "style_contact_sheet.png"
    if args.no_write:
        out_png = Path("/tmp") / f"style_sheet_{dec_path.stem}.png"
    out_png.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out_png), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))

    rows, data = [], {"pairs": [[c.name, s.name] for c, s in pairs], "size": args.size,
                      "decoder_sha256": sha256_file(dec_path), "arms": {}}
    for name, vals in arms.items():
        cl = [v[0] for v in vals]
        sl = [v[1] for v in vals]
        data["arms"][name] = {"content_loss_mean": statistics.mean(cl), "style_loss_mean": statistics.mean(sl),
                              "content_loss": cl, "style_loss": sl}
        rows.append([name, statistics.mean(cl), statistics.median(cl), statistics.mean(sl), statistics.median(sl)])
    md = (f"## Style transfer quality (`benchmarks/style_quality.py`)\n\n"
          f"{len(pairs)} held-out pairs ({len(contents)} content photos x {len(styles)} styles, none seen in decoder "
          f"training), {args.size} px, losses in the offline VGG-16 feature space (lower is better; the two trade "
          f"off). Our decoder was trained against this same VGG-16, which favours AdaIN here: look at the sheet too."
          f"\n\n" + md_table(["engine", "content loss (mean)", "content loss (median)", "style loss (mean)",
                              "style loss (median)"], rows)
          + "\n\n![contact sheet](style_contact_sheet.png)\n\nContact sheet: content, style, AdaIN alpha 0.5, "
          "AdaIN alpha 1.0, Magenta (`docs/style_contact_sheet.png`).")
    if args.no_write:
        print(md_table(["engine", "content mean", "content median", "style mean", "style median"], rows))
        print("sheet:", out_png)
        return
    write_results("style_quality", data, md)
    print(md)


if __name__ == "__main__":
    main()
