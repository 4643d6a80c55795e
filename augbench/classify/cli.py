"""``augbench bench ...``: run a benchmark job file, rebuild a report from the run JSONs."""

from __future__ import annotations

import argparse

from augbench.core.errors import ConfigError
from augbench.core.launch import NPROC_HELP, nproc_arg, relaunch_if_asked, with_nproc


def _cmd_run(args: argparse.Namespace) -> int:
    from augbench.cli import execute, print_result
    from augbench.core.jobs import load_job

    cfg = load_job(args.job)
    if getattr(type(cfg), "kind", "") not in ("classify.compare", "classify.train"):
        raise ConfigError("kind", "`augbench bench run` takes a classify.compare or classify.train job")
    cfg = with_nproc(cfg, args.nproc)
    rc = relaunch_if_asked(cfg, quiet=args.quiet, fresh=bool(getattr(args, "fresh", False)))
    return rc if rc is not None else print_result(execute(cfg, quiet=args.quiet))


def _cmd_report(args: argparse.Namespace) -> int:
    from augbench.classify.report import build_report, markdown_tables

    summary = build_report(args.run_dir, title=args.title)
    print(markdown_tables(summary))
    print(f"\nreport: {args.run_dir}/report.md and report.html ({summary['n_runs']} runs)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="classifier benchmark: train arms x models x seeds, build reports")
    bsub = p.add_subparsers(dest="bench_command", required=True)
    r = bsub.add_parser("run", help="run a classify.compare / classify.train job file (resumes finished runs)")
    r.add_argument("job")
    r.add_argument("-q", "--quiet", action="store_true")
    r.add_argument("--nproc", type=nproc_arg, default=None, metavar="N", help=NPROC_HELP + " (default: the job's nproc)")
    r.set_defaults(func=_cmd_run)
    r = bsub.add_parser("report", help="rebuild report.md/html, CSVs and figures from RUN_DIR/runs/*/*/seed*.json")
    r.add_argument("run_dir")
    r.add_argument("--title", default="Balancing benchmark")
    r.set_defaults(func=_cmd_report)
