import json
import math
from pathlib import Path

from augbench.cli import main
from augbench.core.jobs import load_job, run_job, save_job
from augbench.label.jobs import LabelsConvertJob, LabelsStatsJob
from augbench.label.stats import compute_stats


def test_stats_count_classes_missing_empty_and_unreadable(voc_folder: Path) -> None:
    (voc_folder / "img2.xml").write_text("<annotation><object>", encoding="utf-8")  # broken
    (voc_folder / "img3.png").write_bytes((voc_folder / "img0.png").read_bytes())
    (voc_folder / "img3.txt").write_text("", encoding="utf-8")  # an empty YOLO file = no objects
    st = compute_stats(voc_folder, "voc")
    assert st.n_images == 4 and st.n_labelled == 3 and st.n_boxes == 4
    assert st.class_counts == {"dog": 2, "고양이": 2} or st.class_counts == {"고양이": 2, "dog": 2}
    assert st.empty == ["img3.txt"] and st.missing == []
    assert [f for f, _ in st.unreadable] == ["img2.xml"]
    assert st.boxes_per_image == {0: 1, 2: 2}
    assert sum(st.size_hist.values()) == 4 and st.imbalance == 1.0
    assert "boxes per class" in st.to_text()


def test_imbalance_is_inf_when_a_known_class_has_no_box(tmp_path: Path, voc_folder: Path) -> None:
    (voc_folder / "classes.txt").write_text("dog\n고양이\nbird\n", encoding="utf-8")
    st = compute_stats(voc_folder, "voc")
    assert st.class_counts["bird"] == 0 and math.isinf(st.imbalance)
    assert list(st.class_counts) == ["dog", "고양이", "bird"]


def test_convert_job_round_trips_through_a_job_file(tmp_path: Path, voc_folder: Path) -> None:
    cfg = LabelsConvertJob(folder=str(voc_folder), src="voc", dst="yolo", classes=("dog",))
    save_job(cfg, tmp_path / "job.yaml")
    assert load_job(tmp_path / "job.yaml") == cfg
    res = run_job(cfg)
    assert res.status == "completed" and res.metrics["class_names"] == ["dog", "고양이"]
    assert (voc_folder / "classes.txt").read_text(encoding="utf-8") == "dog\n고양이\n"
    assert (voc_folder / ".augbench" / "label.convert" / "result.json").is_file()


def test_cli_convert_to_coco_and_stats(voc_folder: Path, capsys) -> None:
    assert main(["labels", "convert", "--from", "voc", "--to", "coco", str(voc_folder), "-q"]) == 0
    data = json.loads((voc_folder / "annotations.json").read_text(encoding="utf-8"))
    assert len(data["annotations"]) == 4
    assert main(["labels", "convert", "--from", "voc", "--to", "yolo", str(voc_folder), "-q"]) == 0
    assert (voc_folder / "img0.txt").read_text().count("\n") == 2
    capsys.readouterr()
    assert main(["labels", "stats", str(voc_folder), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["n_boxes"] == 4 and stats["missing"] == ["img2.png"]
    assert main(["labels", "stats", str(voc_folder)]) == 0
    assert "imbalance" in capsys.readouterr().out


def test_convert_config_rejects_same_format(voc_folder: Path) -> None:
    import pytest

    from augbench.core.errors import ConfigError

    with pytest.raises(ConfigError, match="dst"):
        LabelsConvertJob(folder=str(voc_folder), src="voc", dst="voc")
    res = run_job(LabelsStatsJob(folder=str(voc_folder), prefer="voc"))
    assert Path(res.outputs[0]).name == "stats.json"
