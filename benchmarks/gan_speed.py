"""Seconds per CycleGAN training iteration: augbench's trainer vs a plain re-implementation of the reference step.

The peer is the reference CycleGAN step written out plainly (same ResNet
generators and PatchGANs, same batch, Adam, LSGAN + cycle + identity, fp32,
no image pool): what anyone would write from the paper. augbench runs its own
``CycleGAN.train_step`` (image pool, seeded generator, loss bookkeeping) with
one D step per G step so both do the same work. Variants are interleaved
round-robin in one process so machine load hits them alike; the median is
reported. Speed options: bf16 autocast, channels_last, and batched passes (G_AB on [a, b] and
G_BA on [b, a, G_AB(a)] as single calls, D on [real, fake]: instance norm is per sample, so the maths is the same).

    python benchmarks/gan_speed.py [--sizes 64 128] [--reps 6] [--threads 1] [--ngf 64 --blocks 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from augbench.gan.networks import PatchDiscriminator, ResnetGenerator, init_weights  # noqa: E402
from augbench.gan.trainer import CycleGAN, GanConfig  # noqa: E402
from benchmarks._report import md_table, write_results  # noqa: E402


class PlainCycleGAN:
    """The reference training step, written the straightforward way (the peer)."""

    def __init__(self, ch: int, ngf: int, blocks: int, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.g_a, self.g_b = (init_weights(ResnetGenerator(ch, ch, ngf, blocks)) for _ in range(2))
        self.d_a, self.d_b = (init_weights(PatchDiscriminator(ch, 64, 3)) for _ in range(2))
        self.opt_g = torch.optim.Adam(list(self.g_a.parameters()) + list(self.g_b.parameters()), 2e-4,
                                      betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(list(self.d_a.parameters()) + list(self.d_b.parameters()), 2e-4,
                                      betas=(0.5, 0.999))
        self.mse, self.l1 = torch.nn.MSELoss(), torch.nn.L1Loss()

    def gan(self, pred: torch.Tensor, real: bool) -> torch.Tensor:
        return self.mse(pred, torch.ones_like(pred) if real else torch.zeros_like(pred))

    def step(self, real_a: torch.Tensor, real_b: torch.Tensor) -> None:
        fake_b = self.g_a(real_a)
        rec_a = self.g_b(fake_b)
        fake_a = self.g_b(real_b)
        rec_b = self.g_a(fake_a)
        for d in (self.d_a, self.d_b):
            d.requires_grad_(False)
        self.opt_g.zero_grad()
        idt_a, idt_b = self.g_a(real_b), self.g_b(real_a)
        loss_g = (self.gan(self.d_a(fake_b), True) + self.gan(self.d_b(fake_a), True)
                  + 10 * (self.l1(rec_a, real_a) + self.l1(rec_b, real_b))
                  + 5 * (self.l1(idt_a, real_b) + self.l1(idt_b, real_a)))
        loss_g.backward()
        self.opt_g.step()
        for d in (self.d_a, self.d_b):
            d.requires_grad_(True)
        self.opt_d.zero_grad()
        loss_d = 0.5 * (self.gan(self.d_a(real_b), True) + self.gan(self.d_a(fake_b.detach()), False))
        loss_d = loss_d + 0.5 * (self.gan(self.d_b(real_a), True) + self.gan(self.d_b(fake_a.detach()), False))
        loss_d.backward()
        self.opt_d.step()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ngf", type=int, default=64)
    ap.add_argument("--blocks", type=int, default=9)
    ap.add_argument("--channels", type=int, default=3)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows, raw = [], {}
    for size in args.sizes:
        a = torch.rand(1, args.channels, size, size) * 2 - 1
        b = torch.rand(1, args.channels, size, size) * 2 - 1
        base = dict(channels=args.channels, size=size, ngf=args.ngf, n_blocks=args.blocks, d_steps=1, lr=2e-4,
                    device="cpu")
        variants = {
            "plain (peer, fp32)": PlainCycleGAN(args.channels, args.ngf, args.blocks).step,
            "augbench fp32": _ours(GanConfig(**base, precision="fp32"), a, b),
            "augbench bf16": _ours(GanConfig(**base, precision="bf16"), a, b),
            "augbench bf16 + channels_last": _ours(GanConfig(**base, precision="bf16", channels_last=True), a, b),
            "augbench fp32 + batched passes": _ours(GanConfig(**base, precision="fp32", batch_passes=True), a, b),
            "augbench bf16 + channels_last + batched passes": _ours(
                GanConfig(**base, precision="bf16", channels_last=True, batch_passes=True), a, b),
        }
        times: dict[str, list[float]] = {k: [] for k in variants}
        for fn in variants.values():  # warm-up (allocator, autocast caches)
            fn(a, b)
        for _ in range(args.reps):
            for name, fn in variants.items():
                t0 = time.perf_counter()
                fn(a, b)
                times[name].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        peer = med["plain (peer, fp32)"]
        raw[str(size)] = {"median_s": med, "all_s": times}
        for name, t in med.items():
            rows.append([size, name, round(t, 3), round(peer / t, 2)])
    md = ("### CycleGAN training iteration (`benchmarks/gan_speed.py`)\n\n"
          f"ResNet generator ngf={args.ngf}, {args.blocks} blocks, 70x70 PatchGAN, batch 1, {args.channels} channels, "
          f"{args.threads} thread(s); median of {args.reps} interleaved iterations. Speed-up = plain / augbench "
          "(>1 is faster). Targets: augbench fp32 within 5 % of the plain loop (speed-up >= 0.95); "
          ">= 1.5x with speed options.\n\n"
          + md_table(["px", "variant", "s / iteration", "speed-up vs plain"], rows))
    write_results("gan_speed", {"args": vars(args), "results": raw}, md)
    print(md)
    return 0


def _ours(cfg: GanConfig, a: torch.Tensor, b: torch.Tensor):
    model = CycleGAN(cfg)
    counter = [0]

    def step(real_a: torch.Tensor, real_b: torch.Tensor) -> None:
        counter[0] += 1
        model.train_step([(real_a, real_b)], counter[0])

    return step


if __name__ == "__main__":
    raise SystemExit(main())
