"""The experiment runner: arms, synthetic images only in training, one JSON per run, resume, report, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from augbench.classify.experiment import ExperimentConfig, parse_arm, run_experiment, run_path
from augbench.classify.report import bootstrap_ci, build_report, paired_tests
from augbench.core.errors import Cancelled, ConfigError, DatasetError
from augbench.core.imageio import write_image
from augbench.core.jobs import load_job, run_job, save_job
from augbench.core.progress import CancelToken, ListProgress


def test_parse_arm() -> None:
    a = parse_arm("oversample+classic_aug+cyclegan@100")
    assert (a.loss, a.sampler, a.augment, a.synthetic) == ("ce", "weighted", True, (("cyclegan", 100.0),))
    assert parse_arm("class_weights").loss == "weighted_ce"
    assert parse_arm("focal+style").synthetic == (("style", None),)
    for bad in ("magic", "class_weights+focal", "cyclegan@0", ""):
        with pytest.raises(ConfigError):
            parse_arm(bad)


def test_config_validation(tiny_data: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cyclegan_manifest"):
        ExperimentConfig(data=str(tiny_data), out_dir=str(tmp_path), arms=["baseline", "cyclegan@5"])
    with pytest.raises(ConfigError, match="twice"):
        ExperimentConfig(data=str(tiny_data), out_dir=str(tmp_path), arms=["baseline", "baseline"])
    cfg = ExperimentConfig(data=str(tiny_data), out_dir=str(tmp_path), epochs=0)
    assert cfg.epochs_for("resnet34") == 60 and cfg.epochs_for("efficientnet_b3") == 80  # the paper's
    save_job(cfg, tmp_path / "job.yaml")
    assert load_job(tmp_path / "job.yaml") == cfg


def _fake_gan(tmp_path: Path, split_test_file: str) -> Path:
    gen = tmp_path / "gan" / "balanced"
    rows = []
    for i in range(6):
        img = np.full((32, 32), 40, np.uint8)
        img[5:15, 5:15] = 230
        write_image(gen / "defect" / f"gen_{i}.png", img)
        src = split_test_file if i == 0 else f"/elsewhere/normal_src_{i}.png"
        rows.append({"file": f"defect/gen_{i}.png", "class": "defect", "origin": "cyclegan", "source": src})
    (gen / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return gen / "manifest.jsonl"


def test_experiment_runs_arms_and_seeds(tiny_data: Path, tmp_path: Path) -> None:
    from augbench.classify.data import make_split

    out = tmp_path / "exp"
    split = make_split(tiny_data, 0.25, 0.25, seed=0)
    manifest = _fake_gan(tmp_path, split.test[0].path)  # one generated image made from a test image
    cfg = ExperimentConfig(data=str(tiny_data), out_dir=str(out), arms=["baseline", "oversample", "cyclegan@3",
                                                                         "class_weights+classic_aug+cyclegan"],
                           seeds=[0, 1], epochs=1, batch_size=8, image_size=32, channels=1, width=8,
                           val_frac=0.25, test_frac=0.25, cyclegan_manifest=str(manifest))
    prog = ListProgress()
    res = run_job(cfg, progress=prog)
    assert res.status == "completed"
    assert res.metrics["runs"] == 8
    assert any("val/test" in s.reason for s in res.skipped)  # the leaking image was left out
    rec = json.loads(run_path(out, "small_cnn", "cyclegan@3", 1).read_text())
    assert rec["synthetic_added"] == {"cyclegan": 3}
    assert rec["train_counts"]["defect"]["cyclegan"] == 3
    assert rec["n_test"] == len(split.test) and rec["test"]["n"] == len(split.test)
    full = json.loads(run_path(out, "small_cnn", "class_weights+classic_aug+cyclegan", 0).read_text())
    assert full["synthetic_added"] == {"cyclegan": 5}
    assert full["options"]["loss"] == "weighted_ce"
    # Identical split for every arm: the saved split has no synthetic file in val/test.
    saved = json.loads((out / "split.json").read_text())
    assert not any("gen_" in r[0] for r in saved["val"] + saved["test"])
    assert all(r[2] == "real" for r in saved["train"])
    dones = [p for p in prog.reports if p.stage == "run_done"]
    assert len(dones) == 8 and dones[-1].done == dones[-1].total
    for name in ("report.md", "report.html", "summary.csv", "runs.csv", "figures/bars_small_cnn.png",
                 "figures/confusion_small_cnn.png", "figures/curves_small_cnn.png"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    row = next(r for r in summary["rows"] if r["arm"] == "oversample")
    assert row["n_seeds"] == 2 and "macro_f1_vs_baseline" in row
    # Re-running resumes: nothing new is trained.
    again = run_job(cfg)
    assert again.metrics["new_runs"] == 0


def test_cancel_keeps_finished_runs(tiny_data: Path, tmp_path: Path) -> None:
    cfg = ExperimentConfig(data=str(tiny_data), out_dir=str(tmp_path / "e"), arms=["baseline", "focal"], seeds=[0],
                           epochs=1, batch_size=8, image_size=32, width=8)
    token = CancelToken()

    def prog(p):
        if p.stage == "run_done":
            token.cancel()

    res = run_job(cfg, progress=prog, cancel=token)
    assert res.status == "cancelled"
    assert run_path(cfg.out_dir, "small_cnn", "baseline", 0).is_file()
    assert not run_path(cfg.out_dir, "small_cnn", "focal", 0).is_file()
    with pytest.raises(Cancelled):
        run_experiment(cfg, cancel=token)


def test_stats_helpers_match_scipy() -> None:
    a, b = [0.80, 0.85, 0.83, 0.90], [0.78, 0.80, 0.84, 0.85]
    t = paired_tests(a, b)
    assert t["t_p"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert t["wilcoxon_p"] == pytest.approx(stats.wilcoxon(a, b).pvalue)
    assert t["diff_mean"] == pytest.approx(np.mean(np.subtract(a, b)))
    assert paired_tests([0.5, 0.5], [0.5, 0.5])["t_p"] is None
    lo, hi = bootstrap_ci([0.7, 0.8, 0.9])
    assert 0.7 - 1e-9 <= lo < 0.8 < hi <= 0.9 + 1e-9
    assert bootstrap_ci([0.5]) == (0.5, 0.5)


def test_cli_report_rebuilds_from_json(tiny_data: Path, tmp_path: Path, capsys) -> None:
    from augbench.cli import main

    cfg = ExperimentConfig(data=str(tiny_data), out_dir=str(tmp_path / "e"), arms=["baseline", "oversample"],
                           seeds=[0], epochs=1, batch_size=8, image_size=32, width=8)
    save_job(cfg, tmp_path / "job.yaml")
    assert main(["bench", "run", str(tmp_path / "job.yaml"), "-q"]) == 0
    (tmp_path / "e" / "report.md").unlink()
    assert main(["bench", "report", str(tmp_path / "e")]) == 0
    assert "oversample" in capsys.readouterr().out
    assert "| small_cnn | oversample | 1 |" in (tmp_path / "e" / "report.md").read_text()
    with pytest.raises(DatasetError):
        build_report(tmp_path / "empty")


def test_bench_train_job_writes_a_loadable_checkpoint(tiny_data: Path, tmp_path: Path) -> None:
    from augbench.classify.jobs import TrainConfig
    from augbench.classify.trainer import load_checkpoint

    cfg = TrainConfig(data=str(tiny_data), out_dir=str(tmp_path / "t"), epochs=1, batch_size=8, image_size=32,
                      channels=1, loss="focal", sampler="weighted", augment=True)
    res = run_job(cfg)
    assert res.status == "completed" and 0 <= res.metrics["test_accuracy"] <= 1
    model, meta = load_checkpoint(tmp_path / "t" / "best.pt")
    assert meta["channels"] == 1 and meta["train_options"]["loss"] == "focal"
    assert model(__import__("torch").rand(1, 1, 32, 32)).shape == (1, 2)
    with pytest.raises(ConfigError):
        TrainConfig(data=str(tiny_data), out_dir=str(tmp_path), pretrained="imagenet")
