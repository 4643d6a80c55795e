from pathlib import Path

import pytest

from augbench.core.errors import AugbenchError, LabelFormatError
from augbench.label.registry import ClassRegistry, read_classes_file, remap_yolo_folder


def test_ids_are_append_only_and_rename_keeps_id() -> None:
    reg = ClassRegistry(["cat", "dog"])
    assert reg.add("bird") == 2 and reg.add("cat") == 0
    assert reg.rename("dog", "puppy") == 1
    assert reg.names == ["cat", "puppy", "bird"]
    with pytest.raises(AugbenchError):
        reg.rename("cat", "bird")


def test_folder_classes_win_and_current_names_are_appended(tmp_path: Path) -> None:
    (tmp_path / "classes.txt").write_text("dog\ncat\n", encoding="utf-8")
    reg = ClassRegistry.for_folder(tmp_path, current=["cat", "bird"])
    assert reg.names == ["dog", "cat", "bird"]  # file ids kept, unknown appended
    reg.save(tmp_path)
    assert read_classes_file(tmp_path / "classes.txt") == ["dog", "cat", "bird"]


def test_save_refuses_to_shift_ids(tmp_path: Path) -> None:
    (tmp_path / "classes.txt").write_text("dog\ncat\n", encoding="utf-8")
    with pytest.raises(AugbenchError, match="shift"):
        ClassRegistry(["cat", "dog"]).save(tmp_path)
    assert (tmp_path / "classes.txt").read_text() == "dog\ncat\n"
    reg = ClassRegistry.for_folder(tmp_path)
    reg.rename("cat", "kitty")
    reg.save(tmp_path)  # a rename keeps the id: allowed
    assert (tmp_path / "classes.txt").read_text() == "dog\nkitty\n"


def test_duplicate_names_in_classes_txt_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "classes.txt").write_text("a\nb\na\n", encoding="utf-8")
    with pytest.raises(LabelFormatError, match="duplicate"):
        read_classes_file(tmp_path / "classes.txt")


def test_remap_folder_rewrites_ids_and_classes_together(tmp_path: Path) -> None:
    (tmp_path / "classes.txt").write_text("dog\ncat\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.1\n", encoding="utf-8")
    remap_yolo_folder(tmp_path, ["cat", "bird", "dog"])
    assert (tmp_path / "classes.txt").read_text().split() == ["cat", "bird", "dog"]
    rows = [ln.split()[0] for ln in (tmp_path / "a.txt").read_text().splitlines()]
    assert rows == ["2", "0"]
