"""A pipeline = ordered steps (transform name, parameters, probability).

It builds an Albumentations ``Compose`` with ``BboxParams`` so boxes and
masks follow every geometric change, and it saves/loads through
Albumentations' own serialization (``A.save`` / ``A.load``), so the same file
works in the user's training code.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from augbench.augment.alb import A
from augbench.augment.catalog import get_spec
from augbench.core.atomic import atomic_write_text
from augbench.core.errors import ConfigError

BBOX_FIELDS = ["labels", "box_ids"]


@dataclass
class Step:
    """One transform in the pipeline (``params`` override the library defaults)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    p: float = 0.5
    enabled: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": _jsonable(self.params), "p": self.p}


def _jsonable(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if hasattr(v, "item"):
        return v.item()
    return v


def steps_from_dicts(items: list[dict[str, Any]]) -> list[Step]:
    """Parse ``[{"name":..., "params":{...}, "p":...}]`` (job files), validating names."""
    steps = []
    for i, d in enumerate(items):
        if not isinstance(d, dict) or "name" not in d:
            raise ConfigError(f"steps[{i}]", "each step needs a 'name'")
        unknown = set(d) - {"name", "params", "p", "enabled"}
        if unknown:
            raise ConfigError(f"steps[{i}].{sorted(unknown)[0]}", "unknown step key (use name, params, p)")
        get_spec(str(d["name"]))
        p = d.get("p", 0.5)
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ConfigError(f"steps[{i}].p", f"{p!r} is outside the allowed range [0, 1]")
        steps.append(Step(str(d["name"]), dict(d.get("params") or {}), float(p), bool(d.get("enabled", True))))
    return steps


def build_transforms(steps: list[Step], p_override: float | None = None) -> list[Any]:
    out = []
    for i, s in enumerate(steps):
        if not s.enabled:
            continue
        try:
            out.append(get_spec(s.name).build(s.params, p=s.p if p_override is None else p_override))
        except ConfigError as exc:
            raise ConfigError(f"steps[{i}].{exc.field}", exc.message) from None
    return out


def build_compose(
    transforms: list[Any] | list[Step],
    box_format: Literal["pascal_voc", "yolo", "coco", "albumentations"] = "pascal_voc",
    min_visibility: float = 0.0,
    seed: int | None = None,
    p_override: float | None = None,
) -> Any:
    """Compose with boxes (labels + ids as label fields) and parameter recording."""
    if transforms and isinstance(transforms[0], Step):
        transforms = build_transforms(transforms, p_override)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        # "Got processor for bboxes, but no transform to process it": expected for colour-only pipelines.
        warnings.filterwarnings("ignore", message="Got processor for")
        return _compose(transforms, box_format, min_visibility, seed)


def _compose(transforms: list[Any], box_format: str, min_visibility: float, seed: int | None) -> Any:
    return A.Compose(
        transforms,
        bbox_params=A.BboxParams(
            format=box_format, label_fields=list(BBOX_FIELDS), min_visibility=min_visibility, clip=True,
            filter_invalid_bboxes=True,
        ),
        save_applied_params=True,
        seed=seed,
    )


def steps_from_compose(compose: Any) -> list[Step]:
    """Steps of a loaded Albumentations Compose (nested composes are flattened)."""
    data = A.to_dict(compose)["transform"]
    steps: list[Step] = []

    def walk(node: dict[str, Any]) -> None:
        name = node.get("__class_fullname__", "").split(".")[-1]
        if "transforms" in node:
            for child in node["transforms"]:
                walk(child)
            return
        spec = get_spec(name)
        params = {k: v for k, v in node.items() if k in {p.name for p in spec.params}}
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        steps.append(Step(name, params, float(node.get("p", 0.5))))

    walk(data)
    return steps


def save_pipeline(steps: list[Step], path: str | Path, box_format: str = "pascal_voc") -> Path:
    """Save in Albumentations' serialization format (JSON or YAML by extension)."""
    path = Path(path)
    compose = build_compose(steps, box_format=box_format)  # type: ignore[arg-type]
    data = A.to_dict(compose)
    if path.suffix.lower() in (".yaml", ".yml"):
        text = yaml.safe_dump(_jsonable(data), sort_keys=False)
    else:
        text = json.dumps(data, indent=2)
    return atomic_write_text(path, text)


def load_compose(path: str | Path, job_field: str = "pipeline") -> Any:
    """The Albumentations ``Compose`` in a pipeline file (``A.save`` JSON or YAML, by extension).

    The one reader of pipeline files: the Augment tab and the Benchmark's
    classic arm both come here. Problems raise :class:`ConfigError` on ``job_field``
    (the job field that named the file).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(job_field, f"pipeline file {path} does not exist")
    fmt = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "json"
    try:
        return A.load(str(path), data_format=fmt)
    except Exception as exc:  # noqa: BLE001 - albumentations raises many types for bad files
        raise ConfigError(job_field, f"{path} is not an Albumentations pipeline: {exc}") from None


def load_pipeline(path: str | Path) -> list[Step]:
    """Load a pipeline saved by augbench or written by hand for ``A.load``."""
    return steps_from_compose(load_compose(path))
