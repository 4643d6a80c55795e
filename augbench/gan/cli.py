"""``augbench gan train|translate|transplant`` and ``augbench balance JOB.yaml [--engine ...]``.

``gan train`` and ``balance`` take ``--nproc N``: the job's ``nproc``/``launcher`` fields, so N > 1
re-runs the command as N torchrun ranks (see :func:`augbench.core.launch.relaunch_if_asked`).
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from augbench.core.jobs import load_job
from augbench.core.launch import NPROC_HELP, nproc_arg, relaunch_if_asked, with_nproc


def _run(cfg: Any, fresh: bool = False) -> int:
    """Run ``cfg`` here, or as torchrun ranks when its ``launcher``/``nproc`` ask for that."""
    from augbench.cli import execute, print_result

    rc = relaunch_if_asked(cfg, fresh=fresh)
    return rc if rc is not None else print_result(execute(cfg))


def _cmd_train(args: argparse.Namespace) -> int:
    from augbench.gan.jobs import GanTrainJob
    from augbench.gan.trainer import PAPER_LR, REFERENCE_LR, GanConfig

    lr = args.lr if args.lr is not None else (REFERENCE_LR if args.reference else PAPER_LR)
    # default: one image per process, as gan.balance trains
    batch = args.batch_size if args.batch_size is not None else (args.nproc or 1)
    model = GanConfig(channels=args.channels or 3, size=args.size, batch_size=batch, ngf=args.ngf, n_blocks=args.blocks, lr=lr,
                      epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, time_budget_s=args.budget,
                      d_steps=1 if args.reference else args.d_steps, precision=args.precision, device=args.device,
                      upsample=args.upsample, diffaugment=args.diffaugment, seed=args.seed,
                      kid_features=args.kid_features, batch_passes=args.batch_passes,
                      channels_last=args.channels_last, full_size=args.full_size, generator=args.generator,
                      lambda_mask=args.lambda_mask)
    cfg = GanTrainJob(args.domain_a, args.domain_b, args.out, model=model, auto_channels=not args.channels,
                      whiten=args.whiten, resume=not args.fresh)
    return _run(with_nproc(cfg, args.nproc), fresh=args.fresh)


def _cmd_translate(args: argparse.Namespace) -> int:
    from augbench.gan.jobs import GanTranslateJob

    return _run(GanTranslateJob(args.checkpoint, args.input, args.out, direction=args.direction, size=args.size,
                                whiten=args.whiten, device=args.device))


def _cmd_balance(args: argparse.Namespace) -> int:
    from augbench.gan.balance import BalanceConfig

    cfg = load_job(args.job)
    if not isinstance(cfg, BalanceConfig):
        from augbench.core.errors import ConfigError

        raise ConfigError("kind", f"{args.job} is a {type(cfg).kind!r} job; `augbench balance` needs kind: gan.balance")
    if args.budget is not None:
        cfg = dataclasses.replace(cfg, time_budget_s=args.budget)
    if args.engine is not None:
        cfg = dataclasses.replace(cfg, engine=args.engine)
    if args.allow_failed_quality:
        cfg = dataclasses.replace(cfg, allow_failed_quality=True)
    return _run(with_nproc(cfg, args.nproc), fresh=bool(getattr(args, "fresh", False)))


def _cmd_transplant(args: argparse.Namespace) -> int:
    from augbench.gan.jobs import GanTransplantJob

    return _run(GanTransplantJob(args.normals, args.defects, args.out, n=args.n, blend=args.blend,
                                 polarity=args.polarity, rot90=args.rot90, avoid_bus_bars=args.avoid_bus_bars,
                                 max_angle=args.max_angle, allow_failed_quality=args.allow_failed_quality,
                                 kid_features=args.kid_features, seed=args.seed))


def register(sub: argparse._SubParsersAction) -> None:
    gan = sub.add_parser("gan", help="defect synthesis: CycleGAN (train, translate) and transplant")
    gsub = gan.add_subparsers(dest="gan_command", required=True)
    p = gsub.add_parser("train", help="train normal (A) <-> defect (B); re-running resumes")
    p.add_argument("domain_a")
    p.add_argument("domain_b")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--channels", type=int, choices=[1, 3], default=None, help="default: grey data -> 1")
    p.add_argument("--ngf", type=int, default=32)
    p.add_argument("--blocks", type=int, default=6)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--steps-per-epoch", type=int, default=0)
    p.add_argument("--budget", type=float, default=0.0, help="time budget in seconds (0: none)")
    p.add_argument("--lr", type=float, default=None, help="default: the paper's 3e-4 (2e-4 with --reference)")
    p.add_argument("--reference", action="store_true", help="reference defaults: lr 2e-4, 1 D step per G step")
    p.add_argument("--d-steps", type=int, default=2)
    p.add_argument("--precision", default="auto", choices=["fp32", "bf16", "fp16", "auto"])
    p.add_argument("--device", default="auto")
    p.add_argument("--upsample", default="deconv", choices=["deconv", "resize"])
    p.add_argument("--diffaugment", default="", help="e.g. color,translation,cutout")
    p.add_argument("--whiten", default="none", choices=["none", "otsu", "grabcut", "mask"])
    p.add_argument("--kid-features", default="lite0", choices=["lite0", "pixels"])
    p.add_argument("--batch-passes", action=argparse.BooleanOptionalAction, default=True,
                   help="batched generator/discriminator calls (same maths, faster on CPU)")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--full-size", type=int, default=0,
                   help="hold whole images at this size and train on --size crops (0: resize to --size)")
    p.add_argument("--generator", default="resnet", choices=["resnet", "attention"],
                   help="attention: output = x + m * (r - x), a sparse mask keeps the change local")
    p.add_argument("--lambda-mask", type=float, default=0.5, help="sparsity weight of the attention mask")
    p.add_argument("--fresh", action="store_true", help="do not resume from OUT/last.pt")
    p.add_argument("--batch-size", type=int, default=None,
                   help="global batch, split over the --nproc processes (default: 1 image per process)")
    p.add_argument("--nproc", type=nproc_arg, default=None, metavar="N", help=NPROC_HELP)
    p.set_defaults(func=_cmd_train)
    p = gsub.add_parser("translate", help="translate a folder with a checkpoint (best.pt or last.pt)")
    p.add_argument("checkpoint")
    p.add_argument("input")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--direction", default="AB", choices=["AB", "BA"])
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--whiten", default="none", choices=["none", "otsu", "grabcut", "mask"])
    p.add_argument("--device", default="auto")
    p.set_defaults(func=_cmd_translate)
    p = gsub.add_parser("transplant", help="paste real defect regions (masks/boxes or the difference to the "
                                           "normals) into normal images")
    p.add_argument("normals")
    p.add_argument("defects")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("-n", type=int, default=100, help="images to write")
    p.add_argument("--blend", default="ratio", choices=["ratio", "mixed", "normal", "alpha"])
    p.add_argument("--polarity", default="auto", choices=["auto", "both", "dark", "bright"])
    p.add_argument("--max-angle", type=float, default=10.0)
    p.add_argument("--rot90", action="store_true", help="allow 90-degree turns (rotation-symmetric objects only)")
    p.add_argument("--avoid-bus-bars", action="store_true")
    p.add_argument("--kid-features", default="lite0", choices=["lite0", "pixels"])
    p.add_argument("--allow-failed-quality", action="store_true", help="write outputs that fail the realism gate")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_transplant)
    p = sub.add_parser("balance", help="one-click balancing run from a job file (kind: gan.balance)")
    p.add_argument("job")
    p.add_argument("--budget", type=float, default=None, help="override time_budget_s (per defect class)")
    p.add_argument("--engine", default=None, choices=["transplant", "cyclegan"], help="override the job's engine")
    p.add_argument("--allow-failed-quality", action="store_true",
                   help="write outputs that failed the realism gate (you have looked at them)")
    p.add_argument("--nproc", type=nproc_arg, default=None, metavar="N",
                   help=NPROC_HELP + " (cyclegan engine; default: the job's nproc)")
    p.set_defaults(func=_cmd_balance)
