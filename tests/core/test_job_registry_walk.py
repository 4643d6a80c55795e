"""Walk every registered job kind: one naming rule, a template that validates, bad keys refused, old names load.

The rule (issue 12): kind ``<package>.<verb>``, config class ``<Verb>Job``, registered in and importable
from ``augbench/<package>/jobs.py``. Kinds that tests register on the fly (``test.*``) are not walked.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from augbench.core.errors import ConfigError
from augbench.core.guard import RerunMismatchError, check_rerun
from augbench.core.jobs import (
    JOB_PACKAGES,
    KIND_ALIASES,
    config_to_dict,
    get_spec,
    job_from_dict,
    load_job,
    registered_kinds,
    save_job,
    validate_config,
)

# Values a template cannot guess (a field whose default alone does not make a runnable job).
EXTRA: dict[str, dict[str, Any]] = {
    "augment.export": {"steps": [{"name": "HorizontalFlip"}]},
    "crawl.fetch": {"keywords": ["cats"]},
    "gan.balance": {"defect_classes": ["crack"]},
}


def _product_kinds() -> list[str]:
    return [k for k in registered_kinds() if get_spec(k).config_cls.__module__.startswith("augbench.")]


def _template(kind: str, tmp: Path) -> dict[str, Any]:
    """The ``augbench schema`` template of ``kind`` with every required field filled with a tmp path or name."""
    cls = get_spec(kind).config_cls
    hints = typing.get_type_hints(cls)
    data: dict[str, Any] = {"kind": kind}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
            continue
        role = f.metadata.get("role")
        if role == "input":
            path = tmp / f"in_{f.name}"
            path.mkdir(parents=True, exist_ok=True)
            data[f.name] = [str(path / "style.jpg")] if typing.get_origin(hints[f.name]) is list else str(path)
        elif role == "output":
            data[f.name] = str(tmp / f"out_{f.name}")
        else:
            data[f.name] = "normal"
    data.update(EXTRA.get(kind, {}))
    return data


def test_every_package_registers_kinds() -> None:
    packages = {k.split(".")[0] for k in _product_kinds()}
    assert packages == set(JOB_PACKAGES)


@pytest.mark.parametrize("kind", _product_kinds())
def test_kind_follows_the_naming_rule(kind: str) -> None:
    cls = get_spec(kind).config_cls
    assert re.fullmatch(r"[a-z]+\.[a-z]+", kind), kind
    package, verb = kind.split(".")
    assert cls.__module__.split(".")[:2] == ["augbench", package], f"{kind} is defined in {cls.__module__}"
    assert cls.__name__ == verb.capitalize() + "Job", f"{kind}'s config is {cls.__name__}"
    jobs_module = importlib.import_module(f"augbench.{package}.jobs")
    assert getattr(jobs_module, cls.__name__, None) is cls, f"{cls.__name__} is not importable from {package}/jobs.py"
    assert get_spec(kind).runner is not None and cls.kind == kind


@pytest.mark.parametrize("kind", _product_kinds())
def test_template_validates_and_round_trips(kind: str, tmp_path: Path) -> None:
    cfg = job_from_dict(_template(kind, tmp_path))
    validate_config(cfg)
    assert type(cfg) is get_spec(kind).config_cls
    assert job_from_dict(config_to_dict(cfg)) == cfg


@pytest.mark.parametrize("kind", _product_kinds())
def test_unknown_key_is_rejected(kind: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        job_from_dict({**_template(kind, tmp_path), "no_such_field": 1})
    assert exc.value.field == "no_such_field"


@pytest.mark.parametrize(("old", "new"), sorted(KIND_ALIASES.items()))
def test_old_kind_loads_as_the_new_one_and_saves_new(old: str, new: str, tmp_path: Path) -> None:
    assert old not in registered_kinds() and new in registered_kinds()
    assert get_spec(old) is get_spec(new)
    job = tmp_path / "job.yaml"
    job.write_text(yaml.safe_dump({**_template(new, tmp_path), "kind": old}), encoding="utf-8")
    cfg = load_job(job)
    assert type(cfg) is get_spec(new).config_cls
    save_job(cfg, tmp_path / "again.yaml")
    assert yaml.safe_load((tmp_path / "again.yaml").read_text(encoding="utf-8"))["kind"] == new


def test_guard_takes_an_old_recorded_kind_for_the_new_one(tmp_path: Path) -> None:
    """An output folder recorded as ``kind: augment`` resumes as ``augment.export``; another kind is refused."""
    cfg = job_from_dict(_template("augment.export", tmp_path))
    out = Path(cfg.output_dir)
    out.mkdir()
    (out / "a_aug000.jpg").write_bytes(b"x")  # the folder holds outputs, so the record is checked
    (out / "job.yaml").write_text(yaml.safe_dump({**config_to_dict(cfg), "kind": "augment"}), encoding="utf-8")
    check_rerun(cfg, out, "augment.export")  # no error: the same job under its old name
    (out / "job.yaml").write_text(yaml.safe_dump({**config_to_dict(cfg), "kind": "balance"}), encoding="utf-8")
    with pytest.raises(RerunMismatchError, match="'balance' job"):
        check_rerun(cfg, out, "augment.export")


def test_label_jobs_keep_a_record_folder_under_its_old_name(tmp_path: Path) -> None:
    """A data set converted before the rename keeps its ``.augbench/labels-convert`` records (and their manifest)."""
    from augbench.label.jobs import ConvertJob, StatsJob

    fresh, old = tmp_path / "fresh", tmp_path / "old"
    fresh.mkdir()
    (old / ".augbench" / "labels-convert").mkdir(parents=True)
    assert Path(ConvertJob(folder=str(fresh)).run_dir()) == fresh / ".augbench" / "label.convert"
    assert Path(ConvertJob(folder=str(old)).run_dir()) == old / ".augbench" / "labels-convert"
    assert Path(StatsJob(folder=str(old)).run_dir()) == old / ".augbench" / "label.stats"
