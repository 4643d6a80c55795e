"""``augbench style ...`` sub-commands: the same job configs the Style tab builds."""

from __future__ import annotations

import argparse


def _cmd_train(args: argparse.Namespace) -> int:
    from augbench.cli import execute, print_result
    from augbench.style.train_decoder import TrainDecoderConfig

    cfg = TrainDecoderConfig(out_dir=args.out, content_dirs=args.content or [], style_dirs=args.style or [],
                             size=args.size, batch=args.batch, bottleneck=args.bottleneck,
                             style_levels=args.style_levels, recon_steps=args.recon_steps,
                             include_builtin=not args.no_builtin, style_bank=args.style_bank,
                             steps=args.steps, max_minutes=args.max_minutes,
                             lr=args.lr, style_weight=args.style_weight, recon_minutes=args.recon_minutes,
                             reset_optimizer=args.reset_optimizer, identity_weight=args.identity_weight, threads=args.threads,
                             checkpoint_every_s=args.checkpoint_every, bf16=not args.no_bf16, device=args.device,
                             seed=args.seed)
    return print_result(execute(cfg))


def _cmd_apply(args: argparse.Namespace) -> int:
    from augbench.cli import execute, print_result
    from augbench.style.apply import StyleApplyConfig

    lo, hi = args.alpha
    cfg = StyleApplyConfig(input_dir=args.input, out_dir=args.out, styles=args.style, classes=args.classes or [],
                           copies=args.copies, alpha_min=lo, alpha_max=hi, styles_per_copy=args.blend,
                           preserve_color=args.keep_colors, color_match=not args.no_color_match, feedback=args.feedback,
                           mask_mode=args.region, engine=args.engine,
                           encoder=args.encoder, encoder_weights=args.encoder_weights or "",
                           decoder_weights=args.decoder_weights or "", max_side=args.max_side, device=args.device,
                           seed=args.seed, shard=args.shard)
    return print_result(execute(cfg))


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``augbench style {apply,train-decoder}``."""
    p = sub.add_parser("style", help="AdaIN style transfer: stylize a folder, train the decoder")
    ssub = p.add_subparsers(dest="style_command", required=True)

    a = ssub.add_parser("apply", help="stylize a folder / ImageFolder classes as augmentation (labels carried over)")
    a.add_argument("input", help="image folder or ImageFolder root")
    a.add_argument("--out", required=True, help="output folder (must not be inside the input)")
    a.add_argument("--style", nargs="+", required=True, help="style images and/or folders (the style bank)")
    a.add_argument("--classes", nargs="*", help="only these ImageFolder classes (e.g. the minority class)")
    a.add_argument("-k", "--copies", type=int, default=1, help="stylized copies per image")
    a.add_argument("--alpha", type=float, nargs=2, default=(1.0, 1.0), metavar=("MIN", "MAX"),
                   help="alpha drawn uniformly from [MIN, MAX]")
    a.add_argument("--blend", type=int, default=1, help="styles blended per copy (random weights)")
    a.add_argument("--keep-colors", action="store_true", help="preserve the content's colours")
    a.add_argument("--no-color-match", action="store_true",
                   help="AdaIN: leave the decoder's colours (no pixel-level match to the style's colours)")
    a.add_argument("--feedback", type=int, default=1, choices=[0, 1, 2, 3],
                   help="AdaIN: closed-loop rounds that push the output's statistics to the style's (0: plain AdaIN)")
    a.add_argument("--region", choices=["all", "foreground", "background"], default="all",
                   help="restrict the style to the objects (masks/boxes) or the background")
    a.add_argument("--engine", choices=["adain", "magenta"], default="adain")
    a.add_argument("--encoder", choices=["vgg16", "vgg19"], default="vgg16",
                   help="vgg16: offline default; vgg19: pytorch-AdaIN vgg_normalised.pth + decoder.pth")
    a.add_argument("--encoder-weights", help="vgg_normalised.pth (with --encoder vgg19)")
    a.add_argument("--decoder-weights", help="decoder file (default: user cache, then the shipped one)")
    a.add_argument("--max-side", type=int, default=1024, help="size cap for the network (result is resized back)")
    a.add_argument("--device", default="auto")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--shard", default="", help="I/N: stylize only shard I (0-based) of N into the same --out")
    a.set_defaults(func=_cmd_apply)

    t = ssub.add_parser("train-decoder", help="train the AdaIN decoder for the offline VGG-16 encoder")
    t.add_argument("--out", required=True, help="output folder (checkpoint.pt, decoder_vgg16.pt, history.json)")
    t.add_argument("--content", nargs="*", help="content image folders (default: photos shipped in packages)")
    t.add_argument("--style", nargs="*", help="style image folders (default: textures/paintings shipped)")
    t.add_argument("--size", type=int, default=128)
    t.add_argument("--batch", type=int, default=4)
    t.add_argument("--steps", type=int, default=100_000)
    t.add_argument("--max-minutes", type=float, default=60.0)
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--style-weight", type=float, default=10.0)
    t.add_argument("--recon-minutes", type=float, default=0.0,
                   help="first train the decoder to reconstruct (pixel loss) for this long; cheaper steps")
    t.add_argument("--recon-steps", type=int, default=0,
                   help="reconstruction warm-up for this many steps (counted across resumes)")
    t.add_argument("--bottleneck", choices=["relu4_1", "relu3_1", "skip3"], default="relu4_1",
                   help="encoder layer the decoder inverts; relu3_1 is shallower, cheaper and keeps more detail; "
                        "skip3 is relu3_1 plus relu2_1/relu1_1 skips (multi-level AdaIN, sharpest)")
    t.add_argument("--style-levels", type=int, choices=[3, 4], default=4,
                   help="style loss over relu1_1..relu3_1 (3) or ..relu4_1 (4)")
    t.add_argument("--style-bank", type=int, default=16,
                   help="random crops per style image whose statistics are precomputed (photos get a quarter)")
    t.add_argument("--no-builtin", action="store_true",
                   help="with --content/--style: do not add the built-in package images")
    t.add_argument("--identity-weight", type=float, default=0.0,
                   help="weight of an identity term MSE(decoder(encoder(c)), c) that keeps content sharp")
    t.add_argument("--reset-optimizer", action="store_true", help="resume weights but start Adam afresh")
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--checkpoint-every", "--checkpoint-every-s", type=float, default=120.0, help="seconds between checkpoints")
    t.add_argument("--no-bf16", action="store_true")
    t.add_argument("--device", default="auto")
    t.add_argument("--seed", type=int, default=0)
    t.set_defaults(func=_cmd_train)
