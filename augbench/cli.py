"""``augbench`` command line: the same job configs the GUI builds.

``augbench run JOB.yaml`` runs any registered job with a progress bar. Each
package may add its own sub-commands from ``augbench.<pkg>.cli`` by defining
``register(subparsers)``; a handler returns an exit code.

Errors: every error a user can cause ends as ONE line on stderr and exit code 2
(``augbench: ...``), never a traceback. Specific messages come from where the
problem is understood (``ConfigError`` naming the field, ``AugbenchError``);
:func:`main` is the safety net that turns anything else into one line plus a
hint that ``--debug`` (or ``AUGBENCH_DEBUG=1``) shows the traceback.
Under torchrun (``--nproc N``) rank 0 alone prints progress and the result,
and a rank's error reaches the user once, through the parent that started
torchrun (:mod:`augbench.core.launch`).
Every sub-command also takes ``--fresh``: when its output folder holds a run
with a different config, move that folder aside and start anew.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import traceback
from typing import Any, Callable, Sequence

from augbench.core.errors import AugbenchError, ConfigError
from augbench.core.jobs import JOB_PACKAGES, JobResult, get_spec, load_job, registered_kinds, run_job
from augbench.core.launch import is_main_rank, relaunched, report_rank_error
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


# Options of the current command line that apply to every job it runs (set by main()).
_OPTIONS: dict[str, Any] = {"fresh": False}


def execute(cfg: Any, quiet: bool = False, fresh: bool | None = None) -> JobResult:
    """Run a job with a tqdm bar; Ctrl+C cancels at the next safe point.

    ``fresh`` (default: the command line's ``--fresh``) moves an output folder that holds a
    different run aside instead of refusing. Torchrun ranks other than 0 run without a bar: N bars
    redrawing one terminal line show nothing readable.
    """
    quiet = quiet or not is_main_rank()
    bar = TqdmProgress(desc=getattr(type(cfg), "kind", "job"))
    cancel = CancelToken()
    fresh = bool(_OPTIONS.get("fresh")) if fresh is None else fresh
    try:
        result = run_job(cfg, progress=(lambda p: None) if quiet else bar, cancel=cancel, fresh=fresh)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    finally:
        bar.close()
    return result


def save_job_file(cfg: Any, path: str) -> None:
    """``--save-job PATH``: write the job file, but never over a file that is not an augbench job file."""
    from pathlib import Path

    import yaml

    from augbench.core.jobs import save_job

    target = Path(path)
    if target.is_dir():
        raise ConfigError("--save-job", f"{target} is a folder; give a file name such as job.yaml")
    if target.exists():
        try:
            old = yaml.safe_load(target.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            old = None
        if not (isinstance(old, dict) and "kind" in old):
            raise ConfigError("--save-job", f"{target} exists and is not an augbench job file; it is left as it "
                                            "is (choose another name)")
    save_job(cfg, target)


def print_result(result: JobResult) -> int:
    """Print a short summary; exit code 0 when completed, 1 when cancelled.

    Only rank 0 of a torchrun job prints it: every rank holds the same result, once is enough.
    """
    code = 0 if result.status == "completed" else 1
    if not is_main_rank():
        return code
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
    return code


def _cmd_run(args: argparse.Namespace) -> int:
    cfg = load_job(args.job)
    from augbench.core.launch import relaunch_if_asked

    rc = relaunch_if_asked(cfg, quiet=args.quiet, fresh=bool(getattr(args, "fresh", False)))
    if rc is not None:  # the job asked for torchrun: it ran as nproc ranks
        return rc
    if args.shards:
        from augbench.core.cluster import run_on_dask

        summary = run_on_dask(cfg, args.shards, scheduler=args.scheduler, local_workers=args.local_workers,
                              progress=(lambda p: None) if args.quiet else TqdmProgress(desc="shards"))
        print(json.dumps(summary, indent=2, default=str))
        return 0 if summary["status"] == "completed" else 1
    return print_result(execute(cfg, quiet=args.quiet))


def _cmd_manifest_merge(args: argparse.Namespace) -> int:
    from pathlib import Path

    from augbench.core.shard import merge_manifests

    if not Path(args.out).is_dir():
        raise ConfigError("out", f"{args.out} is not a folder (give the shared output folder of the shards)")
    info = merge_manifests(args.out, expect=args.shards or None, remove_parts=not args.keep_parts)
    if args.shards and not info.get("parts"):
        raise ConfigError("shards", f"{args.out} holds no manifest parts; expected {args.shards} shard(s)")
    print(f"merged {info.get('parts', 0)} manifest part(s) into {args.out}/manifest.jsonl: "
          f"{info.get('rows_added', 0)} rows added, {info.get('rows_total', 0)} in all")
    return 0


def _cmd_jobs(args: argparse.Namespace) -> int:
    for kind in registered_kinds():
        print(f"{kind:24s} {get_spec(kind).summary}")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    """Print a job kind's fields, types and defaults (a template for a job file)."""
    import dataclasses

    spec = get_spec(args.kind)
    out = {"kind": spec.kind}  # an old kind name prints the template under its new name
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
    p.add_argument("--shards", type=int, default=0,
                   help="split the job into N shards and run them on a Dask cluster (augment.export, style.apply, crawl.fetch)")
    p.add_argument("--scheduler", default="", help="Dask scheduler address (tcp://host:8786); empty: a local cluster")
    p.add_argument("--local-workers", type=int, default=2, help="processes of the local Dask cluster")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("manifest", help="manifest tools for sharded jobs")
    msub = p.add_subparsers(dest="manifest_command", required=True)
    m = msub.add_parser("merge", help="fold the manifest parts of sharded runs into OUT/manifest.jsonl")
    m.add_argument("out", help="the shared output folder")
    m.add_argument("--shards", type=int, default=0, help="expected number of shards (a missing part is an error)")
    m.add_argument("--keep-parts", action="store_true", help="keep the part files after merging")
    m.set_defaults(func=_cmd_manifest_merge)
    p = sub.add_parser("jobs", help="list the registered job kinds")
    p.set_defaults(func=_cmd_jobs)
    p = sub.add_parser("schema", help="print a job kind's fields and defaults")
    p.add_argument("kind")
    p.set_defaults(func=_cmd_schema)
    for pkg in JOB_PACKAGES:
        name = f"augbench.{pkg}.cli"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(sub)
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an unexpected error")
    _add_common_options(parser)
    return parser


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    """Give every (nested) sub-command ``--fresh`` and ``--debug`` unless it defines them itself."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sp in set(action.choices.values()):
                opts = sp._option_string_actions
                if "--fresh" not in opts:
                    sp.add_argument("--fresh", action="store_true", default=argparse.SUPPRESS,
                                    help="if the output folder holds a run with a different config, move it aside "
                                         "(to NAME.old-<time>) and start anew")
                if "--debug" not in opts:
                    sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                                    help="show the Python traceback of an unexpected error")
                _add_common_options(sp)


def describe_error(exc: BaseException) -> str:
    """One line a user can act on for an exception nobody turned into an ``AugbenchError``."""
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, ConfigError):
        return f"config error in {exc.field}: {exc.message}"
    if isinstance(exc, AugbenchError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory (try fewer workers, a smaller image size or batch)"
    if isinstance(exc, BrokenProcessPool):
        return "a worker process died (out of memory, or killed); re-run to resume, or use --workers 1"
    if isinstance(exc, (FileExistsError, NotADirectoryError)) and exc.filename:
        return f"{exc.filename} is in the way: a file exists where a folder is needed (choose another path)"
    if isinstance(exc, PermissionError) and exc.filename:
        return f"permission denied: {exc.filename} (choose a folder you can write to)"
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc) or type(exc).__name__
        where = f": {exc.filename}" if exc.filename else ""
        return f"{what}{where}"
    if type(exc).__name__ == "DecompressionBombError":
        return f"image refused as too large to decode safely: {exc}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"unexpected error: {type(exc).__name__}{': ' + text if text else ''} (run with --debug for the traceback)"


def one_line(text: str, limit: int = 400) -> str:
    """Fold a multi-line message (a pydantic validation report, say) into one line without its web links."""
    parts = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("For further info")]
    line = "; ".join(parts)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    debug = bool(getattr(args, "debug", False)) or os.environ.get("AUGBENCH_DEBUG", "") not in ("", "0")
    _OPTIONS["fresh"] = bool(getattr(args, "fresh", False))
    old_debug = os.environ.get("AUGBENCH_DEBUG")
    if debug:  # torchrun ranks started by this command show their tracebacks too
        os.environ["AUGBENCH_DEBUG"] = "1"
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        if is_main_rank() and not relaunched():  # a relaunch's parent says it for all ranks
            print("augbench: cancelled", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback reaches a user
        if debug:
            traceback.print_exc()
        from augbench.core.guard import RerunMismatchError

        text = describe_error(exc)
        if report_rank_error(one_line(text)) and not debug:  # a torchrun rank: the parent prints it once
            return 2
        if isinstance(exc, RerunMismatchError):  # the readable diff: one indented line per differing field
            print(f"augbench: {text}", file=sys.stderr)
        else:
            print(f"augbench: {one_line(text)}", file=sys.stderr)
        return 2
    finally:
        _OPTIONS["fresh"] = False
        if old_debug is None:
            os.environ.pop("AUGBENCH_DEBUG", None)
        else:
            os.environ["AUGBENCH_DEBUG"] = old_debug


if __name__ == "__main__":
    raise SystemExit(main())
