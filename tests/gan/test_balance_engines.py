"""Balance job with the transplant engine, the realism gate, the leak guard and bad inputs (issues 10, 14, 15)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from gan_helpers import cell, write_cells

from augbench.core.dataset import scan_dataset
from augbench.core.errors import ConfigError
from augbench.core.imageio import read_image
from augbench.core.runfolder import iter_manifest
from augbench.gan.balance import BalanceConfig, run_balance
from augbench.gan.leakguard import leak_check
from augbench.gan.quality import QualityGateError, realism_gate

FAST = dict(kid_features="pixels", gate_n=8, max_reference_normals=20)


@pytest.fixture
def split_cells(tmp_path: Path) -> Path:
    root = write_cells(tmp_path / "ds", {"normal": 12, "defect": 4}, split="train", ext=".jpg")
    write_cells(root, {"normal": 3, "defect": 2}, split="test", seed0=500)
    return root


def test_transplant_balance_writes_like_the_source_with_masks_and_provenance(tmp_path: Path, split_cells: Path):
    out = tmp_path / "bal"
    res = run_balance(BalanceConfig(dataset=str(split_cells), out_dir=str(out), normal_class="normal",
                                    defect_classes=("defect",), **FAST))
    assert res.status == "completed" and res.metrics["engine"] == "transplant"
    info = scan_dataset(out)
    assert info.class_counts("train") == {"defect": 12, "normal": 12}  # masks/ are not counted as images
    assert info.class_counts("test") == {"defect": 2, "normal": 3}
    gen = [r for r in iter_manifest(out / "manifest.jsonl") if r.get("synthetic")]
    assert len(gen) == 8
    for r in gen:
        assert r["origin"] == r["engine"] == "transplant"
        assert r["file"].endswith(".jpg")  # the source normal's format ...
        img = read_image(out / r["file"], mode="auto")
        assert img.shape == (120, 120)  # ... and resolution
        mask = read_image(out / r["mask"], mode="gray")
        assert mask.shape == (120, 120) and (mask == 255).sum() > 10
        assert r["source"].startswith("train/normal/")
        assert len(r["defect_sources"]) == 1 and r["defect_sources"][0].startswith("train/defect/")
    report = json.loads((tmp_path / "bal_report" / "report.json").read_text())
    assert report["leak_guard"]["checked_rows"] == 8 and report["leak_guard"]["leaks"] == 0
    assert report["translators"][0]["gate"]["passed"] is True
    assert (tmp_path / "bal_report" / "grid_defect.png").exists()


def test_one_bad_image_is_skipped_reported_and_not_counted(tmp_path: Path) -> None:
    root = write_cells(tmp_path / "ds", {"normal": 10, "defect": 3})
    (root / "defect" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    res = run_balance(BalanceConfig(dataset=str(root), out_dir=str(tmp_path / "o"), normal_class="normal",
                                    defect_classes=("defect",), **FAST))
    assert res.status == "completed"
    assert res.metrics["counts_before"]["defect"] == 3  # the broken file is not counted ...
    assert res.metrics["generated"] == 7  # ... so the plan fills 3 -> 10
    assert [Path(s.path).name for s in res.skipped] == ["broken.png"] and "unreadable" in res.skipped[0].reason
    assert not (tmp_path / "o" / "defect" / "broken.png").exists()


def test_unknown_class_names_are_config_errors(tmp_path: Path) -> None:
    root = write_cells(tmp_path / "ds", {"normal": 6, "defect": 2})
    with pytest.raises(ConfigError, match="crack") as exc:
        run_balance(BalanceConfig(dataset=str(root), out_dir=str(tmp_path / "o"), normal_class="normal",
                                  defect_classes=("defect", "crack"), **FAST))
    assert exc.value.field == "defect_classes"
    with pytest.raises(ConfigError) as exc:
        run_balance(BalanceConfig(dataset=str(root), out_dir=str(tmp_path / "p"), normal_class="good",
                                  defect_classes=("defect",), **FAST))
    assert exc.value.field == "normal_class"


def test_outputs_that_fail_the_gate_are_written_only_with_consent(tmp_path: Path, monkeypatch) -> None:
    import augbench.gan.transplant as tp

    def noise(normals, defects, n, *, seed, start=0, **_kw):
        r = np.random.default_rng([seed, start])
        return [(r.integers(0, 256, (120, 120), dtype=np.uint8), np.full((120, 120), 255, np.uint8),
                 {"normal": 0, "defect": 0, "index": start + i, "blend": "ratio", "patches": []}) for i in range(n)]

    monkeypatch.setattr(tp, "synthesize", noise)
    root = write_cells(tmp_path / "ds", {"normal": 10, "defect": 4})
    cfg = BalanceConfig(dataset=str(root), out_dir=str(tmp_path / "o"), normal_class="normal",
                        defect_classes=("defect",), **FAST)
    with pytest.raises(QualityGateError, match="texture") as exc:
        run_balance(cfg)
    assert not exc.value.report.passed
    assert not list((tmp_path / "o").rglob("gen_*"))  # nothing written without consent
    assert json.loads((tmp_path / "o_report" / "gate.json").read_text())["passed"] is False
    import dataclasses

    res = run_balance(dataclasses.replace(cfg, allow_failed_quality=True))
    assert len(list((tmp_path / "o" / "defect").glob("gen_*"))) == 6
    assert "FAILED" in res.metrics["gate_defect"]


def _cells(n: int, seed0: int, **kw) -> list[np.ndarray]:
    return [cell(seed0 + i, **kw) for i in range(n)]


def test_realism_gate_fails_noise_and_copies_and_passes_real_defects() -> None:
    real = _cells(24, 0, crack=True, blob=True)
    normals = _cells(16, 300)
    r = np.random.default_rng(0)
    noise = [r.integers(0, 256, (120, 120), dtype=np.uint8) for _ in range(16)]
    rep = realism_gate(noise, real, normals, features="pixels")
    assert not rep.passed and {c.name for c in rep.checks if not c.passed} >= {"realism", "texture"}
    rep = realism_gate([n.copy() for n in normals], real, normals, features="pixels")
    assert not rep.passed and not next(c for c in rep.checks if c.name == "copy").passed
    held_out = _cells(16, 700, crack=True, blob=True)  # real defects the reference set does not contain
    rep = realism_gate(held_out, real, normals, features="pixels")
    assert rep.passed, rep.summary()
    rep = realism_gate(real[:8], real, normals, features="pixels")  # the reference images themselves
    assert not rep.passed and not next(c for c in rep.checks if c.name == "duplicates").passed


def test_leak_guard_checks_translated_sources_and_defect_sources(tmp_path: Path) -> None:
    rows = [{"file": "a.png", "synthetic": True, "source": "train/normal/n1.png", "defect_sources": ["train/defect/d1.png"]},
            {"file": "b.png", "synthetic": True, "source": "train/normal/n2.png", "defect_sources": ["test/defect/d9.png"]},
            {"file": "c.png", "origin": "cyclegan", "source": str(tmp_path / "test" / "normal" / "n7.png")},
            {"file": "test/defect/d9.png", "origin": "original", "source": "test/defect/d9.png"}]
    forbidden = [tmp_path / "test" / "defect" / "d9.png", tmp_path / "test" / "normal" / "n7.png"]
    leaks = leak_check(rows, forbidden, tmp_path)
    assert [x["file"] for x in leaks] == ["b.png", "c.png"]  # originals are not synthetic rows
    assert leak_check(rows[:1], forbidden, tmp_path) == []


def test_cyclegan_whitening_applies_to_the_copied_originals_too(tmp_path: Path) -> None:
    root = write_cells(tmp_path / "ds", {"normal": 8, "defect": 2})
    res = run_balance(BalanceConfig(dataset=str(root), out_dir=str(tmp_path / "o"), normal_class="normal",
                                    defect_classes=("defect",), engine="cyclegan", whiten="otsu", size=32, ngf=8,
                                    n_blocks=1, epochs=1, steps_per_epoch=1, kid_features="pixels", n_holdout=2,
                                    sample_every=0, device="cpu", quality_gate=False))
    assert res.status == "completed"
    src = cv2.imread(str(root / "normal" / "normal_0000.png"), cv2.IMREAD_GRAYSCALE)
    copied = read_image(tmp_path / "o" / "normal" / "normal_0000.png", mode="gray")
    assert src[0, 0] == 20 and copied[0, 0] == 255  # the dark surround was whitened like the GAN's inputs
    rows = [r for r in iter_manifest(tmp_path / "o" / "manifest.jsonl") if r["origin"] == "original"]
    assert rows and all(r.get("whiten") == "otsu" for r in rows)


def test_cli_gan_transplant_and_balance_engine_override(tmp_path: Path) -> None:
    import yaml

    from augbench.cli import main

    root = write_cells(tmp_path / "ds", {"normal": 8, "defect": 4})
    assert main(["gan", "transplant", str(root / "normal"), str(root / "defect"), "-o", str(tmp_path / "t"),
                 "-n", "5", "--kid-features", "pixels"]) == 0
    rows = [r for r in iter_manifest(tmp_path / "t" / "manifest.jsonl") if r.get("synthetic")]
    assert len(rows) == 5 and all((tmp_path / "t" / r["file"]).exists() for r in rows)
    job = {"kind": "gan.balance", "dataset": str(root), "out_dir": str(tmp_path / "b"), "normal_class": "normal",
           "defect_classes": ["defect"], "engine": "cyclegan", "kid_features": "pixels", "gate_n": 4}
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(job))
    assert main(["balance", str(tmp_path / "job.yaml"), "--engine", "transplant"]) == 0
    gen = [r for r in iter_manifest(tmp_path / "b" / "manifest.jsonl") if r.get("synthetic")]
    assert len(gen) == 4 and {r["engine"] for r in gen} == {"transplant"}
    job["defect_classes"] = ["nope"]
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({**job, "out_dir": str(tmp_path / "c")}))
    assert main(["balance", str(tmp_path / "bad.yaml")]) == 2


def test_native_cyclegan_writes_whole_images_at_source_size_with_attention_masks(tmp_path: Path) -> None:
    root = write_cells(tmp_path / "ds", {"normal": 8, "defect": 3}, ext=".jpg")
    res = run_balance(BalanceConfig(dataset=str(root), out_dir=str(tmp_path / "o"), normal_class="normal",
                                    defect_classes=("defect",), engine="cyclegan", native=True, size=32, ngf=8,
                                    n_blocks=1, epochs=1, steps_per_epoch=2, kid_features="pixels", n_holdout=2,
                                    sample_every=0, device="cpu", quality_gate=False))
    assert res.status == "completed"
    rows = [r for r in iter_manifest(tmp_path / "o" / "manifest.jsonl") if r.get("synthetic")]
    assert len(rows) == 5
    for r in rows:
        assert r["file"].endswith(".jpg") and read_image(tmp_path / "o" / r["file"], mode="auto").shape == (120, 120)
        assert read_image(tmp_path / "o" / r["mask"], mode="gray").shape == (120, 120)
    from augbench.gan.trainer import load_checkpoint

    ckpt = load_checkpoint(tmp_path / "o_gan" / "defect" / "best.pt")
    assert ckpt["config"]["full_size"] == 120 and ckpt["config"]["generator"] == "attention"
