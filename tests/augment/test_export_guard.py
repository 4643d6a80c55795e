"""The export never loses or mislabels data: nesting, one job per folder, class ids, temporaries, modes, workers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from imgfactory import make_photo

from augbench.augment.export import AugmentJob
from augbench.core.errors import ConfigError
from augbench.core.guard import OutputBusyError, RerunMismatchError
from augbench.core.imageio import IMAGE_EXTS, write_image
from augbench.core.jobs import run_job

FLIP = [{"name": "HorizontalFlip", "p": 1.0}]


def _flat_set(root: Path, n: int = 3) -> Path:
    for i in range(n):
        write_image(root / f"p{i}.jpg", make_photo(64, 48, seed=i))
        (root / f"p{i}.txt").write_text("0 0.5 0.5 0.25 0.25\n", encoding="utf-8")
    (root / "classes.txt").write_text("cat\n", encoding="utf-8")
    return root


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_output_inside_the_input_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    src = _flat_set(tmp_path / "in")
    before = _snapshot(src)
    for out in (src, src / "sub", src / "sub" / ".." / "aug"):
        with pytest.raises(ConfigError) as exc:
            run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=FLIP, copies=1, workers=1))
        assert exc.value.field == "output_dir"
    assert _snapshot(src) == before


def test_a_second_job_into_a_busy_folder_is_refused(tmp_path: Path) -> None:
    src, out = _flat_set(tmp_path / "in"), tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".augbench.lock").write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(),
                                                        "kind": "augment.export", "started": "08:00"}))
        with pytest.raises(OutputBusyError, match="in use by another augbench job"):
            run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=FLIP, copies=1, workers=1))
        assert [p.name for p in out.iterdir()] == [".augbench.lock"]  # no mixed outputs
    finally:
        holder.kill()
        holder.wait()


def test_rerun_with_another_pipeline_is_refused_more_copies_is_not(tmp_path: Path) -> None:
    src, out = _flat_set(tmp_path / "in"), tmp_path / "out"
    run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=FLIP, copies=1, workers=1))
    job_yaml = (out / "job.yaml").read_text(encoding="utf-8")
    with pytest.raises(RerunMismatchError) as exc:
        run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=[{"name": "VerticalFlip", "p": 1.0}],
                           copies=1, workers=1))
    assert "steps:" in str(exc.value) and "VerticalFlip" in str(exc.value)
    assert (out / "job.yaml").read_text(encoding="utf-8") == job_yaml  # still describes the files
    res = run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=FLIP, copies=2, workers=1))
    assert res.metrics["resumed_outputs"] == 3 and res.metrics["written_images"] == 3


def test_imagefolder_class_ids_are_checked_against_their_own_classes_txt(tmp_path: Path) -> None:
    """Each class folder has its own classes.txt: an id out of ITS range is reported, and classes.txt is copied."""
    src, out = tmp_path / "in", tmp_path / "out"
    for cls, names in (("cat", ["cat"]), ("dog", ["dog", "puppy"])):
        (src / cls).mkdir(parents=True)
        (src / cls / "classes.txt").write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
        for i in range(2):
            write_image(src / cls / f"{cls}{i}.jpg", make_photo(64, 48, seed=i))
            (src / cls / f"{cls}{i}.txt").write_text("1 0.5 0.5 0.25 0.25\n", encoding="utf-8")
    res = run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=FLIP, copies=1, workers=1))
    skipped = {Path(s.path).name: s.reason for s in res.skipped}
    assert set(skipped) == {"cat0.jpg", "cat1.jpg"} and all("out of range" in r for r in skipped.values())
    assert not list((out / "cat").glob("*.txt")) or [p.name for p in (out / "cat").glob("*.txt")] == ["classes.txt"]
    assert (out / "dog" / "dog0_aug000.txt").read_text(encoding="utf-8").split()[0] == "1"  # id kept: puppy
    assert (out / "dog" / "classes.txt").read_text(encoding="utf-8") == "dog\npuppy\n"
    assert (out / "cat" / "classes.txt").read_text(encoding="utf-8") == "cat\n"


def test_outputs_have_normal_permissions_and_no_image_like_temporaries(tmp_path: Path) -> None:
    src, out = _flat_set(tmp_path / "in"), tmp_path / "out"
    old = os.umask(0o022)
    try:
        run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=FLIP, copies=1, workers=1))
    finally:
        os.umask(old)
    for p in out.rglob("*"):
        if p.is_file():
            assert p.stat().st_mode & 0o777 == 0o644, p
            assert not (p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTS), p


def test_bad_parameter_with_several_workers_is_one_clean_error(tmp_path: Path, capfd) -> None:
    src = _flat_set(tmp_path / "in", n=6)
    with pytest.raises(ConfigError) as exc:
        run_job(AugmentJob(input_dir=str(src), output_dir=str(tmp_path / "out"), copies=6, workers=2,
                           steps=[{"name": "Rotate", "params": {"limit": "abc"}, "p": 1.0}]))
    assert "Rotate" in exc.value.field
    assert "Traceback" not in capfd.readouterr().err  # no worker died printing its initializer's traceback


def test_workers_get_a_parent_death_signal(tmp_path: Path) -> None:
    """The prctl request is in place in a worker (Linux); the kill test below checks the effect."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux-only")
    code = textwrap.dedent("""
        import ctypes, multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        from augbench.augment._worker import die_with_parent
        def probe():
            die_with_parent()
            sig = ctypes.c_int()
            ctypes.CDLL(None).prctl(2, ctypes.byref(sig), 0, 0, 0)  # PR_GET_PDEATHSIG
            return sig.value
        if __name__ == "__main__":
            with ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as pool:
                print(pool.submit(probe).result())
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == str(int(signal.SIGTERM)), out.stderr


@pytest.mark.slow
def test_killing_the_export_stops_its_workers(tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    src = tmp_path / "in"
    for i in range(40):
        write_image(src / f"p{i:02d}.png", (np.random.default_rng(i).integers(0, 255, (256, 256, 3))).astype(np.uint8))
    code = textwrap.dedent(f"""
        from augbench.augment.export import AugmentJob
        from augbench.core.jobs import run_job
        run_job(AugmentJob(input_dir={str(src)!r}, output_dir={str(tmp_path / 'out')!r}, copies=20, workers=2,
                           steps=[{{"name": "ElasticTransform", "p": 1.0}}, {{"name": "GaussianBlur", "p": 1.0}}]))
    """)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    parent = psutil.Process(proc.pid)
    workers: list = []
    for _ in range(600):  # wait until the pool is up (at most ~60 s on a loaded machine)
        workers = [c for c in parent.children(recursive=True) if c.is_running()]
        if len(workers) >= 2 or proc.poll() is not None:
            break
        psutil.wait_procs([], timeout=0.1)
    if proc.poll() is not None:
        pytest.skip("the export finished before the pool could be observed")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _gone, alive = psutil.wait_procs(workers, timeout=30)
    for p in alive:
        p.kill()
    assert not alive, f"{len(alive)} worker(s) outlived their killed parent"
