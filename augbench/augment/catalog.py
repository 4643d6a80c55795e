"""The transform catalogue, derived from Albumentations' own parameter schemas.

Each Albumentations transform declares a pydantic ``InitSchema`` whose fields
carry their constraints (``Ge``/``Le`` metadata, ``check_range_bounds``
validators, symmetric or non-negative range converters, ``Literal`` choices).
We read those, plus the constructor defaults, to build one
:class:`TransformSpec` per transform, so the sliders never drift from the
library. Where a schema gives no upper bound, the slider spans a multiple of
the library's own default (see :func:`_open_upper`).
"""

from __future__ import annotations

import functools
import inspect
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import annotated_types as at

from augbench.augment import alb
from augbench.core.errors import ConfigError, UnknownKindError

A = alb.A

ParamKind = Literal["range", "float", "int", "bool", "choice"]

# Constructor arguments that are not user-facing augmentation strengths.
_HIDDEN_PARAMS = {
    "p", "strict", "always_apply", "fill", "fill_mask", "mask_interpolation", "keypoint_remapping_method",
    "mask_fill_value", "area_for_downscale", "fill_value", "border_mode_mask", "value", "mask_value",
    "metadata_key", "read_fn", "reference_images", "font_path", "normalization", "rotate_method",
    "approximate", "same_dxdy", "noise_distribution",
}
# Transforms that need data a plain image folder does not have, or are not augmentations.
_EXCLUDED = {
    "Lambda", "Normalize", "ToFloat", "FromFloat", "Mosaic", "OverlayElements", "TextImage", "FDA",
    "HistogramMatching", "PixelDistributionAdaptation", "TimeMasking", "TimeReverse", "FrequencyMasking",
    "RandomCropNearBBox", "Crop", "ConstrainedCoarseDropout", "MaskDropout", "NoOp", "ToRGB", "HEStain",
    "XYMasking", "GridElasticDeform", "Superpixels", "RandomSizedBBoxSafeCrop",
}
# Short groups for the transform list, from the module each transform lives in.
_GROUPS = {
    "geometric": "Geometric", "crops": "Crop", "blur": "Blur", "dropout": "Dropout",
    "mixing": "Mixing", "transforms": "Colour / pixel", "text": "Text",
}
_INTERPOLATION = {0: "nearest", 1: "linear", 2: "cubic", 3: "area", 4: "lanczos4", 5: "linear_exact", 6: "nearest_exact"}
_BORDER = {0: "constant", 1: "replicate", 2: "reflect", 3: "wrap", 4: "reflect_101"}
SIZE_DEFAULT = 256  # for required size-like integer arguments (crop height/width ...)
# Angle arguments with a zero default and no schema bound span a full turn either way.
_ANGLE_PARAMS = {"rotate", "shear", "angle", "angle_range", "rotate_limit", "shear_limit"}


@dataclass(frozen=True)
class ParamSpec:
    """One tunable argument: its kind, library default, and slider bounds."""

    name: str
    kind: ParamKind
    default: Any
    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    symmetric: bool = False  # a scalar x means (-x, x) in the library
    choices: tuple[Any, ...] = ()
    choice_names: tuple[str, ...] = ()

    def clamp(self, value: Any) -> Any:
        """Coerce ``value`` into this parameter's bounds (sliders never leave them)."""
        if self.kind == "bool":
            return bool(value)
        if self.kind == "choice":
            if value not in self.choices:
                raise ConfigError(self.name, f"{value!r} is not one of {list(self.choices)}")
            return value

        def one(v: Any) -> float | int:
            v = float(v)
            if self.lo is not None:
                v = max(self.lo, v)
            if self.hi is not None:
                v = min(self.hi, v)
            return int(round(v)) if self.integer else v

        if self.kind == "range":
            if isinstance(value, (int, float)):
                value = (-value, value) if self.symmetric else (value, value)
            a, b = (one(v) for v in value)
            return (min(a, b), max(a, b))
        return one(value)


@dataclass(frozen=True)
class TransformSpec:
    """A catalogue entry: a transform name, its targets and its tunable parameters."""

    name: str
    group: str
    geometric: bool  # moves pixels, so boxes and masks must follow
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)
    doc: str = ""

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def build(self, params: dict[str, Any] | None = None, p: float = 0.5) -> Any:
        """Instantiate the Albumentations transform (validated by the library now, not later)."""
        kwargs = self.defaults()
        for k, v in (params or {}).items():
            if k not in kwargs and k not in _HIDDEN_PARAMS:
                raise ConfigError(f"{self.name}.{k}", f"unknown parameter; {self.name} takes {', '.join(kwargs)}")
            kwargs[k] = v
        try:
            return getattr(A, self.name)(**kwargs, p=p)
        except (ValueError, TypeError) as exc:
            raise ConfigError(self.name, f"invalid parameters: {exc}") from None


def _constraint_bounds(metadata: list[Any]) -> tuple[float | None, float | None, bool, bool]:
    """(lo, hi, symmetric, is_range) read from a schema field's metadata."""
    lo = hi = None
    symmetric = False
    is_range = False
    for m in metadata:
        if isinstance(m, (at.Ge, at.Gt)):
            lo = float(getattr(m, "ge", getattr(m, "gt", None)))
        elif isinstance(m, (at.Le, at.Lt)):
            hi = float(getattr(m, "le", getattr(m, "lt", None)))
        fn = getattr(m, "func", None)
        if fn is None:
            continue
        qual = getattr(fn, "__qualname__", "")
        if qual.startswith("check_range_bounds"):
            nl = inspect.getclosurevars(fn).nonlocals
            if nl.get("min_val") is not None:
                lo = float(nl["min_val"]) if lo is None else max(lo, float(nl["min_val"]))
            if nl.get("max_val") is not None:
                hi = float(nl["max_val"]) if hi is None else min(hi, float(nl["max_val"]))
        elif qual == "create_symmetric_range":
            symmetric = is_range = True
        elif qual in ("process_non_negative_range", "convert_to_0plus_range"):
            lo = 0.0 if lo is None else max(lo, 0.0)
            is_range = True
        elif qual in ("convert_to_1plus_range",):
            lo = 1.0 if lo is None else max(lo, 1.0)
            is_range = True
        elif qual == "nondecreasing":
            is_range = True
    return lo, hi, symmetric, is_range


def _open_upper(default: Any, lo: float | None, integer: bool) -> float:
    """Slider maximum where the schema gives none: twice the library default's magnitude."""
    vals = [abs(float(v)) for v in (default if isinstance(default, (tuple, list)) else [default]) if v is not None]
    mag = max(vals) if vals else 0.0
    hi = 2.0 * mag if mag > 0 else (10.0 if integer else 1.0)
    if lo is not None and hi <= lo:
        hi = lo + (10.0 if integer else 1.0)
    return hi


def _is_int_type(tp: Any) -> bool:
    args = typing.get_args(tp)
    if tp is int:
        return True
    if typing.get_origin(tp) is tuple and args and all(a is int for a in args if a is not Ellipsis):
        return True
    return bool(args) and all(_is_int_type(a) for a in args if a is not type(None)) and any(
        a is int or typing.get_origin(a) is tuple for a in args
    )


def _has_tuple(tp: Any) -> bool:
    if typing.get_origin(tp) is tuple:
        return True
    return any(_has_tuple(a) for a in typing.get_args(tp))


def _param_from_field(name: str, finfo: Any, default: Any) -> ParamSpec | None:
    tp = finfo.annotation
    origin = typing.get_origin(tp)
    if origin is Literal:
        choices = tuple(a for a in typing.get_args(tp))
        names: tuple[str, ...] = tuple(str(c) for c in choices)
        if name.endswith("interpolation"):
            names = tuple(_INTERPOLATION.get(c, str(c)) for c in choices)
        elif name.startswith("border_mode"):
            names = tuple(_BORDER.get(c, str(c)) for c in choices)
        if default is inspect.Parameter.empty:
            default = choices[0]
        return ParamSpec(name, "choice", default, choices=choices, choice_names=names)
    if tp is bool:
        return ParamSpec(name, "bool", bool(default) if default is not inspect.Parameter.empty else False)
    lo, hi, symmetric, is_range = _constraint_bounds(list(finfo.metadata))
    integer = _is_int_type(tp)
    ranged = is_range or _has_tuple(tp)
    if tp not in (int, float) and not ranged:
        return None  # dicts, sequences of colours, None-only ... not slider material
    if default is inspect.Parameter.empty or default is None:
        if not integer:
            return None
        default = (SIZE_DEFAULT, SIZE_DEFAULT) if ranged else SIZE_DEFAULT
        hi = hi if hi is not None else 4096.0
        lo = lo if lo is not None else 1.0
    if isinstance(default, dict):
        return None
    if ranged and isinstance(default, (int, float)):
        default = (-default, default) if symmetric else (default, default)
    if ranged and isinstance(default, (tuple, list)) and len(default) != 2:
        return None
    if hi is None and name in _ANGLE_PARAMS:
        lo, hi = (-180.0 if lo is None else lo), 180.0
    if hi is None:
        hi = _open_upper(default, lo, integer)
    if lo is None:
        lo = -hi if symmetric or any(float(v) < 0 for v in (default if ranged else [default])) else 0.0
    kind: ParamKind = "range" if ranged else ("int" if integer else "float")
    if ranged:
        default = tuple(int(v) if integer else float(v) for v in default)
    return ParamSpec(name, kind, default, lo, hi, integer, symmetric)


def _group_of(cls: type) -> str:
    parts = cls.__module__.split(".")
    for key, group in _GROUPS.items():  # specific package names first, the generic "transforms" last
        if key in parts:
            return group
    return "Other"


def _spec_for(cls: type) -> TransformSpec | None:
    schema = getattr(cls, "InitSchema", None)
    if schema is None:
        return None
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return None
    params = []
    for name, finfo in schema.model_fields.items():
        if name in _HIDDEN_PARAMS:
            continue
        default = sig.parameters[name].default if name in sig.parameters else inspect.Parameter.empty
        ps = _param_from_field(name, finfo, default)
        if ps is not None:
            params.append(ps)
        elif default is inspect.Parameter.empty:
            return None  # a required argument we cannot offer a control for
    geometric = issubclass(cls, alb.DualTransform)
    doc = (cls.__doc__ or "").strip().split("\n")[0]
    return TransformSpec(cls.__name__, _group_of(cls), geometric, tuple(params), doc)


def _supports_boxes_and_masks(cls: type) -> bool:
    if issubclass(cls, alb.ImageOnlyTransform):
        return True
    targets = {str(getattr(t, "value", t)) for t in getattr(cls, "_targets", ())}
    return issubclass(cls, alb.DualTransform) and {"Mask", "BBoxes"} <= targets


@functools.cache
def _entry(name: str) -> TransformSpec | None:
    """The spec of one transform, or None (recording why in ``_REJECTED``) if it is not offered."""
    cls = getattr(A, name, None)
    if not isinstance(cls, type) or name in _EXCLUDED or name.endswith("3D") or name.startswith("_"):
        return None
    if not issubclass(cls, (alb.DualTransform, alb.ImageOnlyTransform)):
        return None
    if cls in (alb.DualTransform, alb.ImageOnlyTransform) or inspect.isabstract(cls):
        return None
    if not _supports_boxes_and_masks(cls):
        return None
    spec = _spec_for(cls)
    if spec is None:
        return None
    reason = _smoke_test(spec)
    if reason:
        _REJECTED[name] = reason
        return None
    return spec


@functools.lru_cache(maxsize=1)
def catalog() -> dict[str, TransformSpec]:
    """Every Albumentations transform usable on images + boxes + masks, by name."""
    out: dict[str, TransformSpec] = {}
    for name in sorted(dir(A)):
        spec = _entry(name)
        if spec is not None:
            out[name] = spec
    return out


_REJECTED: dict[str, str] = {}


def _smoke_test(spec: TransformSpec) -> str:
    """Why ``spec`` cannot be offered ('' if it can): it must build from the defaults it shows and
    run on a small image + mask + box (e.g. CropAndPad needs px or percent; PixelDropout fails on
    masks in this Albumentations release)."""
    import warnings

    import numpy as np

    params = spec.defaults()
    for p in spec.params:
        if p.name in ("height", "width"):
            params[p.name] = 16
        elif p.name == "size" and p.kind == "range":
            params[p.name] = (16, 16)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = spec.build(params, p=1.0)
            img = np.full((24, 32, 3), 128, np.uint8)
            mask = np.zeros((24, 32), np.uint8)
            compose = A.Compose([t], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]), seed=0)
            compose(image=img, mask=mask, bboxes=[[4.0, 4.0, 20.0, 16.0]], labels=["x"])
    except Exception as exc:  # noqa: BLE001 - any failure means "not offered"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return ""


def rejected() -> dict[str, str]:
    """Transforms left out of the catalogue and why (shown by `augbench augment --list`)."""
    catalog()
    return dict(_REJECTED)


def get_spec(name: str) -> TransformSpec:
    """One entry, built on demand (worker processes never pay for the whole catalogue)."""
    spec = _entry(name)
    if spec is None:
        why = f" ({_REJECTED[name]})" if name in _REJECTED else ""
        raise UnknownKindError("transform", f"unknown or unsupported transform {name!r}{why}; "
                                            f"known: {', '.join(sorted(catalog()))}")
    return spec
