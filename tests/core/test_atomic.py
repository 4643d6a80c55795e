"""Atomic writes never leave half-written files; safe_join never escapes the root."""

from __future__ import annotations

import pytest

from augbench.core.atomic import atomic_path, atomic_write_text, safe_join
from augbench.core.errors import AugbenchError


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path) -> None:
    target = tmp_path / "labels.txt"
    atomic_write_text(target, "old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("crash mid-write")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["labels.txt"]


def test_write_creates_parents_and_keeps_unicode(tmp_path) -> None:
    target = tmp_path / "새 폴더" / "라벨 1.txt"
    atomic_write_text(target, "고양이\n")
    assert target.read_text(encoding="utf-8") == "고양이\n"


@pytest.mark.parametrize("name", ["../evil.jpg", "a/../../evil.jpg", "/etc/passwd"])
def test_safe_join_refuses_escape(tmp_path, name) -> None:
    with pytest.raises(AugbenchError):
        safe_join(tmp_path, name)


def test_safe_join_allows_inside(tmp_path) -> None:
    assert safe_join(tmp_path, "cls", "000001.jpg") == (tmp_path / "cls" / "000001.jpg").resolve()
