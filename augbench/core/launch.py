"""Re-executing a command under torchrun: pure process-launch logic, no torch import.

``augbench run job.yaml`` with ``launcher: torchrun`` and ``nproc: N`` starts
itself again as N torchrun ranks. The CLI decides that before any job package
is imported, so these functions live in ``core`` (importable from every layer);
the training side of data parallelism is :mod:`augbench.core.distributed`.
Sub-commands that build their job from flags (``augbench gan train --nproc 2``)
use :func:`relaunch_if_asked`: the ranks run ``augbench run`` on a temporary copy
of that job, so every rank trains exactly the config the flags made.

What a user sees of a relaunched job is what one process would show: rank 0
alone prints progress and the result (:func:`is_main_rank`), and an error in
the ranks ends as ONE line and exit code 2 from the parent. The ranks write
their error line to a file (:func:`report_rank_error`) instead of stderr, and
torchrun runs through this module (``python -m augbench.core.launch``) with its
logging off and its ``ChildFailedError`` report caught, so neither the N copies
of the line nor torchrun's traceback-like report reach the user. ``--debug``
(``AUGBENCH_DEBUG=1``) runs plain torchrun and lets every rank talk.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

from augbench.core.errors import AugbenchError, ConfigError

LAUNCHERS = ("none", "torchrun")
# The folder where relaunched ranks leave their one-line error (set by the parent for its ranks only).
ERRORS_ENV = "AUGBENCH_RANK_ERRORS"


def torchrun_command(argv: list[str], nproc: int) -> list[str]:
    """The command that re-executes ``argv`` (an augbench command line) under torchrun with ``nproc`` ranks.

    ``python -m torch.distributed.run`` is torchrun itself, found through the
    running interpreter, so the venv's torch is used even when ``torchrun`` is
    not on PATH. ``--standalone`` picks a free rendezvous port on this machine.
    """
    if nproc < 1:
        raise ConfigError("nproc", "must be at least 1")
    exe = shutil.which("torchrun")
    head = [exe] if exe and os.path.dirname(exe) == os.path.dirname(sys.executable) else \
        [sys.executable, "-m", "torch.distributed.run"]
    return [*head, *_torchrun_args(argv, nproc)]


def _torchrun_args(argv: list[str], nproc: int) -> list[str]:
    """torchrun's own arguments for running ``augbench argv`` as ``nproc`` ranks of this machine."""
    return ["--standalone", f"--nproc-per-node={nproc}", "-m", "augbench.cli", *argv]


def quiet_torchrun_command(argv: list[str], nproc: int) -> list[str]:
    """:func:`torchrun_command` run through this module's ``__main__``: the same launch, minus torchrun's
    log lines and failure report (the ranks' own error line is what the user needs)."""
    if nproc < 1:
        raise ConfigError("nproc", "must be at least 1")
    return [sys.executable, "-m", "augbench.core.launch", *_torchrun_args(argv, nproc)]


def debugging() -> bool:
    """True when the user asked to see everything (``--debug`` sets ``AUGBENCH_DEBUG=1`` for the ranks)."""
    return os.environ.get("AUGBENCH_DEBUG", "") not in ("", "0")


def is_main_rank() -> bool:
    """False in torchrun ranks other than 0: those run the job silently (no progress bar, no result lines)."""
    return os.environ.get("RANK", "0") in ("", "0")


def relaunched() -> bool:
    """True in a torchrun rank started by :func:`relaunch_if_asked` (whose parent reports for all ranks)."""
    return bool(os.environ.get(ERRORS_ENV)) and "LOCAL_RANK" in os.environ


def report_rank_error(line: str) -> bool:
    """In a rank of :func:`relaunch_if_asked`, leave ``line`` (the error a user should read) for the parent
    and return True: the parent prints one line for all ranks. False anywhere else (the caller prints it)."""
    folder = os.environ.get(ERRORS_ENV, "")
    if not relaunched() or not os.path.isdir(folder):
        return False
    rank = int(os.environ.get("RANK", "0") or 0)
    tmp = os.path.join(folder, f".rank{rank}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"rank": rank, "line": line}, f)
    os.replace(tmp, os.path.join(folder, f"rank{rank}.json"))  # the parent never reads half a file
    return True


def rank_error_line(folder: Path) -> str | None:
    """The one line to show for failed ranks: the lowest rank's expected error (a user's mistake names the
    cause; the other ranks then often fail only because a peer left), else the lowest rank's line."""
    found: list[tuple[bool, int, str]] = []
    for path in folder.glob("rank*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found.append((str(data["line"]).startswith("unexpected error"), int(data["rank"]), str(data["line"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return min(found)[2] if found else None


class RankError(AugbenchError):
    """A torchrun rank failed; the message is that rank's own one-line error."""


def should_relaunch(launcher: str, nproc: int) -> bool:
    """True when a job asks for torchrun and this process is not already one of its ranks."""
    if launcher not in LAUNCHERS:
        raise ConfigError("launcher", f"unknown launcher {launcher!r}; choose one of {', '.join(LAUNCHERS)}")
    return launcher == "torchrun" and nproc > 1 and "LOCAL_RANK" not in os.environ


def nproc_arg(text: str) -> int:
    """argparse ``type`` of ``--nproc``: a whole number of processes, at least 1 (argparse makes a bad one
    a one-line usage error with exit code 2)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of processes") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n} processes: give at least 1")
    return n


NPROC_HELP = ("train data-parallel on N processes of this machine (one per GPU, or CPU ranks with gloo): the "
              "command re-runs itself under torchrun (sets the job's nproc: N and, for N > 1, launcher: "
              "torchrun); the batch size stays the global batch; rank 0 alone writes files")


def with_nproc(cfg: Any, nproc: int | None) -> Any:
    """``cfg`` with a ``--nproc`` applied: N > 1 implies ``launcher: torchrun``, 1 means one plain process;
    ``None`` (flag not given) keeps the job's own fields."""
    if nproc is None:
        return cfg
    return dataclasses.replace(cfg, nproc=nproc, launcher="torchrun" if nproc > 1 else "none")


def _check_global_batch(cfg: Any, nproc: int) -> None:
    """The global batch (``batch_size``, or ``model.batch_size``) must split evenly over the ranks, as
    :func:`augbench.core.distributed.per_rank_batch` demands in every rank (checked here without torch)."""
    for name, owner in (("batch_size", cfg), ("model.batch_size", getattr(cfg, "model", None))):
        batch = getattr(owner, "batch_size", None) if owner is not None else None
        if isinstance(batch, int) and batch % nproc:
            raise ConfigError(name, f"the global batch {batch} does not divide over {nproc} processes "
                                    f"(give a multiple of {nproc})")


def relaunch_if_asked(cfg: Any, *, quiet: bool = False, fresh: bool = False) -> int | None:
    """Run ``cfg`` as ``nproc`` torchrun ranks when it asks for that; None when this process should run it.

    The job goes to a temporary file outside every input and output folder (the ranks read it, then it is
    deleted); each rank runs ``augbench run`` on it, which finds ``LOCAL_RANK`` set and never relaunches again.
    Returns torchrun's exit code.

    The checks a user's mistake fails (a missing input, an output inside an input, a GPU that is not
    there, an output folder written by another job, a global batch that does not split over the ranks)
    run here first, so they end as one line and exit code 2 from this process instead of N copies of
    the line and torchrun's own failure report.
    """
    launcher, nproc = str(getattr(cfg, "launcher", "none")), int(getattr(cfg, "nproc", 1) or 1)
    if not should_relaunch(launcher, nproc):
        return None
    from augbench.core.guard import absolutize, check_device, check_paths, check_rerun, run_folder
    from augbench.core.jobs import get_spec, kind_of, save_job, validate_config

    validate_config(cfg)
    _check_global_batch(cfg, nproc)
    cfg = absolutize(cfg)  # the ranks may start elsewhere; relative paths would move with them
    check_device(cfg)
    check_paths(cfg)
    folder = run_folder(cfg)
    if folder is not None and folder.is_dir() and not fresh:  # --fresh: rank 0 moves the old folder aside
        check_rerun(cfg, folder, get_spec(kind_of(cfg)).kind)
    with tempfile.TemporaryDirectory(prefix="augbench-job-") as tmp:
        job = save_job(cfg, Path(tmp) / "job.yaml")
        errors = Path(tmp) / "errors"
        errors.mkdir()
        argv = ["run", str(job)] + (["-q"] if quiet else []) + (["--fresh"] if fresh else [])
        cmd = torchrun_command(argv, nproc) if debugging() else quiet_torchrun_command(argv, nproc)
        with _ctrl_c_deferred() as interrupted:
            rc = subprocess.run(cmd, check=False, env={**os.environ, ERRORS_ENV: str(errors)}).returncode
        if interrupted:
            raise KeyboardInterrupt  # after the ranks stopped: the CLI says "cancelled" once
        line = rank_error_line(errors)
    if line is not None:
        raise RankError(line)
    if rc not in (0, 1, 130):  # 1: the job ended cancelled (rank 0 printed that); 130: Ctrl+C
        raise AugbenchError(f"the {nproc} torchrun processes failed (exit code {rc}) without saying why; "
                            "run with --debug to see torchrun's report")
    return rc


@contextlib.contextmanager
def _ctrl_c_deferred() -> Iterator[list[int]]:
    """While torchrun runs, Ctrl+C only marks the yielded list: the ranks got the same signal and stop by
    themselves (rank 0 saves ``last.pt``), while ``subprocess.run`` interrupted would kill torchrun after
    0.25 s and leave them without their launcher. Signal handlers are the main thread's alone."""
    hits: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield hits
        return
    old = signal.signal(signal.SIGINT, lambda signum, frame: hits.append(signum))
    try:
        yield hits
    finally:
        signal.signal(signal.SIGINT, old)


def _quiet_torchrun(args: list[str]) -> int:
    """``python -m augbench.core.launch TORCHRUN-ARGS``: torchrun without its log lines and without the
    ``ChildFailedError`` report (a traceback) it raises when a rank fails; the exit code says it failed."""
    import logging

    logging.disable(logging.CRITICAL)  # this process only runs torchrun; the ranks are fresh interpreters
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    try:
        run(parse_args(args))
    except ChildFailedError as exc:
        codes = {f.exitcode for f in exc.failures.values()}
        return 130 if 130 in codes else 1 if codes == {1} else 3
    except (KeyboardInterrupt, SignalException):  # Ctrl+C or a kill: torchrun has stopped the ranks
        return 130
    except Exception:  # noqa: BLE001 - torchrun itself failed (rendezvous, ports); the parent says so in one line
        return 4
    return 0


if __name__ == "__main__":
    raise SystemExit(_quiet_torchrun(sys.argv[1:]))
