"""Atomic writes: a temp file in the same folder, then ``os.replace``.

A crash or a cancel therefore never leaves a half-written label, image or
checkpoint: readers see either the old file or the complete new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from augbench.core.errors import AugbenchError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; move it into place on success.

    The temporary file keeps the target's suffix so that libraries which pick
    a format from the extension (``torch.save``, Pillow) behave the same.
    On any exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem[:40]}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes, durable: bool = True) -> Path:
    """Write ``data`` to ``target`` atomically.

    The rename makes the write all-or-nothing for any crash of this process. ``durable`` adds an
    fsync before the rename so the bytes also survive a power loss; bulk outputs that a re-run
    regenerates (augmented copies) skip it for speed, labels and checkpoints keep it.
    """
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
    return Path(target)


def atomic_write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically."""
    return atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_json(target: str | os.PathLike[str], obj: Any) -> Path:
    """Write JSON (UTF-8, indented, non-ASCII kept readable) atomically."""
    return atomic_write_text(target, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def safe_join(root: str | os.PathLike[str], *parts: str) -> Path:
    """Join ``parts`` under ``root`` and refuse any result outside ``root``.

    Used wherever a name comes from outside (a crawled page, a label file, a
    class name) so that ``../`` or an absolute path can never escape the
    output folder chosen by the user.
    """
    base = Path(root).resolve()
    candidate = base.joinpath(*parts).resolve()
    if candidate != base and base not in candidate.parents:
        raise AugbenchError(f"refusing to write outside the output folder: {candidate}")
    return candidate
