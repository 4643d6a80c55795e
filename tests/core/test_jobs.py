"""The job contract: registry, field-level validation, YAML/JSON round trip, cancel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from augbench.core.errors import Cancelled, ConfigError, UnknownKindError
from augbench.core.jobs import (
    JobResult,
    config_to_dict,
    dump_job,
    job_from_dict,
    job_runner,
    load_job,
    register_job,
    registered_kinds,
    run_job,
    save_job,
)
from augbench.core.progress import CancelToken, ListProgress, Progress


@register_job("test.count", summary="counts to n")
@dataclass(frozen=True)
class CountJob:
    n: int = field(default=3, metadata={"range": (1, 100)})
    rate: float = field(default=0.5, metadata={"range": (0.0, 1.0)})
    mode: Literal["fast", "slow"] = "fast"
    names: list[str] = field(default_factory=list)
    size: tuple[int, int] = (4, 4)
    label: str | None = None


@job_runner(CountJob)
def _run_count(cfg: CountJob, *, progress, cancel) -> JobResult:
    for i in range(cfg.n):
        cancel.check()
        progress(Progress(i + 1, cfg.n, f"step {i}"))
        if i == 1 and cfg.label == "cancel-me":
            cancel.cancel()
    return JobResult(kind="test.count", metrics={"n": cfg.n})


def test_registry_lists_kind_and_augment_job() -> None:
    kinds = registered_kinds()
    assert "test.count" in kinds
    assert "augment.export" in kinds and "augment" not in kinds  # old names are aliases, not listed


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(UnknownKindError) as exc:
        job_from_dict({"kind": "no.such.job"})
    assert "no.such.job" in str(exc.value) and "augment.export" in str(exc.value)


@pytest.mark.parametrize(
    "data, field_name, words",
    [
        ({"n": 0}, "n", "outside the allowed range [1, 100]"),
        ({"rate": 1.5}, "rate", "[0.0, 1.0]"),
        ({"n": "three"}, "n", "expected an integer"),
        ({"mode": "medium"}, "mode", "not one of"),
        ({"bogus": 1}, "bogus", "unknown config key"),
        ({"size": [1, 2, 3]}, "size", "expected 2 values"),
        ({"names": "abc"}, "names", "expected a list"),
    ],
)
def test_field_level_errors(data, field_name, words) -> None:
    with pytest.raises(ConfigError) as exc:
        job_from_dict({"kind": "test.count", **data})
    assert exc.value.field == field_name
    assert words in exc.value.message


def test_yaml_and_json_round_trip(tmp_path) -> None:
    cfg = CountJob(n=5, rate=0.25, mode="slow", names=["가나", "b c"], size=(2, 3), label="x")
    for name in ("job.yaml", "job.json"):
        path = save_job(cfg, tmp_path / name)
        back = load_job(path)
        assert back == cfg
    assert config_to_dict(cfg)["kind"] == "test.count"
    assert "가나" in dump_job(cfg)  # non-ASCII stays readable


def test_broken_job_file_names_the_problem(tmp_path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("kind: test.count\nn: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_job(p)
    assert "not valid YAML" in str(exc.value)


def test_run_reports_progress_and_cancel_becomes_status() -> None:
    lp = ListProgress()
    res = run_job(CountJob(n=4), progress=lp)
    assert res.status == "completed" and res.metrics == {"n": 4}
    assert [p.done for p in lp.reports] == [1, 2, 3, 4]
    res = run_job(CountJob(n=10, label="cancel-me"), progress=lp)
    assert res.status == "cancelled"


def test_cancel_token() -> None:
    tok = CancelToken()
    tok.check()
    tok.cancel()
    assert tok.cancelled
    with pytest.raises(Cancelled):
        tok.check()
