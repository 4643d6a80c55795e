"""Walk the label-format table: every row writes, detects and reads back its own files.

A new row without a working reader, writer or detection fails here without any
test being written for it (albumentations walks its transform registry the same way).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from augbench.core.errors import LabelFormatError
from augbench.label.formats import FORMATS, LabelFormat, for_file, get_format, sniff
from augbench.label.types import Box, ImageAnnotation

CLASSES = ["고양이", "dog"]


def _ann(tmp_path: Path) -> ImageAnnotation:
    boxes = [Box(3.0, 4.0, 30.0, 20.0, "고양이"), Box(40.0, 10.0, 63.0, 47.0, "dog", difficult=True)]
    return ImageAnnotation(tmp_path / "img 1.png", 64, 48, 3, boxes)


def _write(fmt: LabelFormat, tmp_path: Path, ann: ImageAnnotation) -> Path:
    target = tmp_path / f"labels{fmt.suffix}"
    if fmt.per_image:
        return fmt.write(target, ann, CLASSES)
    return fmt.write_collection(target, [ann], CLASSES, tmp_path)


def _read(fmt: LabelFormat, path: Path, ann: ImageAnnotation) -> ImageAnnotation:
    if fmt.per_image:
        return fmt.read(path, ann.image_path, (ann.width, ann.height), CLASSES if fmt.uses_classes_txt else [])
    anns, names = fmt.read_collection(path, path.parent)
    assert set(names) == set(CLASSES)
    assert len(anns) == 1 and anns[0].image_path == ann.image_path
    return anns[0]


def test_table_names_and_suffixes_are_unique() -> None:
    assert {"yolo", "voc", "coco"} <= set(FORMATS)
    assert all(name == f.name for name, f in FORMATS.items())
    assert len({f.suffix for f in FORMATS.values()}) == len(FORMATS)
    with pytest.raises(LabelFormatError, match="unknown label format 'kitti'"):
        get_format("kitti")


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_round_trips_and_detects_itself(tmp_path: Path, name: str) -> None:
    fmt = FORMATS[name]
    ann = _ann(tmp_path)
    path = _write(fmt, tmp_path, ann)
    assert fmt.detect(path) and sniff(path) is fmt
    back = _read(fmt, path, ann)
    assert back.labels == ann.labels
    for a, b in zip(ann.boxes, back.boxes, strict=True):
        # VOC stores integer corners (LabelImg's layout); the others keep sub-pixel positions.
        assert np.allclose(a.xyxy(), b.xyxy(), atol=1.0), (a, b)
    if fmt.per_image:
        assert for_file(path) is fmt
    # No other row claims this file.
    assert [f.name for f in FORMATS.values() if f.detect(path)] == [name]


@pytest.mark.parametrize("name", list(FORMATS))
def test_detection_refuses_noise_and_other_text(tmp_path: Path, name: str) -> None:
    fmt = FORMATS[name]
    noise = tmp_path / f"noise{fmt.suffix}"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 2048, dtype=np.uint8).tobytes())
    prose = tmp_path / f"prose{fmt.suffix}"
    prose.write_text("these are notes about the images, not labels\n1 2 3\n", encoding="utf-8")
    assert not fmt.detect(noise) and not fmt.detect(prose)


def test_classes_txt_is_never_taken_for_a_label_file(tmp_path: Path) -> None:
    ct = tmp_path / "classes.txt"
    ct.write_text("0 1 2 3 4\n", encoding="utf-8")  # looks like a YOLO line, but it is the class list
    assert sniff(ct) is None


def test_for_file_names_the_known_extensions(tmp_path: Path) -> None:
    with pytest.raises(LabelFormatError, match=r"expected \.txt, \.xml"):
        for_file(tmp_path / "x.json")
