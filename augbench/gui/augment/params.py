"""Controls generated from a :class:`TransformSpec`: sliders, check boxes, choices.

Nothing here knows a particular transform: bounds, defaults and choices come
from the catalogue, which reads them from Albumentations' schemas. Two more
facts come from the library itself, so a control never shows a value that is
not the value used:

- which integers a parameter accepts (:func:`allowed_integers` asks the
  transform's own validator: MotionBlur's ``blur_limit`` turns 4 into 5, so
  its slider only stops on odd numbers);
- each parameter's tooltip (:func:`param_docs` reads the ``Args:`` section of
  the transform's docstring).

A min/max pair never crosses: moving one past the other pushes the other along.
"""

from __future__ import annotations

import functools
import re
import warnings
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
MAX_PROBED = 256  # integer ranges wider than this are not probed value by value
_ARG_LINE = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*(\(.*\))?\s*:\s*(.*)$")


def _transform_class(name: str) -> Any:
    import albumentations as A  # noqa: N812 - the library's own convention

    return getattr(A, name, None)


@functools.cache
def param_docs(transform: str) -> dict[str, str]:
    """``{parameter: description}`` from the ``Args:`` section of the transform's docstring."""
    cls = _transform_class(transform)
    doc = (getattr(cls, "__doc__", None) or "").expandtabs()
    lines = doc.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip() in ("Args:", "Arguments:", "Parameters:"))
    except StopIteration:
        return {}
    out: dict[str, list[str]] = {}
    indent: int | None = None
    current: str | None = None
    for ln in lines[start + 1:]:
        if not ln.strip():
            continue
        depth = len(ln) - len(ln.lstrip())
        m = _ARG_LINE.match(ln)
        if indent is None and m:
            indent = depth
        if indent is not None and depth < indent:
            break  # the next section (Targets:, Note:, ...)
        if m and depth == indent:
            current = m.group(2)
            out[current] = [m.group(4).strip()]
        elif current is not None:
            out[current].append(ln.strip())
    return {k: "\n".join(x for x in v if x) for k, v in out.items()}


@functools.cache
def allowed_integers(transform: str, param: str, lo: int, hi: int, as_range: bool) -> tuple[int, ...] | None:
    """The integers in [lo, hi] the library keeps unchanged, or None when it keeps them all.

    Each candidate is given to the transform's constructor; its pydantic validator
    silently adjusts values it does not accept (an even kernel size becomes odd).
    """
    cls = _transform_class(transform)
    if cls is None or hi - lo > MAX_PROBED:
        return None
    kept = []
    for v in range(lo, hi + 1):
        arg = (v, v) if as_range else v
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = getattr(cls(**{param: arg}), param, arg)
        except Exception:  # noqa: BLE001 - a value the library refuses is simply not offered
            continue
        got = tuple(got) if isinstance(got, (list, tuple)) else got
        if got == arg:
            kept.append(v)
    if len(kept) == hi - lo + 1 or not kept:
        return None
    return tuple(kept)


class ValueSlider(QWidget):
    """A horizontal slider over [lo, hi] (float or int) with its value shown.

    With ``allowed`` the slider's positions are exactly those values (e.g. odd kernel sizes).
    """

    valueChanged = pyqtSignal(float)  # noqa: N815 - Qt naming

    def __init__(self, lo: float, hi: float, value: float, integer: bool = False, parent: QWidget | None = None,
                 allowed: tuple[int, ...] | None = None) -> None:
        super().__init__(parent)
        self.lo, self.hi, self.integer = float(lo), float(hi), integer
        self.allowed = allowed
        self.slider = QSlider(Qt.Horizontal)
        if allowed:
            n = len(allowed) - 1
        else:
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

    def setToolTip(self, text: str) -> None:  # noqa: N802 - Qt naming
        super().setToolTip(text)
        self.slider.setToolTip(text)

    def _to_value(self, pos: int) -> float:
        if self.allowed:
            return float(self.allowed[min(max(pos, 0), len(self.allowed) - 1)])
        v = self.lo + (self.hi - self.lo) * pos / max(1, self.slider.maximum())
        return float(round(v)) if self.integer else round(v, 4)

    def _to_pos(self, v: float) -> int:
        if self.allowed:
            return min(range(len(self.allowed)), key=lambda i: (abs(self.allowed[i] - v), -self.allowed[i]))
        span = self.hi - self.lo or 1.0
        return int(round((min(max(float(v), self.lo), self.hi) - self.lo) / span * self.slider.maximum()))

    def value(self) -> float:
        return self._to_value(self.slider.value())

    def set_value(self, v: float) -> None:
        """Move without emitting; the label shows the value the slider now stands for."""
        self.slider.blockSignals(True)
        self.slider.setValue(self._to_pos(v))
        self.slider.blockSignals(False)
        exact = min(max(float(v), self.lo), self.hi)
        self._show(None if self.allowed or self.integer else exact)

    def _show(self, exact: float | None = None) -> None:
        v = self.value() if exact is None else exact
        self.label.setText(f"{int(v)}" if self.integer or self.allowed else f"{v:.3g}")

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
        self.docs = param_docs(spec.name)
        form = QFormLayout(self)
        form.setContentsMargins(4, 4, 4, 4)
        title = QLabel(f"<b>{spec.name}</b> <small>({spec.group}{', moves boxes' if spec.geometric else ''})</small>")
        title.setToolTip(spec.doc)
        form.addRow(title)
        self.p_slider = ValueSlider(0.0, 1.0, step.p)
        self.p_slider.setToolTip("probability that this step is applied to an image")
        self.p_slider.valueChanged.connect(self._set_p)
        form.addRow("probability", self.p_slider)
        for ps in spec.params:
            current = step.params.get(ps.name, ps.default)
            self._add_control(form, ps, current)

    def _tip(self, ps: ParamSpec, extra: str = "") -> str:
        # A few parameters (border_mode of the distortions) are documented only on Affine.
        text = self.docs.get(ps.name) or param_docs("Affine").get(ps.name) or f"{ps.name} of {self.spec.name}"
        return f"<b>{ps.name}</b><br>" + text.replace("\n", "<br>") + (f"<br><i>{extra}</i>" if extra else "")

    def _allowed(self, ps: ParamSpec, as_range: bool) -> tuple[int, ...] | None:
        if not ps.integer and ps.kind != "int":
            return None
        if ps.lo is None or ps.hi is None:
            return None
        return allowed_integers(self.spec.name, ps.name, int(ps.lo), int(ps.hi), as_range)

    def _add_control(self, form: QFormLayout, ps: ParamSpec, current: Any) -> None:
        if ps.kind == "bool":
            cb = QCheckBox()
            cb.setChecked(bool(current))
            cb.setToolTip(self._tip(ps))
            cb.toggled.connect(lambda v, n=ps.name: self._set(n, bool(v)))
            self.controls[ps.name] = cb
            form.addRow(ps.name, cb)
        elif ps.kind == "choice":
            combo = QComboBox()
            for c, label in zip(ps.choices, ps.choice_names):
                combo.addItem(label, c)
            idx = ps.choices.index(current) if current in ps.choices else 0
            combo.setCurrentIndex(idx)
            combo.setToolTip(self._tip(ps))
            combo.currentIndexChanged.connect(lambda i, n=ps.name, cmb=combo: self._set(n, cmb.itemData(i)))
            self.controls[ps.name] = combo
            form.addRow(ps.name, combo)
        elif ps.kind == "range":
            self._add_range(form, ps, current)
        else:
            allowed = self._allowed(ps, as_range=False)
            s = ValueSlider(ps.lo or 0.0, ps.hi or 1.0, float(ps.clamp(current)), ps.kind == "int", allowed=allowed)
            s.setToolTip(self._tip(ps, "only the values the library accepts are offered" if allowed else ""))
            s.valueChanged.connect(lambda v, n=ps.name, p=ps: self._set(n, p.clamp(v)))
            self.controls[ps.name] = s
            form.addRow(ps.name, s)
            if allowed:
                self._set_quietly(ps.name, ps.clamp(s.value()))

    def _add_range(self, form: QFormLayout, ps: ParamSpec, current: Any) -> None:
        lo_v, hi_v = ps.clamp(current)
        if ps.symmetric and abs(lo_v + hi_v) < 1e-9:
            s = ValueSlider(0.0, ps.hi or 1.0, hi_v, ps.integer)
            s.setToolTip(self._tip(ps, "sampled from [-x, x]"))
            s.valueChanged.connect(lambda v, n=ps.name, p=ps: self._set(n, p.clamp((-v, v))))
            self.controls[ps.name] = s
            form.addRow(f"{ps.name} ±", s)
            return
        allowed = self._allowed(ps, as_range=True)
        a = ValueSlider(ps.lo or 0.0, ps.hi or 1.0, lo_v, ps.integer, allowed=allowed)
        b = ValueSlider(ps.lo or 0.0, ps.hi or 1.0, hi_v, ps.integer, allowed=allowed)
        note = "only the values the library accepts are offered" if allowed else ""
        a.setToolTip(self._tip(ps, "lower end of the sampled range; never above the max. " + note))
        b.setToolTip(self._tip(ps, "upper end of the sampled range; never below the min. " + note))
        a.valueChanged.connect(lambda _v, p=ps, x=a, y=b: self._on_pair(p, x, y, moved=x))
        b.valueChanged.connect(lambda _v, p=ps, x=a, y=b: self._on_pair(p, x, y, moved=y))
        self.controls[ps.name] = (a, b)
        form.addRow(f"{ps.name} min", a)
        form.addRow(f"{ps.name} max", b)
        if a.value() > b.value():
            b.set_value(a.value())
        if allowed or (a.value(), b.value()) != (lo_v, hi_v):
            self._set_quietly(ps.name, ps.clamp((a.value(), b.value())))

    def _on_pair(self, ps: ParamSpec, a: ValueSlider, b: ValueSlider, moved: ValueSlider) -> None:
        """Keep min <= max: the slider that was not moved is pushed along."""
        if a.value() > b.value():
            (b if moved is a else a).set_value(moved.value())
        self._set(ps.name, ps.clamp((a.value(), b.value())))

    def _set_quietly(self, name: str, value: Any) -> None:
        """Store what the control shows (snapped to the allowed values) without a preview refresh."""
        self.step.params[name] = value

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

    def pair_for(self, name: str) -> tuple[ValueSlider, ValueSlider]:
        """The (min, max) sliders of a range parameter."""
        c = self.controls[name]
        if not isinstance(c, tuple):
            raise KeyError(f"{name} is not a min/max pair")
        return c
