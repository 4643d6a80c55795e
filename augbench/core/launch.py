"""Re-executing a command under torchrun: pure process-launch logic, no torch import.

``augbench run job.yaml`` with ``launcher: torchrun`` and ``nproc: N`` starts
itself again as N torchrun ranks. The CLI decides that before any job package
is imported, so these functions live in ``core`` (importable from every layer);
the training side of data parallelism is :mod:`augbench.core.distributed`.
"""

from __future__ import annotations

import os
import shutil
import sys

from augbench.core.errors import ConfigError

LAUNCHERS = ("none", "torchrun")


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
    return [*head, "--standalone", f"--nproc-per-node={nproc}", "-m", "augbench.cli", *argv]


def should_relaunch(launcher: str, nproc: int) -> bool:
    """True when a job asks for torchrun and this process is not already one of its ranks."""
    if launcher not in LAUNCHERS:
        raise ConfigError("launcher", f"unknown launcher {launcher!r}; choose one of {', '.join(LAUNCHERS)}")
    return launcher == "torchrun" and nproc > 1 and "LOCAL_RANK" not in os.environ
