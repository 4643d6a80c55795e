"""Atomic writes: a temp file in the same folder, then ``os.replace``.

A crash or a cancel therefore never leaves a half-written label, image or
checkpoint: readers see either the old file or the complete new one.

Temporary files are named ``.<name>.<random>.part``: hidden and without an image
extension, so no image loader (torchvision's ``ImageFolder`` accepts hidden files
by extension) picks up a leftover of a killed run, and :func:`clean_temporaries`
can find and remove them when the job resumes. They are created with the normal
mode (``0666`` minus the umask), not ``mkstemp``'s ``0600``, so outputs are as
readable as any other file the user makes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any, Iterator

from augbench.core.errors import AugbenchError

TEMP_SUFFIX = ".part"
# ``.name.<8 hex>.part`` (now) and ``.stem.<mkstemp 8 chars>.tmp.ext`` (older versions).
_TEMP_RE = re.compile(r"^\..+\.[0-9a-f]{8}\.part(\.[A-Za-z0-9]+)?$|^\..+\.[A-Za-z0-9_]{8}\.tmp\.[A-Za-z0-9]+$")


def _open_temp(target: Path, keep_suffix: bool) -> tuple[Path, int]:
    """Create a uniquely named temporary file beside ``target`` (mode 0666 & ~umask); returns it and its fd."""
    for _ in range(100):
        name = f".{target.name[:80]}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
        tmp = target.parent / (name + target.suffix if keep_suffix else name)
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        return tmp, fd
    raise AugbenchError(f"cannot create a temporary file in {target.parent}")


def _new_temp(target: Path, keep_suffix: bool) -> Path:
    """Create an empty, uniquely named temporary file beside ``target`` (mode 0666 & ~umask)."""
    tmp, fd = _open_temp(target, keep_suffix)
    os.close(fd)
    return tmp


def is_temporary(name: str) -> bool:
    """Whether a file name is an atomic-write temporary (of this or an older augbench)."""
    return bool(_TEMP_RE.match(name))


def clean_temporaries(root: str | os.PathLike[str]) -> list[Path]:
    """Remove leftover temporaries of killed runs under ``root``; returns what was removed.

    Call it only while holding the folder's job lock (no other writer can be mid-write).
    """
    removed = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if is_temporary(name):
                p = Path(dirpath) / name
                with contextlib.suppress(OSError):
                    p.unlink()
                    removed.append(p)
    return removed


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, keep_suffix: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; move it into place on success.

    The temporary is ``.<name>.<random>.part`` (see the module docstring); ``keep_suffix``
    appends the target's extension for writers that pick a format from it (matplotlib's
    ``savefig``). On any exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_temp(target, keep_suffix)
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
    # The same steps as atomic_path, writing through the temporary's own descriptor (no close and
    # reopen): half the cost per file, which counts when an export writes thousands of them.
    target = Path(target)
    if not target.parent.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
    tmp, fd = _open_temp(target, keep_suffix=False)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


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
