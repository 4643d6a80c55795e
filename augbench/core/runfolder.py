"""A run folder: the resolved job, a result, and a manifest row per output.

Every job writes ``job.yaml`` (so it can be re-run), ``result.json`` and a
``manifest.jsonl`` with one row per file it wrote (source, parameters, seed,
origin). Re-running reads the manifest to resume instead of duplicating.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Iterator

from augbench.core.atomic import atomic_write_json
from augbench.core.jobs import JobResult, save_job

MANIFEST = "manifest.jsonl"


class Manifest:
    """Append-only JSONL file, safe to write from several threads.

    Each row is written with one ``write`` call and flushed, so a crash can at
    worst lose the last row, never corrupt earlier ones; a torn last line is
    ignored when reading.
    """

    def __init__(self, path: str | os.PathLike[str], sync_every: int = 1) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.sync_every = max(1, sync_every)  # fsync after this many rows (1 = every row)
        self._unsynced = 0

    def append(self, row: dict[str, Any]) -> None:
        line = json.dumps(row, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                self._unsynced += 1
                if self._unsynced >= self.sync_every:
                    os.fsync(fh.fileno())
                    self._unsynced = 0

    def sync(self) -> None:
        """fsync rows appended since the last sync (call at the end of a batch)."""
        with self._lock:
            if self._unsynced and self.path.exists():
                with open(self.path, "a", encoding="utf-8") as fh:
                    os.fsync(fh.fileno())
            self._unsynced = 0

    def rows(self) -> Iterator[dict[str, Any]]:
        return iter_manifest(self.path)


def iter_manifest(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield the rows of a manifest; missing file -> nothing, torn lines skipped."""
    path = Path(path)
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                yield row


class RunFolder:
    """The output folder of one job run."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.manifest = Manifest(self.root / MANIFEST)

    def write_job(self, cfg: Any) -> Path:
        return save_job(cfg, self.root / "job.yaml")

    def write_result(self, result: JobResult) -> Path:
        return atomic_write_json(self.root / "result.json", result.to_dict())
