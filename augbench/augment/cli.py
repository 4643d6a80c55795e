"""``augbench augment`` (the common export with flags) and ``augbench demo``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from augbench.core.errors import ConfigError

DEFAULT_STEPS: list[dict[str, Any]] = [
    {"name": "HorizontalFlip", "p": 0.5},
    {"name": "Affine", "params": {"scale": [0.85, 1.15], "rotate": [-20, 20]}, "p": 0.7},
    {"name": "RandomBrightnessContrast", "params": {"brightness_limit": [-0.25, 0.25]}, "p": 0.6},
    {"name": "HueSaturationValue", "p": 0.4},
    {"name": "GaussianBlur", "p": 0.2},
    {"name": "CoarseDropout", "p": 0.3},
]


def parse_transform(text: str) -> dict[str, Any]:
    """``Name`` or ``Name:key=value,key=lo..hi,p=0.5`` -> a step dict (values parsed as YAML)."""
    name, _, rest = text.partition(":")
    step: dict[str, Any] = {"name": name.strip(), "params": {}}
    for part in filter(None, (x.strip() for x in rest.split(","))):
        if "=" not in part:
            raise ConfigError("--transform", f"expected key=value in {text!r}, got {part!r}")
        key, value = (s.strip() for s in part.split("=", 1))
        try:
            if ".." in value:
                lo, hi = value.split("..", 1)
                parsed: Any = [yaml.safe_load(lo), yaml.safe_load(hi)]
            else:
                parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError("--transform", f"cannot read the value {value!r} of {key!r} in {text!r} "
                                             "(write a range as lo..hi, e.g. limit=-20..20)") from None
        if key == "p":
            step["p"] = parsed
        else:
            step["params"][key] = parsed
    return step


def _cmd_augment(args: argparse.Namespace) -> int:
    from augbench.augment.catalog import catalog, rejected
    from augbench.augment.export import AugmentJob
    from augbench.cli import execute, print_result, save_job_file

    if args.list:
        for name, spec in sorted(catalog().items()):
            params = ", ".join(f"{p.name}[{p.lo}..{p.hi}]" if p.kind in ("range", "float", "int") else p.name
                               for p in spec.params)
            print(f"{name:28s} {spec.group:14s} {params}")
        for name, why in sorted(rejected().items()):
            print(f"(not offered) {name}: {why}")
        return 0
    if not args.input or not args.output:
        raise ConfigError("input", "give INPUT and OUTPUT folders (or --list)")
    steps = [parse_transform(t) for t in args.transform] if args.transform else ([] if args.pipeline else DEFAULT_STEPS)
    cfg = AugmentJob(
        input_dir=args.input, output_dir=args.output, steps=steps, pipeline_file=args.pipeline, copies=args.copies,
        seed=args.seed, workers=args.workers, empty_policy=args.empty_policy, min_visibility=args.min_visibility,
        include_originals=args.include_originals, image_format=args.format, shard=args.shard or "",
    )
    if args.save_job:
        save_job_file(cfg, args.save_job)
        print(f"job saved to {args.save_job} (re-run with: augbench run {args.save_job})")
    from augbench.augment._worker import keep_freed_memory

    keep_freed_memory()  # this process ends with the job, like a pool worker: same malloc tuning (--workers 1, shards)
    return print_result(execute(cfg))


def run_demo(out: Path, copies: int = 4, seed: int = 0, quiet: bool = False) -> dict[str, Any]:
    """Augment the bundled sample into ``out`` and write a before/after preview sheet."""
    from augbench.augment.export import AugmentJob
    from augbench.augment.pipeline import save_pipeline, steps_from_dicts
    from augbench.augment.preview import contact_sheet, render_tile
    from augbench.cli import execute
    from augbench.core.dataset import scan_dataset
    from augbench.core.imageio import read_image, write_image
    from augbench.core.paths import sample_dataset_dir
    from augbench.label.io import read_labels

    src = sample_dataset_dir()
    out.mkdir(parents=True, exist_ok=True)
    pipe = save_pipeline(steps_from_dicts(DEFAULT_STEPS), out / "pipeline.json")
    cfg = AugmentJob(input_dir=str(src), output_dir=str(out / "augmented"), pipeline_file=str(pipe), copies=copies,
                     seed=seed)
    result = execute(cfg, quiet=quiet)
    # Preview sheet: each original with its boxes, then its augmented copies as written to disk.
    tiles = []
    info = scan_dataset(src)
    aug_info = scan_dataset(out / "augmented")
    by_stem = {i.image.stem: i for i in aug_info.items}
    for item in info.items:
        for k in range(-1, copies):
            it = item if k < 0 else by_stem.get(f"{item.image.stem}_aug{k:03d}")
            if it is None:
                continue
            img = read_image(it.image)
            h, w = img.shape[:2]
            boxes = read_labels(it.label_file, it.image, (w, h), info.box_classes).boxes if it.label_file else []
            tiles.append(render_tile(img, boxes, None, [], []))
    sheet = contact_sheet(tiles, cols=copies + 1, cell=220)
    sheet_path = write_image(out / "preview_sheet.png", sheet)
    return {"result": result, "sheet": sheet_path, "pipeline": pipe}


def _cmd_demo(args: argparse.Namespace) -> int:
    from augbench.cli import print_result

    info = run_demo(Path(args.out), copies=args.copies, seed=args.seed)
    code = print_result(info["result"])
    print(f"  pipeline (Albumentations format): {info['pipeline']}")
    print(f"  preview sheet: {info['sheet']}")
    return code


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("augment", help="export N augmented copies of a folder, labels and masks rewritten")
    p.add_argument("input", nargs="?", help="image folder (ImageFolder, or flat with YOLO/VOC labels)")
    p.add_argument("output", nargs="?", help="output folder (created; same layout as the input)")
    p.add_argument("-n", "--copies", type=int, default=3)
    p.add_argument("-t", "--transform", action="append",
                   help="e.g. -t HorizontalFlip:p=0.5 -t Rotate:limit=-30..30,p=0.8 (repeatable)")
    p.add_argument("--pipeline", help="an Albumentations JSON/YAML pipeline file (A.save format)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=0, help="processes (0 = one per core)")
    p.add_argument("--empty-policy", choices=["keep", "drop"], default="keep",
                   help="when augmentation removes every box of an image: keep it with an empty label, or drop it")
    p.add_argument("--min-visibility", type=float, default=0.1)
    p.add_argument("--include-originals", action="store_true")
    p.add_argument("--format", choices=["same", "jpg", "png"], default="same")
    p.add_argument(
        "--shard", default="", help="I/N: do only shard I (0-based) of N into the same OUTPUT, e.g. from a Slurm array; "
                                    "the manifest parts merge when the last shard finishes")
    p.add_argument("--save-job", help="also save the job as YAML for `augbench run`")
    p.add_argument("--list", action="store_true", help="list the transform catalogue and exit")
    p.set_defaults(func=_cmd_augment)
    d = sub.add_parser("demo", help="augment the bundled sample and write outputs + a preview sheet PNG")
    d.add_argument("--out", default="augbench-demo")
    d.add_argument("-n", "--copies", type=int, default=4)
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(func=_cmd_demo)


__all__ = ["DEFAULT_STEPS", "json", "parse_transform", "register", "run_demo"]
