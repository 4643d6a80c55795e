"""The Label canvas's keys: one flat table from a key press to a session command or a view change.

Kept apart from :mod:`augbench.gui.label.canvas` (which is about the mouse and geometry) as a plain
function of the canvas, so the table reads top to bottom; :data:`augbench.gui.shortcuts.LABEL_KEYS`
documents it (Help > Keyboard shortcuts) and must stay in step with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PyQt5.QtCore import Qt

if TYPE_CHECKING:
    from augbench.gui.label.canvas import LabelCanvas


def handle_key(canvas: LabelCanvas, key: int, mods: Any) -> bool:  # noqa: C901 - one flat key table
    """Apply one key press to ``canvas`` and its session; True when the key was one of the canvas's."""
    ctrl = bool(mods & Qt.ControlModifier)
    shift = bool(mods & Qt.ShiftModifier)
    s = canvas.session
    if ctrl:
        if key == Qt.Key_Z:
            return (s.redo() if shift else s.undo()) or True
        if key == Qt.Key_Y:
            return s.redo() or True
        if key == Qt.Key_D:
            new = s.duplicate_boxes([canvas.selected]) if canvas.selected >= 0 else []
            if new:
                canvas.select(new[0])
            return True
        if key == Qt.Key_V:
            n = s.paste_previous()
            canvas.message.emit(f"pasted {n} box(es) from the previous image")
            return True
        if key == Qt.Key_S:
            path = s.save()
            canvas.message.emit(f"saved {path.name}" if path else "nothing to save")
            return True
        if key == Qt.Key_F:
            canvas.refit()
            return True
        if key in (Qt.Key_Plus, Qt.Key_Equal):
            canvas.zoom(1.25)
            return True
        if key == Qt.Key_Minus:
            canvas.zoom(1 / 1.25)
            return True
        if key == Qt.Key_H:
            canvas.show_boxes = not canvas.show_boxes
            canvas.update()
            return True
        return False
    if key == Qt.Key_W:
        canvas.set_mode("edit" if canvas.mode == "draw" else "draw")
        return True
    if key == Qt.Key_Escape:
        if canvas.cancel_drag():
            pass
        elif canvas.mode == "draw":
            canvas.set_mode("edit")
        else:
            canvas.select(-1)
        canvas.update()
        return True
    if Qt.Key_1 <= key <= Qt.Key_9:
        names = s.registry.names
        n = key - Qt.Key_1
        if n < len(names):
            canvas.current_class = names[n]
            canvas.class_chosen.emit(names[n])
            if canvas.selected >= 0:
                s.set_label([canvas.selected], names[n])
        return True
    arrows = {Qt.Key_Left: (-1, 0), Qt.Key_Right: (1, 0), Qt.Key_Up: (0, -1), Qt.Key_Down: (0, 1)}
    if key in arrows:
        if canvas.selected >= 0:
            step = 10 if shift else 1
            dx, dy = arrows[key]
            s.move_box(canvas.selected, dx * step, dy * step)
        return True
    if key in (Qt.Key_Delete, Qt.Key_Backspace):
        if canvas.proposals:
            canvas.reject_proposal()
        elif canvas.selected >= 0:
            s.remove_boxes([canvas.selected])
            canvas.select(-1)
        return True
    if key == Qt.Key_Space:
        if canvas.proposals:
            canvas.accept_proposal()
        else:
            s.toggle_verified()
        return True
    if key == Qt.Key_D:
        s.next()
        return True
    if key == Qt.Key_A:
        s.prev()
        return True
    if key == Qt.Key_Tab and canvas.proposals:
        canvas.proposal_index = (canvas.proposal_index + 1) % len(canvas.proposals)
        canvas.update()
        return True
    return False
