"""Deterministic shards of a batch job, and the merge of their manifests.

A big augment / style / crawl job can be split into ``N`` shards that run
anywhere (a Slurm array, Ray, Dask, several terminals) into ONE output folder.
Shard ``I/N`` (0 <= I < N) owns the work items whose stable key (a file's
path relative to the input root, or a crawl keyword) hashes to ``I`` modulo
``N``: the split depends on nothing but the keys, so every shard agrees on it
without talking to the others, and outputs are file-for-file identical to an
unsharded run (per-output seeds already come from the job seed and the key).

Each shard writes its own ``manifest.part-IIII-of-NNNN.jsonl`` and
``result.part-IIII-of-NNNN.json``; :func:`merge_manifests` (``augbench manifest
merge OUT``, or automatically by the executor) folds the parts into
``manifest.jsonl``, idempotently.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, TypeVar

from augbench.core.atomic import atomic_write_text
from augbench.core.errors import ConfigError

T = TypeVar("T")

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_PART = re.compile(r"^manifest\.part-(\d+)-of-(\d+)\.jsonl$")
MANIFEST = "manifest.jsonl"


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (the whole job when count == 1)."""

    index: int = 0
    count: int = 1

    @property
    def whole(self) -> bool:
        return self.count == 1

    @property
    def suffix(self) -> str:
        """``part-0002-of-0008`` (empty for the whole job)."""
        return "" if self.whole else f"part-{self.index:04d}-of-{self.count:04d}"

    def owns(self, key: str) -> bool:
        """Whether this shard does the work item named ``key`` (stable across machines and Python runs)."""
        if self.whole:
            return True
        digest = hashlib.blake2b(key.replace(os.sep, "/").encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.count == self.index

    def select(self, items: Iterable[T], key: Any) -> list[T]:
        """The items of this shard; ``key(item)`` gives each item's stable key."""
        return [it for it in items if self.owns(str(key(it)))]

    def manifest_name(self) -> str:
        return MANIFEST if self.whole else f"manifest.{self.suffix}.jsonl"

    def result_name(self) -> str:
        return "result.json" if self.whole else f"result.{self.suffix}.json"

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(spec: str | None, field_name: str = "shard") -> Shard:
    """``"3/8"`` -> Shard(3, 8); empty -> the whole job. Indices are 0-based, as Slurm array ids usually are."""
    if spec is None or not str(spec).strip():
        return Shard()
    m = _SPEC.match(str(spec))
    if not m:
        raise ConfigError(field_name, f"{spec!r} is not I/N (for example 0/4 for the first of four shards)")
    i, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 0 <= i < n:
        raise ConfigError(field_name, f"{spec!r}: the shard index must be 0..{max(n - 1, 0)} for {n} shards")
    return Shard(i, n)


def manifest_parts(out_dir: str | Path) -> dict[int, list[Path]]:
    """The manifest parts in ``out_dir``, grouped by shard count."""
    groups: dict[int, list[Path]] = {}
    root = Path(out_dir)
    if not root.is_dir():
        return groups
    for p in sorted(root.iterdir()):
        m = _PART.match(p.name)
        if m:
            groups.setdefault(int(m.group(2)), []).append(p)
    return groups


def _rows(path: Path) -> Iterable[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line of a killed shard
            if isinstance(row, dict):
                yield row


def _row_key(row: dict[str, Any]) -> str:
    for k in ("file", "output", "out", "path"):
        if row.get(k):
            return f"{k}:{row[k]}"
    return json.dumps(row, sort_keys=True, ensure_ascii=False)


def merge_manifests(out_dir: str | Path, *, remove_parts: bool = True, expect: int | None = None) -> dict[str, Any]:
    """Fold ``manifest.part-*.jsonl`` into ``manifest.jsonl`` (rows already there kept; no row twice).

    Rows are keyed by the file they describe, so merging twice, or merging a
    part that a resumed shard re-wrote, never duplicates a row. ``expect``
    (the shard count) makes a missing part an error instead of a silent gap.
    Returns counts for the caller to report.
    """
    root = Path(out_dir)
    groups = manifest_parts(root)
    if not groups:
        return {"parts": 0, "rows_added": 0, "rows_total": sum(1 for _ in _rows(root / MANIFEST))
                if (root / MANIFEST).is_file() else 0}
    if len(groups) > 1:
        raise ConfigError("shard", f"{root} holds manifest parts of different shard counts {sorted(groups)}: "
                                   "merge would mix two different splits")
    count, parts = next(iter(groups.items()))
    if expect is not None and count != expect:
        raise ConfigError("shard", f"{root} holds parts of {count} shards, expected {expect}")
    found = {int(_PART.match(p.name).group(1)) for p in parts}  # type: ignore[union-attr]
    missing = sorted(set(range(count)) - found)
    if expect is not None and missing:
        raise ConfigError("shard", f"shards {missing} of {count} have not written their manifest part yet")
    main = root / MANIFEST
    rows = list(_rows(main)) if main.is_file() else []
    seen = {_row_key(r) for r in rows}
    added = 0
    for p in parts:
        for r in _rows(p):
            k = _row_key(r)
            if k not in seen:
                seen.add(k)
                rows.append(r)
                added += 1
    atomic_write_text(main, "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows))
    if remove_parts:
        for p in parts:
            p.unlink(missing_ok=True)
    return {"parts": len(parts), "shards": count, "missing_shards": missing, "rows_added": added,
            "rows_total": len(rows)}


def _result_parts(root: Path, count: int) -> list[Path]:
    return [root / f"result.{Shard(i, count).suffix}.json" for i in range(count)]


def merge_if_complete(out_dir: str | Path, count: int) -> dict[str, Any] | None:
    """Merge the manifest parts when every one of ``count`` shards has finished ("automatically at the end").

    Called by each shard after it writes its result part: the last shard to
    complete finds all ``count`` results with status ``completed`` and folds
    the parts into ``manifest.jsonl`` and one ``result.json`` (counts summed).
    A file lock makes two shards finishing together merge once. Returns the
    merge summary, or None when some shard is still missing or unfinished.
    """
    import fcntl

    root = Path(out_dir)
    parts = _result_parts(root, count)
    results: list[dict[str, Any]] = []
    for p in parts:
        try:
            results.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None
    if any(r.get("status") != "completed" for r in results):
        return None
    with open(root / ".augbench-merge.lock", "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        info = merge_manifests(root, expect=None)
        combined = {
            "kind": results[0].get("kind", ""), "status": "completed", "out_dir": str(root),
            "n_outputs": sum(int(r.get("n_outputs", 0)) for r in results),
            "outputs": [o for r in results for o in r.get("outputs", [])],
            "skipped": [s for r in results for s in r.get("skipped", [])],
            "metrics": {"shards": count, "per_shard": [r.get("metrics", {}) for r in results]},
            "message": f"{count} shards merged",
        }
        atomic_write_text(root / "result.json", json.dumps(combined, indent=2, ensure_ascii=False, default=str))
    (root / ".augbench-merge.lock").unlink(missing_ok=True)
    return info
