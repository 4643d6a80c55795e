"""The box-drawing canvas: a view of a :class:`LabelSession` that edits it through commands.

The canvas owns only view state (zoom, pan, selection, the rubber band of a
drag in progress, detector proposals). A drag shows a preview and becomes one
command on release, so one undo reverts one gesture. Painting uses float
geometry (QRectF/QPointF); wherever Qt wants integers (cursor positions,
font metrics) they are converted explicitly — LabelImg crashes on Python
3.10+ because it hands floats to int-only Qt calls.

Keys (the canvas keeps the focus; lists next to it take none) are listed in
:data:`augbench.gui.shortcuts.LABEL_KEYS` (Help > Keyboard shortcuts shows it);
keep that table in step with :func:`augbench.gui.label.keys.handle_key`.

A box narrower or lower than :data:`MIN_BOX_PX` image pixels is refused when
the drag ends (it would be written with zero size by YOLO's rounding); with
no class defined yet the canvas asks for a name instead of inventing one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from PyQt5.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QPixmap
from PyQt5.QtWidgets import QInputDialog, QSizePolicy, QWidget

from augbench.core.errors import AugbenchError, ImageReadError
from augbench.core.imageio import read_image
from augbench.gui.label.keys import handle_key
from augbench.gui.label.paint import HANDLE_PX, CanvasPainter
from augbench.gui.widgets import PALETTE, array_to_qimage
from augbench.label.model import MIN_BOX_PX, LabelSession
from augbench.label.suggest import Proposal
from augbench.label.types import Box

Mode = Literal["edit", "draw"]
MIN_SCALE, MAX_SCALE = 0.02, 40.0


class LabelCanvas(QWidget):
    """Shows the current image of a session with its boxes; mouse and keys edit them."""

    message = pyqtSignal(str)  # something for the status bar
    mode_changed = pyqtSignal(str)
    class_chosen = pyqtSignal(str)  # a number key picked a class
    selection_changed = pyqtSignal(int)  # -1: none
    proposals_changed = pyqtSignal(int)  # number of open proposals

    def __init__(self, session: LabelSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.mode: Mode = "edit"
        self.current_class: str | None = None
        self.selected = -1
        self.show_boxes = True
        self.proposals: list[Proposal] = []
        self.risks: dict[int, Any] = {}  # box index -> BoxRisk from the augmentation check
        self.proposal_index = 0
        self.scale = 1.0
        self.offset = QPointF(0, 0)
        self._pix: QPixmap | None = None
        self._pix_path: object = None
        self._user_zoom = False
        self._drag: dict[str, Any] | None = None
        self._preview: Box | None = None  # the box being drawn / moved / resized
        self._image_error: str | None = None
        self._painter = CanvasPainter(self)
        session.subscribe(self._on_session)

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        self._painter.paint()

    def color_of(self, label: str) -> QColor:
        """A class's colour: its place in the class list picks from the shared palette."""
        names = self.session.registry.names
        i = names.index(label) if label in names else len(names)
        return QColor(PALETTE[i % len(PALETTE)])

    # ------------------------------------------------------------------ model events
    def _on_session(self, event: str) -> None:
        if event in ("image", "opened"):
            self._load_current_pixmap()
            self.selected = -1
            self.selection_changed.emit(-1)
            self.clear_proposals()
            self.risks = {}
            self._drag = None
            self._preview = None
            self._user_zoom = False
            self.fit()
        elif event == "boxes":
            self.risks = {}  # computed for boxes that changed
            if self.selected >= len(self.session.boxes):
                self.select(-1)
        self.update()

    def _load_current_pixmap(self) -> None:
        e = self.session.current
        self._image_error = None
        if e is None:
            self._pix = None
            return
        if self._pix_path == e.path and self._pix is not None:
            return
        try:
            arr = read_image(e.path)  # EXIF applied: boxes live in the displayed orientation
        except ImageReadError as exc:
            self._pix = None
            self._image_error = exc.reason
            return
        self._pix = QPixmap.fromImage(array_to_qimage(arr))
        self._pix_path = e.path

    # ------------------------------------------------------------------ what the painter reads
    @property
    def pixmap(self) -> QPixmap | None:
        return self._pix

    @property
    def image_error(self) -> str | None:
        """Why the current image could not be shown (None when it is shown)."""
        return self._image_error

    @property
    def preview_box(self) -> Box | None:
        """The box being drawn, moved or resized, as it would be on release."""
        return self._preview

    @property
    def dragged_index(self) -> int:
        """The box a drag is changing (painted as :attr:`preview_box` instead), -1 when none."""
        return int(self._drag.get("index", -1)) if self._preview is not None and self._drag else -1

    @property
    def image_size(self) -> tuple[int, int]:
        e = self.session.current
        if e is not None and e.ann is not None:
            return e.ann.width, e.ann.height
        if self._pix is not None:
            return self._pix.width(), self._pix.height()
        return (1, 1)

    # ------------------------------------------------------------------ geometry
    def fit(self) -> None:
        """Scale the image to fit the widget and centre it."""
        iw, ih = self.image_size
        w, h = max(1, self.width()), max(1, self.height())
        self.scale = min(w / iw, h / ih) * 0.98
        self.offset = QPointF((w - iw * self.scale) / 2, (h - ih * self.scale) / 2)
        self.update()

    def zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor`` keeping the image point under ``anchor`` (widget coords) fixed."""
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        ix, iy = self.to_image(anchor)
        self.scale = min(MAX_SCALE, max(MIN_SCALE, self.scale * factor))
        self.offset = QPointF(anchor.x() - ix * self.scale, anchor.y() - iy * self.scale)
        self._user_zoom = True
        self.update()

    def to_image(self, p: QPointF) -> tuple[float, float]:
        return ((p.x() - self.offset.x()) / self.scale, (p.y() - self.offset.y()) / self.scale)

    def to_widget(self, x: float, y: float) -> QPointF:
        return QPointF(self.offset.x() + x * self.scale, self.offset.y() + y * self.scale)

    def widget_rect(self, b: Box) -> QRectF:
        return QRectF(self.to_widget(b.x1, b.y1), self.to_widget(b.x2, b.y2))

    def _clamp(self, x: float, y: float) -> tuple[float, float]:
        iw, ih = self.image_size
        return min(max(x, 0.0), float(iw)), min(max(y, 0.0), float(ih))

    def refit(self) -> None:
        """Fit the image again and keep fitting it on resize (until the user zooms or pans)."""
        self._user_zoom = False
        self.fit()

    def cancel_drag(self) -> bool:
        """Drop a drag in progress (its preview vanishes, nothing is edited); False when none ran."""
        if self._drag is None:
            return False
        self._drag, self._preview = None, None
        return True

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        if not self._user_zoom:
            self.fit()

    # ------------------------------------------------------------------ state
    def set_mode(self, mode: Mode) -> None:
        if mode != self.mode:
            self.mode = mode
            self.setCursor(Qt.CrossCursor if mode == "draw" else Qt.ArrowCursor)
            self.mode_changed.emit(mode)
            self.update()

    def select(self, i: int) -> None:
        i = i if 0 <= i < len(self.session.boxes) else -1
        if i != self.selected:
            self.selected = i
            self.selection_changed.emit(i)
            self.update()

    def set_proposals(self, proposals: list[Proposal]) -> None:
        self.proposals = list(proposals)
        self.proposal_index = 0
        self.proposals_changed.emit(len(self.proposals))
        self.update()

    def clear_proposals(self) -> None:
        if self.proposals:
            self.set_proposals([])

    def accept_proposal(self, i: int | None = None) -> int:
        """Add proposal ``i`` (default: the highlighted one) as a box; returns the box index or -1."""
        i = self.proposal_index if i is None else i
        if not 0 <= i < len(self.proposals):
            return -1
        prop = self.proposals.pop(i)
        idx = self.session.add_box(prop.box)
        self.proposal_index = min(self.proposal_index, max(0, len(self.proposals) - 1))
        self.proposals_changed.emit(len(self.proposals))
        self.select(idx)
        self.update()
        return idx

    def reject_proposal(self, i: int | None = None) -> None:
        i = self.proposal_index if i is None else i
        if 0 <= i < len(self.proposals):
            self.proposals.pop(i)
            self.proposal_index = min(self.proposal_index, max(0, len(self.proposals) - 1))
            self.proposals_changed.emit(len(self.proposals))
            self.update()

    def accept_all_proposals(self) -> int:
        n = 0
        while self.proposals:
            n += self.accept_proposal(0) >= 0
        return n

    def _class_for_new_box(self) -> str:
        """The class a drawn box gets; "" while no class exists (the user is asked on release)."""
        if self.current_class:
            return self.current_class
        names = self.session.registry.names
        return names[0] if names else ""

    def ask_class_name(self) -> str | None:
        """Ask for the first class name (a box is never silently named for the user)."""
        dlg = QInputDialog(self)
        dlg.setWindowTitle("New class")
        dlg.setLabelText("No classes yet. Name the class of this box:")
        dlg.setInputMode(QInputDialog.TextInput)
        if dlg.exec_() != QInputDialog.Accepted:
            return None
        name = dlg.textValue().strip()
        return name or None

    # ------------------------------------------------------------------ hit tests
    def handles(self, b: Box) -> dict[str, QPointF]:
        r = self.widget_rect(b)
        cx, cy = r.center().x(), r.center().y()
        return {
            "tl": r.topLeft(), "tr": r.topRight(), "bl": r.bottomLeft(), "br": r.bottomRight(),
            "t": QPointF(cx, r.top()), "b": QPointF(cx, r.bottom()), "l": QPointF(r.left(), cy),
            "r": QPointF(r.right(), cy),
        }

    def handle_at(self, p: QPointF) -> str | None:
        if self.selected < 0:
            return None
        for name, hp in self.handles(self.session.boxes[self.selected]).items():
            if abs(hp.x() - p.x()) <= HANDLE_PX and abs(hp.y() - p.y()) <= HANDLE_PX:
                return name
        return None

    def box_at(self, p: QPointF) -> int:
        """The smallest box under ``p`` (so a box inside another stays reachable), -1 if none."""
        x, y = self.to_image(p)
        hits = [(b.area, i) for i, b in enumerate(self.session.boxes) if b.x1 <= x <= b.x2 and b.y1 <= y <= b.y2]
        return min(hits)[1] if hits else -1

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, ev: Any) -> None:  # noqa: N802
        self.setFocus(Qt.MouseFocusReason)
        pos = QPointF(ev.pos())
        if ev.button() in (Qt.MiddleButton, Qt.RightButton):
            self._drag = {"kind": "pan", "start": pos, "offset": QPointF(self.offset)}
            return
        if ev.button() != Qt.LeftButton or self._pix is None:
            return
        if self.mode == "draw" and self.session.editable:
            x, y = self._clamp(*self.to_image(pos))
            self._drag = {"kind": "draw", "start": (x, y)}
            self._preview = Box(x, y, x, y, self._class_for_new_box())
            return
        handle = self.handle_at(pos)
        if handle is not None and self.session.editable:
            b = self.session.boxes[self.selected]
            self._drag = {"kind": "resize", "index": self.selected, "handle": handle, "orig": b}
            self._preview = b
            return
        i = self.box_at(pos)
        if i >= 0:
            self.select(i)
            if self.session.editable:
                self._drag = {"kind": "move", "index": i, "start": self.to_image(pos), "orig": self.session.boxes[i]}
                self._preview = self.session.boxes[i]
            return
        self.select(-1)
        self._drag = {"kind": "pan", "start": pos, "offset": QPointF(self.offset)}

    def mouseMoveEvent(self, ev: Any) -> None:  # noqa: N802
        pos = QPointF(ev.pos())
        d = self._drag
        if d is None:
            self._update_cursor(pos)
            return
        kind = d["kind"]
        if kind == "pan":
            self.offset = d["offset"] + (pos - d["start"])
            self._user_zoom = True
        elif kind == "draw":
            x0, y0 = d["start"]
            x, y = self._clamp(*self.to_image(pos))
            self._preview = Box(min(x0, x), min(y0, y), max(x0, x), max(y0, y), self._class_for_new_box())
        elif kind == "move":
            o: Box = d["orig"]
            x, y = self.to_image(pos)
            iw, ih = self.image_size
            dx = min(max(x - d["start"][0], -o.x1), iw - o.x2)
            dy = min(max(y - d["start"][1], -o.y1), ih - o.y2)
            self._preview = replace(o, x1=o.x1 + dx, x2=o.x2 + dx, y1=o.y1 + dy, y2=o.y2 + dy)
        elif kind == "resize":
            o = d["orig"]
            x, y = self._clamp(*self.to_image(pos))
            h = d["handle"]
            self._preview = replace(
                o,
                x1=x if "l" in h else o.x1, x2=x if "r" in h else o.x2,
                y1=y if "t" in h else o.y1, y2=y if "b" in h else o.y2,
            ).normalized()
        self.update()

    def mouseReleaseEvent(self, ev: Any) -> None:  # noqa: N802
        d, self._drag = self._drag, None
        preview, self._preview = self._preview, None
        if d is None or preview is None:
            self.update()
            return
        try:
            if d["kind"] == "draw":
                self._finish_draw(preview)
            elif d["kind"] == "resize" and (preview.width < MIN_BOX_PX or preview.height < MIN_BOX_PX):
                self.message.emit(f"box too small (under {MIN_BOX_PX:g} px): resize refused")
            elif d["kind"] in ("move", "resize") and preview != d["orig"]:
                self.session.replace_box(d["index"], preview, f"{d['kind']} box")
        except (AugbenchError, OSError) as exc:
            self.message.emit(str(exc))
        self.update()

    def _finish_draw(self, preview: Box) -> None:
        if preview.width < MIN_BOX_PX or preview.height < MIN_BOX_PX:
            self.message.emit(f"box too small ({preview.width:.1f}×{preview.height:.1f} px, under "
                              f"{MIN_BOX_PX:g} px): drag a larger rectangle")
            return
        if not preview.label:
            name = self.ask_class_name()
            if not name:
                self.message.emit("no class given: box not added")
                return
            self.current_class = name
            preview = replace(preview, label=name)
        idx = self.session.add_box(preview)
        if idx >= 0:
            self.class_chosen.emit(preview.label)
            self.select(idx)
            self.set_mode("edit")
        else:
            self.message.emit("box too small: drag a larger rectangle")

    def _update_cursor(self, pos: QPointF) -> None:
        if self.mode == "draw":
            return
        h = self.handle_at(pos)
        if h in ("tl", "br"):
            self.setCursor(Qt.SizeFDiagCursor)
        elif h in ("tr", "bl"):
            self.setCursor(Qt.SizeBDiagCursor)
        elif h in ("l", "r"):
            self.setCursor(Qt.SizeHorCursor)
        elif h in ("t", "b"):
            self.setCursor(Qt.SizeVerCursor)
        elif self.box_at(pos) >= 0:
            self.setCursor(Qt.OpenHandCursor)
        else:
            self.setCursor(Qt.ArrowCursor)

    def wheelEvent(self, ev: Any) -> None:  # noqa: N802
        steps = ev.angleDelta().y() / 120.0
        if steps:
            self.zoom(1.15 ** steps, QPointF(ev.pos()))

    # ------------------------------------------------------------------ keys
    def keyPressEvent(self, ev: Any) -> None:  # noqa: N802
        try:
            if not self._handle_key(ev.key(), ev.modifiers()):
                super().keyPressEvent(ev)
        except (AugbenchError, OSError) as exc:  # e.g. a read-only folder on auto-save
            self.message.emit(f"not saved: {exc}" if isinstance(exc, OSError) else str(exc))

    def _handle_key(self, key: int, mods: Any) -> bool:
        """One key press; True when it was a canvas key (the table lives in :mod:`augbench.gui.label.keys`)."""
        return handle_key(self, key, mods)
