"""How the Label canvas paints: the image, its boxes with tags and handles, proposals, risk marks.

A mixin of :class:`augbench.gui.label_canvas.LabelCanvas` (which owns the state: session, scale,
offset, selection, drag preview, proposals, risks); kept apart so the canvas module is about input.
Geometry is float (QRectF/QPointF); font metrics are converted to int explicitly.
"""

from __future__ import annotations

from typing import Any

from PyQt5.QtCore import QRectF, Qt
from PyQt5.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen

from augbench.gui.widgets import PALETTE
from augbench.label.suggest import Proposal
from augbench.label.types import Box

HANDLE_PX = 7.0  # half-size of a resize handle, in widget pixels


class CanvasPainting:
    """``paintEvent`` and its helpers for the Label canvas."""

    def color_of(self, label: str) -> QColor:
        names = self.session.registry.names
        i = names.index(label) if label in names else len(names)
        return QColor(PALETTE[i % len(PALETTE)])

    def paintEvent(self, event: Any) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), QColor("#2b2b2b"))
        e = self.session.current
        if self._pix is None:
            p.setPen(QColor("#bbbbbb"))
            text = self._image_error or "Open a folder (or drop images here) to start labelling."
            p.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, text)
            p.end()
            return
        iw, ih = self.image_size
        target = QRectF(self.offset.x(), self.offset.y(), iw * self.scale, ih * self.scale)
        p.drawPixmap(target, self._pix, QRectF(0, 0, self._pix.width(), self._pix.height()))
        if e is not None and e.ann is not None and e.ann.verified:
            p.setPen(QPen(QColor("#2ecc71"), 4))
            p.drawRect(target)
        if self.show_boxes:
            for i, b in enumerate(self.session.boxes):
                if self._preview is not None and self._drag and self._drag.get("index") == i:
                    continue
                self._paint_box(p, b, selected=i == self.selected)
                if i in self.risks:
                    self._paint_risk(p, b, self.risks[i])
            for k, prop in enumerate(self.proposals):
                self._paint_proposal(p, prop, current=k == self.proposal_index)
        if self._preview is not None:
            self._paint_box(p, self._preview, selected=True, preview=True)
        if e is not None and e.error:
            p.fillRect(QRectF(0, 0, self.width(), 44), QColor(160, 30, 30, 220))
            p.setPen(QColor("white"))
            p.drawText(QRectF(8, 2, self.width() - 16, 40), Qt.AlignVCenter | Qt.TextWordWrap,
                       f"Read-only: {e.error}")
        p.end()

    def _paint_box(self, p: QPainter, b: Box, selected: bool, preview: bool = False) -> None:
        color = self.color_of(b.label)
        r = self.widget_rect(b)
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
            for hp in self._handles(b).values():
                p.fillRect(QRectF(hp.x() - HANDLE_PX / 2 - 1, hp.y() - HANDLE_PX / 2 - 1, HANDLE_PX + 2,
                                  HANDLE_PX + 2), color)
                p.drawRect(QRectF(hp.x() - HANDLE_PX / 2 - 1, hp.y() - HANDLE_PX / 2 - 1, HANDLE_PX + 2,
                                  HANDLE_PX + 2))

    def _paint_risk(self, p: QPainter, b: Box, risk: Any) -> None:
        r = self.widget_rect(b)
        pen = QPen(QColor("#e74c3c"), 2)
        pen.setStyle(Qt.DotLine)
        p.setPen(pen)
        p.drawRect(r.adjusted(-3, -3, 3, 3))
        text = f"⚠ dropped {risk.dropped:.0%} · clipped {risk.clipped:.0%}"
        font = QFont(self.font())
        font.setPointSize(8)
        p.setFont(font)
        fm = QFontMetrics(font)
        tag = QRectF(r.left(), r.bottom() + 2, int(fm.horizontalAdvance(text)) + 8, int(fm.height()) + 2)
        p.fillRect(tag, QColor(231, 76, 60, 220))
        p.setPen(QColor("white"))
        p.drawText(tag, Qt.AlignCenter, text)

    def _paint_proposal(self, p: QPainter, prop: Proposal, current: bool) -> None:
        color = QColor("#f1c40f") if current else QColor("#bfa300")
        r = self.widget_rect(prop.box)
        pen = QPen(color, 3 if current else 1.5)
        pen.setStyle(Qt.DashLine)
        p.setPen(pen)
        p.drawRect(r)
        hint = "  Space: accept, Del: reject" if current else ""
        self._paint_tag(p, r, f"? {prop.box.label} {prop.score:.2f}{hint}", color)

    def _paint_tag(self, p: QPainter, r: QRectF, text: str, color: QColor) -> None:
        font = QFont(self.font())
        font.setPointSize(9)
        p.setFont(font)
        fm = QFontMetrics(font)
        tw, th = int(fm.horizontalAdvance(text)) + 8, int(fm.height()) + 2
        y = r.top() - th if r.top() - th >= 0 else r.top()
        tag = QRectF(r.left(), y, tw, th)
        p.fillRect(tag, color)
        p.setPen(QColor("white"))
        p.drawText(tag, Qt.AlignCenter, text)
