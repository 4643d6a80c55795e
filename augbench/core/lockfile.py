"""One job per output folder: a lock file holding the pid, host and kind of the job writing it.

Taken with ``O_CREAT | O_EXCL`` (atomic on local file systems); a lock whose pid is dead on this
host, or that is unreadable and older than a minute (a torn write), is stale and taken over. A
lock from another host is never assumed dead: the message says which host and how to clear it.
Shards of one job each take their own lock name, so they can write one folder side by side.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from augbench.core.errors import AugbenchError

LOCK_NAME = ".augbench.lock"


class OutputBusyError(AugbenchError):
    """Another job holds the output folder's lock."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def lock_name(cfg: Any) -> str:
    """``.augbench.lock``, or one per shard (``.augbench.part-0001-of-0004.lock``) so shards run side by side."""
    spec = str(getattr(cfg, "shard", "") or "").strip()
    if "/" in spec:
        i, n = (s.strip() for s in spec.split("/", 1))
        if i.isdigit() and n.isdigit() and int(n) > 1:
            return f".augbench.part-{int(i):04d}-of-{int(n):04d}.lock"
    return LOCK_NAME


class OutputLock:
    """A lock file holding the pid, host and kind of the job writing a folder."""

    def __init__(self, folder: Path, kind: str, name: str = LOCK_NAME) -> None:
        self.path = folder / name
        self.kind = kind
        self.held = False

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "kind": self.kind,
                "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        for _attempt in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
            except FileExistsError:
                other = self._read()
                pid = other.get("pid")
                stale = (isinstance(pid, int) and other.get("host") == info["host"] and not _pid_alive(pid)) \
                    or (not other and time.time() - self._mtime() > 60)  # unreadable and old: a torn write
                if stale:
                    with contextlib.suppress(FileNotFoundError):
                        self.path.unlink()
                    continue
                who = f"pid {pid}" + (f" on {other.get('host')}" if other.get("host") != info["host"] else "")
                raise OutputBusyError(
                    f"{self.path.parent} is in use by another augbench job ({other.get('kind', '?')}, {who}, "
                    f"started {other.get('started', '?')}); wait for it to finish, or delete {self.path} "
                    "if that job is gone") from None
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(info, fh)
            self.held = True
            return
        raise OutputBusyError(f"could not take the lock {self.path}")

    def _mtime(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return time.time()

    def release(self) -> None:
        if self.held and self._read().get("pid") == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self.held = False


__all__ = ["LOCK_NAME", "OutputBusyError", "OutputLock", "lock_name"]
