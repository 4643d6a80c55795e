"""core/layout.py: the one set of rules for where images, labels, classes.txt and masks live."""

from __future__ import annotations

from pathlib import Path

import pytest

from augbench.core.errors import LabelFormatError
from augbench.core.layout import (
    classes_file_for,
    classes_for_folder,
    find_label,
    find_mask,
    label_candidates,
    label_path,
    list_images,
    read_classes,
)


def _touch(p: Path, text: str = "") -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def test_labels_subfolder_is_read_and_written_first(tmp_path: Path) -> None:
    img = _touch(tmp_path / "a.jpg")
    beside = _touch(tmp_path / "a.txt")
    assert find_label(img) == beside and label_path(img, "yolo") == beside
    sub = _touch(tmp_path / "labels" / "a.txt")
    # Once labels/ exists, the file written there is the one read back, even with a stale one beside.
    assert label_path(img, "yolo") == sub
    assert find_label(img) == sub
    assert label_candidates(img, "yolo") == [sub, beside]


def test_prefer_and_fallback_between_formats(tmp_path: Path) -> None:
    img = _touch(tmp_path / "b.png")
    xml = _touch(tmp_path / "Annotations" / "b.xml")
    assert find_label(img) == xml  # no YOLO file: the VOC one is found
    assert find_label(img, fallback=False) is None
    txt = _touch(tmp_path / "b.txt")
    assert find_label(img) == txt and find_label(img, "voc") == xml


def test_classes_txt_is_never_a_label(tmp_path: Path) -> None:
    img = _touch(tmp_path / "classes.jpg")
    _touch(tmp_path / "classes.txt", "cat\n")
    assert find_label(img) is None


def test_one_mask_rule_for_listing_and_finding(tmp_path: Path) -> None:
    for name in ("a.jpg", "b.png", "b_mask.png", ".hidden.jpg", "notes.txt", "masks/a.png", "labels/x.jpg"):
        _touch(tmp_path / name)
    assert [p.name for p in list_images(tmp_path)] == ["a.jpg", "b.png"]
    assert find_mask(tmp_path / "a.jpg") == tmp_path / "masks" / "a.png"
    assert find_mask(tmp_path / "b.png") == tmp_path / "b_mask.png"
    _touch(tmp_path / "cls" / "c.jpg")
    _touch(tmp_path / "cls" / "masks" / "c.png")
    rec = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path, recursive=True)]
    assert rec == ["a.jpg", "b.png", "cls/c.jpg"]  # nothing under masks/ or labels/


def test_classes_reader_checks_duplicates_and_blank_lines(tmp_path: Path) -> None:
    ct = tmp_path / "classes.txt"
    ct.write_bytes("\ufeffdog\n\n 고양이 \n".encode())
    assert read_classes(ct) == ["dog", "고양이"]
    ct.write_text("dog\ncat\ndog\n", encoding="utf-8")
    with pytest.raises(LabelFormatError, match="duplicate class names: dog"):
        read_classes(ct)
    ct.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(LabelFormatError, match="not UTF-8"):
        read_classes(ct)


def test_classes_txt_next_to_the_labels_then_one_folder_up(tmp_path: Path) -> None:
    top = _touch(tmp_path / "classes.txt", "a\nb\n")
    label = _touch(tmp_path / "labels" / "x.txt")
    assert classes_file_for(label) == top and classes_for_folder(tmp_path) == ["a", "b"]
    own = _touch(tmp_path / "labels" / "classes.txt", "c\n")
    assert classes_file_for(label) == own and classes_for_folder(tmp_path) == ["c"]
    assert classes_for_folder(tmp_path / "labels" / "nowhere") == ["c"]  # the folder above is the rule's second place
