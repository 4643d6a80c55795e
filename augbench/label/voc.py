"""Pascal VOC xml as LabelImg reads and writes it.

Parsed with defusedxml so a DOCTYPE with entities (billion laughs, external
entities) is refused instead of expanded. Boxes outside the image are clipped
and reported in ``ann.warnings``.

Coordinates follow the PASCAL VOC convention: 1-based, inclusive pixel indices
(``xmin=1, xmax=W`` is the full width). Inside augbench a box is continuous
0-based pixel xyxy, so reading maps ``x1 = xmin - 1, x2 = xmax`` and writing
maps back. Without that shift a horizontal flip (``x -> W - x``) moved every
box by one pixel. Every box is written at least one pixel wide and high, so a
sub-pixel box never becomes a zero-width object that fails to read back.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from augbench.core.atomic import atomic_write_text
from augbench.core.errors import LabelFormatError
from augbench.label.types import Box, ImageAnnotation


def _num(node: ET.Element | None, tag: str, path: object) -> float:
    child = node.find(tag) if node is not None else None
    if child is None or child.text is None:
        raise LabelFormatError(path, f"missing <{tag}>")
    try:
        return float(child.text.strip())
    except ValueError:
        raise LabelFormatError(path, f"<{tag}> is not a number: {child.text!r}") from None


def _flag(node: ET.Element, tag: str) -> bool:
    child = node.find(tag)
    return child is not None and (child.text or "").strip() in ("1", "true", "True")


def parse_voc(data: bytes | str, *, path: str | Path = "<voc>", image_path: str | Path | None = None,
              image_size: tuple[int, int] | None = None) -> ImageAnnotation:
    """Parse VOC xml; ``image_size`` (w, h) overrides a missing/zero <size>."""
    try:
        root = DET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        reason = f"refused unsafe XML ({type(exc).__name__}: DTD/entities are not allowed)"
        raise LabelFormatError(path, reason) from None
    except ET.ParseError as exc:
        raise LabelFormatError(path, f"malformed XML: {exc}") from None
    if root.tag != "annotation":
        raise LabelFormatError(path, f"root element is <{root.tag}>, expected <annotation>")
    size = root.find("size")
    w = h = 0
    depth = 3
    if size is not None:
        try:
            w, h = int(_num(size, "width", path)), int(_num(size, "height", path))
            d = size.find("depth")
            depth = int(float(d.text)) if d is not None and d.text else 3
        except LabelFormatError:
            w = h = 0
    if (w <= 0 or h <= 0) and image_size is not None:
        w, h = image_size
    if w <= 0 or h <= 0:
        raise LabelFormatError(path, "no usable <size> and no image to read it from")
    if image_size is not None and (w, h) != tuple(image_size):
        # EXIF-rotated photos: trust the displayed image over a stale <size>.
        w, h = image_size
    fn = root.findtext("filename") or ""
    if image_path is not None:
        ipath = Path(image_path)
    else:  # a missing or path-like <filename> must not raise (with_name('') is a ValueError)
        ipath = Path(path).parent / Path(fn).name if Path(fn).name else Path(path)
    ann = ImageAnnotation(ipath, w, h, depth)
    verified = root.get("verified")
    ann.verified = verified in ("yes", "true", "1")
    for i, obj in enumerate(root.findall("object"), start=1):
        name = (obj.findtext("name") or "").strip()
        if not name:
            raise LabelFormatError(path, f"object {i} has no <name>")
        bb = obj.find("bndbox")
        if bb is None:
            raise LabelFormatError(path, f"object {i} ({name}) has no <bndbox>")
        xmin, ymin, xmax, ymax = (_num(bb, t, path) for t in ("xmin", "ymin", "xmax", "ymax"))
        xmin, xmax = min(xmin, xmax), max(xmin, xmax)
        ymin, ymax = min(ymin, ymax), max(ymin, ymax)
        # 1-based inclusive pixel indices -> continuous 0-based edges (xmin == xmax is one pixel wide)
        box = Box(xmin - 1, ymin - 1, xmax, ymax, name, _flag(obj, "difficult"), _flag(obj, "truncated"))
        if box.width <= 0 or box.height <= 0:
            raise LabelFormatError(path, f"object {i} ({name}) has zero width or height")
        if not box.is_inside(w, h, tol=1.0):  # xmin=0 from a 0-based writer is one pixel out: clipped quietly
            box = box.clipped(w, h)
            if box.area <= 0:
                raise LabelFormatError(path, f"object {i} ({name}) lies entirely outside the {w}x{h} image")
            ann.warnings.append(f"object {i} ({name}) was outside the {w}x{h} image and was clipped")
        else:
            box = box.clipped(w, h)
        ann.boxes.append(box)
    return ann


def read_voc(
    path: str | Path, image_path: str | Path | None = None, image_size: tuple[int, int] | None = None
) -> ImageAnnotation:
    path = Path(path)
    return parse_voc(path.read_bytes(), path=path, image_path=image_path, image_size=image_size)


def _pixel_span(lo: float, hi: float, size: int) -> tuple[int, int]:
    """Continuous edges ``[lo, hi]`` -> 1-based inclusive pixel indices, at least one pixel, inside ``1..size``."""
    first = min(max(1, math.floor(lo + 0.5) + 1), max(1, size))
    last = min(max(1, math.floor(hi + 0.5)), max(1, size))
    if last < first:  # narrower than a pixel: keep the pixel the box lies in
        first = last = min(max(1, math.floor((lo + hi) / 2) + 1), max(1, size))
    return first, last


def format_voc(ann: ImageAnnotation) -> str:
    """VOC xml in LabelImg's layout: integer, 1-based inclusive corners, every box at least 1x1 pixel."""
    root = ET.Element("annotation")
    if ann.verified:
        root.set("verified", "yes")
    ET.SubElement(root, "folder").text = ann.image_path.parent.name
    ET.SubElement(root, "filename").text = ann.image_path.name
    ET.SubElement(root, "path").text = str(ann.image_path)
    src = ET.SubElement(root, "source")
    ET.SubElement(src, "database").text = "Unknown"
    size = ET.SubElement(root, "size")
    ET.SubElement(size, "width").text = str(int(ann.width))
    ET.SubElement(size, "height").text = str(int(ann.height))
    ET.SubElement(size, "depth").text = str(int(ann.depth))
    ET.SubElement(root, "segmented").text = "0"
    for b in ann.boxes:
        b = b.clipped(ann.width, ann.height)
        if b.area <= 0:
            continue
        xmin, xmax = _pixel_span(b.x1, b.x2, int(ann.width))
        ymin, ymax = _pixel_span(b.y1, b.y2, int(ann.height))
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = b.label
        ET.SubElement(obj, "pose").text = "Unspecified"
        # LabelImg's rule: a box touching an image edge is truncated.
        truncated = b.truncated or xmin == 1 or ymin == 1 or xmax >= ann.width or ymax >= ann.height
        ET.SubElement(obj, "truncated").text = "1" if truncated else "0"
        ET.SubElement(obj, "difficult").text = "1" if b.difficult else "0"
        bb = ET.SubElement(obj, "bndbox")
        ET.SubElement(bb, "xmin").text = str(xmin)
        ET.SubElement(bb, "ymin").text = str(ymin)
        ET.SubElement(bb, "xmax").text = str(xmax)
        ET.SubElement(bb, "ymax").text = str(ymax)
    ET.indent(root, space="\t")
    return ET.tostring(root, encoding="unicode") + "\n"


def write_voc(path: str | Path, ann: ImageAnnotation) -> Path:
    return atomic_write_text(path, format_voc(ann))
