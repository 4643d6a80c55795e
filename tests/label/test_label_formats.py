"""Round trips and LabelImg conventions of the file formats."""

import json
from pathlib import Path

import defusedxml.ElementTree as DET
import numpy as np
import pytest

from augbench.core.errors import LabelFormatError
from augbench.core.imageio import write_image
from augbench.label.coco import parse_coco, read_coco, write_coco
from augbench.label.convert import convert_folder
from augbench.label.folder import LabelReader
from augbench.label.types import Box, ImageAnnotation
from augbench.label.voc import format_voc, parse_voc, read_voc
from augbench.label.yolo import format_yolo, parse_yolo

# What LabelImg 1.8 writes (pascal_voc_io.py): verified attribute, ints, pose, truncated, difficult.
LABELIMG_XML = """<annotation verified="yes">
\t<folder>imgs</folder>
\t<filename>a.jpg</filename>
\t<path>/home/u/imgs/a.jpg</path>
\t<source>
\t\t<database>Unknown</database>
\t</source>
\t<size>
\t\t<width>200</width>
\t\t<height>100</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
\t<object>
\t\t<name>person</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>1</truncated>
\t\t<difficult>1</difficult>
\t\t<bndbox>
\t\t\t<xmin>1</xmin>
\t\t\t<ymin>20</ymin>
\t\t\t<xmax>80</xmax>
\t\t\t<ymax>90</ymax>
\t\t</bndbox>
\t</object>
</annotation>
"""


def test_labelimg_voc_opens_unchanged_and_writes_back_equivalent() -> None:
    ann = parse_voc(LABELIMG_XML, image_path="/home/u/imgs/a.jpg")
    assert ann.verified and (ann.width, ann.height) == (200, 100)
    (b,) = ann.boxes
    # 1-based inclusive VOC indices (xmin=1 is the first pixel) -> continuous 0-based edges inside
    assert (b.x1, b.y1, b.x2, b.y2, b.label, b.difficult, b.truncated) == (0, 19, 80, 90, "person", True, True)
    out = DET.fromstring(format_voc(ann))
    orig = DET.fromstring(LABELIMG_XML)
    assert out.get("verified") == "yes"
    for tag in ("name", "pose", "truncated", "difficult", "bndbox/xmin", "bndbox/ymin", "bndbox/xmax", "bndbox/ymax"):
        assert out.find(f"object/{tag}").text == orig.find(f"object/{tag}").text, tag
    for tag in ("size/width", "size/height", "size/depth", "filename", "segmented"):
        assert out.find(tag).text == orig.find(tag).text, tag


def test_voc_writer_follows_labelimg_integer_rules() -> None:
    ann = ImageAnnotation(Path("x.png"), 50, 40, 3, [Box(0.2, 10.4, 20.6, 39.9, "a"), Box(5, 5, 10, 10, "b")])
    root = DET.fromstring(format_voc(ann))
    objs = root.findall("object")
    # edges 0.2..20.6 cover pixels 1..21 (1-based); 10.4..39.9 cover pixels 11..40
    assert [objs[0].findtext(f"bndbox/{t}") for t in ("xmin", "ymin", "xmax", "ymax")] == ["1", "11", "21", "40"]
    assert objs[0].findtext("truncated") == "1" and objs[1].findtext("truncated") == "0"
    assert root.get("verified") is None


def test_voc_yolo_voc_round_trip_keeps_boxes_within_a_pixel(voc_folder: Path) -> None:
    before = {p.stem: read_voc(p) for p in voc_folder.glob("*.xml")}
    convert_folder(voc_folder, "voc", "yolo")
    for p in voc_folder.glob("*.xml"):
        p.unlink()
    rep = convert_folder(voc_folder, "yolo", "voc")
    assert not rep.skipped and len(list(voc_folder.glob("*.xml"))) == 2  # the unlabelled image got no file
    for stem, a in before.items():
        b = read_voc(voc_folder / f"{stem}.xml")
        assert b.labels == a.labels
        for x, y in zip(a.boxes, b.boxes, strict=True):
            assert np.allclose(x.xyxy(), y.xyxy(), atol=1.0)


def test_coco_round_trip_keeps_names_flags_and_empty_images(voc_folder: Path) -> None:
    reader = LabelReader()
    anns = [reader.read(p.with_suffix(".png"), p) for p in sorted(voc_folder.glob("*.xml"))]
    anns.append(ImageAnnotation(voc_folder / "img2.png", 60, 40))
    out = write_coco(voc_folder / "c.json", anns, ["dog"], voc_folder)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [c["name"] for c in data["categories"]] == ["dog", "고양이"]
    assert data["categories"][0]["id"] == 1 and len(data["images"]) == 3
    back, names = read_coco(out)
    assert names == ["dog", "고양이"]
    assert [a.image_path.name for a in back] == ["img0.png", "img1.png", "img2.png"]
    for a, b in zip(anns, back, strict=True):
        assert [(x.label, x.difficult) for x in a.boxes] == [(y.label, y.difficult) for y in b.boxes]
        for x, y in zip(a.boxes, b.boxes, strict=True):
            assert np.allclose(x.xyxy(), y.xyxy(), atol=0.01)


def test_coco_errors_name_the_problem() -> None:
    with pytest.raises(LabelFormatError, match="category_id"):
        parse_coco({"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
                    "annotations": [{"image_id": 1, "category_id": 7, "bbox": [0, 0, 1, 1]}],
                    "categories": []}, ".")
    with pytest.raises(LabelFormatError, match="not a COCO"):
        parse_coco({"foo": 1}, ".")


def test_yolo_uses_classes_txt_next_to_the_file(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", np.zeros((10, 20, 3), np.uint8))
    (tmp_path / "classes.txt").write_text("고양이\n개\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("1 0.5 0.5 0.5 0.5\n", encoding="utf-8")
    ann = LabelReader().read(tmp_path / "a.jpg", tmp_path / "a.txt")
    assert ann.labels == ["개"] and ann.boxes[0].xyxy() == (5.0, 2.5, 15.0, 7.5)
    assert format_yolo(ann, ["고양이", "개"]) == "1 0.500000 0.500000 0.500000 0.500000\n"
    with pytest.raises(LabelFormatError, match="out of range"):
        parse_yolo("5 0.5 0.5 0.1 0.1", 20, 10, ["a"])
