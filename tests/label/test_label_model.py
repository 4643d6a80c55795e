"""The Qt-free session: editing through commands, undo/redo, saving, remapping, EXIF."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from augbench.core.imageio import write_image
from augbench.label.model import LabelSession
from augbench.label.registry import read_classes_file
from augbench.label.types import Box
from augbench.label.voc import read_voc
from augbench.label.yolo import read_yolo


def _folder(tmp_path: Path, n: int = 3) -> Path:
    d = tmp_path / "imgs"
    d.mkdir()
    for i in range(n):
        write_image(d / f"{i}.png", np.full((40, 60, 3), 30 * i, np.uint8))
    return d


def test_edit_undo_redo_and_autosave_on_next(tmp_path: Path) -> None:
    d = _folder(tmp_path)
    s = LabelSession("yolo", classes=["cat"])
    events: list[str] = []
    s.subscribe(events.append)
    s.open_folder(d)
    assert s.index == 0 and s.current.status == "none"
    s.add_box(Box(5, 5, 20, 20, "cat"))
    s.move_box(0, 1, 0)
    s.move_box(0, 1, 0)  # merged with the previous move
    assert s.boxes[0].x1 == 7
    assert len(s.current.stack.done) == 2
    s.undo()
    assert s.boxes[0].x1 == 5
    s.undo()
    assert s.boxes == []
    s.redo()
    s.redo()
    assert s.boxes[0].x1 == 7 and "boxes" in events
    assert s.next()  # auto-save
    ann = read_yolo(d / "0.txt", 60, 40, read_classes_file(d / "classes.txt"))
    assert ann.labels == ["cat"] and ann.boxes[0].x1 == pytest.approx(7, abs=1e-3)
    assert not (d / "1.txt").exists()  # untouched images get no empty file


def test_duplicate_paste_previous_label_and_verify(tmp_path: Path) -> None:
    d = _folder(tmp_path)
    s = LabelSession("voc")
    s.open_folder(d)
    s.add_box(Box(50, 30, 59, 39, "a"))
    assert s.duplicate_boxes([0]) == [1]
    assert s.boxes[1].x2 <= 60 and s.boxes[1] != s.boxes[0]  # shifted but kept inside
    s.set_label([1], "b")
    assert s.registry.names == ["a", "b"]
    s.next()
    assert s.paste_previous() == 2 and [b.label for b in s.boxes] == ["a", "b"]
    assert s.paste_previous() == 0  # no duplicates
    s.toggle_verified()
    s.save()
    ann = read_voc(d / "1.xml")
    assert ann.verified and ann.labels == ["a", "b"]
    s.undo()  # un-verify is one undo step
    assert not s.current.ann.verified


def test_boxes_are_clipped_and_tiny_ones_refused(tmp_path: Path) -> None:
    s = LabelSession()
    s.open_folder(_folder(tmp_path))
    assert s.add_box(Box(-5, -5, 100, 100, "x")) == 0
    assert s.boxes[0].xyxy() == (0, 0, 60, 40)
    assert s.add_box(Box(3, 3, 3.5, 10, "x")) == -1


def test_unparseable_label_is_reported_and_never_overwritten(tmp_path: Path) -> None:
    d = _folder(tmp_path)
    bad = "0 0.5 oops\n"
    (d / "0.txt").write_text(bad, encoding="utf-8")
    s = LabelSession("yolo")
    s.open_folder(d)
    assert s.current.status == "error" and not s.editable
    assert s.add_box(Box(1, 1, 10, 10, "a")) == -1
    assert s.save() is None
    s.next()
    s.set_format("voc")
    s.save_all()
    assert (d / "0.txt").read_text(encoding="utf-8") == bad
    assert any("left untouched" in m for m in s.messages)


def test_classes_txt_is_remapped_not_overwritten(tmp_path: Path) -> None:
    d = _folder(tmp_path, 2)
    (d / "classes.txt").write_text("dog\ncat\n", encoding="utf-8")
    (d / "0.txt").write_text("1 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    s = LabelSession("yolo", classes=["cat", "bird", "dog"])  # the user's current list, another order
    s.open_folder(d)
    assert s.registry.names == ["dog", "cat", "bird"]
    assert s.boxes[0].label == "cat"
    s.add_box(Box(1, 1, 10, 10, "bird"))
    s.save()
    assert (d / "classes.txt").read_text() == "dog\ncat\nbird\n"
    assert [ln.split()[0] for ln in (d / "0.txt").read_text().splitlines()] == ["1", "2"]
    s.rename_class("cat", "고양이")  # rename keeps the id
    assert (d / "classes.txt").read_text(encoding="utf-8") == "dog\n고양이\nbird\n"
    assert (d / "0.txt").read_text().splitlines()[0].split()[0] == "1"


def test_yolo_without_classes_txt_keeps_its_numbers(tmp_path: Path) -> None:
    d = _folder(tmp_path, 1)
    (d / "0.txt").write_text("2 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    s = LabelSession("yolo", classes=["cat"])
    s.open_folder(d)
    assert s.registry.names[:3] == ["0", "1", "2"] and s.registry.names[3] == "cat"
    s.add_box(Box(1, 1, 10, 10, "cat"))
    s.save()
    assert [ln.split()[0] for ln in (d / "0.txt").read_text().splitlines()] == ["2", "3"]


def test_exif_rotated_photo_saves_in_displayed_orientation(tmp_path: Path) -> None:
    d = tmp_path / "사진"
    d.mkdir()
    img = Image.fromarray(np.zeros((40, 60, 3), np.uint8))  # stored 60 wide, 40 high
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display -> 40 wide, 60 high
    img.save(d / "폰 사진.jpg", exif=exif.tobytes())
    s = LabelSession("voc")
    s.open_folder(d)
    assert (s.current.ann.width, s.current.ann.height) == (40, 60)
    s.add_box(Box(5, 40, 35, 58, "고양이"))
    s.save()
    ann = read_voc(d / "폰 사진.xml")
    assert (ann.width, ann.height) == (40, 60) and ann.boxes[0].xyxy() == (5, 40, 35, 58)
    s.set_format("yolo")
    s.save()
    y = read_yolo(d / "폰 사진.txt", 40, 60, read_classes_file(d / "classes.txt"))
    assert y.labels == ["고양이"] and np.allclose(y.boxes[0].xyxy(), (5, 40, 35, 58), atol=0.01)


def test_a_labelimg_folder_opens_and_browses_without_any_write(tmp_path: Path) -> None:
    from augbench.label.types import ImageAnnotation
    from augbench.label.voc import format_voc

    d = _folder(tmp_path, 3)
    for i in range(3):
        ann = ImageAnnotation(d / f"{i}.png", 60, 40, 3, [Box(1, 2, 30, 39, "person", difficult=True)], verified=i == 1)
        (d / f"{i}.xml").write_text(format_voc(ann).replace("\t", "  "), encoding="utf-8")  # foreign formatting
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    s = LabelSession("voc")
    s.open_folder(d)
    while s.next():
        pass
    s.save_all()
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before
    assert [e.status for e in s.entries] == ["labelled", "verified", "labelled"]
    assert s.entries[0].ann.boxes[0].difficult
