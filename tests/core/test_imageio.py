"""Robust image reading: every odd file either decodes sensibly or fails with a clear reason."""

from __future__ import annotations

import numpy as np
import pytest
from badinput import build_yolo_bad_folder, exif_rotated_jpeg

from augbench.core.errors import ImageReadError
from augbench.core.imageio import image_size, read_image, write_image


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    build_yolo_bad_folder(root)
    return root


@pytest.mark.parametrize("name", ["good.jpg", "alpha.png", "cmyk.jpg", "deep16.png"])
def test_odd_formats_decode_to_uint8_rgb(bad, name) -> None:
    img = read_image(bad / name)
    assert img.dtype == np.uint8 and img.shape == (64, 96, 3)


def test_sixteen_bit_is_scaled_not_clipped(bad) -> None:
    img = read_image(bad / "deep16.png", mode="gray")
    assert img.min() == 0 and img.max() == 255  # full 16-bit range mapped to 0..255
    assert len(np.unique(img)) > 200


def test_rgba_is_composited_on_white(tmp_path) -> None:
    from PIL import Image

    arr = np.zeros((8, 8, 4), np.uint8)  # fully transparent black
    Image.fromarray(arr, "RGBA").save(tmp_path / "t.png")
    assert (read_image(tmp_path / "t.png") == 255).all()


def test_exif_orientation_applied(tmp_path) -> None:
    p = exif_rotated_jpeg(tmp_path / "r.jpg", 96, 64)
    assert read_image(p).shape == (96, 64, 3)
    assert image_size(p) == (64, 96)


def test_korean_path(bad) -> None:
    assert read_image(bad / "한글 폴더" / "고양이 사진.jpg").shape == (64, 96, 3)


@pytest.mark.parametrize("name, words", [("zero.jpg", "empty"), ("corrupt.jpg", ""), ("truncated.jpg", "truncated")])
def test_broken_files_raise_clear_errors(bad, name, words) -> None:
    with pytest.raises(ImageReadError) as exc:
        read_image(bad / name)
    assert name in str(exc.value) and words in str(exc.value)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ImageReadError, match="cannot open"):
        read_image(tmp_path / "nope.png")


def test_write_then_read_png_is_lossless(tmp_path, photo) -> None:
    p = write_image(tmp_path / "out dir" / "사진.png", photo)
    assert np.array_equal(read_image(p), photo)
