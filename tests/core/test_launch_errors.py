"""A job relaunched as torchrun ranks talks like one process: an error in the ranks is ONE line from the
parent with exit code 2 (no traceback, no torchrun failure report), and rank 0 alone prints progress and
the result."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import augbench.cli as cli
from augbench.core import launch
from augbench.core.errors import ConfigError
from augbench.core.jobs import JobResult

RANK_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "AUGBENCH_DEBUG", launch.ERRORS_ENV)


@pytest.fixture
def no_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    """This test process is not a torchrun rank and not in --debug."""
    for k in RANK_VARS:
        monkeypatch.delenv(k, raising=False)


def _as_rank(monkeypatch: pytest.MonkeyPatch, rank: int, errors: Path | None = None) -> None:
    monkeypatch.setenv("RANK", str(rank))
    monkeypatch.setenv("LOCAL_RANK", str(rank))
    monkeypatch.setenv("WORLD_SIZE", "2")
    if errors is not None:
        monkeypatch.setenv(launch.ERRORS_ENV, str(errors))


def _grey_folder(root: Path, n: int) -> Path:
    root.mkdir(parents=True)
    for i in range(n):
        img = (100 + np.random.default_rng(i).integers(0, 40, (32, 32))).astype(np.uint8)
        cv2.imwrite(str(root / f"img_{i:03d}.png"), img)
    return root


def _gan_train_nproc_2(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The real command: `augbench gan train ... --nproc 2` (two gloo ranks, two tiny steps)."""
    env = {k: v for k, v in os.environ.items() if k not in RANK_VARS}
    cmd = [sys.executable, "-m", "augbench.cli", "gan", "train", str(tmp_path / "a"), str(tmp_path / "b"),
           "-o", str(tmp_path / "g"), "--size", "32", "--ngf", "4", "--blocks", "1", "--epochs", "1",
           "--steps-per-epoch", "2", "--kid-features", "pixels", "--device", "cpu", "--precision", "fp32",
           "--nproc", "2"]
    return subprocess.run(cmd, env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_an_error_inside_the_ranks_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A corrupt image passes the parent's checks (the folders exist) and fails in every rank."""
    _grey_folder(tmp_path / "a", 4)
    _grey_folder(tmp_path / "b", 4)
    (tmp_path / "b" / "zz_bad.png").write_bytes(b"not a png")
    proc = _gan_train_nproc_2(tmp_path)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("augbench: ") and "zz_bad.png" in lines[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "ChildFailedError" not in proc.stderr
    assert proc.stdout.strip() == ""  # no result printed for a failed job


@pytest.mark.slow
def test_a_successful_run_prints_the_result_once(tmp_path: Path) -> None:
    _grey_folder(tmp_path / "a", 4)
    _grey_folder(tmp_path / "b", 4)
    proc = _gan_train_nproc_2(tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("gan.train: completed") == 1 and proc.stdout.count("world_size: 2") == 1, proc.stdout
    assert "Traceback" not in proc.stderr and "torch/distributed" not in proc.stderr  # no torchrun log lines


@pytest.mark.slow
def test_ctrl_c_stops_the_ranks_and_says_cancelled_once(tmp_path: Path) -> None:
    """Ctrl+C reaches the whole process group (parent, torchrun, ranks): one line, exit code 130."""
    import signal
    import time

    _grey_folder(tmp_path / "a", 4)
    _grey_folder(tmp_path / "b", 4)
    env = {k: v for k, v in os.environ.items() if k not in RANK_VARS}
    cmd = [sys.executable, "-m", "augbench.cli", "gan", "train", str(tmp_path / "a"), str(tmp_path / "b"),
           "-o", str(tmp_path / "g"), "--size", "32", "--ngf", "4", "--blocks", "1", "--epochs", "1",
           "--steps-per-epoch", "1000", "--kid-features", "pixels", "--device", "cpu", "--precision", "fp32",
           "--nproc", "2"]
    err_file = tmp_path / "stderr.txt"
    with open(err_file, "w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, env={**env, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE, stderr=err,
                                text=True, start_new_session=True)
        deadline = time.monotonic() + 60
        while "step 2/" not in err_file.read_text(encoding="utf-8") and time.monotonic() < deadline:
            time.sleep(0.2)  # training has started on both ranks
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    text = err_file.read_text(encoding="utf-8").replace("\r", "\n")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("gan.train:")]  # the bar's frames
    assert proc.returncode == 130 and lines == ["augbench: cancelled"], text[-2000:]
    assert out == ""


def test_rank_1_prints_no_result_and_no_progress(monkeypatch, capsys, no_ranks) -> None:
    _as_rank(monkeypatch, 1)
    result = JobResult(kind="gan.train", status="completed", out_dir="/x", metrics={"world_size": 2})
    assert cli.print_result(result) == 0
    assert cli.print_result(JobResult(kind="gan.train", status="cancelled")) == 1  # the code still counts
    seen: list[Any] = []

    def fake_run_job(cfg: Any, progress: Any, cancel: Any, fresh: bool) -> JobResult:
        from augbench.core.progress import Progress

        progress(Progress(1, 2, "step"))  # a tqdm bar would draw on stderr
        seen.append(progress)
        return result

    monkeypatch.setattr(cli, "run_job", fake_run_job)
    cli.execute(object())
    out = capsys.readouterr()
    assert out.out == "" and out.err == "" and len(seen) == 1


def test_rank_0_prints_the_result(monkeypatch, capsys, no_ranks) -> None:
    _as_rank(monkeypatch, 0)
    cli.print_result(JobResult(kind="gan.train", status="completed", metrics={"world_size": 2}))
    assert "gan.train: completed" in capsys.readouterr().out


def test_a_ranks_error_goes_to_the_parents_file_not_to_stderr(tmp_path, monkeypatch, capsys, no_ranks) -> None:
    _as_rank(monkeypatch, 1, tmp_path)
    monkeypatch.setattr(cli, "_cmd_jobs", lambda args: (_ for _ in ()).throw(ConfigError("size", "too small")))
    assert cli.main(["jobs"]) == 2
    assert capsys.readouterr().err == ""
    assert json.loads((tmp_path / "rank1.json").read_text()) == {"rank": 1, "line": "config error in size: too small"}
    monkeypatch.setattr(cli, "_cmd_jobs", lambda args: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert cli.main(["jobs"]) == 130 and capsys.readouterr().err == ""  # rank 0 alone says "cancelled"


def test_outside_a_relaunch_the_error_is_printed_as_before(monkeypatch, capsys, no_ranks, tmp_path) -> None:
    _as_rank(monkeypatch, 1)  # a rank of a torchrun the user started by hand: no error folder
    monkeypatch.setattr(cli, "_cmd_jobs", lambda args: (_ for _ in ()).throw(ConfigError("size", "too small")))
    assert cli.main(["jobs"]) == 2
    assert capsys.readouterr().err.strip() == "augbench: config error in size: too small"
    assert not launch.report_rank_error("x")


def test_the_line_shown_is_the_cause_not_a_peers_broken_connection(tmp_path: Path) -> None:
    assert launch.rank_error_line(tmp_path) is None
    for rank, line in ((0, "unexpected error: RuntimeError: Connection closed by peer (run with --debug ...)"),
                       (2, "b.png: not an image"), (1, "a.png: not an image")):
        (tmp_path / f"rank{rank}.json").write_text(json.dumps({"rank": rank, "line": line}))
    (tmp_path / "rank3.json").write_text("{half a fi")
    assert launch.rank_error_line(tmp_path) == "a.png: not an image"


@pytest.fixture
def job(tmp_path: Path) -> Any:
    from augbench.gan.jobs import GanTrainJob
    from augbench.gan.trainer import GanConfig

    _grey_folder(tmp_path / "a", 2)
    _grey_folder(tmp_path / "b", 2)
    return GanTrainJob(str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "g"), nproc=2, launcher="torchrun",
                       model=GanConfig(batch_size=2, device="cpu"))


def _fake_torchrun(monkeypatch: pytest.MonkeyPatch, rc: int, lines: dict[int, str]) -> list[list[str]]:
    """Replace the torchrun process: its ranks 'wrote' ``lines`` and it ended with ``rc``."""
    cmds: list[list[str]] = []

    def fake_run(cmd: list[str], check: bool = False, env: dict[str, str] | None = None) -> Any:
        cmds.append(cmd)
        for rank, line in lines.items():
            (Path(env[launch.ERRORS_ENV]) / f"rank{rank}.json").write_text(json.dumps({"rank": rank, "line": line}))
        return type("Done", (), {"returncode": rc})()

    monkeypatch.setattr(launch.subprocess, "run", fake_run)
    return cmds


def test_the_parent_prints_the_ranks_line_once_with_exit_2(job, monkeypatch, capsys, no_ranks) -> None:
    cmds = _fake_torchrun(monkeypatch, 3, {0: "x.png: not an image", 1: "x.png: not an image"})
    monkeypatch.setattr(cli, "load_job", lambda path: job)
    assert cli.main(["run", "job.yaml"]) == 2
    assert capsys.readouterr().err == "augbench: x.png: not an image\n"
    assert cmds[0][1:3] == ["-m", "augbench.core.launch"]  # torchrun without its failure report


def test_a_silent_failure_still_ends_as_one_line(job, monkeypatch, capsys, no_ranks) -> None:
    _fake_torchrun(monkeypatch, 3, {})  # a rank killed (out of memory), nothing written
    monkeypatch.setattr(cli, "load_job", lambda path: job)
    assert cli.main(["run", "job.yaml"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exit code 3" in err[0] and "--debug" in err[0]


def test_debug_runs_plain_torchrun(job, monkeypatch, no_ranks) -> None:
    cmds = _fake_torchrun(monkeypatch, 0, {})
    monkeypatch.setattr(cli, "load_job", lambda path: job)
    assert cli.main(["run", "job.yaml", "--debug"]) == 0
    assert "augbench.core.launch" not in cmds[0] and "--nproc-per-node=2" in cmds[0]
    assert "AUGBENCH_DEBUG" not in os.environ  # restored after the command


def test_the_quiet_wrapper_turns_torchruns_report_into_an_exit_code(monkeypatch, capfd) -> None:
    import torch.distributed.run as tr
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure

    def failing(args: Any, codes: tuple[int, ...]) -> None:
        failures = {i: ProcessFailure(local_rank=i, pid=100 + i, exitcode=c, error_file="") for i, c in enumerate(codes)}
        raise ChildFailedError("augbench.cli", failures)

    try:
        for codes, want in (((2, -15), 3), ((1, 1), 1), ((130, 130), 130)):
            monkeypatch.setattr(tr, "run", lambda args, c=codes: failing(args, c))
            assert launch._quiet_torchrun(["--standalone", "--nproc-per-node=2", "-m", "augbench.cli", "jobs"]) == want
    finally:
        logging.disable(logging.NOTSET)  # the wrapper silences its whole process; this one is pytest's
    assert "ChildFailedError" not in capfd.readouterr().err
