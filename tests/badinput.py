"""Builders for the bad-input folder every reader must survive (used by several test modules)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from imgfactory import make_photo
from PIL import Image

VOC_TEMPLATE = """<annotation>
  <folder>x</folder><filename>{fn}</filename>
  <size><width>{w}</width><height>{h}</height><depth>3</depth></size>
  {objects}
</annotation>
"""
VOC_OBJECT = ("<object><name>{name}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>"
              "<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>")
ENTITY_XML = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<annotation><filename>&lol2;</filename><size><width>96</width><height>64</height><depth>3</depth></size>
<object><name>&lol2;</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>20</xmax><ymax>20</ymax></bndbox></object>
</annotation>
"""


def save_jpeg(path: Path, arr: np.ndarray, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, format="JPEG", quality=92, **kw)
    return path


def exif_rotated_jpeg(path: Path, w: int = 96, h: int = 64) -> Path:
    """Stored w x h, EXIF orientation 6 (displayed rotated 90° clockwise: h x w)."""
    img = Image.fromarray(make_photo(w, h, seed=7))
    exif = Image.Exif()
    exif[0x0112] = 6
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="JPEG", exif=exif.tobytes())
    return path


def yolo_line(cls: int, box: tuple[float, float, float, float], w: int, h: int) -> str:
    x1, y1, x2, y2 = box
    return f"{cls} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}\n"


def build_yolo_bad_folder(root: Path) -> dict[str, str]:
    """A flat YOLO folder with one of every kind of trouble. Returns name -> expected outcome."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "classes.txt").write_text("cat\ndog\n", encoding="utf-8")
    expected: dict[str, str] = {}
    good = save_jpeg(root / "good.jpg", make_photo(96, 64, 1))
    (root / "good.txt").write_text(yolo_line(0, (10, 10, 50, 40), 96, 64) + yolo_line(1, (60, 5, 90, 60), 96, 64))
    expected[good.name] = "ok"
    corrupt = root / "corrupt.jpg"
    data = (root / "good.jpg").read_bytes()
    corrupt.write_bytes(data[:200] + b"\x00garbage" * 10)
    expected[corrupt.name] = "skipped"
    (root / "zero.jpg").write_bytes(b"")
    expected["zero.jpg"] = "skipped"
    trunc = root / "truncated.jpg"
    trunc.write_bytes(data[: len(data) // 2])
    expected[trunc.name] = "skipped"
    arr16 = (np.linspace(0, 65535, 96 * 64).reshape(64, 96)).astype(np.uint16)
    Image.fromarray(arr16).save(root / "deep16.png")
    (root / "deep16.txt").write_text(yolo_line(0, (5, 5, 30, 30), 96, 64))
    expected["deep16.png"] = "ok"
    rgba = np.dstack([make_photo(96, 64, 2), np.full((64, 96), 128, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(root / "alpha.png")
    expected["alpha.png"] = "ok"
    Image.fromarray(make_photo(96, 64, 3)).convert("CMYK").save(root / "cmyk.jpg", format="JPEG")
    expected["cmyk.jpg"] = "ok"
    exif_rotated_jpeg(root / "rotated.jpg")  # displayed 64 wide x 96 high
    (root / "rotated.txt").write_text(yolo_line(1, (4, 50, 40, 90), 64, 96))
    expected["rotated.jpg"] = "ok"
    save_jpeg(root / "four_fields.jpg", make_photo(96, 64, 4))
    (root / "four_fields.txt").write_text("0 0.5 0.5 0.2\n")
    expected["four_fields.jpg"] = "skipped"
    save_jpeg(root / "bad_class.jpg", make_photo(96, 64, 5))
    (root / "bad_class.txt").write_text(yolo_line(7, (10, 10, 30, 30), 96, 64))
    expected["bad_class.jpg"] = "skipped"
    kdir = root / "한글 폴더"
    save_jpeg(kdir / "고양이 사진.jpg", make_photo(96, 64, 6))
    (kdir / "고양이 사진.txt").write_text(yolo_line(0, (20, 20, 60, 50), 96, 64))
    expected["고양이 사진.jpg"] = "ok"
    return expected


def build_voc_bad_folder(root: Path) -> dict[str, str]:
    root.mkdir(parents=True, exist_ok=True)
    expected = {}
    save_jpeg(root / "inside.jpg", make_photo(96, 64, 10))
    (root / "inside.xml").write_text(VOC_TEMPLATE.format(fn="inside.jpg", w=96, h=64, objects=VOC_OBJECT.format(
        name="cat", x1=10, y1=10, x2=40, y2=40)))
    expected["inside.jpg"] = "ok"
    save_jpeg(root / "outside.jpg", make_photo(96, 64, 11))
    (root / "outside.xml").write_text(VOC_TEMPLATE.format(fn="outside.jpg", w=96, h=64, objects=VOC_OBJECT.format(
        name="dog", x1=70, y1=30, x2=130, y2=90)))
    expected["outside.jpg"] = "clipped"
    save_jpeg(root / "entity.jpg", make_photo(96, 64, 12))
    (root / "entity.xml").write_text(ENTITY_XML)
    expected["entity.jpg"] = "skipped"
    save_jpeg(root / "broken.jpg", make_photo(96, 64, 13))
    (root / "broken.xml").write_text("<annotation><size><width>96</width>")
    expected["broken.jpg"] = "skipped"
    return expected
