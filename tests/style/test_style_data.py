"""Built-in training/held-out images come from installed packages and do not overlap."""

from __future__ import annotations

from augbench.style import data


def test_heldout_images_are_not_training_images() -> None:
    train_c = {x.name for x in data.content_images(heldout=False)}
    held_c = {x.name for x in data.content_images(heldout=True)}
    train_s = {x.name for x in data.style_images(heldout=False)}
    held_s = {x.name for x in data.style_images(heldout=True)}
    assert held_c and held_s and len(train_c) >= 10 and len(train_s) >= 2
    assert not train_c & held_c and not train_s & held_s
    assert held_c <= set(data.HELDOUT_CONTENT) and held_s <= set(data.HELDOUT_STYLE)


def test_images_are_rgb_uint8_and_missing_names_are_none() -> None:
    img = data.load_named("brick")  # a grey texture becomes RGB
    assert img is not None and img.ndim == 3 and img.shape[2] == 3 and img.dtype.name == "uint8"
    assert data.load_named("no_such_sample") is None
    assert data.load_named("no_such_file.jpg") is None
