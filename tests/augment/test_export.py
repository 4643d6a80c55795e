"""The export job: bad inputs, label rewriting, determinism, resume, empty policy, masks, cancel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from badinput import build_voc_bad_folder, build_yolo_bad_folder, save_jpeg, yolo_line
from imgfactory import make_photo

from augbench.augment.export import AugmentJob, output_seed
from augbench.core.imageio import read_image
from augbench.core.jobs import load_job, run_job
from augbench.core.progress import CancelToken, ListProgress, Progress
from augbench.core.runfolder import iter_manifest
from augbench.label.voc import read_voc
from augbench.label.yolo import read_yolo

FLIP = [{"name": "HorizontalFlip", "p": 1.0}]


def _by_source(out: Path) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for r in iter_manifest(out / "manifest.jsonl"):
        rows.setdefault(Path(r["source"]).name, []).append(r)
    return rows


def test_yolo_bad_folder(tmp_path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    expected = build_yolo_bad_folder(src)
    res = run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=FLIP, copies=2, workers=1))
    assert res.status == "completed"
    skipped = {Path(s.path).name: s.reason for s in res.skipped}
    for name, outcome in expected.items():
        if outcome == "skipped":
            assert name in skipped, f"{name} should be skipped with a reason"
        else:
            assert name not in skipped, f"{name}: {skipped.get(name)}"
            assert len(_by_source(out)[name]) == 2
    assert "found 4" in skipped["four_fields.jpg"] and "four_fields.txt:1:" in skipped["four_fields.jpg"]
    assert "out of range" in skipped["bad_class.jpg"]
    assert "empty" in skipped["zero.jpg"]
    # flip rewrote the YOLO box of the good image: cx -> 1 - cx, class ids unchanged
    ann = read_yolo(out / "good_aug000.txt", 96, 64, ["cat", "dog"])
    assert [b.label for b in ann.boxes] == ["cat", "dog"]
    assert ann.boxes[0].x1 == pytest.approx(96 - 50, abs=0.01) and ann.boxes[0].x2 == pytest.approx(96 - 10, abs=0.01)
    # EXIF-rotated: written upright (64 wide, 96 high) with the box in displayed coordinates
    img = read_image(out / "rotated_aug000.jpg")
    assert img.shape[:2] == (96, 64)
    rb = read_yolo(out / "rotated_aug000.txt", 64, 96, ["cat", "dog"]).boxes[0]
    assert (rb.x1, rb.y1, rb.x2, rb.y2) == pytest.approx((64 - 40, 50, 64 - 4, 90), abs=0.01)
    # Korean folder mirrored
    assert (out / "한글 폴더" / "고양이 사진_aug001.jpg").exists()
    assert (out / "classes.txt").read_text() == "cat\ndog\n"
    assert (read_image(out / "deep16_aug000.png").dtype == np.uint8)
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert len(result["skipped"]) == len(skipped)


def test_voc_bad_folder(tmp_path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    expected = build_voc_bad_folder(src)
    res = run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=FLIP, copies=1, workers=1))
    skipped = {Path(s.path).name: s.reason for s in res.skipped}
    assert set(skipped) == {n for n, o in expected.items() if o == "skipped"}
    assert "DTD" in skipped["entity.jpg"] or "unsafe" in skipped["entity.jpg"]
    assert any("clipped" in w for w in res.metrics["warnings"])
    ann = read_voc(out / "outside_aug000.xml")
    b = ann.boxes[0]
    assert ann.width == 96 and b.label == "dog"
    assert b.x1 >= 0 and b.x2 <= 96 and b.y2 <= 64  # clipped then flipped
    assert (b.x1, b.x2) == pytest.approx((1, 26), abs=1.01)


def test_same_seed_same_outputs_whatever_the_workers(tmp_path) -> None:
    src = tmp_path / "in"
    for i in range(12):
        save_jpeg(src / f"{i:02d}.jpg", make_photo(64, 48, i))
        (src / f"{i:02d}.txt").write_text(yolo_line(0, (10, 10, 40, 30), 64, 48))
    steps = [{"name": "Affine", "params": {"rotate": [-30, 30]}, "p": 1.0}, {"name": "GaussNoise", "p": 0.5}]
    a = run_job(AugmentJob(input_dir=str(src), output_dir=str(tmp_path / "a"), steps=steps, copies=2, workers=1))
    b = run_job(AugmentJob(input_dir=str(src), output_dir=str(tmp_path / "b"), steps=steps, copies=2, workers=2))
    assert a.metrics["workers"] == 1 and b.metrics["workers"] == 2
    for name in ("03_aug001.jpg", "11_aug000.jpg"):
        assert np.array_equal(read_image(tmp_path / "a" / name), read_image(tmp_path / "b" / name))
    for name in ("03_aug001.txt", "11_aug000.txt"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    rows = _by_source(tmp_path / "a")["05.jpg"]
    assert rows[0]["seed"] == output_seed(0, "05.jpg", 0)
    assert rows[0]["applied"][0]["transform"] == "Affine"
    assert isinstance(rows[0]["applied"][0]["params"]["rotate"], float)


def test_rerun_resumes_without_duplicates(tmp_path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    for i in range(3):
        save_jpeg(src / f"{i}.jpg", make_photo(32, 32, i))
    cfg = AugmentJob(input_dir=str(src), output_dir=str(out), steps=FLIP, copies=2, workers=1)
    run_job(cfg)
    first = (out / "1_aug000.jpg").stat().st_mtime_ns
    again = run_job(cfg)
    assert again.metrics["resumed_outputs"] == 6 and again.outputs == []
    assert (out / "1_aug000.jpg").stat().st_mtime_ns == first
    assert len(list(iter_manifest(out / "manifest.jsonl"))) == 6
    assert load_job(out / "job.yaml") == cfg


@pytest.mark.parametrize("policy", ["keep", "drop"])
def test_empty_after_augmentation_policy(tmp_path, policy) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    save_jpeg(src / "a.jpg", make_photo(100, 100, 1))
    (src / "a.txt").write_text(yolo_line(0, (0, 0, 15, 15), 100, 100))  # corner box, cropped away below
    steps = [{"name": "CenterCrop", "params": {"height": 40, "width": 40}, "p": 1.0}]
    res = run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=steps, copies=1, empty_policy=policy))
    row = _by_source(out)["a.jpg"][0]
    assert row["dropped_boxes"] == [0] and res.metrics["empty_after_aug"] == 1
    if policy == "keep":
        assert row["status"] == "empty_labels"
        assert (out / "a_aug000.txt").read_text() == "" and (out / "a_aug000.jpg").exists()
    else:
        assert row["status"] == "dropped_empty" and not (out / "a_aug000.jpg").exists()
        assert res.metrics["dropped_images"] == 1


def test_masks_follow_and_imagefolder_layout_is_kept(tmp_path) -> None:
    from PIL import Image

    src, out = tmp_path / "in", tmp_path / "out"
    save_jpeg(src / "cats" / "c.jpg", make_photo(40, 20, 1))
    mask = np.zeros((20, 40), np.uint8)
    mask[:, :10] = 3
    (src / "cats" / "masks").mkdir()
    Image.fromarray(mask).save(src / "cats" / "masks" / "c.png")
    save_jpeg(src / "dogs" / "d.jpg", make_photo(40, 20, 2))
    run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=FLIP, copies=1))
    m = np.asarray(Image.open(out / "cats" / "masks" / "c_aug000.png"))
    assert set(np.unique(m)) == {0, 3} and (m[:, 30:] == 3).all() and (m[:, :30] == 0).all()
    assert (out / "dogs" / "d_aug000.jpg").exists()


def test_cancel_mid_export_leaves_only_complete_files(tmp_path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    for i in range(40):
        save_jpeg(src / f"{i:02d}.jpg", make_photo(64, 64, i))
        (src / f"{i:02d}.txt").write_text(yolo_line(0, (5, 5, 30, 30), 64, 64))
    cancel = CancelToken()

    def progress(p: Progress) -> None:
        if p.done >= 5:
            cancel.cancel()

    res = run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=FLIP, copies=1, workers=1),
                  progress=progress, cancel=cancel)
    assert res.status == "cancelled"
    images = sorted(out.glob("*_aug000.jpg"))
    assert 5 <= len(images) < 40
    for img in images:  # every written image decodes and has its label
        read_image(img)
        assert img.with_suffix(".txt").exists()
    assert not list(out.glob(".*tmp*"))
    assert json.loads((out / "result.json").read_text())["status"] == "cancelled"
    # and a re-run finishes the rest
    lp = ListProgress()
    done = run_job(AugmentJob(input_dir=str(src), output_dir=str(out), steps=FLIP, copies=1, workers=1), progress=lp)
    assert done.status == "completed" and len(list(out.glob("*_aug000.jpg"))) == 40


def test_config_errors(tmp_path) -> None:
    from augbench.core.errors import ConfigError

    with pytest.raises(ConfigError, match="steps"):
        AugmentJob(input_dir="a", output_dir="b")
    with pytest.raises(ConfigError, match="output_dir"):
        AugmentJob(input_dir=str(tmp_path), output_dir=str(tmp_path), steps=FLIP)
