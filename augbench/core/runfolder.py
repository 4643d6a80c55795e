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
    """The output folder of one job run (or of one shard of it: see :mod:`augbench.core.shard`).

    A shard writes its own manifest part and result part, so shards running at
    the same time never interleave rows; :meth:`done_rows` reads the merged
    manifest and this shard's part, so a shard resumes after a merge too.
    """

    def __init__(self, root: str | os.PathLike[str], shard: Any = None) -> None:
        from augbench.core.shard import Shard

        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.shard: Shard = shard if shard is not None else Shard()
        self.manifest = Manifest(self.root / self.shard.manifest_name())

    def write_job(self, cfg: Any) -> Path:
        """Record the job; a shard records the whole job (its ``shard`` field emptied), the same for every shard."""
        import dataclasses

        if dataclasses.is_dataclass(cfg) and any(f.name == "shard" for f in dataclasses.fields(cfg)):
            cfg = dataclasses.replace(cfg, shard="")
        return save_job(cfg, self.root / "job.yaml")

    def done_rows(self) -> Iterator[dict[str, Any]]:
        """Rows of work already done: this run's manifest, plus the merged manifest when this is a shard."""
        if not self.shard.whole:
            yield from iter_manifest(self.root / MANIFEST)
        yield from self.manifest.rows()

    def write_result(self, result: JobResult) -> Path:
        path = atomic_write_json(self.root / self.shard.result_name(), result.to_dict())
        if not self.shard.whole:
            from augbench.core.shard import merge_if_complete

            merge_if_complete(self.root, self.shard.count)
        return path
