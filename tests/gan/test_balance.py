from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from gan_helpers import write_tiny_imagefolder

from augbench.core.dataset import scan_dataset
from augbench.core.jobs import load_job, run_job
from augbench.core.progress import CancelToken, ListProgress
from augbench.core.runfolder import iter_manifest
from augbench.gan.balance import BalanceConfig, run_balance
from augbench.gan.jobs import GanTrainJob, GanTranslateJob
from augbench.gan.trainer import GanConfig

TINY_BAL = dict(engine="cyclegan", size=32, ngf=8, n_blocks=1, epochs=1, steps_per_epoch=2, kid_features="pixels",
                n_holdout=2, sample_every=1, precision="fp32", device="cpu", d_steps=1, quality_gate=False)


def test_balance_split_dataset_generates_only_from_train(tmp_path: Path) -> None:
    root = write_tiny_imagefolder(tmp_path / "ds", {"normal": 8, "defect": 3, "empty_ok": 9}, split="train")
    write_tiny_imagefolder(root, {"normal": 3, "defect": 2}, split="test")
    out = tmp_path / "bal"
    cfg = BalanceConfig(dataset=str(root), out_dir=str(out), normal_class="normal",
                        defect_classes=("defect", "empty_ok"), **TINY_BAL)
    lp = ListProgress()
    result = run_balance(cfg, progress=lp)
    assert result.status == "completed"
    assert result.metrics["counts_before"] == {"defect": 3, "empty_ok": 9, "normal": 8}
    assert result.metrics["counts_after"]["defect"] == 8 and result.metrics["counts_after"]["empty_ok"] == 9
    info = scan_dataset(out)
    assert info.class_counts("train") == {"defect": 8, "empty_ok": 9, "normal": 8}
    assert info.class_counts("test") == {"defect": 2, "normal": 3}  # copied unchanged
    rows = list(iter_manifest(out / "manifest.jsonl"))
    gen = [r for r in rows if r["origin"] == "cyclegan"]
    assert len(gen) == 5
    for r in gen:
        assert {"file", "source", "checkpoint", "epoch", "seed"} <= set(r)
        assert r["source"].startswith("train/normal/")  # never a test image
        assert r["defect_sources"] and all(d.startswith("train/defect/") for d in r["defect_sources"])
        assert r["synthetic"] is True and r["engine"] == "cyclegan"
        assert r["file"].startswith("train/defect/") and (out / r["file"]).exists()
        assert Path(r["checkpoint"]).name == "best.pt"
    report = json.loads((tmp_path / "bal_report" / "report.json").read_text())
    assert report["translators"][0]["history"][0]["kid"] is not None
    assert (tmp_path / "bal_report" / "grid_defect.png").exists()
    assert any(p.stage.startswith("train:defect") and p.preview is not None for p in lp.reports)

    again = run_balance(cfg)  # resume: nothing new is written, nothing duplicated
    assert again.outputs == []
    assert len([r for r in iter_manifest(out / "manifest.jsonl") if r["origin"] == "cyclegan"]) == 5


def test_balance_job_yaml_cancel_and_resume(tmp_path: Path) -> None:
    root = write_tiny_imagefolder(tmp_path / "ds", {"normal": 8, "defect": 2})
    job = {"kind": "gan.balance", "dataset": str(root), "out_dir": str(tmp_path / "o"), "normal_class": "normal",
           "defect_classes": ["defect"], "generated_copy": str(tmp_path / "gen"), **{**TINY_BAL, "epochs": 2}}
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(job))
    cfg = load_job(tmp_path / "job.yaml")
    assert isinstance(cfg, BalanceConfig)
    cancel = CancelToken()

    def stop(p) -> None:
        if p.stage.startswith("epoch"):
            cancel.cancel()

    res = run_job(cfg, progress=stop, cancel=cancel)
    assert res.status == "cancelled"
    ckpt = tmp_path / "o_gan" / "defect" / "last.pt"
    assert ckpt.exists()
    from augbench.cli import main

    assert main(["balance", str(tmp_path / "job.yaml")]) == 0
    hist = json.loads((tmp_path / "o_gan" / "defect" / "history.json").read_text())["history"]
    assert [h["epoch"] for h in hist] == [1, 2]  # resumed at epoch 2, not restarted
    assert len(list((tmp_path / "gen" / "defect").glob("*.png"))) == 6


def test_gan_train_and_translate_jobs(tmp_path: Path) -> None:
    root = write_tiny_imagefolder(tmp_path / "ds", {"normal": 6, "defect": 3})
    model = GanConfig(size=32, ngf=8, n_blocks=1, ndf=8, epochs=1, steps_per_epoch=2, kid_features="pixels",
                      device="cpu", sample_every=0)
    res = run_job(GanTrainJob(str(root / "normal"), str(root / "defect"), str(tmp_path / "t"), model=model,
                              n_holdout=2))
    assert res.status == "completed" and res.metrics["best_epoch"] == 1
    from augbench.gan.trainer import load_checkpoint

    assert load_checkpoint(tmp_path / "t" / "best.pt")["config"]["channels"] == 1  # grey data detected
    tr = run_job(GanTranslateJob(str(tmp_path / "t" / "best.pt"), str(root / "normal"), str(tmp_path / "x")))
    assert len(tr.outputs) == 6
    rows = list(iter_manifest(tmp_path / "x" / "manifest.jsonl"))
    assert rows[0]["origin"] == "cyclegan" and rows[0]["epoch"] == 1


def test_balance_config_validation() -> None:
    from augbench.core.errors import ConfigError

    with pytest.raises(ConfigError):
        BalanceConfig(dataset="d", out_dir="o", normal_class="n", defect_classes=())
    with pytest.raises(ConfigError):
        BalanceConfig(dataset="d", out_dir="o", normal_class="n", defect_classes=("n",))


def test_cli_gan_train_and_translate(tmp_path: Path) -> None:
    from augbench.cli import main

    root = write_tiny_imagefolder(tmp_path / "ds", {"normal": 5, "defect": 3})
    out = tmp_path / "run"
    args = ["gan", "train", str(root / "normal"), str(root / "defect"), "-o", str(out), "--size", "32", "--ngf", "4",
            "--blocks", "1", "--epochs", "1", "--steps-per-epoch", "2", "--kid-features", "pixels", "--precision",
            "fp32", "--reference"]
    assert main(args) == 0
    from augbench.gan.trainer import load_checkpoint

    cfg = load_checkpoint(out / "last.pt")["config"]
    assert cfg["lr"] == 2e-4 and cfg["d_steps"] == 1  # --reference switches to the reference defaults
    assert main(["gan", "translate", str(out / "best.pt"), str(root / "defect"), "-o", str(tmp_path / "t"),
                 "--direction", "BA"]) == 0
    assert len(list((tmp_path / "t").glob("*.png"))) == 3
    assert main(["balance", str(out / "job.yaml")]) == 2  # a gan.train job is not a balance job


def test_balance_with_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tiny_imagefolder(tmp_path / "ds", {"normal": 6, "defect": 2})
    monkeypatch.chdir(tmp_path)
    cfg = BalanceConfig(dataset="ds", out_dir="out", normal_class="normal", defect_classes=("defect",),
                        **{**TINY_BAL, "steps_per_epoch": 1})
    res = run_balance(cfg)
    gen = [r for r in iter_manifest(tmp_path / "out" / "manifest.jsonl") if r["origin"] == "cyclegan"]
    assert res.status == "completed" and len(gen) == 4
    assert all(r["file"].startswith("defect/gen_defect_") and (tmp_path / "out" / r["file"]).exists() for r in gen)
