"""``augbench labels convert|stats``: the label jobs from a shell."""

from __future__ import annotations

import argparse
import json
import sys

from augbench.label.formats import FORMATS, per_image_formats
from augbench.label.jobs import LabelsConvertJob, LabelsStatsJob


def _convert(args: argparse.Namespace) -> int:
    from augbench.cli import execute, print_result

    classes = tuple(c.strip() for c in (args.classes or "").split(",") if c.strip())
    cfg = LabelsConvertJob(folder=args.folder, src=args.src, dst=args.dst, out_dir=args.out or "",
                           coco_file=args.coco_file or "", classes=classes, backup=args.backup)
    return print_result(execute(cfg, quiet=args.quiet))


def _stats(args: argparse.Namespace) -> int:
    from augbench.cli import execute
    from augbench.label.stats import LabelStats

    cfg = LabelsStatsJob(folder=args.folder, prefer=args.prefer, out_dir=args.out or "")
    result = execute(cfg, quiet=True)
    if args.json:
        json.dump(result.metrics, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    m = dict(result.metrics)
    m.pop("imbalance", None)
    m["boxes_per_image"] = {int(k): v for k, v in m["boxes_per_image"].items()}
    m["unreadable"] = [tuple(x) for x in m["unreadable"]]
    print(LabelStats(**m).to_text(), end="")
    print(f"written: {result.out_dir}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("labels", help="box label tools: convert formats, statistics")
    lsub = p.add_subparsers(dest="labels_command", required=True)
    c = lsub.add_parser("convert", help="convert a folder's labels (yolo / voc / coco)")
    c.add_argument("folder", help="image folder")
    c.add_argument("--from", dest="src", required=True, choices=list(FORMATS))
    c.add_argument("--to", dest="dst", required=True, choices=list(FORMATS))
    c.add_argument("--out", help="output folder for the labels (default: next to the images / labels/)")
    c.add_argument("--coco-file", help="COCO json to read or write (default FOLDER/annotations.json)")
    c.add_argument("--classes", help="comma-separated id order for a new classes.txt")
    c.add_argument("--backup", action="store_true",
                   help="keep an existing target file (not written by an earlier convert) as NAME.bak instead "
                        "of refusing to overwrite it")
    c.add_argument("-q", "--quiet", action="store_true")
    c.set_defaults(func=_convert)
    s = lsub.add_parser("stats", help="class counts, boxes per image, missing/empty labels, box sizes")
    s.add_argument("folder")
    s.add_argument("--prefer", choices=[f.name for f in per_image_formats()], default="yolo",
                   help="format read when both exist")
    s.add_argument("--out", help="folder for stats.json/stats.txt (default FOLDER/.augbench/label.stats)")
    s.add_argument("--json", action="store_true", help="print the numbers as JSON")
    s.set_defaults(func=_stats)
