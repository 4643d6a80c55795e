"""First contact with a GPU machine: train the CycleGAN and a ResNet-50 for a few steps on CUDA, print images/s.

Run ``bash scripts/gpu_check.sh`` (or ``python scripts/gpu_check.py``) on a machine with a CUDA GPU; it takes
well under five minutes. It exercises the CUDA paths no CPU machine can: ``device="auto"`` picking CUDA, AMP
(bf16 where the GPU supports it, else fp16 with a GradScaler), channels-last, ``cudnn.benchmark``, pinned
memory with non-blocking copies, and on 2+ GPUs ``gan.train`` under torchrun (DDP over NCCL).
Exit code 0 when every check ran, 1 when CUDA is missing or a step failed.
"""

from __future__ import annotations

import argparse
import json
import time

import torch


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def amp_dtype() -> torch.dtype:
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def check_gan(steps: int, size: int, batch: int) -> dict:
    from augbench.gan.trainer import CycleGAN, GanConfig

    cfg = GanConfig(size=size, batch_size=batch, precision="auto", channels_last=True, device="auto", detect=False)
    model = CycleGAN(cfg)
    x = [(torch.rand(batch, 3, size, size).pin_memory(), torch.rand(batch, 3, size, size).pin_memory())
         for _ in range(cfg.d_steps)]
    model.train_step(x, 0)  # warm-up (cudnn.benchmark picks kernels here)
    _sync()
    t0 = time.perf_counter()
    for i in range(steps):
        losses = model.train_step(x, i + 1)
    _sync()
    dt = time.perf_counter() - t0
    return {"check": "cyclegan", "size": size, "batch": batch, "precision": model.precision if hasattr(model, "precision")
            else cfg.precision, "images_per_s": round(steps * batch / dt, 1), "last_G_loss": round(losses["G"], 4)}


def check_resnet50(steps: int, batch: int) -> dict:
    from augbench.classify.models import build_model

    dev = torch.device("cuda")
    model = build_model("resnet50", 2).to(dev).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    dtype = amp_dtype()
    scaler = torch.amp.GradScaler(enabled=dtype == torch.float16)
    x = torch.rand(batch, 3, 224, 224).pin_memory()
    y = torch.randint(0, 2, (batch,)).pin_memory()

    def step() -> float:
        xb = x.to(dev, non_blocking=True).contiguous(memory_format=torch.channels_last)
        yb = y.to(dev, non_blocking=True)
        with torch.autocast("cuda", dtype=dtype):
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return float(loss.detach())

    step()
    _sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = step()
    _sync()
    dt = time.perf_counter() - t0
    return {"check": "resnet50", "batch": batch, "amp": str(dtype).replace("torch.", ""),
            "images_per_s": round(steps * batch / dt, 1), "last_loss": round(loss, 4)}


def check_ddp(epochs: int = 2) -> dict:
    """``gan.train`` from a job file with ``launcher: torchrun``: one NCCL rank per GPU (needs 2 GPUs or more)."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import numpy as np

    from augbench.core.imageio import write_image
    from augbench.core.jobs import save_job
    from augbench.gan.jobs import TrainJob
    from augbench.gan.trainer import GanConfig

    n = torch.cuda.device_count()
    if n < 2:
        return {"check": "ddp", "skipped": f"{n} GPU: NCCL data parallelism needs one GPU per rank"}
    tmp = Path(tempfile.mkdtemp(prefix="augbench_ddp_"))
    rng = np.random.default_rng(0)
    for dom in ("a", "b"):
        for i in range(8 * n):
            write_image(tmp / dom / f"{i:03d}.png", rng.integers(0, 255, (72, 72, 3), dtype=np.uint8))
    model = GanConfig(size=64, batch_size=2 * n, epochs=epochs, precision="auto", device="auto", detect=False)
    job = save_job(TrainJob(domain_a=str(tmp / "a"), domain_b=str(tmp / "b"), out_dir=str(tmp / "run"), model=model,
                            n_holdout=0, launcher="torchrun", nproc=n), tmp / "job.yaml")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "augbench.cli", "run", str(job), "-q"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-1500:])
    metrics = json.loads((tmp / "run" / "result.json").read_text())["metrics"]
    return {"check": "ddp", "world_size": metrics["world_size"], "global_batch": metrics["global_batch"],
            "epochs": metrics["epochs"], "seconds": round(time.perf_counter() - t0, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--gan-size", type=int, default=256)
    ap.add_argument("--gan-batch", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print(json.dumps({"ok": False, "reason": "torch.cuda.is_available() is False"}))
        return 1
    torch.backends.cudnn.benchmark = True
    print(json.dumps({"gpu": torch.cuda.get_device_name(0), "count": torch.cuda.device_count(),
                      "bf16": torch.cuda.is_bf16_supported(), "torch": torch.__version__}))
    ok = True
    for fn in (lambda: check_gan(args.steps, args.gan_size, args.gan_batch), lambda: check_resnet50(args.steps, args.batch),
               check_ddp):
        try:
            print(json.dumps(fn()), flush=True)
        except Exception as exc:  # noqa: BLE001 - report every check, then fail
            ok = False
            print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
