"""Data set scanning: ImageFolder, split ImageFolder, flat detection folders."""

from __future__ import annotations

import pytest
from badinput import save_jpeg
from imgfactory import make_photo

from augbench.core.dataset import scan_dataset
from augbench.core.errors import DatasetError


def test_imagefolder(tmp_path) -> None:
    for cls, n in (("normal", 3), ("defect", 1)):
        for i in range(n):
            save_jpeg(tmp_path / cls / f"{i}.jpg", make_photo(16, 16, i))
    info = scan_dataset(tmp_path)
    assert info.layout == "imagefolder"
    assert info.class_counts() == {"defect": 1, "normal": 3}


def test_split_imagefolder(tmp_path) -> None:
    for split in ("train", "val"):
        for cls in ("a", "b"):
            save_jpeg(tmp_path / split / cls / "x.jpg", make_photo(16, 16))
    info = scan_dataset(tmp_path)
    assert info.layout == "split-imagefolder"
    assert info.class_counts("train") == {"a": 1, "b": 1}


def test_flat_with_labels_and_masks(tmp_path) -> None:
    save_jpeg(tmp_path / "a.jpg", make_photo(16, 16))
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "classes.txt").write_text("cat\n")
    save_jpeg(tmp_path / "b.jpg", make_photo(16, 16))
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "Annotations" / "b.xml").write_text("<annotation/>")
    (tmp_path / "masks").mkdir()
    from PIL import Image

    Image.new("L", (16, 16)).save(tmp_path / "masks" / "a.png")
    info = scan_dataset(tmp_path)
    assert info.layout == "flat" and len(info.items) == 2  # the mask is not an image of the set
    by = {i.image.name: i for i in info.items}
    assert by["a.jpg"].label_file.name == "a.txt" and by["a.jpg"].mask_file is not None
    assert by["b.jpg"].label_file.name == "b.xml"
    assert info.box_classes == ["cat"]


def test_empty_folder_is_an_error(tmp_path) -> None:
    with pytest.raises(DatasetError, match="no images"):
        scan_dataset(tmp_path)
