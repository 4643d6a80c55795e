"""Whole-process style batch: ``augbench style apply`` as a user runs it, against a plain AdaIN script.

Every side is a separate process timed from outside (start-up, imports, network loading, every write):
* ours as shipped (AdaIN, colour match + one feedback round, the defaults);
* ours open loop (``--feedback 0 --no-color-match``: the same work as the peer);
* the peer: a plain script with the same networks, pytorch-AdaIN's ``style_transfer()`` shape for every
  output (encode content + style, AdaIN, decode; ``--plain-loop`` below), cv2 reads and writes;
* ours with ``--engine magenta`` (the second engine).
The 4 held-out photos x 3 held-out styles (one output per pair) at max side 256, as in
``style_quality.py``. Runs rotate A B C D, the median of each is reported with ratios to the peer.

Run: ``.venv/bin/python benchmarks/style_apply_process.py [--runs 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import md_table, write_results  # noqa: E402
from benchmarks.augment_export_process import _augbench, timed, wait_quiet  # noqa: E402

SIDE = 256


def plain_loop_main(src: Path, styles: Path, out: Path) -> None:
    """The peer: one output per (photo, style), nothing cached, nothing but cv2 around the networks."""
    import cv2
    import torch

    from augbench.style.engine import AdaINEngine
    from benchmarks.style_speed import plain_style_transfer

    torch.set_num_threads(os.cpu_count() or 1)
    eng = AdaINEngine(device="cpu", max_side=SIDE, style_side=SIDE, color_match=False, feedback=0)
    out.mkdir(parents=True, exist_ok=True)

    def load(p: Path):
        img = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
        h, w = img.shape[:2]
        s = SIDE / max(h, w)
        img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA) if s < 1 else img
        return img[: img.shape[0] // 8 * 8, : img.shape[1] // 8 * 8]  # the plain decoder needs multiples of 8

    for c in sorted(src.glob("*.png")):
        content = load(c)
        for k, s in enumerate(sorted(styles.glob("*.png"))):
            res = plain_style_transfer(eng, content, load(s), 1.0)
            cv2.imwrite(str(out / f"{c.stem}_style{k:02d}.png"), cv2.cvtColor(res, cv2.COLOR_RGB2BGR))


def prepare(tmp: Path) -> tuple[Path, Path]:
    """The held-out photos and styles as PNG files (full size: each side resizes them itself)."""
    import cv2

    from augbench.style.data import content_images, style_images

    src, sty = tmp / "photos", tmp / "styles"
    src.mkdir()
    sty.mkdir()
    for c in content_images(heldout=True):
        cv2.imwrite(str(src / f"{Path(c.name).stem}.png"), cv2.cvtColor(c.image, cv2.COLOR_RGB2BGR))
    for s in style_images(heldout=True):
        cv2.imwrite(str(sty / f"{Path(s.name).stem}.png"), cv2.cvtColor(s.image, cv2.COLOR_RGB2BGR))
    return src, sty


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--plain-loop", nargs=3, metavar=("SRC", "STYLES", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.plain_loop:
        plain_loop_main(*(Path(p) for p in args.plain_loop))
        return
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        src, sty = prepare(tmp)
        styles = sorted(str(p) for p in sty.glob("*.png"))
        n_out = len(list(src.glob("*.png"))) * len(styles)

        def ours(out: Path, *extra: str) -> list[str]:
            # -k 3: three copies per photo, each with a style drawn (seeded) from the 3: as many outputs as the peer
            return [_augbench(), "style", "apply", str(src), "--out", str(out), "--style", *styles, "-k",
                    str(len(styles)), "--max-side", str(SIDE), *extra]

        sides = {
            "ours as shipped (colour match + 1 feedback round)": lambda o: ours(o),
            "ours open loop (--feedback 0 --no-color-match)": lambda o: ours(o, "--feedback", "0",
                                                                             "--no-color-match"),
            "plain AdaIN script (peer, same networks)": lambda o: [sys.executable, str(Path(__file__).resolve()),
                                                                   "--plain-loop", str(src), str(sty), str(o)],
            "ours --engine magenta": lambda o: ours(o, "--engine", "magenta"),
        }
        walls: dict[str, list[float]] = {k: [] for k in sides}
        cpus: dict[str, list[float]] = {k: [] for k in sides}
        for r in range(args.runs + 1):  # the first round warms the page cache and is not counted
            for i, (name, cmd) in enumerate(sides.items()):
                wait_quiet()
                t = timed(cmd(tmp / f"out_{r}_{i}"))
                if r:
                    walls[name].append(t["wall"])
                    cpus[name].append(t["user"] + t["sys"])
        for i in range(len(sides)):
            made = list((tmp / f"out_1_{i}").glob("*.png"))
            assert len(made) == n_out, (i, len(made))
    peer = statistics.median(walls["plain AdaIN script (peer, same networks)"])
    rows, data = [], {"outputs": n_out, "side": SIDE, "runs": args.runs, "loadavg_start": load0, "results": {}}
    for name in sides:
        w, c = statistics.median(walls[name]), statistics.median(cpus[name])
        data["results"][name] = {"wall_s": w, "cpu_s": c, "walls": walls[name], "ratio_to_peer": w / peer}
        rows.append([name, round(w, 2), round(c, 2), round(w / peer, 2)])
    data["loadavg_end"] = os.getloadavg()[0]
    md = ("## Style batch as a whole command (`benchmarks/style_apply_process.py`)\n\n"
          f"{n_out} outputs (4 held-out photos x 3 held-out styles) at max side {SIDE}, each side a separate "
          f"process timed from outside (start-up, imports, network loading, writes), median of {args.runs} "
          f"rotated runs after a warm-up round. Load average {load0:.1f} at start, {data['loadavg_end']:.1f} at "
          "the end (quiet machine: nothing else running; the load is the benchmark's own processes). Not quite "
          "the same deliverable: `augbench style apply` writes each output at its input's size (resized back "
          "from the network's 256 px, up to 512x512 here), with atomic writes, a manifest and a resumable job "
          "record; the plain script writes the 256 px network output and nothing else.\n\n"
          + md_table(["command", "wall s (median)", "CPU s (median)", "wall / peer"], rows))
    write_results("style_apply_process", data, md)
    print(md)


if __name__ == "__main__":
    main()
