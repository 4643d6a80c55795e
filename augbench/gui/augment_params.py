"""Controls generated from a :class:`TransformSpec`: sliders, check boxes, choices.

Nothing here knows a particular transform: bounds, defaults and choices come
from the catalogue, which reads them from Albumentations' schemas.
"""

from __future__ import annotations

from typing import Any

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QWidget,
)

from augbench.augment.catalog import ParamSpec, TransformSpec
from augbench.augment.pipeline import Step

STEPS = 1000


class ValueSlider(QWidget):
    """A horizontal slider over [lo, hi] (float or int) with its value shown."""

    valueChanged = pyqtSignal(float)  # noqa: N815 - Qt naming

    def __init__(self, lo: float, hi: float, value: float, integer: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lo, self.hi, self.integer = float(lo), float(hi), integer
        self.slider = QSlider(Qt.Horizontal)
        n = int(hi - lo) if integer and 0 < hi - lo <= STEPS else STEPS
        self.slider.setRange(0, max(1, n))
        self.label = QLabel()
        self.label.setMinimumWidth(52)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)
        self.set_value(value)
        self.slider.valueChanged.connect(self._on_slider)

    def _to_value(self, pos: int) -> float:
        v = self.lo + (self.hi - self.lo) * pos / max(1, self.slider.maximum())
        return float(round(v)) if self.integer else round(v, 4)

    def value(self) -> float:
        return self._to_value(self.slider.value())

    def set_value(self, v: float) -> None:
        span = self.hi - self.lo or 1.0
        pos = round((min(max(float(v), self.lo), self.hi) - self.lo) / span * self.slider.maximum())
        self.slider.blockSignals(True)
        self.slider.setValue(int(pos))
        self.slider.blockSignals(False)
        self._show(float(v))

    def _show(self, exact: float | None = None) -> None:
        v = self.value() if exact is None else exact
        self.label.setText(f"{int(v)}" if self.integer else f"{v:.3g}")

    def _on_slider(self, _: int) -> None:
        self._show()
        self.valueChanged.emit(self.value())


class ParamEditor(QWidget):
    """Edits one :class:`Step` in place; emits ``changed`` after every edit."""

    changed = pyqtSignal()

    def __init__(self, spec: TransformSpec, step: Step, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.step = step
        self.controls: dict[str, Any] = {}
        form = QFormLayout(self)
        form.setContentsMargins(4, 4, 4, 4)
        title = QLabel(f"<b>{spec.name}</b> <small>({spec.group}{', moves boxes' if spec.geometric else ''})</small>")
        title.setToolTip(spec.doc)
        form.addRow(title)
        self.p_slider = ValueSlider(0.0, 1.0, step.p)
        self.p_slider.valueChanged.connect(self._set_p)
        form.addRow("probability", self.p_slider)
        for ps in spec.params:
            current = step.params.get(ps.name, ps.default)
            self._add_control(form, ps, current)

    def _add_control(self, form: QFormLayout, ps: ParamSpec, current: Any) -> None:
        if ps.kind == "bool":
            cb = QCheckBox()
            cb.setChecked(bool(current))
            cb.toggled.connect(lambda v, n=ps.name: self._set(n, bool(v)))
            self.controls[ps.name] = cb
            form.addRow(ps.name, cb)
        elif ps.kind == "choice":
            combo = QComboBox()
            for c, label in zip(ps.choices, ps.choice_names):
                combo.addItem(label, c)
            idx = ps.choices.index(current) if current in ps.choices else 0
            combo.setCurrentIndex(idx)
            combo.currentIndexChanged.connect(lambda i, n=ps.name, cmb=combo: self._set(n, cmb.itemData(i)))
            self.controls[ps.name] = combo
            form.addRow(ps.name, combo)
        elif ps.kind == "range":
            lo_v, hi_v = ps.clamp(current)
            if ps.symmetric and abs(lo_v + hi_v) < 1e-9:
                s = ValueSlider(0.0, ps.hi or 1.0, hi_v, ps.integer)
                s.valueChanged.connect(lambda v, n=ps.name, p=ps: self._set(n, p.clamp((-v, v))))
                self.controls[ps.name] = s
                form.addRow(f"{ps.name} ±", s)
            else:
                a = ValueSlider(ps.lo or 0.0, ps.hi or 1.0, lo_v, ps.integer)
                b = ValueSlider(ps.lo or 0.0, ps.hi or 1.0, hi_v, ps.integer)
                a.valueChanged.connect(lambda _v, n=ps.name, p=ps, x=a, y=b: self._set(n, p.clamp((x.value(), y.value()))))
                b.valueChanged.connect(lambda _v, n=ps.name, p=ps, x=a, y=b: self._set(n, p.clamp((x.value(), y.value()))))
                self.controls[ps.name] = (a, b)
                form.addRow(f"{ps.name} min", a)
                form.addRow(f"{ps.name} max", b)
        else:
            s = ValueSlider(ps.lo or 0.0, ps.hi or 1.0, float(ps.clamp(current)), ps.kind == "int")
            s.valueChanged.connect(lambda v, n=ps.name, p=ps: self._set(n, p.clamp(v)))
            self.controls[ps.name] = s
            form.addRow(ps.name, s)

    def _set(self, name: str, value: Any) -> None:
        self.step.params[name] = value
        self.changed.emit()

    def _set_p(self, v: float) -> None:
        self.step.p = float(v)
        self.changed.emit()

    def slider_for(self, name: str) -> ValueSlider:
        """The (first) slider of parameter ``name`` (for tests and benchmarks)."""
        c = self.controls[name]
        return c[0] if isinstance(c, tuple) else c
