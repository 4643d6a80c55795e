"""The Qt-free labelling document: images of a folder, their boxes, and undo/redo.

The canvas and the tab only *view* a :class:`LabelSession` and edit it through
commands (napari's model/view split), so every editing rule is tested without
Qt. Each image has its own undo stack; a command stores the box list and the
verified flag before and after (boxes are frozen, so snapshots are cheap and
undo can never drift from redo). Consecutive commands with the same
``merge_key`` (arrow-key nudges of one box) collapse into one undo step.

Saving is atomic and only ever writes an image whose labels were read
successfully: an unparseable label file is reported in ``entry.error`` and the
image becomes read-only, so the file is never replaced by an empty one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Literal, Sequence

from augbench.core.errors import AugbenchError, ImageReadError, LabelFormatError
from augbench.core.imageio import image_size
from augbench.core.layout import CLASSES_TXT, find_label, label_dir, label_path, list_images
from augbench.label.folder import Fmt, LabelReader, yolo_ids_in
from augbench.label.formats import for_file, get_format, per_image_formats
from augbench.label.registry import ClassRegistry
from augbench.label.types import Box, ImageAnnotation

Status = Literal["none", "labelled", "verified", "error"]
MIN_BOX_PX = 2.0  # smallest box side (image pixels) a drag or a paste may create


@dataclass(frozen=True)
class Command:
    """One undoable edit of one image: the boxes/verified flag before and after."""

    text: str
    before: tuple[Box, ...]
    after: tuple[Box, ...]
    verified_before: bool
    verified_after: bool
    merge_key: str | None = None


@dataclass
class CommandStack:
    """Undo/redo of one image."""

    done: list[Command] = field(default_factory=list)
    undone: list[Command] = field(default_factory=list)

    def push(self, cmd: Command) -> None:
        last = self.done[-1] if self.done else None
        if cmd.merge_key is not None and last is not None and last.merge_key == cmd.merge_key:
            cmd = replace(last, after=cmd.after, verified_after=cmd.verified_after)
            self.done[-1] = cmd
        else:
            self.done.append(cmd)
        self.undone.clear()

    @property
    def can_undo(self) -> bool:
        return bool(self.done)

    @property
    def can_redo(self) -> bool:
        return bool(self.undone)


@dataclass
class ImageEntry:
    """One image of the session and the state of its labels."""

    path: Path
    label_file: Path | None = None  # the file its labels were read from (None: not labelled yet)
    ann: ImageAnnotation | None = None  # loaded lazily
    error: str | None = None  # why its labels could not be read (the image is then read-only)
    dirty: bool = False
    stack: CommandStack = field(default_factory=CommandStack)

    @property
    def status(self) -> Status:
        if self.error:
            return "error"
        if self.ann is not None:
            if self.ann.verified:
                return "verified"
            return "labelled" if self.ann.boxes or self.label_file is not None else "none"
        return "labelled" if self.label_file is not None else "none"


Listener = Callable[[str], None]


class LabelSession:
    """A folder (or a list of images) being labelled.

    Events sent to subscribers: ``"opened"``, ``"image"`` (current image
    changed), ``"boxes"`` (current boxes or verified flag changed), ``"saved"``,
    ``"classes"``, ``"format"``.
    """

    def __init__(self, fmt: Fmt = "yolo", classes: Iterable[str] = ()) -> None:
        self.fmt: Fmt = fmt
        self.registry = ClassRegistry(classes)
        self.folder: Path | None = None
        self.entries: list[ImageEntry] = []
        self.index = -1
        self.messages: list[str] = []  # warnings a view may show (clipped boxes, unreadable files)
        self._reader = LabelReader()
        self._listeners: list[Listener] = []

    # ------------------------------------------------------------------ events
    def subscribe(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def _emit(self, event: str) -> None:
        for fn in list(self._listeners):
            fn(event)

    # ------------------------------------------------------------------ opening
    def open_folder(self, folder: str | Path) -> None:
        """Open the images directly in ``folder``; its ``classes.txt`` defines the ids.

        The names the session already knows are appended after the folder's
        own classes (never inserted before them), so existing YOLO ids keep
        their meaning. A folder with YOLO files but no ``classes.txt`` keeps
        its numbers as names (``"0"``, ``"1"``...) ahead of any known name.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise AugbenchError(f"{folder} is not a folder")
        self.open_files(list_images(folder), folder=folder)

    def open_files(self, images: Sequence[str | Path], folder: str | Path | None = None) -> None:
        images = [Path(p) for p in images]
        if folder is None:
            if not images:
                raise AugbenchError("no images to open")
            folder = images[0].parent
        folder = Path(folder)
        ydir = label_dir(folder, "yolo")
        registry = ClassRegistry.for_folder(ydir)  # raises on a broken classes.txt: nothing changes then
        if not (ydir / CLASSES_TXT).is_file():
            top = yolo_ids_in([p for p in ydir.glob("*.txt")])
            registry.extend(str(i) for i in range(top + 1))
        registry.extend(self.registry.names)
        self.folder = folder
        self.registry = registry
        self._reader = LabelReader()
        self.entries = [ImageEntry(p, find_label(p, self.fmt)) for p in images]
        self.messages.clear()
        self.index = -1
        self._emit("opened")
        if self.entries:
            self.goto(0, autosave=False)

    def load(self, i: int) -> ImageEntry:
        """Read image ``i``'s size and labels (once); errors go to ``entry.error``."""
        e = self.entries[i]
        if e.ann is not None or e.error is not None:
            return e
        try:
            size = image_size(e.path)
        except ImageReadError as exc:
            e.error = f"cannot read image: {exc.reason}"
            return e
        if e.label_file is None:
            e.ann = ImageAnnotation(e.path, size[0], size[1])
            return e
        try:
            ann = self._reader.read(e.path, e.label_file, size)
        except (LabelFormatError, OSError) as exc:
            e.error = str(exc)
            self.messages.append(f"{e.label_file.name}: left untouched because it could not be read: {exc}")
            return e
        self.registry.extend(ann.labels)
        for w in ann.warnings:
            self.messages.append(f"{e.label_file.name}: {w}")
        e.ann = ann
        return e

    # ------------------------------------------------------------------ navigation
    @property
    def current(self) -> ImageEntry | None:
        return self.entries[self.index] if 0 <= self.index < len(self.entries) else None

    @property
    def boxes(self) -> list[Box]:
        e = self.current
        return list(e.ann.boxes) if e is not None and e.ann is not None else []

    @property
    def editable(self) -> bool:
        e = self.current
        return e is not None and e.ann is not None and e.error is None

    def goto(self, i: int, autosave: bool = True) -> bool:
        """Make image ``i`` current, saving the one left if it changed (LabelImg's auto-save)."""
        if not self.entries or not 0 <= i < len(self.entries):
            return False
        if autosave and self.current is not None and self.current.dirty:
            self.save()
        self.index = i
        self.load(i)
        self._emit("image")
        return True

    def next(self) -> bool:
        return self.goto(self.index + 1)

    def prev(self) -> bool:
        return self.goto(self.index - 1)

    # ------------------------------------------------------------------ editing
    def _apply(self, text: str, boxes: Sequence[Box], verified: bool | None = None, merge_key: str | None = None,
               entry: ImageEntry | None = None) -> bool:
        e = entry or self.current
        if e is None or e.ann is None or e.error is not None:
            return False
        before, after = tuple(e.ann.boxes), tuple(boxes)
        vb = e.ann.verified
        va = vb if verified is None else verified
        if before == after and vb == va:
            return False
        e.stack.push(Command(text, before, after, vb, va, merge_key))
        self._set(e, after, va)
        return True

    def _set(self, e: ImageEntry, boxes: Sequence[Box], verified: bool) -> None:
        assert e.ann is not None
        e.ann.boxes = list(boxes)
        e.ann.verified = verified
        e.dirty = True
        self.registry.extend(b.label for b in boxes)
        if e is self.current:
            self._emit("boxes")

    def _ensure_class(self, label: str) -> None:
        if label not in self.registry:
            self.registry.add(label)
            self._emit("classes")

    def add_box(self, box: Box) -> int:
        """Add ``box`` (clipped to the image); returns its index, -1 if nothing was added."""
        e = self.current
        if not self.editable or e is None or e.ann is None:
            return -1
        box = box.normalized().clipped(e.ann.width, e.ann.height)
        if box.width < 1 or box.height < 1:
            return -1
        self._ensure_class(box.label)
        self._apply("add box", [*e.ann.boxes, box])
        return len(e.ann.boxes) - 1

    def replace_box(self, i: int, box: Box, text: str = "edit box", merge_key: str | None = None) -> bool:
        e = self.current
        if not self.editable or e is None or e.ann is None or not 0 <= i < len(e.ann.boxes):
            return False
        box = box.normalized().clipped(e.ann.width, e.ann.height)
        if box.width < 1 or box.height < 1:
            return False
        self._ensure_class(box.label)
        boxes = list(e.ann.boxes)
        boxes[i] = box
        return self._apply(text, boxes, merge_key=merge_key)

    def move_box(self, i: int, dx: float, dy: float) -> bool:
        """Shift box ``i`` by (dx, dy) pixels, kept inside the image; consecutive moves undo as one."""
        boxes = self.boxes
        e = self.current
        if not 0 <= i < len(boxes) or e is None or e.ann is None:
            return False
        b = boxes[i]
        dx = min(max(dx, -b.x1), e.ann.width - b.x2)
        dy = min(max(dy, -b.y1), e.ann.height - b.y2)
        moved = replace(b, x1=b.x1 + dx, x2=b.x2 + dx, y1=b.y1 + dy, y2=b.y2 + dy)
        return self.replace_box(i, moved, "move box", merge_key=f"move:{self.index}:{i}")

    def remove_boxes(self, indices: Iterable[int]) -> bool:
        drop = set(indices)
        return self._apply("delete box", [b for i, b in enumerate(self.boxes) if i not in drop])

    def duplicate_boxes(self, indices: Iterable[int], offset: float = 10.0) -> list[int]:
        """Copies of the boxes shifted by ``offset`` (kept inside the image); returns their indices."""
        e = self.current
        if not self.editable or e is None or e.ann is None:
            return []
        boxes = self.boxes
        new = []
        for i in sorted(set(indices)):
            if not 0 <= i < len(boxes):
                continue
            b = boxes[i]
            dx = offset if b.x2 + offset <= e.ann.width else -min(offset, b.x1)
            dy = offset if b.y2 + offset <= e.ann.height else -min(offset, b.y1)
            new.append(replace(b, x1=b.x1 + dx, x2=b.x2 + dx, y1=b.y1 + dy, y2=b.y2 + dy))
        if not new or not self._apply("duplicate box", [*boxes, *new]):
            return []
        return list(range(len(boxes), len(boxes) + len(new)))

    def set_label(self, indices: Iterable[int], label: str) -> bool:
        self._ensure_class(label)
        idx = set(indices)
        boxes = [replace(b, label=label) if i in idx else b for i, b in enumerate(self.boxes)]
        return self._apply("change class", boxes)

    def set_flags(self, indices: Iterable[int], difficult: bool | None = None, truncated: bool | None = None) -> bool:
        idx = set(indices)
        out = []
        for i, b in enumerate(self.boxes):
            if i in idx:
                b = replace(b, difficult=b.difficult if difficult is None else difficult,
                            truncated=b.truncated if truncated is None else truncated)
            out.append(b)
        return self._apply("change flags", out)

    def paste_previous(self) -> int:
        """Copy every box of the previous image (LabelImg's 'copy previous bounding boxes')."""
        e = self.current
        if self.index <= 0 or not self.editable or e is None or e.ann is None:
            return 0
        prev = self.load(self.index - 1)
        if prev.ann is None:
            return 0
        sx, sy = e.ann.width / prev.ann.width, e.ann.height / prev.ann.height
        pasted = [replace(b, x1=b.x1 * sx, x2=b.x2 * sx, y1=b.y1 * sy, y2=b.y2 * sy) for b in prev.ann.boxes]
        pasted = [b.clipped(e.ann.width, e.ann.height) for b in pasted]
        # Clipped to this image; what shrinks under MIN_BOX_PX (a smaller image) would be written with zero size.
        pasted = [b for b in pasted if b not in e.ann.boxes and min(b.width, b.height) >= MIN_BOX_PX]
        self._apply("paste previous boxes", [*e.ann.boxes, *pasted])
        return len(pasted)

    def set_verified(self, verified: bool) -> bool:
        return self._apply("verify" if verified else "unverify", self.boxes, verified=verified)

    def toggle_verified(self) -> bool:
        e = self.current
        if e is None or e.ann is None:
            return False
        return self.set_verified(not e.ann.verified)

    def undo(self) -> bool:
        e = self.current
        if e is None or e.ann is None or not e.stack.can_undo:
            return False
        cmd = e.stack.done.pop()
        e.stack.undone.append(cmd)
        self._set(e, cmd.before, cmd.verified_before)
        return True

    def redo(self) -> bool:
        e = self.current
        if e is None or e.ann is None or not e.stack.can_redo:
            return False
        cmd = e.stack.undone.pop()
        e.stack.done.append(cmd)
        self._set(e, cmd.after, cmd.verified_after)
        return True

    # ------------------------------------------------------------------ classes
    def add_class(self, name: str) -> int:
        cid = self.registry.add(name)
        self._emit("classes")
        return cid

    def rename_class(self, old: str, new: str) -> None:
        """Rename a class everywhere, keeping its id (YOLO files keep their numbers).

        Loaded images are relabelled in memory and saved; VOC files on disk
        that are not loaded are rewritten with the new name.
        """
        self.registry.rename(old, new)
        for e in self.entries:
            if e.ann is not None and e.error is None and any(b.label == old for b in e.ann.boxes):
                e.ann.boxes = [replace(b, label=new) if b.label == old else b for b in e.ann.boxes]
                e.dirty = True
            elif e.ann is None and e.label_file is not None and not for_file(e.label_file).uses_classes_txt:
                # this format stores names in the file (VOC): it must be read and rewritten to rename
                self.load(self.entries.index(e))
                if e.ann is not None and any(b.label == old for b in e.ann.boxes):
                    e.ann.boxes = [replace(b, label=new) if b.label == old else b for b in e.ann.boxes]
                    e.dirty = True
        if get_format(self.fmt).uses_classes_txt and self.folder is not None:
            self.registry.save(label_dir(self.folder, "yolo"))
        for i, e in enumerate(self.entries):
            if e.dirty:
                self.save(i)
        self._emit("classes")
        self._emit("boxes")

    # ------------------------------------------------------------------ format + saving
    def set_format(self, fmt: Fmt) -> None:
        names = [f.name for f in per_image_formats()]
        if fmt not in names:
            raise AugbenchError(f"unknown label format {fmt!r} ({' or '.join(names)})")
        if fmt != self.fmt:
            self.fmt = fmt
            for e in self.entries:
                if e.ann is not None and e.error is None and (e.ann.boxes or e.label_file is not None):
                    e.dirty = True  # written in the new format on the next save
            self._emit("format")

    def save(self, i: int | None = None) -> Path | None:
        """Write image ``i`` (default: current) in the session's format, atomically.

        Returns the file written, or None when there is nothing to write or the
        image's labels could not be read (then its file is left untouched).
        """
        i = self.index if i is None else i
        if not 0 <= i < len(self.entries):
            return None
        e = self.entries[i]
        if e.ann is None or e.error is not None:
            return None
        target = label_path(e.path, self.fmt)
        if not e.ann.boxes and not e.ann.verified and e.label_file is None:
            e.dirty = False  # an untouched image gets no empty label file
            return None
        fmt = get_format(self.fmt)
        if fmt.uses_classes_txt:
            self.registry.extend(e.ann.labels)
            self.registry.save(target.parent)
        fmt.write(target, e.ann, self.registry.names)
        e.label_file = target
        e.dirty = False
        self._emit("saved")
        return target

    def save_all(self) -> list[Path]:
        return [p for i, e in enumerate(self.entries) if e.dirty and (p := self.save(i)) is not None]

    @property
    def dirty(self) -> bool:
        return any(e.dirty for e in self.entries)
