"""``augbench`` command line: the same job configs the GUI builds.

``augbench run JOB.yaml`` runs any registered job with a progress bar. Each
package may add its own sub-commands from ``augbench.<pkg>.cli`` by defining
``register(subparsers)``; a handler returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from typing import Any, Callable, Sequence

from augbench.core.errors import AugbenchError, ConfigError
from augbench.core.jobs import JOB_PACKAGES, JobResult, get_spec, load_job, registered_kinds, run_job
from augbench.core.progress import CancelToken, Progress


class TqdmProgress:
    """Adapts runner progress reports to one tqdm bar on stderr."""

    def __init__(self, desc: str = "") -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self.bar: Any = None
        self.desc = desc

    def __call__(self, p: Progress) -> None:
        if self.bar is None or (p.total > 0 and self.bar.total != p.total):
            if self.bar is not None:
                self.bar.close()
            self.bar = self._tqdm(total=p.total or None, desc=self.desc, unit="it", file=sys.stderr, dynamic_ncols=True)
        self.bar.n = p.done
        if p.message:
            self.bar.set_postfix_str(p.message[:60], refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def execute(cfg: Any, quiet: bool = False) -> JobResult:
    """Run a job with a tqdm bar; Ctrl+C cancels at the next safe point."""
    bar = TqdmProgress(desc=getattr(type(cfg), "kind", "job"))
    cancel = CancelToken()
    try:
        result = run_job(cfg, progress=(lambda p: None) if quiet else bar, cancel=cancel)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    finally:
        bar.close()
    return result


def print_result(result: JobResult) -> int:
    """Print a short summary; exit code 0 when completed, 1 when cancelled."""
    print(f"{result.kind}: {result.status}" + (f" — {result.message}" if result.message else ""))
    if result.out_dir:
        print(f"  output: {result.out_dir}")
    print(f"  files written: {len(result.outputs)}")
    for key, value in result.metrics.items():
        if isinstance(value, (int, float, str)):
            print(f"  {key}: {value}")
    if result.skipped:
        print(f"  skipped {len(result.skipped)}:")
        for s in result.skipped[:20]:
            print(f"    {s.path}: {s.reason}")
        if len(result.skipped) > 20:
            print(f"    … and {len(result.skipped) - 20} more (see result.json)")
    return 0 if result.status == "completed" else 1


def _cmd_run(args: argparse.Namespace) -> int:
    cfg = load_job(args.job)
    return print_result(execute(cfg, quiet=args.quiet))


def _cmd_jobs(args: argparse.Namespace) -> int:
    for kind in registered_kinds():
        print(f"{kind:24s} {get_spec(kind).summary}")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    """Print a job kind's fields, types and defaults (a template for a job file)."""
    import dataclasses

    spec = get_spec(args.kind)
    out = {"kind": args.kind}
    for f in dataclasses.fields(spec.config_cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = "<required>"
    print(json.dumps(out, indent=2, default=str, ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="augbench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run any job file (YAML/JSON) with a progress bar")
    p.add_argument("job")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("jobs", help="list the registered job kinds")
    p.set_defaults(func=_cmd_jobs)
    p = sub.add_parser("schema", help="print a job kind's fields and defaults")
    p.add_argument("kind")
    p.set_defaults(func=_cmd_schema)
    for pkg in JOB_PACKAGES:
        name = f"augbench.{pkg}.cli"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return int(func(args) or 0)
    except ConfigError as exc:
        print(f"augbench: config error in {exc.field}: {exc.message}", file=sys.stderr)
        return 2
    except AugbenchError as exc:
        print(f"augbench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("augbench: cancelled", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
