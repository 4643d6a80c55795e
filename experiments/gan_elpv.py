"""The ELPV synthesis run of issue 15: CycleGAN at native resolution and the transplant engine.

``python experiments/gan_elpv.py train OUT [--budget 2700]``      train normal -> defect on subset 0
``python experiments/gan_elpv.py translate OUT``                   translate subset 0's 600 training normals
``python experiments/gan_elpv.py transplant OUT [--n 600]``       the transplant engine on the same subset
``python experiments/gan_elpv.py docs OUT``                        figures + metrics into docs/

Data: ELPV (package ``elpv-dataset``; CC BY-NC-SA 4.0, everything generated
inherits it). The split is ``experiments/elpv_split.json`` (written by
``experiments/elpv_split.py``): the generators learn ONLY from
``subsets["0"]`` (600 normals + 150 defects), the classifier's own training
split for seed 0; val, test and the oracle pool never reach them. Every
output row in ``OUT/<engine>/manifest.jsonl`` names its translated ``source``,
the ``defect_sources`` the generator learned from / cut from, and
``subset_seed`` 0, so the study's leak guard can check both.

CycleGAN: 300 px cells held whole, trained on random 96 px crops, whole
cells translated (fully convolutional), attention generator (the output keeps
the input where the mask is 0; its mask is written beside each image).
Every stage records its CPU time (``OUT/cpu_times.json``). Resumable: a
killed ``train`` continues from ``OUT/cyclegan_work/last.pt``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPLIT = ROOT / "experiments" / "elpv_split.json"
SUBSET = "0"
CROP, FULL = 96, 300


def subset_paths() -> tuple[list[Path], list[Path], list[str], list[str]]:
    """(normal paths, defect paths, normal ids, defect ids) of the generator's training subset."""
    from augbench.core.elpv import elpv_root

    split = json.loads(SPLIT.read_text(encoding="utf-8"))
    sub = split["subsets"][SUBSET]
    root = elpv_root()
    return [root / i for i in sub["normal"]], [root / i for i in sub["defect"]], sub["normal"], sub["defect"]


def record_cpu(out: Path, stage: str, cpu_s: float, wall_s: float, extra: dict[str, Any] | None = None,
               accumulate: bool = True) -> None:
    """Add this session's CPU/wall time to the stage (a resumed training adds up; a redone stage replaces)."""
    from augbench.core.atomic import atomic_write_json

    path = out / "cpu_times.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    prev = data.get(stage, {}) if accumulate else {}
    data[stage] = {"cpu_s": round(prev.get("cpu_s", 0.0) + cpu_s, 1), "wall_s": round(prev.get("wall_s", 0.0) + wall_s, 1),
                   "load": "2 shared cores: a style-decoder training ran on the other core", **(extra or {})}
    atomic_write_json(path, data)


def gan_config(budget: float):
    from augbench.gan.trainer import GanConfig

    # ngf 16 and fp32: measured here at 1 thread, a 96 px step costs 0.80 CPU-s with ngf 16 (1.43 s with
    # ngf 32), and bf16 autocast was 14x SLOWER than fp32 on this CPU at 1 thread.
    return GanConfig(channels=1, size=CROP, full_size=FULL, ngf=16, n_blocks=6, generator="attention",
                     lambda_mask=0.5, epochs=60, steps_per_epoch=100, time_budget_s=budget, precision="fp32",
                     batch_passes=True, sample_every=0, seed=0, device="cpu")


def cmd_train(out: Path, budget: float, reset_mask: bool = False, defect_crops: bool = False) -> None:
    import torch

    from augbench.core.progress import Progress
    from augbench.gan.balance import _split_holdout
    from augbench.gan.data import UnpairedData, load_folder, to_tensor
    from augbench.gan.monitor import make_evaluator, make_previewer
    from augbench.gan.trainer import Trainer

    torch.set_num_threads(1)
    normals, defects, _, _ = subset_paths()
    cfg = gan_config(budget)
    train_a, hold_a = _split_holdout(normals, 16, 0)
    a, _, _ = load_folder(train_a, 1, FULL)
    b, _, _ = load_folder(defects, 1, FULL)
    hold, _, _ = load_folder(hold_a, 1, FULL)
    work = out / ("cyclegan_focus_work" if defect_crops else "cyclegan_work")
    hold_t = to_tensor(hold)
    evaluate = make_evaluator(hold_t, to_tensor(b), work, "lite0", seed=0)
    focus = None
    if defect_crops:  # domain-B crops centred on the defects the transplant engine finds (see the docs)
        from augbench.core.imageio import read_image
        from augbench.gan.data import focus_indices
        from augbench.gan.regions import defect_masks, extract_defect_regions

        defs = [read_image(p, "auto") for p in defects]
        patches = extract_defect_regions(defs, [read_image(p, "auto") for p in train_a])
        focus = focus_indices(defect_masks(patches, len(defs)), FULL)
    trainer = Trainer(cfg, UnpairedData(a, b, CROP, seed=0, b_focus=focus), work, evaluate=evaluate,
                      preview=make_previewer(hold_t[:4]),
                      extra={"normals": [str(p) for p in train_a], "holdout": [str(p) for p in hold_a],
                             "defects": [str(p) for p in defects], "subset_seed": int(SUBSET)})
    if trainer.resume() and reset_mask:
        # The first 4 epochs ran with a plain L1 mask penalty and collapsed to the identity (mask area 0.4 %);
        # the hinge penalty (mask_target) continues from there with the mask logits' bias reset to 0.
        import torch as _t

        with _t.no_grad():
            for g in (trainer.model.G_AB, trainer.model.G_BA):
                g.trunk.model[-1].bias[-1] = 0.0
        print("mask bias reset", flush=True)

    def progress(p: Progress) -> None:
        if p.stage == "epoch" or p.done % 50 == 0:
            print(f"[{p.stage}] {p.done}/{p.total} {p.message}", flush=True)

    c0, w0 = time.process_time(), time.perf_counter()
    state = trainer.fit(progress)
    record_cpu(out, "cyclegan_focus_train" if defect_crops else "cyclegan_train", time.process_time() - c0,
               time.perf_counter() - w0,
               {"epochs": state.epoch, "steps": state.global_step, "best": state.best})


def cmd_translate(out: Path) -> None:
    import torch

    from augbench.core.imageio import write_image
    from augbench.core.runfolder import RunFolder, iter_manifest
    from augbench.gan.data import load_image, to_tensor, to_uint8
    from augbench.gan.trainer import load_model

    torch.set_num_threads(1)
    normals, _, normal_ids, defect_ids = subset_paths()
    ckpt_path = out / "cyclegan_work" / "best.pt"
    model, ckpt = load_model(ckpt_path, "cpu")
    dest = out / "cyclegan"
    run = RunFolder(dest)
    done = {r["file"] for r in iter_manifest(run.manifest.path)}
    c0, w0 = time.process_time(), time.perf_counter()
    for k, (path, nid) in enumerate(zip(normals, normal_ids)):
        name = f"defect/cyclegan_{k:04d}.png"
        if name in done:
            continue
        x = to_tensor(load_image(path, 1, FULL)[None])
        fake, mask = model.translate_with_mask(x)
        write_image(dest / name, to_uint8(fake)[0, ..., 0])
        mask_u8 = (mask[0, 0].numpy() * 255).round().astype(np.uint8) if mask is not None else None
        if mask_u8 is not None:
            write_image(dest / "masks" / name.replace(".png", "_mask.png"), mask_u8)
        run.manifest.append({"file": name, "class": "defect", "origin": "cyclegan", "engine": "cyclegan",
                             "synthetic": True, "source": nid, "defect_sources": defect_ids,
                             "subset_seed": int(SUBSET), "checkpoint": str(ckpt_path), "epoch": ckpt.get("epoch"),
                             "mask": f"masks/{name.replace('.png', '_mask.png')}" if mask_u8 is not None else None})
    record_cpu(out, "cyclegan_translate", time.process_time() - c0, time.perf_counter() - w0,
               {"images": len(normals) - len(done)})


def cmd_transplant(out: Path, n: int) -> None:
    from augbench.core.imageio import read_image, write_image
    from augbench.core.runfolder import RunFolder
    from augbench.gan.transplant import extract_defect_regions, region_summary, synthesize

    normals, defects, normal_ids, defect_ids = subset_paths()
    c0, w0 = time.process_time(), time.perf_counter()
    norm = [read_image(p, "auto") for p in normals]
    defs = [read_image(p, "auto") for p in defects]
    chosen: dict[str, str] = {}
    skipped: list[tuple[int, str]] = []
    patches = extract_defect_regions(defs, norm, chosen=chosen, skipped=skipped)
    t_extract = time.perf_counter() - w0
    c1, w1 = time.process_time(), time.perf_counter()
    outs = synthesize(norm, defs, n, seed=0, patches=patches)
    t_synth = time.perf_counter() - w1
    cpu_synth = time.process_time() - c1
    dest = out / "transplant"
    if (dest / "manifest.jsonl").exists():  # a redo: same seed, same images; start the records afresh
        (dest / "manifest.jsonl").unlink()
    run = RunFolder(dest)
    for k, (img, mask, prov) in enumerate(outs):
        name = f"defect/transplant_{k:04d}.png"
        write_image(dest / name, img)
        write_image(dest / "masks" / name.replace(".png", "_mask.png"), mask)
        run.manifest.append({"file": name, "class": "defect", "origin": "transplant", "engine": "transplant",
                             "synthetic": True, "source": normal_ids[prov["normal"]],
                             "defect_sources": [defect_ids[prov["defect"]]], "subset_seed": int(SUBSET),
                             "mask": f"masks/{name.replace('.png', '_mask.png')}", "provenance": prov})
    record_cpu(out, "transplant", time.process_time() - c0, time.perf_counter() - w0,
               {"images": n, "extract_wall_s": round(t_extract, 2), "synth_wall_s": round(t_synth, 2),
                "ms_per_image": round(1000 * t_synth / max(n, 1), 1),
                "ms_per_image_cpu": round(1000 * cpu_synth / max(n, 1), 1), "polarity": chosen.get("polarity"),
                "regions": region_summary(patches), "defects_without_region": len(skipped)}, accumulate=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("stage", choices=["train", "translate", "transplant", "docs"])
    ap.add_argument("out", type=Path)
    ap.add_argument("--budget", type=float, default=2700.0, help="CycleGAN training budget in seconds")
    ap.add_argument("--n", type=int, default=600, help="transplant images to write")
    ap.add_argument("--reset-mask-bias", action="store_true", help="on resume: attention mask bias back to 0")
    ap.add_argument("--defect-crops", action="store_true",
                    help="centre most defect crops on a defect (a separate run in OUT/cyclegan_focus_work)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.stage == "train":
        cmd_train(args.out, args.budget, args.reset_mask_bias, args.defect_crops)
    elif args.stage == "translate":
        cmd_translate(args.out)
    elif args.stage == "transplant":
        cmd_transplant(args.out, args.n)
    else:
        from gan_elpv_docs import write_docs  # experiments/gan_elpv_docs.py: figures for docs/gan_elpv.md

        write_docs(args.out, ROOT / "docs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
