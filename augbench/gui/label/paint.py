"""How the Label canvas paints: the image, its boxes with tags and handles, proposals, risk marks.

A :class:`CanvasPainter` is composed into :class:`augbench.gui.label.canvas.LabelCanvas` (which owns
the state: session, scale, offset, selection, drag preview, proposals, risks) and reads that state
to paint it; kept apart so the canvas module is about input.
Geometry is float (QRectF/QPointF); font metrics are converted to int explicitly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PyQt5.QtCore import QRectF, Qt
from PyQt5.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen

from augbench.label.suggest import Proposal
from augbench.label.types import Box

if TYPE_CHECKING:
    from augbench.gui.label.canvas import LabelCanvas

HANDLE_PX = 7.0  # half-size of a resize handle, in widget pixels


class CanvasPainter:
    """What ``LabelCanvas.paintEvent`` draws, from the canvas's state."""

    def __init__(self, canvas: LabelCanvas) -> None:
        self.canvas = canvas

    def paint(self) -> None:
        c = self.canvas
        p = QPainter(c)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(c.rect(), QColor("#2b2b2b"))
        e = c.session.current
        pix = c.pixmap
        if pix is None:
            p.setPen(QColor("#bbbbbb"))
            text = c.image_error or "Open a folder (or drop images here) to start labelling."
            p.drawText(c.rect(), Qt.AlignCenter | Qt.TextWordWrap, text)
            p.end()
            return
        iw, ih = c.image_size
        target = QRectF(c.offset.x(), c.offset.y(), iw * c.scale, ih * c.scale)
        p.drawPixmap(target, pix, QRectF(0, 0, pix.width(), pix.height()))
        if e is not None and e.ann is not None and e.ann.verified:
            p.setPen(QPen(QColor("#2ecc71"), 4))
            p.drawRect(target)
        if c.show_boxes:
            for i, b in enumerate(c.session.boxes):
                if i == c.dragged_index:
                    continue
                self._paint_box(p, b, selected=i == c.selected)
                if i in c.risks:
                    self._paint_risk(p, b, c.risks[i])
            for k, prop in enumerate(c.proposals):
                self._paint_proposal(p, prop, current=k == c.proposal_index)
        if c.preview_box is not None:
            self._paint_box(p, c.preview_box, selected=True, preview=True)
        if e is not None and e.error:
            p.fillRect(QRectF(0, 0, c.width(), 44), QColor(160, 30, 30, 220))
            p.setPen(QColor("white"))
            p.drawText(QRectF(8, 2, c.width() - 16, 40), Qt.AlignVCenter | Qt.TextWordWrap,
                       f"Read-only: {e.error}")
        p.end()

    def _paint_box(self, p: QPainter, b: Box, selected: bool, preview: bool = False) -> None:
        c = self.canvas
        color = c.color_of(b.label)
        r = c.widget_rect(b)
        fill = QColor(color)
        fill.setAlpha(60 if selected else 25)
        p.fillRect(r, fill)
        pen = QPen(color, 3 if selected else 2)
        if preview:
            pen.setStyle(Qt.DashLine)
        p.setPen(pen)
        p.drawRect(r)
        self._paint_tag(p, r, b.label + (" (difficult)" if b.difficult else ""), color)
        if selected and not preview:
            p.setPen(QPen(QColor("white"), 1))
            for hp in c.handles(b).values():
                p.fillRect(QRectF(hp.x() - HANDLE_PX / 2 - 1, hp.y() - HANDLE_PX / 2 - 1, HANDLE_PX + 2,
                                  HANDLE_PX + 2), color)
                p.drawRect(QRectF(hp.x() - HANDLE_PX / 2 - 1, hp.y() - HANDLE_PX / 2 - 1, HANDLE_PX + 2,
                                  HANDLE_PX + 2))

    def _paint_risk(self, p: QPainter, b: Box, risk: Any) -> None:
        c = self.canvas
        r = c.widget_rect(b)
        pen = QPen(QColor("#e74c3c"), 2)
        pen.setStyle(Qt.DotLine)
        p.setPen(pen)
        p.drawRect(r.adjusted(-3, -3, 3, 3))
        text = f"⚠ dropped {risk.dropped:.0%} · clipped {risk.clipped:.0%}"
        font = QFont(c.font())
        font.setPointSize(8)
        p.setFont(font)
        fm = QFontMetrics(font)
        tag = QRectF(r.left(), r.bottom() + 2, int(fm.horizontalAdvance(text)) + 8, int(fm.height()) + 2)
        p.fillRect(tag, QColor(231, 76, 60, 220))
        p.setPen(QColor("white"))
        p.drawText(tag, Qt.AlignCenter, text)

    def _paint_proposal(self, p: QPainter, prop: Proposal, current: bool) -> None:
        c = self.canvas
        color = QColor("#f1c40f") if current else QColor("#bfa300")
        r = c.widget_rect(prop.box)
        pen = QPen(color, 3 if current else 1.5)
        pen.setStyle(Qt.DashLine)
        p.setPen(pen)
        p.drawRect(r)
        hint = "  Space: accept, Del: reject" if current else ""
        self._paint_tag(p, r, f"? {prop.box.label} {prop.score:.2f}{hint}", color)

    def _paint_tag(self, p: QPainter, r: QRectF, text: str, color: QColor) -> None:
        c = self.canvas
        font = QFont(c.font())
        font.setPointSize(9)
        p.setFont(font)
        fm = QFontMetrics(font)
        tw, th = int(fm.horizontalAdvance(text)) + 8, int(fm.height()) + 2
        y = r.top() - th if r.top() - th >= 0 else r.top()
        tag = QRectF(r.left(), y, tw, th)
        p.fillRect(tag, color)
        p.setPen(QColor("white"))
        p.drawText(tag, Qt.AlignCenter, text)
