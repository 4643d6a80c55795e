"""The balance job's CycleGAN engine: train (or resume) one translator per class, then translate.

With ``full_size`` the images are held whole (e.g. 300 px cells), training
takes random ``size`` crops and whole images are translated, so a crack keeps
its width; outputs go back to each source's own resolution and format. An
attention generator's mask is written as the output's mask.

Under torchrun every rank trains, but only rank 0 evaluates (the trainer
calls ``evaluate`` and ``preview`` on rank 0 alone), so only rank 0 builds the
evaluator: it loads the KID feature network and the held-out images.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from augbench.core.distributed import env_world
from augbench.core.progress import CancelToken, Progress, ProgressFn
from augbench.core.runfolder import RunFolder
from augbench.gan.data import UnpairedData, focus_indices, load_folder, load_image, to_tensor, to_uint8
from augbench.gan.engines import Loaded, chunks, gate_or_raise, out_name, resize_to, write_output
from augbench.gan.monitor import make_evaluator, make_previewer
from augbench.gan.planner import ClassPlan
from augbench.gan.trainer import Trainer, load_model

if TYPE_CHECKING:
    from augbench.gan.balance import BalanceConfig


def split_holdout(paths: list[Path], n_holdout: int, seed: int) -> tuple[list[Path], list[Path]]:
    """Held-out normals for the detectors (never trained on), the rest for training.

    ``n_holdout`` 0 (or too few normals to spare a quarter) holds nothing out:
    the detectors then see no image, and the best checkpoint is the last one
    (a training image must not pose as a held-out one).
    """
    n = min(n_holdout, len(paths) // 4)
    if n == 0:
        return list(paths), []
    order = np.random.default_rng([seed, 99]).permutation(len(paths))
    hold = {int(i) for i in order[:n]}
    return [p for i, p in enumerate(paths) if i not in hold], [p for i, p in enumerate(paths) if i in hold]


def native_size(images: list[Loaded], multiple: int = 4) -> int:
    """The size whole images are held at: the median longer side, rounded to the generator's stride."""
    side = int(np.median([max(x.image.shape[:2]) for x in images]))
    return max(multiple, int(round(side / multiple)) * multiple)


def train_translator(cfg: BalanceConfig, cls: str, normals: list[Path], defects: list[Path], channels: int,
                     full_size: int, progress: ProgressFn, cancel: CancelToken,
                     b_masks: list[np.ndarray | None] | None = None) -> dict[str, Any]:
    """Train (or resume) the translator for one class; returns its summary (best epoch, KID, history)."""
    work = cfg.resolved_work_dir / cls
    gcfg = cfg.gan_config(channels, full_size)
    train_a, hold_a = split_holdout(normals, cfg.n_holdout, cfg.seed)
    load, view = gcfg.effective_load_size, gcfg.translate_size
    a, _, _ = load_folder(train_a, channels, load, cfg.whiten)  # type: ignore[arg-type]
    b, _, _ = load_folder(defects, channels, load, cfg.whiten)  # type: ignore[arg-type]
    evaluate = preview = None
    if hold_a and env_world().is_main:  # ranks > 0 never evaluate: no feature network, no held-out images
        hold, _, _ = load_folder(hold_a, channels, view, cfg.whiten)  # type: ignore[arg-type]
        real_b, _, _ = load_folder(defects, channels, view, cfg.whiten)  # type: ignore[arg-type]
        hold_t = to_tensor(hold)
        evaluate = make_evaluator(hold_t, to_tensor(real_b), work, cfg.kid_features, seed=cfg.seed)
        preview = make_previewer(hold_t[:4])
    focus = focus_indices(b_masks, load) if b_masks is not None and len(b_masks) == len(b) else None
    data = UnpairedData(a, b, cfg.size, seed=cfg.seed, b_focus=focus)
    trainer = Trainer(gcfg, data, work, evaluate=evaluate, preview=preview,
                      extra={"class": cls, "normals": [str(p) for p in train_a], "holdout": [str(p) for p in hold_a],
                             "defects": [str(p) for p in defects], "whiten": cfg.whiten})
    resumed = trainer.resume()

    def relay(p: Progress) -> None:
        progress(dataclasses.replace(p, stage=f"{p.stage}:{cls}"))

    state = trainer.fit(relay, cancel)
    return {"class": cls, "engine": "cyclegan", "resumed": resumed, "epochs": state.epoch, "best": state.best,
            "history": state.history, "checkpoint": str(trainer.best_path), "work_dir": str(work),
            "n_train_normals": len(train_a), "n_holdout": len(hold_a), "n_defects": len(defects),
            "full_size": full_size, "generator": cfg.generator}


def _variant(img: np.ndarray, seed: int) -> tuple[np.ndarray, str]:
    """A seeded flip of the source so that repeated sources give different images."""
    r = np.random.default_rng(seed)
    op = ["none", "hflip", "vflip", "hvflip"][int(r.integers(0, 4))]
    if op in ("hflip", "hvflip"):
        img = img[:, ::-1]
    if op in ("vflip", "hvflip"):
        img = img[::-1]
    return np.ascontiguousarray(img), op


def generate_cyclegan(cfg: BalanceConfig, plan: ClassPlan, normals: list[Loaded], defects: list[Loaded],
                      checkpoint: Path, out_cls: Path, run: RunFolder, progress: ProgressFn, cancel: CancelToken,
                      done_files: set[str]) -> tuple[list[str], dict[str, Any]]:
    """Write ``plan.to_generate`` translations of training normals (after a gated probe); resumable."""
    model, ckpt = load_model(checkpoint, cfg.device)
    c, view = model.cfg.channels, model.cfg.translate_size
    epoch, kid_value = int(ckpt.get("epoch", 0)), ckpt.get("metrics", {}).get("kid")
    order = np.random.default_rng([cfg.seed, 2024]).permutation(len(normals))
    copy_dir = Path(cfg.generated_copy) / plan.name if cfg.generated_copy else None
    rel_dir = out_cls.relative_to(run.root.resolve()).as_posix()
    defect_rels = [d.rel for d in defects]

    def translate(ks: list[int]) -> list[tuple[int, Loaded, str, np.ndarray, np.ndarray | None]]:
        srcs, imgs, ops = [], [], []
        for k in ks:
            src = normals[int(order[k % len(normals)])]
            img, op = _variant(load_image(src.path, c, view, cfg.whiten), cfg.seed * 1_000_003 + k)  # type: ignore
            srcs.append(src)
            imgs.append(img)
            ops.append(op)
        fakes, masks = model.translate_with_mask(to_tensor(np.stack(imgs)), "AB")
        out = []
        for j, (k, src, op) in enumerate(zip(ks, srcs, ops)):
            shape = src.image.shape[:2]
            fake = to_uint8(fakes[j:j + 1])[0]
            fake = resize_to(fake[..., 0] if c == 1 else fake, shape)
            if src.image.ndim == 2 and fake.ndim == 3:
                fake = fake.mean(-1).round().astype(np.uint8)
            mask = None
            if masks is not None:
                mask = resize_to((masks[j, 0].numpy() * 255).round().astype(np.uint8), shape)
            out.append((k, src, op, fake, mask))
        return out

    todo = [k for k in range(plan.to_generate)
            if f"{rel_dir}/{out_name(plan, k, normals[int(order[k % len(normals)])].path)}" not in done_files]
    probe_ks = list(range(min(cfg.gate_n, plan.to_generate)))
    probe = translate(probe_ks) if probe_ks else []
    gate = gate_or_raise(cfg, plan.name, [p[3] for p in probe], [_flip_like(p[1].image, p[2]) for p in probe],
                         [d.image for d in defects], progress)
    cached = {p[0]: p for p in probe}
    written: list[str] = []
    for ks in chunks(todo, 16):
        cancel.check()
        missing = [k for k in ks if k not in cached]
        batch = [cached.pop(k) for k in ks if k in cached] + (translate(missing) if missing else [])
        for k, src, op, fake, mask in sorted(batch, key=lambda t: t[0]):
            name = out_name(plan, k, src.path)
            dest, mask_rel = write_output(out_cls, name, fake, mask, copy_dir)
            run.manifest.append({"file": f"{rel_dir}/{name}", "class": plan.name, "origin": "cyclegan",
                                 "engine": "cyclegan", "synthetic": True, "source": src.rel,
                                 "source_transform": op, "defect_sources": defect_rels,
                                 "mask": f"{rel_dir}/{mask_rel}" if mask_rel else None, "checkpoint": str(checkpoint),
                                 "epoch": epoch, "seed": cfg.seed * 1_000_003 + k, "train_seed": cfg.seed,
                                 "kid": kid_value})
            written.append(str(dest))
        progress(Progress(len(written), len(todo), f"generated {len(written)}/{len(todo)} {plan.name}",
                          stage=f"generate:{plan.name}"))
    return written, {"gate": gate.as_dict() if gate else None}


def _flip_like(img: np.ndarray, op: str) -> np.ndarray:
    """The source as the translator saw it (flipped the same way), at its own resolution."""
    if op in ("hflip", "hvflip"):
        img = img[:, ::-1]
    if op in ("vflip", "hvflip"):
        img = img[::-1]
    return np.ascontiguousarray(img)
