"""One class registry per data set, with ids that never shift.

LabelImg's most reported bug family: it rewrites ``classes.txt`` from its
``predefined_classes.txt`` or from the order classes were first seen, so the
ids inside every existing YOLO file silently point at other classes. Here a
folder's own ``classes.txt`` is the authority for its ids: the registry starts
from it, new names are only ever appended, renaming keeps the id, and writing
``classes.txt`` refuses anything that is not an append-only extension of what
is on disk. Moving labels to another id order is an explicit, whole-folder
operation (:func:`remap_yolo_folder`) that rewrites every txt together with
``classes.txt``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from augbench.core.atomic import atomic_write_text
from augbench.core.errors import AugbenchError, LabelFormatError
from augbench.core.layout import CLASSES_TXT, read_classes

# The one classes.txt reader lives with the rest of the on-disk layout; the old name stays for callers.
read_classes_file = read_classes


class ClassRegistry:
    """Ordered class names; a name's id is its position and never changes.

    Only :meth:`add` (append) and :meth:`rename` (same id, new name) modify
    the list. There is deliberately no ``remove``/``insert``: both would shift
    the ids of every later class.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names: list[str] = []
        self._former: dict[int, set[str]] = {}  # id -> earlier names (renames), to allow saving them
        for n in names:
            self.add(n)

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __repr__(self) -> str:
        return f"ClassRegistry({self._names!r})"

    @property
    def names(self) -> list[str]:
        """A copy of the names in id order."""
        return list(self._names)

    def add(self, name: str) -> int:
        """The id of ``name``, appending it if new."""
        name = name.strip()
        if not name:
            raise AugbenchError("a class name cannot be empty")
        if "\n" in name:
            raise AugbenchError("a class name cannot contain a line break")
        if name in self._names:
            return self._names.index(name)
        self._names.append(name)
        return len(self._names) - 1

    def extend(self, names: Iterable[str]) -> None:
        for n in names:
            self.add(n)

    def id_of(self, name: str) -> int:
        try:
            return self._names.index(name)
        except ValueError:
            raise AugbenchError(f"class {name!r} is not in the registry") from None

    def name_of(self, cid: int) -> str:
        return self._names[cid]

    def rename(self, old: str, new: str) -> int:
        """Give class ``old`` the name ``new``, keeping its id."""
        new = new.strip()
        cid = self.id_of(old)
        if not new:
            raise AugbenchError("a class name cannot be empty")
        if new != old and new in self._names:
            raise AugbenchError(f"class {new!r} already exists (id {self._names.index(new)})")
        if new != old:
            self._former.setdefault(cid, set()).add(old)
        self._names[cid] = new
        return cid

    def remap_from(self, file_classes: Sequence[str]) -> dict[int, int]:
        """Map ids of a file written with ``file_classes`` to ids here (adding unknown names)."""
        return {i: self.add(n) for i, n in enumerate(file_classes)}

    # ------------------------------------------------------------------ disk
    @classmethod
    def for_folder(cls, label_dir: str | Path, current: Iterable[str] = ()) -> ClassRegistry:
        """The registry of a folder: its ``classes.txt`` first, then ``current`` names appended.

        ``current`` is what the user had before (another folder's classes, a
        predefined list). Names already in the file keep the file's ids; new
        ones get the next free ids, so no existing label changes meaning.
        """
        path = Path(label_dir) / CLASSES_TXT
        reg = cls(read_classes_file(path) if path.is_file() else ())
        reg.extend(current)
        return reg

    def save(self, label_dir: str | Path) -> Path:
        """Write ``classes.txt`` if it changed; refuse to reorder or drop names on disk."""
        path = Path(label_dir) / CLASSES_TXT
        if path.is_file():
            on_disk = read_classes_file(path)
            if on_disk == self._names:
                return path
            if not self._extends(on_disk):
                raise AugbenchError(
                    f"{path} lists {on_disk} but the registry has {self._names}: writing it would shift class ids. "
                    "Use remap_yolo_folder() to renumber the whole folder."
                )
        return atomic_write_text(path, "".join(f"{n}\n" for n in self._names))

    def _extends(self, on_disk: Sequence[str]) -> bool:
        """True when every id on disk keeps its name here (or was renamed through :meth:`rename`)."""
        if len(self._names) < len(on_disk):
            return False
        return all(self._names[i] == n or n in self._former.get(i, ()) for i, n in enumerate(on_disk))


def remap_yolo_folder(label_dir: str | Path, target: Sequence[str]) -> list[Path]:
    """Renumber every YOLO txt in ``label_dir`` to the id order ``target`` (an explicit operation).

    Every file is parsed first; if any cannot be parsed nothing is written.
    Names in the folder missing from ``target`` are appended to it. Returns the
    files rewritten (``classes.txt`` last, so a crash mid-way leaves old ids
    with the old ``classes.txt`` for the files not yet done — each file is
    rewritten atomically).
    """
    label_dir = Path(label_dir)
    old = read_classes_file(label_dir / CLASSES_TXT) if (label_dir / CLASSES_TXT).is_file() else []
    reg = ClassRegistry(target)
    mapping = reg.remap_from(old)
    parsed: list[tuple[Path, list[list[str]]]] = []
    for txt in sorted(label_dir.glob("*.txt")):
        if txt.name == CLASSES_TXT:
            continue
        rows = []
        for lineno, raw in enumerate(txt.read_text(encoding="utf-8-sig").splitlines(), start=1):
            parts = raw.split()
            if not parts:
                continue
            try:
                cid = int(parts[0])
            except ValueError:
                raise LabelFormatError(txt, f"bad class id {parts[0]!r}", lineno) from None
            if cid not in mapping:
                if old:
                    raise LabelFormatError(txt, f"class id {cid} is not in classes.txt", lineno)
                mapping[cid] = reg.add(str(cid))
            rows.append([str(mapping[cid]), *parts[1:]])
        parsed.append((txt, rows))
    written = []
    for txt, rows in parsed:
        written.append(atomic_write_text(txt, "".join(" ".join(r) + "\n" for r in rows)))
    written.append(atomic_write_text(label_dir / CLASSES_TXT, "".join(f"{n}\n" for n in reg.names)))
    return written
