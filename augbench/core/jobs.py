"""The job contract: registered frozen-dataclass configs and their runners.

Every long task (augment export, crawl, style batch, GAN balancing, classifier
benchmark) is a frozen dataclass registered under a ``kind`` plus a runner
``run(cfg, *, progress, cancel) -> JobResult``. The GUI builds a config and
hands it to the one QThread worker; the CLI loads the same config from YAML.

Configs are validated field by field from their type hints and the
``field(metadata=...)`` keys ``range`` (inclusive ``(lo, hi)``, either may be
None) and ``choices``; a bad value raises :class:`ConfigError` naming the field
and what is allowed, an unknown key does too.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import importlib.util
import json
import types
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Union

import yaml

from augbench.core.atomic import atomic_write_text
from augbench.core.errors import AugbenchError, Cancelled, ConfigError, UnknownKindError
from augbench.core.progress import CancelToken, ProgressFn, null_progress

# Packages whose ``jobs`` module registers job kinds. Discovered lazily so that
# ``load_job`` finds every kind without the core importing heavy packages at
# import time, and later packages plug in without editing this file.
JOB_PACKAGES = ("augment", "label", "crawl", "style", "gan", "classify")


@dataclass
class Skipped:
    """One input that was not processed, and why (a batch never dies of one file)."""

    path: str
    reason: str


@dataclass
class JobResult:
    """What a runner returns: a finish reason, outputs, skipped inputs, metrics."""

    kind: str
    status: Literal["completed", "cancelled", "errored"] = "completed"
    out_dir: str = ""
    outputs: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "status": self.status,
            "out_dir": self.out_dir,
            "n_outputs": len(self.outputs),
            "outputs": self.outputs,
            "skipped": [dataclasses.asdict(s) for s in self.skipped],
            "metrics": self.metrics,
            "message": self.message,
        }


Runner = Callable[..., JobResult]


@dataclass
class JobSpec:
    kind: str
    config_cls: type
    runner: Runner | None = None
    summary: str = ""


_REGISTRY: dict[str, JobSpec] = {}

# Kinds are named ``<package>.<verb>`` (config class ``<Verb>Job`` in ``<package>/jobs.py``). Older job
# files and recorded ``job.yaml`` files use the names below; they keep loading (and a recorded output
# folder keeps resuming) because every lookup maps them here first. Saving writes the new name.
KIND_ALIASES: dict[str, str] = {
    "augment": "augment.export",
    "labels-convert": "label.convert",
    "labels-stats": "label.stats",
    "crawl": "crawl.fetch",
    "style.train-decoder": "style.train",
    "balance": "gan.balance",
    "bench.train": "classify.train",
    "bench.experiment": "classify.compare",
}


def canonical_kind(kind: str) -> str:
    """The current name of ``kind`` (an old name from :data:`KIND_ALIASES` maps to its new one)."""
    return KIND_ALIASES.get(kind, kind)


def register_job(kind: str, summary: str = "") -> Callable[[type], type]:
    """Class decorator: register a frozen dataclass as the config of ``kind``."""

    def deco(cls: type) -> type:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} must be a dataclass to be a job config")
        if kind in _REGISTRY and _REGISTRY[kind].config_cls is not cls:
            warnings.warn(f"job kind {kind!r} registered twice; the later one wins", stacklevel=2)
        _REGISTRY[kind] = JobSpec(kind, cls, None, summary or (cls.__doc__ or "").strip().split("\n")[0])
        cls.kind = kind  # type: ignore[attr-defined]
        return cls

    return deco


def job_runner(config_cls: type) -> Callable[[Runner], Runner]:
    """Function decorator: declare ``fn`` as the runner of ``config_cls``'s kind."""

    def deco(fn: Runner) -> Runner:
        kind = getattr(config_cls, "kind", None)
        if kind is None or kind not in _REGISTRY:
            raise TypeError(f"{config_cls.__name__} is not a registered job config")
        _REGISTRY[kind].runner = fn
        return fn

    return deco


def discover_jobs() -> None:
    """Import every ``augbench.<pkg>.jobs`` module that exists (registers kinds)."""
    for pkg in JOB_PACKAGES:
        name = f"augbench.{pkg}.jobs"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def registered_kinds() -> list[str]:
    discover_jobs()
    return sorted(_REGISTRY)


def get_spec(kind: str) -> JobSpec:
    kind = canonical_kind(kind)
    if kind not in _REGISTRY:
        discover_jobs()
    if kind not in _REGISTRY:
        raise UnknownKindError("kind", f"unknown job kind {kind!r}; known kinds: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[kind]


def kind_of(cfg: Any) -> str:
    kind = getattr(type(cfg), "kind", None)
    if kind is None:
        # A config class defined outside its package's jobs.py is registered there: import it once.
        parts = type(cfg).__module__.split(".")
        if len(parts) > 2 and parts[0] == "augbench" and parts[1] in JOB_PACKAGES:
            name = f"augbench.{parts[1]}.jobs"
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
            kind = getattr(type(cfg), "kind", None)
    if kind is None:
        raise ConfigError("kind", f"{type(cfg).__name__} is not a registered job config")
    return kind


# --------------------------------------------------------------------------- validation


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(name: str, tp: Any, value: Any) -> Any:
    """Convert ``value`` to type ``tp`` or raise ConfigError naming ``name``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(name, arg, value)
            except ConfigError as exc:
                errors.append(exc.message)
        raise ConfigError(name, "; ".join(errors) or f"bad value {value!r}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(name, f"{value!r} is not one of {list(args)}")
        return value
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            raise ConfigError(name, f"{value!r} is not one of {[m.value for m in tp]}") from None
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(name, f"expected a mapping for {tp.__name__}, got {type(value).__name__}")
        return config_from_dict(tp, value, prefix=f"{name}.")
    if origin in (tuple, list):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(name, f"expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(name, f"expected {len(args)} values, got {len(value)}")
            items = [_coerce(f"{name}[{i}]", a, v) for i, (a, v) in enumerate(zip(args, value))]
        else:
            item_tp = args[0] if args else Any
            items = [_coerce(f"{name}[{i}]", item_tp, v) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(name, f"expected a mapping, got {value!r}")
        vt = args[1] if len(args) == 2 else Any
        return {str(k): _coerce(f"{name}.{k}", vt, v) for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(name, f"expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(name, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(name, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if isinstance(value, Path):
            return str(value)
        if not isinstance(value, str):
            raise ConfigError(name, f"expected text, got {value!r}")
        return value
    if tp is Path:
        if not isinstance(value, (str, Path)):
            raise ConfigError(name, f"expected a path, got {value!r}")
        return Path(value)
    return value


def _check_meta(name: str, meta: typing.Mapping[str, Any], value: Any) -> None:
    values = value if isinstance(value, (list, tuple)) else [value]
    rng = meta.get("range")
    if rng is not None:
        lo, hi = rng
        for v in values:
            if v is None or not isinstance(v, (int, float)):
                continue
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                lo_s = "-inf" if lo is None else lo
                hi_s = "inf" if hi is None else hi
                raise ConfigError(name, f"{v!r} is outside the allowed range [{lo_s}, {hi_s}]")
    choices = meta.get("choices")
    if choices is not None:
        for v in values:
            if v not in choices:
                raise ConfigError(name, f"{v!r} is not one of {list(choices)}")


def validate_config(cfg: Any) -> None:
    """Check every field of a config instance against its type and metadata."""
    hints = typing.get_type_hints(type(cfg))
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        _coerce(f.name, hints[f.name], value)
        _check_meta(f.name, f.metadata, value)


def config_from_dict(cls: type, data: typing.Mapping[str, Any], prefix: str = "") -> Any:
    """Build ``cls`` from a mapping, rejecting unknown keys and bad values."""
    if not isinstance(data, typing.Mapping):
        raise ConfigError(prefix.rstrip(".") or "config", f"expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields) - {"kind"})
    if unknown:
        raise ConfigError(
            prefix + unknown[0], f"unknown config key; {cls.__name__} accepts: {', '.join(sorted(fields))}"
        )
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            value = _coerce(prefix + name, hints[name], data[name])
            _check_meta(prefix + name, f.metadata, value)
            kwargs[name] = value
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(prefix + name, "this field is required")
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        if prefix and not exc.field.startswith(prefix):
            raise ConfigError(prefix + exc.field, exc.message) from None
        raise


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """A plain dict (``kind`` first) that ``job_from_dict`` turns back into ``cfg``."""
    return {"kind": kind_of(cfg), **_plain(cfg)}


def job_from_dict(data: typing.Mapping[str, Any]) -> Any:
    """Build a registered config from a dict with a ``kind`` key."""
    if "kind" not in data:
        raise ConfigError("kind", f"a job file needs a 'kind'; known kinds: {', '.join(registered_kinds())}")
    spec = get_spec(str(data["kind"]))
    return config_from_dict(spec.config_cls, data)


def load_job(path: str | Path) -> Any:
    """Load a job from YAML or JSON (by extension; YAML is a superset of JSON)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("file", f"cannot read job file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ConfigError("file", f"{path} is not valid YAML/JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("file", f"{path} must contain a mapping with a 'kind' key")
    return job_from_dict(data)


def dump_job(cfg: Any, fmt: Literal["yaml", "json"] = "yaml") -> str:
    data = config_to_dict(cfg)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def save_job(cfg: Any, path: str | Path) -> Path:
    """Save a job atomically as YAML (or JSON when the name ends in .json)."""
    path = Path(path)
    fmt: Literal["yaml", "json"] = "json" if path.suffix.lower() == ".json" else "yaml"
    return atomic_write_text(path, dump_job(cfg, fmt))


def run_job(
    cfg: Any,
    *,
    progress: ProgressFn = null_progress,
    cancel: CancelToken | None = None,
    fresh: bool = False,
) -> JobResult:
    """Run any registered job; a cancel becomes ``status='cancelled'``.

    Before the runner starts, :func:`augbench.core.guard.guard_job` enforces the one rule every
    job obeys (inputs exist; an output folder is not, does not contain and does not sit inside an
    input folder; one job per output folder, held by a lock; a re-run with a different config is
    refused with a diff unless ``fresh`` moves the old folder aside). Role-bearing paths are made
    absolute first, so ``job.yaml`` records where the files really are.

    Other errors propagate so the caller can show them; runners record
    per-file problems in ``result.skipped`` instead of raising.
    """
    from augbench.core.guard import absolutize, guard_job

    spec = get_spec(kind_of(cfg))
    if spec.runner is None:
        raise AugbenchError(f"job kind {spec.kind!r} has no runner registered")
    validate_config(cfg)
    cfg = absolutize(cfg)
    cancel = cancel or CancelToken()
    with guard_job(cfg, spec.kind, fresh=fresh) as notes:
        try:
            result = spec.runner(cfg, progress=progress, cancel=cancel)
        except Cancelled as exc:
            partial = getattr(exc, "result", None)
            if isinstance(partial, JobResult):
                partial.status = "cancelled"
                result = partial
            else:
                result = JobResult(kind=spec.kind, status="cancelled", message=str(exc))
    if notes:
        result.message = "; ".join([*notes, result.message] if result.message else notes)
    return result
