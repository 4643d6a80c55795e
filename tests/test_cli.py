"""The CLI runs the same jobs: augment with flags, run JOB.yaml, demo, schema, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

from badinput import save_jpeg, yolo_line
from imgfactory import make_photo

from augbench.augment.cli import parse_transform
from augbench.cli import main
from augbench.core.jobs import load_job


def _folder(root, n=3):
    for i in range(n):
        save_jpeg(root / f"{i}.jpg", make_photo(48, 32, i))
        (root / f"{i}.txt").write_text(yolo_line(0, (5, 5, 20, 20), 48, 32))
    (root / "classes.txt").write_text("thing\n")
    return root


def test_parse_transform_flags() -> None:
    assert parse_transform("Rotate:limit=-30..30,p=0.8") == {"name": "Rotate", "params": {"limit": [-30, 30]}, "p": 0.8}
    assert parse_transform("HorizontalFlip") == {"name": "HorizontalFlip", "params": {}}


def test_augment_with_flags_then_rerun_saved_job(tmp_path, capsys) -> None:
    src = _folder(tmp_path / "in")
    job = tmp_path / "job.yaml"
    code = main(["augment", str(src), str(tmp_path / "out"), "-n", "2", "-t", "HorizontalFlip:p=1",
                 "-t", "Rotate:limit=-10..10", "--save-job", str(job)])
    assert code == 0
    assert len(list((tmp_path / "out").glob("*_aug*.jpg"))) == 6
    cfg = load_job(job)
    assert cfg.copies == 2 and cfg.steps[1]["params"]["limit"] == [-10, 10]
    assert main(["run", str(job), "-q"]) == 0
    out = capsys.readouterr().out
    assert "augment.export: completed" in out


def test_bad_job_file_gives_exit_2_and_names_the_field(tmp_path, capsys) -> None:
    job = tmp_path / "j.yaml"
    job.write_text("kind: augment.export\ninput_dir: a\noutput_dir: b\ncopies: 0\nsteps: [{name: HorizontalFlip}]\n")
    assert main(["run", str(job)]) == 2
    err = capsys.readouterr().err
    assert "copies" in err and "[1, 10000]" in err


def test_jobs_and_schema(capsys) -> None:
    assert main(["jobs"]) == 0
    assert "augment.export" in capsys.readouterr().out
    assert main(["schema", "augment.export"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "augment.export" and data["copies"] == 3
    assert main(["schema", "augment"]) == 0  # an old name prints the template under the new one
    assert json.loads(capsys.readouterr().out)["kind"] == "augment.export"


def test_demo_runs_headless_as_a_console_script(tmp_path) -> None:
    exe = [sys.executable, "-m", "augbench.cli", "demo", "--out", str(tmp_path / "demo"), "-n", "2"]
    out = subprocess.run(exe, capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "demo" / "preview_sheet.png").stat().st_size > 10000
    assert len(list((tmp_path / "demo" / "augmented").glob("*_aug*.jpg"))) == 8
    assert "preview sheet" in out.stdout
