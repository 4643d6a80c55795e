"""A normal (non-editable) install ships everything ``augbench demo`` needs.

The development install is editable, which hides a missing package-data rule:
the sample, the selector table and the decoder weights are read from the
checkout. Here a wheel is built from a copy of the sources, installed with
``pip install --target`` into an empty folder, and ``python -m augbench.cli demo``
runs from that folder (with the venv's site-packages only for the
dependencies), far away from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"{cmd}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def test_wheel_installs_and_runs_the_demo(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "augbench", src / "augbench", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(src)],
         cwd=tmp_path)
    (wheel,) = wheels.glob("augbench-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in ("sample/classes.txt", "sample/astronaut.jpg", "crawl/naver.yaml", "style/decoder_vgg16.pt"):
        assert f"augbench/resources/{data}" in names, data
    assert any(n.startswith("augbench/resources/sample/masks/") for n in names)
    assert not any(n.startswith(("tests/", "scripts/", "experiments/")) for n in names)

    target = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], cwd=tmp_path)
    shutil.rmtree(src)  # nothing may be read from the build copy either

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AUGBENCH_RESOURCES")}
    env.update(PYTHONPATH=str(target), QT_QPA_PLATFORM="offscreen", NO_ALBUMENTATIONS_UPDATE="1", OMP_NUM_THREADS="1")
    where = _run([sys.executable, "-c", "import augbench, augbench.core.paths as p; print(augbench.__file__);"
                  "print(p.sample_dataset_dir())"], cwd=run_dir, env=env).stdout.split()
    assert all(Path(w).is_relative_to(target) for w in where), where  # the installed copy, not the checkout

    _run([sys.executable, "-m", "augbench.cli", "demo", "--out", str(run_dir / "demo")], cwd=run_dir, env=env)
    demo = run_dir / "demo"
    assert (demo / "preview_sheet.png").stat().st_size > 10_000
    result = json.loads(next(demo.rglob("result.json")).read_text(encoding="utf-8"))
    assert result["status"] == "completed" and not result["skipped"]
    assert len(result["outputs"]) >= 4
