"""The one rule of every job (core/guard.py): roles declared, nesting refused, one job per folder, re-run diff."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from augbench.core.errors import ConfigError
from augbench.core.guard import (
    ROLES,
    OutputBusyError,
    RerunMismatchError,
    declared_roles,
    guard_job,
    path_roles,
)
from augbench.core.jobs import JobResult, get_spec, job_runner, register_job, registered_kinds, run_job
from augbench.core.runfolder import RunFolder

# A field whose name looks like this holds a path: it must say what the job does with it.
PATHY = re.compile(r"(_dir|_dirs|_file|_files|_path|_weights|_manifest|_pipeline)$|"
                   r"^(data|dataset|folder|checkpoint|styles|domain_a|domain_b|generated_copy|out|input|output)$")


@register_job("test.guarded", summary="writes one file per input image")
@dataclass(frozen=True)
class GuardedJob:
    input_dir: str = field(metadata={"role": "input"})
    out_dir: str = field(metadata={"role": "output"})
    n: int = 1
    workers: int = 1  # free on a re-run (RERUN_FREE)


@job_runner(GuardedJob)
def _run_guarded(cfg: GuardedJob, *, progress, cancel) -> JobResult:
    run = RunFolder(cfg.out_dir)
    run.write_job(cfg)
    outs = []
    for p in sorted(Path(cfg.input_dir).iterdir()):
        dest = Path(cfg.out_dir) / f"{p.stem}_{cfg.n}.txt"
        dest.write_text("x", encoding="utf-8")
        run.manifest.append({"file": dest.name, "source": p.name})
        outs.append(str(dest))
    return JobResult(kind="test.guarded", out_dir=cfg.out_dir, outputs=outs)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    for i in range(3):
        (d / f"img{i}.png").write_bytes(b"not really an image")
    return d


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ----------------------------------------------------------------------------- the registry walk


def _product_kinds() -> list[str]:
    """Kinds the augbench packages register (test modules register toy kinds in the same registry)."""
    kinds = [k for k in registered_kinds() if get_spec(k).config_cls.__module__.startswith("augbench.")]
    assert len(kinds) >= 11
    return kinds


def test_every_registered_job_kind_declares_its_path_roles() -> None:
    """Each kind names its inputs and outputs; a new path field without a role fails here."""
    problems = []
    for kind in _product_kinds():
        cls = get_spec(kind).config_cls
        roles = declared_roles(cls)
        if not any(r in ("input", "output", "inplace") for r in roles.values()):
            problems.append(f"{kind}: declares no input/output role")
        for f in dataclasses.fields(cls):
            if PATHY.search(f.name) and f.name not in roles and not dataclasses.is_dataclass(f.type):
                problems.append(f"{kind}.{f.name}: looks like a path but has no role")
        assert set(roles.values()) <= set(ROLES)
    assert not problems, "\n".join(problems)


def test_every_kind_with_an_output_has_a_run_folder() -> None:
    for kind in _product_kinds():
        roles = declared_roles(get_spec(kind).config_cls)
        has_out = "output" in roles.values() or callable(getattr(get_spec(kind).config_cls, "run_dir", None))
        assert has_out, f"{kind}: no output folder and no run_dir(): it could never be locked"


def test_labels_convert_coco_file_is_an_output_only_when_writing_coco(tmp_path: Path) -> None:
    from augbench.label.jobs import LabelsConvertJob

    assert path_roles(LabelsConvertJob(folder="d", src="voc", dst="coco"))["coco_file"] == "output_file"
    assert path_roles(LabelsConvertJob(folder="d", src="coco", dst="yolo"))["coco_file"] == "input"


# ----------------------------------------------------------------------------- rule 1: nesting


@pytest.mark.parametrize("where", ["same", "inside", "contains", "symlink", "relative"])
def test_output_may_not_be_contain_or_sit_inside_an_input(tmp_path: Path, data: Path, where: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    before = _snapshot(tmp_path)
    if where == "same":
        out = str(data)
    elif where == "inside":
        out = str(data / "sub")
    elif where == "contains":
        out = str(tmp_path)
    elif where == "symlink":
        (tmp_path / "alias").symlink_to(data, target_is_directory=True)
        out = str(tmp_path / "alias" / "aug")
    else:
        monkeypatch.chdir(data)
        out = "./x/../out"
    with pytest.raises(ConfigError) as exc:
        run_job(GuardedJob(input_dir=str(data), out_dir=out))
    assert exc.value.field == "out_dir" and "input folder" in exc.value.message
    assert _snapshot(tmp_path) == before  # nothing written, not even an empty folder


def test_output_may_not_be_an_existing_file_and_inputs_must_exist(tmp_path: Path, data: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match="existing file"):
        run_job(GuardedJob(input_dir=str(data), out_dir=str(f)))
    assert f.read_text(encoding="utf-8") == "mine"
    with pytest.raises(ConfigError, match="does not exist") as exc:
        run_job(GuardedJob(input_dir=str(tmp_path / "nope"), out_dir=str(tmp_path / "out")))
    assert exc.value.field == "input_dir"


def test_run_records_under_the_inputs_hidden_augbench_folder_are_allowed(tmp_path: Path, data: Path) -> None:
    res = run_job(GuardedJob(input_dir=str(data), out_dir=str(data / ".augbench" / "stats")))
    assert res.status == "completed"


def test_paths_are_recorded_absolute_in_job_yaml(tmp_path: Path, data: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_job(GuardedJob(input_dir="data", out_dir="out"))
    text = (tmp_path / "out" / "job.yaml").read_text(encoding="utf-8")
    assert f"input_dir: {data}" in text and f"out_dir: {tmp_path / 'out'}" in text


def test_existing_folder_with_foreign_files_is_refused(tmp_path: Path, data: Path) -> None:
    out = tmp_path / "photos"
    out.mkdir()
    (out / "img0_1.txt").write_text("my own notes", encoding="utf-8")  # the name the job would write
    with pytest.raises(ConfigError, match="did not write"):
        run_job(GuardedJob(input_dir=str(data), out_dir=str(out)))
    assert (out / "img0_1.txt").read_text(encoding="utf-8") == "my own notes"


# ----------------------------------------------------------------------------- rule 3: the lock


def test_a_live_lock_refuses_a_second_job_and_a_stale_one_is_taken_over(tmp_path: Path, data: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    import socket

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".augbench.lock").write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname(),
                                                        "kind": "test.guarded", "started": "now"}))
        with pytest.raises(OutputBusyError, match=f"pid {sleeper.pid}"):
            run_job(GuardedJob(input_dir=str(data), out_dir=str(out)))
    finally:
        sleeper.kill()
        sleeper.wait()
    # the holder is dead now: the lock is stale and taken over; released after the job
    res = run_job(GuardedJob(input_dir=str(data), out_dir=str(out)))
    assert res.status == "completed" and not (out / ".augbench.lock").exists()


def test_the_lock_is_held_while_the_runner_runs(tmp_path: Path, data: Path) -> None:
    cfg = GuardedJob(input_dir=str(data), out_dir=str(tmp_path / "out"))
    with guard_job(cfg, "test.guarded"):
        lock = json.loads((tmp_path / "out" / ".augbench.lock").read_text())
        assert lock["pid"] == os.getpid() and lock["kind"] == "test.guarded"
        with pytest.raises(OutputBusyError):  # a second job (another thread of the GUI, say) is refused
            with guard_job(cfg, "test.guarded"):
                pass
    assert not (tmp_path / "out" / ".augbench.lock").exists()


# ----------------------------------------------------------------------------- rule 4: re-run check


def test_a_rerun_with_another_config_is_refused_with_a_diff_and_fresh_moves_it_aside(tmp_path: Path,
                                                                                   data: Path) -> None:
    out = tmp_path / "out"
    run_job(GuardedJob(input_dir=str(data), out_dir=str(out), n=1))
    assert run_job(GuardedJob(input_dir=str(data), out_dir=str(out), n=1, workers=4)).status == "completed"
    before = _snapshot(out)
    with pytest.raises(RerunMismatchError) as exc:
        run_job(GuardedJob(input_dir=str(data), out_dir=str(out), n=2))
    assert "n: 1 -> 2" in str(exc.value) and "workers" not in str(exc.value)
    assert _snapshot(out) == before  # job.yaml still describes the files
    res = run_job(GuardedJob(input_dir=str(data), out_dir=str(out), n=2), fresh=True)
    assert "moved to" in res.message
    old = [p for p in tmp_path.iterdir() if p.name.startswith("out.old-")]
    assert len(old) == 1 and _snapshot(old[0]) == before  # nothing lost
    assert sorted(p.name for p in out.glob("*.txt")) == ["img0_2.txt", "img1_2.txt", "img2_2.txt"]


def test_fresh_never_moves_a_folder_of_foreign_files_or_one_in_use(tmp_path: Path, data: Path) -> None:
    mine = tmp_path / "Pictures"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(ConfigError, match="did not write"):
        run_job(GuardedJob(input_dir=str(data), out_dir=str(mine)), fresh=True)
    assert (mine / "holiday.jpg").is_file()
    out = tmp_path / "out"
    run_job(GuardedJob(input_dir=str(data), out_dir=str(out)))
    import socket

    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:  # a shard of another run still writing
        (out / ".augbench.part-0001-of-0002.lock").write_text(json.dumps({"pid": holder.pid,
                                                                          "host": socket.gethostname()}))
        with pytest.raises(OutputBusyError):
            run_job(GuardedJob(input_dir=str(data), out_dir=str(out), n=3), fresh=True)
        assert (out / "job.yaml").is_file()
    finally:
        holder.kill()
        holder.wait()


def test_a_run_that_wrote_nothing_does_not_block_a_corrected_rerun(tmp_path: Path, data: Path) -> None:
    out = tmp_path / "out"
    RunFolder(out).write_job(GuardedJob(input_dir=str(data), out_dir=str(out), n=7))  # failed before any output
    assert run_job(GuardedJob(input_dir=str(data), out_dir=str(out), n=1)).status == "completed"


def test_another_kind_in_the_folder_is_refused(tmp_path: Path, data: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "job.yaml").write_text("kind: augment.export\ninput_dir: x\noutput_dir: y\n", encoding="utf-8")
    (out / "a_aug000.jpg").write_bytes(b"x")
    with pytest.raises(RerunMismatchError, match="'augment.export' job"):
        run_job(GuardedJob(input_dir=str(data), out_dir=str(out)))


# ----------------------------------------------------------------------------- temporaries, devices


def test_leftover_temporaries_are_removed_on_resume(tmp_path: Path, data: Path) -> None:
    out = tmp_path / "out"
    run_job(GuardedJob(input_dir=str(data), out_dir=str(out)))
    (out / ".img0_1.txt.0a1b2c3d.part").write_bytes(b"")  # this version's temporary
    (out / ".img0_1.k2j3h4g5.tmp.jpg").write_bytes(b"")  # the old mkstemp naming that ImageFolder accepted
    res = run_job(GuardedJob(input_dir=str(data), out_dir=str(out)))
    assert "2 temporary" in res.message
    assert not [p for p in out.iterdir() if p.name.startswith(".img")]


def test_cuda_without_a_gpu_is_a_config_error(tmp_path: Path, data: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    from augbench.gan.jobs import GanTranslateJob

    ckpt = tmp_path / "c.pt"
    ckpt.write_bytes(b"x")
    with pytest.raises(ConfigError, match="CUDA") as exc:
        run_job(GanTranslateJob(checkpoint=str(ckpt), input_dir=str(data), out_dir=str(tmp_path / "o"),
                                device="cuda"))
    assert exc.value.field == "device"
