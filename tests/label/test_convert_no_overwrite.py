"""labels convert never overwrites a file it did not write; VOC edge boxes survive flips and round trips."""

from __future__ import annotations

import json
from pathlib import Path

import defusedxml.ElementTree as DET
import pytest

from augbench.cli import main
from augbench.core.errors import AugbenchError
from augbench.core.jobs import run_job
from augbench.label.jobs import LabelsConvertJob
from augbench.label.types import Box, ImageAnnotation
from augbench.label.voc import format_voc, parse_voc, read_voc, write_voc

USER_COCO = {
    "info": {"description": "hand-made"},
    "licenses": [{"id": 1, "name": "CC BY 4.0"}],
    "images": [{"id": 1, "file_name": "img0.png", "width": 60, "height": 40}],
    "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "area": 25, "iscrowd": 0,
                     "segmentation": [[1, 1, 6, 1, 6, 6]]}],
    "categories": [{"id": 1, "name": "dog"}],
}


def test_to_coco_refuses_an_existing_coco_file_and_keeps_it(voc_folder: Path) -> None:
    target = voc_folder / "annotations.json"
    target.write_text(json.dumps(USER_COCO), encoding="utf-8")
    before = target.read_bytes()
    with pytest.raises(AugbenchError, match="not written by label.convert"):
        run_job(LabelsConvertJob(folder=str(voc_folder), src="voc", dst="coco"))
    assert target.read_bytes() == before  # segmentation and licenses still there


def test_coco_file_pointed_at_any_file_is_refused(tmp_path: Path, voc_folder: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# my notes\n", encoding="utf-8")
    with pytest.raises(AugbenchError, match="already exists"):
        run_job(LabelsConvertJob(folder=str(voc_folder), src="voc", dst="coco", coco_file=str(readme)))
    assert readme.read_text(encoding="utf-8") == "# my notes\n"


def test_backup_keeps_the_old_file_and_says_so(voc_folder: Path) -> None:
    target = voc_folder / "annotations.json"
    target.write_text(json.dumps(USER_COCO), encoding="utf-8")
    before = target.read_bytes()
    res = run_job(LabelsConvertJob(folder=str(voc_folder), src="voc", dst="coco", backup=True))
    assert (voc_folder / "annotations.json.bak").read_bytes() == before
    assert "kept 1 old file(s) as .bak" in res.message
    assert len(json.loads(target.read_text(encoding="utf-8"))["annotations"]) == 4


def test_a_file_written_by_an_earlier_convert_is_regenerated_unless_edited(voc_folder: Path) -> None:
    cfg = LabelsConvertJob(folder=str(voc_folder), src="voc", dst="coco")
    run_job(cfg)
    assert run_job(cfg).status == "completed"  # its own, unchanged file: regenerated
    target = voc_folder / "annotations.json"
    data = json.loads(target.read_text(encoding="utf-8"))
    data["licenses"] = [{"id": 1, "name": "added by hand"}]
    target.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(AugbenchError, match="edited since"):
        run_job(cfg)
    assert "added by hand" in target.read_text(encoding="utf-8")


def test_existing_yolo_files_are_skipped_not_overwritten(voc_folder: Path) -> None:
    (voc_folder / "img0.txt").write_text("0 0.5 0.5 0.2 0.2\n", encoding="utf-8")  # hand-made YOLO label
    res = run_job(LabelsConvertJob(folder=str(voc_folder), src="voc", dst="yolo"))
    assert (voc_folder / "img0.txt").read_text(encoding="utf-8") == "0 0.5 0.5 0.2 0.2\n"
    assert any("img0.png" in s.path and "not overwritten" in s.reason for s in res.skipped)
    assert (voc_folder / "img1.txt").is_file()


def test_cli_refusal_is_one_line_and_exit_2(voc_folder: Path, capfd) -> None:
    (voc_folder / "annotations.json").write_text(json.dumps(USER_COCO), encoding="utf-8")
    assert main(["labels", "convert", "--from", "voc", "--to", "coco", str(voc_folder), "-q"]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("augbench: ") and "--backup" in err[0]


# ----------------------------------------------------------------------------- VOC edges (1-based convention)


def _corners(xml: str) -> list[list[int]]:
    root = DET.fromstring(xml)
    return [[int(o.findtext(f"bndbox/{t}")) for t in ("xmin", "ymin", "xmax", "ymax")] for o in root.findall("object")]


@pytest.mark.parametrize("box", [(0, 0, 10, 8), (90, 52, 100, 60), (0, 0, 100, 60), (37, 11, 38, 12)])
def test_edge_boxes_round_trip_exactly_and_flip_exactly(box: tuple[int, int, int, int]) -> None:
    w, h = 100, 60
    ann = ImageAnnotation(Path("a.png"), w, h, 3, [Box(*box, "a")])
    back = parse_voc(format_voc(ann)).boxes[0]
    assert back.xyxy() == pytest.approx(box)
    flipped = Box(w - box[2], box[1], w - box[0], box[3], "a")  # what HorizontalFlip does to the box
    (fx1, fy1, fx2, fy2), = _corners(format_voc(ImageAnnotation(Path("a.png"), w, h, 3, [flipped])))
    x1, y1, x2, y2 = _corners(format_voc(ann))[0]
    assert (fx1, fx2) == (w + 1 - x2, w + 1 - x1)  # pixel i maps to pixel W + 1 - i: no one-pixel shift
    assert (fy1, fy2) == (y1, y2)


def test_full_width_box_is_1_to_w() -> None:
    ann = ImageAnnotation(Path("a.png"), 100, 60, 3, [Box(0, 0, 100, 60, "a")])
    assert _corners(format_voc(ann)) == [[1, 1, 100, 60]]


@pytest.mark.parametrize("x1, x2", [(10.2, 10.6), (10.6, 10.9), (0.0, 0.3), (99.8, 100.0)])
def test_sub_pixel_boxes_are_written_one_pixel_wide_and_read_back(tmp_path: Path, x1: float, x2: float) -> None:
    ann = ImageAnnotation(Path("a.png"), 100, 60, 3, [Box(x1, 5, x2, 9, "tiny"), Box(20, 20, 40, 40, "ok")])
    path = write_voc(tmp_path / "a.xml", ann)
    (xmin, _, xmax, _), _ = _corners(path.read_text(encoding="utf-8"))
    assert xmin == xmax and 1 <= xmin <= 100
    back = read_voc(path)  # the whole file still reads
    assert [b.label for b in back.boxes] == ["tiny", "ok"]
    tiny = back.boxes[0]
    assert tiny.width == 1 and tiny.x1 <= x1 + 0.5 and tiny.x2 >= x2 - 0.5


def test_a_zero_width_file_written_by_the_old_code_now_reads(tmp_path: Path) -> None:
    xml = ("<annotation><size><width>50</width><height>40</height><depth>3</depth></size>"
           "<object><name>a</name><bndbox><xmin>7</xmin><ymin>3</ymin><xmax>7</xmax><ymax>9</ymax></bndbox></object>"
           "<object><name>b</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>"
           "</annotation>")
    ann = parse_voc(xml)
    assert [(b.label, b.width) for b in ann.boxes] == [("a", 1), ("b", 5)]
