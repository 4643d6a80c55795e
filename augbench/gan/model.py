"""The CycleGAN model: config, the two generators and two PatchGANs, their losses and optimizer steps.

Reads like the reference model file (``backward_G``/``backward_D``, named
losses, image pools) but with one config dataclass instead of option parsing.
:mod:`augbench.gan.trainer` runs it over epochs with checkpoints and resume.

Under torchrun (:meth:`CycleGAN.enable_ddp`) the generator update goes through
DistributedDataParallel wrappers of the generators and the discriminator update
through wrappers of the discriminators, so gradients are averaged over ranks and
the replicas stay identical. The generator step calls the plain discriminators:
their parameters are frozen there, and a DDP module whose parameters get no
gradient in a backward pass would wait for them forever. Each rank keeps its own
image pools (fakes of its own slice of the batch).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from augbench.core.distributed import DistInfo, wrap
from augbench.core.errors import ConfigError
from augbench.gan.diffaugment import diff_augment
from augbench.gan.losses import cycle_loss, gan_loss, identity_loss
from augbench.gan.networks import (
    AttentionResnetGenerator,
    PatchDiscriminator,
    ResnetGenerator,
    init_weights,
    pad_to_multiple,
)
from augbench.gan.pool import ImagePool

CKPT_FORMAT = "augbench.cyclegan/1"
PAPER_LR = 3e-4
REFERENCE_LR = 2e-4


def min_train_size(n_layers_d: int = 3) -> int:
    """The smallest training size (a multiple of 4) the PatchGAN discriminator with ``n_layers_d`` stride-2
    layers can take: its instance norms need more than one spatial element and its last conv at least one,
    else training stops at the first step with torch's "Expected more than 1 spatial element" (24 px for
    the default 3 layers). Arithmetic over the layers of :class:`~augbench.gan.networks.PatchDiscriminator`."""
    def fits(side: int) -> bool:
        for k, stride in enumerate([2] * n_layers_d + [1, 1]):
            side = (side + 2 - 4) // stride + 1  # kernel 4, padding 1
            normed = 0 < k <= n_layers_d  # the first conv and the last (the logits) have no norm
            if side < (2 if normed else 1):
                return False
        return True

    return next(s for s in range(4, 4 * 1024, 4) if fits(s))


def check_train_size(size: int, n_layers_d: int = 3, name: str = "size") -> None:
    """ConfigError naming ``name`` when ``size`` is too small for the discriminator (see :func:`min_train_size`)."""
    least = min_train_size(n_layers_d)
    if size < least:
        raise ConfigError(name, f"{size} px is too small for the {n_layers_d}-layer discriminator "
                                f"(n_layers_d {n_layers_d} halves the image {n_layers_d} times); "
                                f"give at least {least}")


@dataclass(frozen=True)
class GanConfig:
    """Everything that defines a CycleGAN model and its training (stored in every checkpoint).

    Defaults follow the paper where it says something (lr 3e-4, 2 discriminator
    updates per generator update) and the reference code elsewhere (lambda 10,
    identity 0.5, pool 50, Adam betas (0.5, 0.999), linear decay over the second half).
    """

    channels: int = field(default=3, metadata={"choices": [1, 3]})
    size: int = field(default=64, metadata={"range": (16, 1024)})  # the training crop
    load_size: int = field(default=0, metadata={"range": (0, 1200)})  # 0: size * 1.125 (reference 286/256)
    # > 0: images are held at this size (e.g. 300, a cell's native resolution), training takes random
    # ``size`` crops and whole images are translated (the networks are fully convolutional), so a
    # 2 px crack stays 2 px instead of becoming sub-pixel at 64 px.
    full_size: int = field(default=0, metadata={"range": (0, 4096)})
    generator: str = field(default="resnet", metadata={"choices": ["resnet", "attention"]})
    lambda_mask: float = field(default=0.5, metadata={"range": (0.0, None)})  # attention: sparsity of the mask
    # The penalty is a hinge: only mask area above this fraction of the image costs. A plain L1 on the
    # mask (target 0) drove the ELPV run to the identity within two epochs: no change is the cheapest.
    mask_target: float = field(default=0.03, metadata={"range": (0.0, 1.0)})
    flip: bool = True
    ngf: int = field(default=64, metadata={"range": (4, 256)})
    n_blocks: int = field(default=9, metadata={"range": (0, 32)})
    ndf: int = field(default=64, metadata={"range": (4, 256)})
    n_layers_d: int = field(default=3, metadata={"range": (1, 6)})
    upsample: str = field(default="deconv", metadata={"choices": ["deconv", "resize"]})
    gan_mode: str = field(default="lsgan", metadata={"choices": ["lsgan", "vanilla"]})
    lr: float = field(default=PAPER_LR, metadata={"range": (1e-7, 1.0)})
    beta1: float = field(default=0.5, metadata={"range": (0.0, 1.0)})
    beta2: float = field(default=0.999, metadata={"range": (0.0, 1.0)})
    lambda_cycle: float = field(default=10.0, metadata={"range": (0.0, None)})
    lambda_identity: float = field(default=0.5, metadata={"range": (0.0, None)})
    pool_size: int = field(default=50, metadata={"range": (0, 10000)})
    d_steps: int = field(default=2, metadata={"range": (1, 10)})
    batch_size: int = field(default=1, metadata={"range": (1, 256)})
    epochs: int = field(default=20, metadata={"range": (1, 100000)})
    decay_fraction: float = field(default=0.5, metadata={"range": (0.0, 1.0)})
    steps_per_epoch: int = field(default=0, metadata={"range": (0, None)})  # 0: one pass over domain A
    time_budget_s: float = field(default=0.0, metadata={"range": (0.0, None)})  # 0: no budget
    diffaugment: str = ""
    seed: int = 0
    device: str = "auto"
    precision: str = field(default="fp32", metadata={"choices": ["fp32", "bf16", "fp16", "auto"]})
    channels_last: bool = False
    batch_passes: bool = False  # run G_AB(a, b) and G_BA(b, a, G_AB(a)) as batched calls: same maths, fewer calls
    sample_every: int = field(default=50, metadata={"range": (0, None)})
    detect: bool = True
    kid_features: str = field(default="lite0", metadata={"choices": ["lite0", "pixels"]})

    @property
    def effective_load_size(self) -> int:
        return self.full_size or self.load_size or int(round(self.size * 1.125))

    @property
    def translate_size(self) -> int:
        """The size whole images are translated at: ``full_size`` when set, else the training size."""
        return self.full_size or self.size

    def __post_init__(self) -> None:
        if not 16 <= self.size <= 1024 or self.size % 4:
            raise ConfigError("size", f"must be a multiple of 4 between 16 and 1024, not {self.size}")
        check_train_size(self.size, self.n_layers_d)
        if self.epochs < 1:
            raise ConfigError("epochs", f"must be at least 1, not {self.epochs} (nothing would be trained)")
        if self.load_size and self.load_size < self.size:
            raise ConfigError("load_size", f"must be 0 or >= size ({self.size})")
        if self.full_size and self.full_size < self.size:
            raise ConfigError("full_size", f"must be 0 or >= the crop size ({self.size})")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def resolve_precision(precision: str, device: torch.device) -> str:
    if precision == "auto":
        return "bf16" if device.type == "cpu" or torch.cuda.is_bf16_supported() else "fp16"
    if precision == "fp16" and device.type != "cuda":
        return "bf16"  # fp16 autocast is a CUDA thing; bf16 is what helps on CPU
    return precision


def lr_factor(epoch: int, planned_epochs: int, decay_fraction: float) -> float:
    """Reference linear schedule: constant, then linearly to ~0 over the last ``decay_fraction``."""
    n_decay = int(round(planned_epochs * decay_fraction))
    n_keep = planned_epochs - n_decay
    if epoch < n_keep or n_decay == 0:
        return 1.0
    return max(0.0, 1.0 - (epoch - n_keep + 1) / (n_decay + 1))


def _step_seed(seed: int, global_step: int) -> int:
    return (seed * 1_000_003 + global_step * 7919 + 12345) % (2**63 - 1)


class _GenCall(torch.nn.Module):
    """A generator behind DDP: ``forward`` is what ``_gen`` needs, (image, mask) for an attention generator.

    DDP syncs gradients only for calls of its own ``forward``; ``forward_with_mask`` is another
    method, so this wrapper makes it the forward.
    """

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> Any:
        if isinstance(self.net, AttentionResnetGenerator):
            return self.net.forward_with_mask(x)
        return self.net(x)


def build_generator(cfg: GanConfig) -> torch.nn.Module:
    cls = AttentionResnetGenerator if cfg.generator == "attention" else ResnetGenerator
    return cls(cfg.channels, cfg.channels, cfg.ngf, cfg.n_blocks, cfg.upsample)  # type: ignore[arg-type]


class CycleGAN:
    """The two generators (A->B, B->A), two PatchGANs, their optimizers and pools."""

    def __init__(self, cfg: GanConfig, device: torch.device | str | None = None) -> None:
        self.cfg = cfg
        self.device = resolve_device(cfg.device) if device is None else torch.device(device)
        self.precision = resolve_precision(cfg.precision, self.device)
        g = torch.Generator().manual_seed(cfg.seed)
        self.G_AB = init_weights(build_generator(cfg), generator=g)
        self.G_BA = init_weights(build_generator(cfg), generator=g)
        self.D_A = init_weights(PatchDiscriminator(cfg.channels, cfg.ndf, cfg.n_layers_d), generator=g)
        self.D_B = init_weights(PatchDiscriminator(cfg.channels, cfg.ndf, cfg.n_layers_d), generator=g)
        fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
        for net in self.nets.values():
            net.to(self.device, memory_format=fmt)
        betas = (cfg.beta1, cfg.beta2)
        self.opt_G = torch.optim.Adam(list(self.G_AB.parameters()) + list(self.G_BA.parameters()), cfg.lr, betas=betas)
        self.opt_D = torch.optim.Adam(list(self.D_A.parameters()) + list(self.D_B.parameters()), cfg.lr, betas=betas)
        self.pool_A, self.pool_B = ImagePool(cfg.pool_size), ImagePool(cfg.pool_size)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.precision == "fp16" and self.device.type == "cuda")
        self.rng = torch.Generator()
        self._masks: list[torch.Tensor] = []
        self.dist = DistInfo()
        self._ddp: dict[str, torch.nn.Module] = {}  # DDP wrappers by net name (empty on one process)

    def enable_ddp(self, info: DistInfo) -> None:
        """Wrap the four networks in DDP for a data-parallel run (a no-op on one process).

        DDP's constructor broadcasts rank 0's weights, so replicas start identical even if a
        rank's initialisation differed.
        """
        self.dist = info
        if not info.enabled:
            return
        self._ddp = {k: wrap(_GenCall(net) if k.startswith("G") else net, info, self.device)
                     for k, net in self.nets.items()}

    @property
    def nets(self) -> dict[str, torch.nn.Module]:
        return {"G_AB": self.G_AB, "G_BA": self.G_BA, "D_A": self.D_A, "D_B": self.D_B}

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def set_lr(self, lr: float) -> None:
        for opt in (self.opt_G, self.opt_D):
            for group in opt.param_groups:
                group["lr"] = lr

    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cuda" and x.device.type == "cpu" and not x.is_pinned():
            x = x.pin_memory()  # a pinned source lets the copy below overlap with compute
        x = x.to(self.device, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if self.cfg.channels_last else x

    def _d_in(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.cfg.diffaugment, self.rng) if self.cfg.diffaugment else x

    def _d_loss(self, d: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, mode: str) -> torch.Tensor:
        """0.5 * (loss(D(real), real) + loss(D(fake), fake)); one batched D call when ``batch_passes``."""
        if self.cfg.batch_passes:  # instance norm is per sample, so the batched call computes the same thing
            out = d(self._d_in(torch.cat([real, fake.to(real.dtype)])))
            n = len(real)
            return 0.5 * (gan_loss(out[:n], True, mode) + gan_loss(out[n:], False, mode))  # type: ignore[arg-type]
        return 0.5 * (gan_loss(d(self._d_in(real)), True, mode)  # type: ignore[arg-type]
                      + gan_loss(d(self._d_in(fake)), False, mode))  # type: ignore[arg-type]

    def backward_D(self, real_a: torch.Tensor, real_b: torch.Tensor, fake_a: torch.Tensor,
                   fake_b: torch.Tensor) -> dict[str, float]:
        """Update both discriminators once: real vs (pooled) fake, each term weighted 0.5."""
        mode = self.cfg.gan_mode
        fake_b = self.pool_B.query(fake_b, self.rng)
        fake_a = self.pool_A.query(fake_a, self.rng)
        self.opt_D.zero_grad(set_to_none=True)
        with self.autocast():
            d_a, d_b = self._ddp.get("D_A", self.D_A), self._ddp.get("D_B", self.D_B)  # DDP: gradients averaged
            loss_d_b = self._d_loss(d_b, real_b, fake_b.detach(), mode)
            loss_d_a = self._d_loss(d_a, real_a, fake_a.detach(), mode)
        self.scaler.scale(loss_d_a + loss_d_b).backward()
        self.scaler.step(self.opt_D)
        self.scaler.update()
        return {"D_A": loss_d_a.item(), "D_B": loss_d_b.item()}

    def backward_G(self, real_a: torch.Tensor, real_b: torch.Tensor) -> tuple[dict[str, float], torch.Tensor,
                                                                                 torch.Tensor]:
        """One generator update: adversarial + lambda * cycle + lambda * lambda_id * identity."""
        cfg = self.cfg
        for d in (self.D_A, self.D_B):
            d.requires_grad_(False)
        self.opt_G.zero_grad(set_to_none=True)
        self._masks: list[torch.Tensor] = []
        g_ab, g_ba = (lambda x: self._gen("G_AB", x)), (lambda x: self._gen("G_BA", x))
        with self.autocast():
            use_idt = cfg.lambda_identity > 0
            if cfg.batch_passes and use_idt:
                n = len(real_a)
                out_ab = g_ab(torch.cat([real_a, real_b]))
                fake_b, idt_b = out_ab[:n], out_ab[n:]
                out_ba = g_ba(torch.cat([real_b, real_a, fake_b]))
                fake_a, idt_a, rec_a = out_ba[:n], out_ba[n:2 * n], out_ba[2 * n:]
                rec_b = g_ab(fake_a)
            else:
                fake_b = g_ab(real_a)
                rec_a = g_ba(fake_b)
                fake_a = g_ba(real_b)
                rec_b = g_ab(fake_a)
                if use_idt:
                    idt_b, idt_a = g_ab(real_b), g_ba(real_a)
            loss_gan_ab = gan_loss(self.D_B(self._d_in(fake_b)), True, cfg.gan_mode)  # type: ignore[arg-type]
            loss_gan_ba = gan_loss(self.D_A(self._d_in(fake_a)), True, cfg.gan_mode)  # type: ignore[arg-type]
            loss_cyc = cycle_loss(rec_a, real_a) + cycle_loss(rec_b, real_b)
            loss = loss_gan_ab + loss_gan_ba + cfg.lambda_cycle * loss_cyc
            loss_idt = torch.zeros((), device=self.device)
            if use_idt:
                loss_idt = identity_loss(idt_b, real_b) + identity_loss(idt_a, real_a)
                loss = loss + cfg.lambda_cycle * cfg.lambda_identity * loss_idt
            loss_mask = area = torch.zeros((), device=self.device)
            if self._masks:  # attention generators: change no more pixels than the defect needs
                areas = torch.cat([m.float().mean(dim=(1, 2, 3)) for m in self._masks])
                area = areas.mean()
                loss_mask = torch.relu(areas - cfg.mask_target).mean()
                loss = loss + cfg.lambda_mask * loss_mask
        self._masks = []
        self.scaler.scale(loss).backward()
        self.scaler.step(self.opt_G)
        self.scaler.update()
        for d in (self.D_A, self.D_B):
            d.requires_grad_(True)
        losses = {"G_AB": loss_gan_ab.item(), "G_BA": loss_gan_ba.item(), "cycle": loss_cyc.item(),
                  "identity": loss_idt.item(), "G": loss.item()}
        if cfg.generator == "attention":
            losses["mask"] = area.item()  # the mean mask area (the penalty is the part above mask_target)
        return losses, fake_a.detach(), fake_b.detach()

    def _gen(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """Run generator ``name`` (through its DDP wrapper when data-parallel); an attention generator's
        mask is kept for the sparsity penalty."""
        net = self.nets[name]
        call = self._ddp.get(name)
        if isinstance(net, AttentionResnetGenerator):
            out, m = call(x) if call is not None else net.forward_with_mask(x)
            self._masks.append(m)
            return out
        return call(x) if call is not None else net(x)

    def train_step(self, batches: list[tuple[torch.Tensor, torch.Tensor]], step_seed: int) -> dict[str, float]:
        """One G update on ``batches[0]`` then one D update per batch (``d_steps`` batches)."""
        self.rng.manual_seed(step_seed)
        real_a, real_b = (self._prep(t) for t in batches[0])
        losses, fake_a, fake_b = self.backward_G(real_a, real_b)
        d_sums = self.backward_D(real_a, real_b, fake_a, fake_b)
        for extra_a, extra_b in batches[1:]:
            ea, eb = self._prep(extra_a), self._prep(extra_b)
            with torch.no_grad(), self.autocast():
                fb, fa = self.G_AB(ea), self.G_BA(eb)
            d = self.backward_D(ea, eb, fa.float(), fb.float())
            d_sums = {k: d_sums[k] + d[k] for k in d_sums}
        losses.update({k: v / len(batches) for k, v in d_sums.items()})  # every D step weighs the same
        return losses

    @torch.no_grad()
    def translate(self, x: torch.Tensor, direction: Literal["AB", "BA"] = "AB", batch: int = 16) -> torch.Tensor:
        """Whole images of any size (reflect-padded to the generator's stride multiple, then cropped back)."""
        return self.translate_with_mask(x, direction, batch)[0]

    @torch.no_grad()
    def translate_with_mask(self, x: torch.Tensor, direction: Literal["AB", "BA"] = "AB", batch: int = 16
                            ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(translations, attention masks in [0, 1] or None for a plain ResNet generator)."""
        net = self.G_AB if direction == "AB" else self.G_BA
        multiple = getattr(net, "multiple", 4)
        out, masks = [], []
        for i in range(0, len(x), batch):
            xp, (h, w) = pad_to_multiple(x[i:i + batch], multiple)
            with self.autocast():
                if isinstance(net, AttentionResnetGenerator):
                    y, m = net.forward_with_mask(self._prep(xp))
                    masks.append(m[..., :h, :w].float().cpu())
                else:
                    y = net(self._prep(xp))
            out.append(y[..., :h, :w].float().cpu())
        return torch.cat(out), (torch.cat(masks) if masks else None)

    # ------------------------------------------------------------------ checkpoints

    def state(self) -> dict[str, Any]:
        return {"nets": {k: v.state_dict() for k, v in self.nets.items()},
                "optim": {"G": self.opt_G.state_dict(), "D": self.opt_D.state_dict()},
                "pools": self.pool_state(),
                "scaler": self.scaler.state_dict()}

    def pool_state(self) -> dict[str, Any]:
        return {"A": self.pool_A.state_dict(), "B": self.pool_B.state_dict()}

    def load_state(self, state: dict[str, Any]) -> None:
        """Load a checkpoint's state; a data-parallel rank takes its own pools when the checkpoint has
        one pair per rank of the same world size, else rank 0's (``pools``)."""
        for k, net in self.nets.items():
            if k in state["nets"]:
                net.load_state_dict(state["nets"][k])
        if "optim" in state:
            self.opt_G.load_state_dict(state["optim"]["G"])
            self.opt_D.load_state_dict(state["optim"]["D"])
        pools = state.get("pools")
        by_rank = state.get("pools_by_rank") or []
        if self.dist.enabled and len(by_rank) == self.dist.world_size:
            pools = by_rank[self.dist.rank]
        if pools:
            self.pool_A.load_state_dict(pools["A"], self.device)
            self.pool_B.load_state_dict(pools["B"], self.device)
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])


