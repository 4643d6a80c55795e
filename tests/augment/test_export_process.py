"""The export as a process: how workers start, that none outlives the job, and that the way they
start (fork, spawn, in-process) never changes a byte of the output."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
from pathlib import Path

import pytest
from badinput import save_jpeg, yolo_line
from imgfactory import make_photo

from augbench.augment.export import AugmentJob
from augbench.core.atomic import atomic_write_bytes, is_temporary
from augbench.core.jobs import run_job

STEPS = [{"name": "Affine", "params": {"rotate": [-20, 20], "scale": [0.9, 1.1]}, "p": 1.0},
         {"name": "HueSaturationValue", "p": 1.0}]
LINUX = sys.platform.startswith("linux")


def _yolo_set(root: Path, n: int = 8) -> Path:
    for i in range(n):
        save_jpeg(root / f"{i:02d}.jpg", make_photo(80, 64, seed=i))
        (root / f"{i:02d}.txt").write_text(yolo_line(0, (10, 12, 50, 40), 80, 64), encoding="utf-8")
    (root / "classes.txt").write_text("thing\n", encoding="utf-8")
    return root


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if "_aug" in p.name}


def _children() -> list[int]:
    """Pids of this process's living children (Linux /proc; ``[]`` elsewhere)."""
    task = Path(f"/proc/{os.getpid()}/task")
    if not task.is_dir():
        return []
    pids: list[int] = []
    for t in task.iterdir():
        children = t / "children"
        if children.is_file():
            pids += [int(x) for x in children.read_text().split()]
    return pids


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pool_outputs_equal_in_process_outputs_byte_for_byte(tmp_path: Path, method: str) -> None:
    if method not in mp.get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    src = _yolo_set(tmp_path / "in")
    ref = run_job(AugmentJob(input_dir=str(src), output_dir=str(tmp_path / "ref"), steps=STEPS, copies=3, workers=1))
    res = run_job(AugmentJob(input_dir=str(src), output_dir=str(tmp_path / method), steps=STEPS, copies=3, workers=2,
                             start_method=method))
    assert ref.metrics["start_method"] == "in-process" and res.metrics["start_method"] == method
    a, b = _outputs(tmp_path / "ref"), _outputs(tmp_path / method)
    assert len(a) == 8 * 3 * 2  # an image and a label per copy
    assert a == b


def test_no_worker_outlives_the_export(tmp_path: Path) -> None:
    src = _yolo_set(tmp_path / "in")
    before = set(_children())
    res = run_job(AugmentJob(input_dir=str(src), output_dir=str(tmp_path / "out"), steps=STEPS, copies=4, workers=2))
    assert res.metrics["workers"] == 2 and res.metrics["start_method"] != "in-process"
    assert mp.active_children() == []
    assert set(_children()) <= before  # neither the workers nor a forkserver are left running


@pytest.mark.skipif(not LINUX, reason="the CLI forks its workers on Linux only")
def test_the_cli_forks_its_workers_although_it_shows_a_progress_bar(tmp_path: Path) -> None:
    """tqdm starts a monitor thread with its first bar; the workers must be forked before it exists
    (with another thread running the export would fall back to forkserver, whose workers re-import)."""
    src = _yolo_set(tmp_path / "in")
    out = tmp_path / "out"
    cli = [sys.executable, "-c", "import sys; from augbench.cli import main; sys.exit(main())"]
    proc = subprocess.run([*cli, "augment", str(src), str(out), "-n", "4", "--workers", "2", "-t", "HorizontalFlip"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads((out / "result.json").read_text())["metrics"]
    assert metrics["start_method"] == "fork" and metrics["workers"] == 2
    assert metrics["written_images"] == 8 * 4


def test_albumentations_comes_without_torch_and_torch_still_imports_later() -> None:
    code = ("import sys; import augbench.augment.export as e; assert e.run_export; "
            "print('torch' in sys.modules); import torch; print(torch.zeros(2).sum().item())")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["False", "0.0"]


@pytest.mark.skipif(not LINUX, reason="mallopt is glibc's")
def test_workers_keep_freed_image_memory() -> None:
    code = "from augbench.augment._worker import keep_freed_memory; print(keep_freed_memory())"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.stdout.strip() == "True", proc.stderr[-2000:]


def test_a_failed_atomic_write_leaves_the_target_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    atomic_write_bytes(tmp_path / "new" / "b.bin", b"x", durable=False)  # creates the folder
    assert (tmp_path / "new" / "b.bin").read_bytes() == b"x"
    assert not any(is_temporary(p.name) for p in (tmp_path / "new").iterdir())


@pytest.mark.parametrize("argv", [["--help"], ["augment", "--help"]])
def test_help_imports_neither_torch_nor_albumentations(argv: list[str]) -> None:
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print(sorted(m for m in ('torch', 'albumentations') if m in sys.modules)))\n"
            f"from augbench.cli import main\nmain({argv!r})\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "usage:" in proc.stdout and proc.stdout.strip().endswith("[]")
