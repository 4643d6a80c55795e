"""``--nproc N`` on ``gan train``, ``balance`` and ``bench run``: the flag becomes the job's ``nproc`` /
``launcher`` fields, N > 1 re-runs the command as torchrun ranks on a copy of that job, a bad N is one
line and exit code 2, and a user's mistake is refused before any rank starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gan_helpers import write_tiny_imagefolder

import augbench.cli as cli
from augbench.cli import build_parser, main
from augbench.core import launch
from augbench.core.jobs import load_job, save_job


class _Ran(Exception):
    """Raised by the patched ``execute``: the job ran in this process, with this config."""

    def __init__(self, cfg: Any) -> None:
        super().__init__("ran here")
        self.cfg = cfg


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A dataset, a balance job and a bench job on it; no torchrun rank variables."""
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    from augbench.classify.experiment import CompareJob
    from augbench.gan.balance import BalanceConfig

    ds = write_tiny_imagefolder(tmp_path / "ds", {"normal": 4, "crack": 2}, size=16)
    save_job(BalanceConfig(dataset=str(ds), out_dir=str(tmp_path / "bal"), normal_class="normal",
                           defect_classes=("crack",), engine="cyclegan"), tmp_path / "balance.yaml")
    save_job(CompareJob(data=str(ds), out_dir=str(tmp_path / "bench")), tmp_path / "bench.yaml")
    bench3 = CompareJob(data=str(ds), out_dir=str(tmp_path / "bench3"), batch_size=6, launcher="torchrun", nproc=3)
    save_job(bench3, tmp_path / "bench3.yaml")
    return tmp_path


def _argv(ws: Path, words: str) -> list[str]:
    return {"gan train": ["gan", "train", str(ws / "ds" / "normal"), str(ws / "ds" / "crack"), "-o", str(ws / "g")],
            "balance": ["balance", str(ws / "balance.yaml")],
            "bench run": ["bench", "run", str(ws / "bench.yaml"), "-q"]}[words]


def _relaunched(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> tuple[list[str], Any]:
    """Run ``argv`` with torchrun replaced by a recorder: (torchrun's command line, the job the ranks read)."""
    seen: list[tuple[list[str], Any]] = []

    def fake_run(cmd: list[str], check: bool = False, **kw: Any) -> Any:
        job = cmd[cmd.index("augbench.cli") + 2]  # ... -m augbench.cli run JOB
        seen.append((cmd, load_job(job)))  # the temporary job file exists while torchrun runs
        return type("Done", (), {"returncode": 0})()

    monkeypatch.setattr(launch.subprocess, "run", fake_run)
    monkeypatch.setattr(cli, "execute", lambda cfg, **kw: (_ for _ in ()).throw(_Ran(cfg)))
    assert main(argv) == 0
    assert len(seen) == 1
    return seen[0]


@pytest.mark.parametrize("words, kind", [("gan train", "gan.train"), ("balance", "gan.balance"),
                                         ("bench run", "classify.compare")])
def test_nproc_2_reruns_the_command_as_2_torchrun_ranks(ws: Path, monkeypatch, words: str, kind: str) -> None:
    cmd, job = _relaunched(monkeypatch, _argv(ws, words) + ["--nproc", "2"])
    assert "--nproc-per-node=2" in cmd and cmd[cmd.index("augbench.cli") + 1] == "run"
    assert type(job).kind == kind and job.launcher == "torchrun" and job.nproc == 2
    assert ("-q" in cmd) == (words == "bench run")
    assert not Path(cmd[cmd.index("augbench.cli") + 2]).exists()  # the temporary job is gone afterwards


def test_gan_train_flags_reach_the_ranks_job(ws: Path, monkeypatch) -> None:
    cmd, job = _relaunched(monkeypatch, _argv(ws, "gan train") + ["--nproc", "4", "--epochs", "3", "--fresh"])
    assert job.nproc == 4 and job.model.epochs == 3 and job.resume is False and "--fresh" in cmd
    assert job.model.batch_size == 4  # no --batch-size: one image per process
    assert Path(job.domain_a).is_absolute() and Path(job.out_dir) == ws / "g"  # ranks may start elsewhere


@pytest.mark.parametrize("words", ["gan train", "balance", "bench run"])
def test_nproc_1_runs_here_as_one_plain_process(ws: Path, monkeypatch, words: str) -> None:
    monkeypatch.setattr(launch.subprocess, "run", lambda *a, **k: pytest.fail("torchrun started for --nproc 1"))
    monkeypatch.setattr(cli, "execute", lambda cfg, **kw: (_ for _ in ()).throw(_Ran(cfg)))
    args = build_parser().parse_args(_argv(ws, words) + ["--nproc", "1"])
    with pytest.raises(_Ran) as ran:
        args.func(args)
    assert ran.value.cfg.nproc == 1 and ran.value.cfg.launcher == "none"


def test_without_the_flag_the_jobs_own_fields_count(ws: Path, monkeypatch) -> None:
    cmd, job = _relaunched(monkeypatch, ["bench", "run", str(ws / "bench3.yaml")])
    assert "--nproc-per-node=3" in cmd and job.nproc == 3
    cmd, job = _relaunched(monkeypatch, ["bench", "run", str(ws / "bench3.yaml"), "--nproc", "2"])
    assert "--nproc-per-node=2" in cmd and job.nproc == 2  # the flag overrides the job file


@pytest.mark.parametrize("words", ["gan train", "balance", "bench run"])
@pytest.mark.parametrize("bad", ["0", "-1", "x"])
def test_a_bad_nproc_is_one_line_and_exit_2(ws: Path, capfd, words: str, bad: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(_argv(ws, words) + ["--nproc", bad])
    err = capfd.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(("usage:", " "))]
    assert len(lines) == 1 and lines[0].startswith("augbench") and "--nproc" in lines[0], err


def test_a_users_mistake_is_refused_before_any_rank_starts(ws: Path, monkeypatch, capfd) -> None:
    """One line from this process, not one per rank plus torchrun's failure report."""
    monkeypatch.setattr(launch.subprocess, "run", lambda *a, **k: pytest.fail("torchrun started for a bad job"))
    argv = ["gan", "train", str(ws / "ds" / "normal"), str(ws / "missing"), "-o", str(ws / "g"), "--nproc", "2"]
    assert main(argv) == 2
    assert main(["gan", "train", str(ws / "ds" / "normal"), str(ws / "ds" / "crack"), "-o", str(ws / "ds" / "normal" / "out"),
                 "--nproc", "2"]) == 2
    assert main(_argv(ws, "gan train") + ["--nproc", "2", "--batch-size", "3"]) == 2
    assert main(_argv(ws, "bench run") + ["--nproc", "3"]) == 2  # the job's global batch is 4
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 4 and "does not exist" in err[0] and "inside the input folder" in err[1], err
    assert "model.batch_size: the global batch 3 does not divide over 2" in err[2]
    assert "batch_size: the global batch 4 does not divide over 3" in err[3]


@pytest.mark.parametrize("words", ["gan train", "balance", "bench run"])
def test_help_says_what_nproc_does(capsys, words: str) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(words.split() + ["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--nproc N" in text and "torchrun" in text and "global batch" in text


@pytest.mark.slow
def test_gan_train_nproc_2_trains_on_two_gloo_ranks(tmp_path: Path) -> None:
    """The real thing: `augbench gan train ... --nproc 2` runs torchrun, both ranks train, rank 0 writes."""
    import json
    import os
    import subprocess
    import sys

    ds = write_tiny_imagefolder(tmp_path / "ds", {"normal": 6, "crack": 4})
    out = tmp_path / "g"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    proc = subprocess.run([sys.executable, "-m", "augbench.cli", "gan", "train", str(ds / "normal"), str(ds / "crack"),
                           "-o", str(out), "--size", "32", "--ngf", "4", "--blocks", "1", "--epochs", "1",
                           "--steps-per-epoch", "2", "--kid-features", "pixels", "--device", "cpu",
                           "--precision", "fp32", "--nproc", "2"],
                          env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "completed" and result["metrics"]["world_size"] == 2
    assert result["metrics"]["global_batch"] == 2 and result["metrics"]["per_rank_batch"] == 1
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["best.pt", "history.json", "job.yaml", "last.pt",
                                                                  "result.json"]
