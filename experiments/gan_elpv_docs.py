"""Figures and numbers of ``experiments/gan_elpv.py`` for ``docs/gan_elpv.md`` (called by its ``docs`` stage).

Writes ``docs/gan_elpv_grid.png`` (full-resolution 300 px cells: real defects |
transplant outputs | their masks | CycleGAN outputs | their masks | the normals
CycleGAN translated), ``docs/gan_elpv_curves.png`` and ``docs/gan_elpv_metrics.json``
(history, CPU times, region statistics and the realism gate of each engine,
judged with EfficientNet-Lite0 features against the subset's real defects).
ELPV data and everything derived: CC BY-NC-SA 4.0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

N_COLS = 6


def _rows(out: Path) -> dict[str, list[dict[str, Any]]]:
    from augbench.core.runfolder import iter_manifest

    return {e: [r for r in iter_manifest(out / e / "manifest.jsonl")] if (out / e / "manifest.jsonl").exists()
            else [] for e in ("transplant", "cyclegan")}


def _label(img: np.ndarray, text: str) -> np.ndarray:
    import cv2

    out = img.copy()
    cv2.putText(out, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 0), 1, cv2.LINE_AA)
    return out


def grid(out: Path) -> np.ndarray:
    from augbench.core.elpv import elpv_root
    from augbench.core.imageio import read_image
    from augbench.gan.preview import overlay

    rows = _rows(out)
    root = elpv_root()
    split = json.loads((Path(__file__).with_name("elpv_split.json")).read_text(encoding="utf-8"))
    real = [read_image(root / i, "auto") for i in split["subsets"]["0"]["defect"][:N_COLS]]
    lines: list[tuple[str, list[np.ndarray]]] = [("real defect", [overlay(r, None) for r in real])]
    for engine in ("transplant", "cyclegan"):
        rs = rows[engine][:N_COLS]
        if not rs:
            continue
        imgs = [read_image(out / engine / r["file"], "auto") for r in rs]
        masks = [read_image(out / engine / r["mask"], "gray") if r.get("mask") else None for r in rs]
        lines.append((engine, [overlay(im, None) for im in imgs]))
        lines.append((f"{engine} mask", [overlay(im, m) for im, m in zip(imgs, masks)]))
        if engine == "cyclegan":
            lines.append(("its source", [overlay(read_image(root / r["source"], "auto"), None) for r in rs]))
    gap = 4
    h = 300
    width = N_COLS * h + (N_COLS - 1) * gap
    blocks = []
    for name, cells in lines:
        row = np.full((h, width, 3), 255, np.uint8)
        for j, c in enumerate(cells[:N_COLS]):
            row[:, j * (h + gap):j * (h + gap) + h] = c[:h, :h]
        row[:, :h] = _label(row[:, :h], name)
        blocks += [row, np.full((gap, width, 3), 255, np.uint8)]
    return np.concatenate(blocks[:-1], axis=0)


def gates(out: Path) -> dict[str, Any]:
    """The realism gate (Lite0 features) for each engine's first 64 outputs vs the subset's real defects."""
    from augbench.core.elpv import elpv_root
    from augbench.core.imageio import read_image
    from augbench.gan.quality import realism_gate

    root = elpv_root()
    split = json.loads((Path(__file__).with_name("elpv_split.json")).read_text(encoding="utf-8"))
    real = [read_image(root / i, "auto") for i in split["subsets"]["0"]["defect"]]
    held = [read_image(root / i, "auto") for i in split["oracle_pool"]["defect"][:64]]
    res = {}
    for engine, rs in _rows(out).items():
        rs = rs[:64]
        if not rs:
            continue
        gen = [read_image(out / engine / r["file"], "auto") for r in rs]
        src = [read_image(root / r["source"], "auto") for r in rs]
        res[engine] = realism_gate(gen, real, src, features="lite0").as_dict()
    normals = [read_image(root / i, "auto") for i in split["subsets"]["0"]["normal"][:64]]
    res["held_out_real_defects"] = realism_gate(held, real, normals, features="lite0").as_dict()
    r = np.random.default_rng(0)
    res["pure_noise"] = realism_gate([r.integers(0, 256, (300, 300), dtype=np.uint8) for _ in range(64)], real,
                                     normals, features="lite0").as_dict()
    return res


def write_docs(out: Path, docs: Path) -> list[Path]:
    import torch

    from augbench.core.atomic import atomic_write_json
    from augbench.core.elpv import LICENSE
    from augbench.core.imageio import write_image
    from augbench.gan.plots import plot_history

    torch.set_num_threads(1)
    written = [write_image(docs / "gan_elpv_grid.png", grid(out))]
    hist_file = out / "cyclegan_work" / "history.json"
    metrics: dict[str, Any] = {"license": LICENSE}
    if hist_file.exists():
        hist = json.loads(hist_file.read_text(encoding="utf-8"))
        written.append(plot_history(hist["history"], docs / "gan_elpv_curves.png",
                                    "ELPV 300 px cells, 96 px crops, attention CycleGAN (CC BY-NC-SA 4.0 data); "
                                    "dotted: the chosen epoch", best_epoch=hist["best"].get("epoch")))
        metrics.update({"best": hist["best"], "planned_epochs": hist.get("planned_epochs"),
                        "history": hist["history"]})
    focus = out / "cyclegan_focus_work" / "history.json"
    if focus.exists():  # the second run: defect-aware crops for the defect domain
        fh = json.loads(focus.read_text(encoding="utf-8"))
        metrics["defect_crops_run"] = {"best": fh["best"], "history": fh["history"]}
    cpu = out / "cpu_times.json"
    if cpu.exists():
        metrics["cpu_times"] = json.loads(cpu.read_text(encoding="utf-8"))
    metrics["realism_gate"] = gates(out)
    atomic_write_json(docs / "gan_elpv_metrics.json", metrics)
    written.append(docs / "gan_elpv_metrics.json")
    for p in written:
        print(p)
    return written
