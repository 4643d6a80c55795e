"""The leak guard: no generated image may come from an image an evaluation will see.

A synthetic row leaks when ANY real image behind it is forbidden (a val/test
image, or under a protocol an oracle-pool image): the normal it was
translated or pasted into (``source``) AND every defect image its generator
learned from or cut a patch from (``defect_sources``). Checking only the
translated source misses the second way a test defect reaches training: as a
GAN's training target or a transplant's patch.

Paths in a manifest may be absolute, relative to the data set root or bare
ids; they are compared resolved when possible and by the path relative to the
root otherwise (stems alone would confuse ``a/x.png`` with ``b/x.png``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

SOURCE_KEYS = ("source", "defect_source", "defect_sources", "sources", "patch_source", "patch_sources")


def row_sources(row: dict[str, Any]) -> list[str]:
    """Every real image a manifest row names as used by its generator."""
    out: list[str] = []
    for key in SOURCE_KEYS:
        v = row.get(key)
        out += [str(x) for x in v] if isinstance(v, (list, tuple)) else ([str(v)] if v else [])
    return out


def _keys(path: str | os.PathLike[str], root: Path | None) -> set[str]:
    p = Path(path)
    keys = {p.as_posix()}
    if root is not None:
        full = p if p.is_absolute() else root / p
        keys.add(os.path.normpath(full.as_posix()))
        try:
            keys.add(Path(os.path.normpath(full)).relative_to(os.path.normpath(root)).as_posix())
        except ValueError:
            pass
    return keys


def leak_check(rows: Iterable[dict[str, Any]], forbidden: Iterable[str | os.PathLike[str]],
               root: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """The synthetic rows of ``rows`` that used a ``forbidden`` image: ``{"file", "leaked": [...]}`` each."""
    base = Path(root) if root is not None else None
    bad: set[str] = set()
    for f in forbidden:
        bad |= _keys(f, base)
    leaks = []
    for row in rows:
        if not row.get("synthetic") and row.get("origin") in (None, "original"):
            continue
        hit = [s for s in row_sources(row) if _keys(s, base) & bad]
        if hit:
            leaks.append({"file": row.get("file"), "leaked": hit})
    return leaks
