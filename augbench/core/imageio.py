"""Robust image reading and writing.

Real folders contain Korean and space-containing paths, EXIF-rotated phone
photos, 16-bit PNGs, RGBA and CMYK files, truncated downloads and zero-byte
files. Everything here reads through Pillow (which handles paths of any
script, EXIF, CMYK and 16-bit) and returns a uint8 RGB (or grey) array, or
raises :class:`ImageReadError` with a reason the user can act on.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from augbench.core.atomic import atomic_write_bytes
from augbench.core.errors import AugbenchError, ImageReadError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")

# Refuse decompression bombs with a clear error, but allow large scans.
Image.MAX_IMAGE_PIXELS = 200_000_000

Mode = Literal["rgb", "gray", "auto"]  # auto: grey stays grey, everything else RGB


def is_image_file(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTS


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Scale 16-bit / float / 32-bit integer data to uint8 by its dtype's range."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        hi = 1.0 if float(np.nanmax(arr)) <= 1.0 else 255.0
        return np.clip(arr / hi * 255.0, 0, 255).astype(np.uint8)
    if arr.dtype in (np.uint16, np.int32, np.int16, np.uint32):
        maxv = float(arr.max()) if arr.size else 0.0
        scale = 65535.0 if maxv > 255 else 255.0
        return np.clip(arr.astype(np.float64) / scale * 255.0, 0, 255).astype(np.uint8)
    return arr.astype(np.uint8)


_GREY_MODES = ("L", "1", "I;16", "I;16B", "I;16L", "I", "F")


def pil_to_array(img: Image.Image, mode: Mode = "rgb") -> np.ndarray:
    """Convert an (already EXIF-transposed) PIL image to uint8 RGB or grey."""
    if mode == "auto":
        mode = "gray" if img.mode in _GREY_MODES else "rgb"
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = _to_uint8(np.asarray(img))
        if mode == "gray":
            return arr
        return np.repeat(arr[..., None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Composite on white: transparent pixels become white, not black.
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba).convert("RGB")
    if mode == "gray":
        return np.asarray(img.convert("L"))
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img)


def read_image(path: str | os.PathLike[str], mode: Mode = "rgb") -> np.ndarray:
    """Read ``path`` as a uint8 array (HxWx3 RGB, or HxW grey).

    EXIF orientation is applied so boxes drawn on the displayed image match.
    The whole file is decoded (``load()``) so truncation is caught here, not
    later in a worker.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImageReadError(path, f"cannot open: {exc.strerror}") from None
    if size == 0:
        raise ImageReadError(path, "empty file (0 bytes)")
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            return np.ascontiguousarray(pil_to_array(img, mode))
    except UnidentifiedImageError:
        raise ImageReadError(path, "not an image or an unsupported format") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(path, f"image too large: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        msg = str(exc)
        if "truncated" in msg.lower():
            msg = "truncated or corrupt image data"
        raise ImageReadError(path, msg or "corrupt image") from None


def decode_image_bytes(data: bytes, mode: Mode = "rgb") -> np.ndarray:
    """Decode in-memory bytes the same way :func:`read_image` decodes a file."""
    if not data:
        raise ImageReadError("<bytes>", "empty data")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            return np.ascontiguousarray(pil_to_array(img, mode))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError("<bytes>", str(exc) or "corrupt image") from None


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(width, height) as displayed, i.e. after EXIF orientation, without decoding pixels."""
    try:
        with Image.open(path) as img:
            w, h = img.size
            orientation = img.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageReadError(path, str(exc) or "cannot read image header") from None
    if orientation in (5, 6, 7, 8):
        w, h = h, w
    return w, h


def encode_image(arr: np.ndarray, ext: str = ".jpg", quality: int = 95) -> bytes:
    """Encode a uint8 RGB/grey array to bytes in the format named by ``ext``."""
    ext = ext.lower()
    img = Image.fromarray(arr)
    buf = io.BytesIO()
    if ext in (".jpg", ".jpeg"):
        img.save(buf, format="JPEG", quality=quality)
    elif ext == ".png":
        img.save(buf, format="PNG", compress_level=1)
    elif ext == ".webp":
        img.save(buf, format="WEBP", quality=quality)
    elif ext == ".bmp":
        img.save(buf, format="BMP")
    elif ext in (".tif", ".tiff"):
        img.save(buf, format="TIFF")
    else:
        raise AugbenchError(f"cannot write images with extension {ext!r}")
    return buf.getvalue()


def write_image(path: str | os.PathLike[str], arr: np.ndarray, quality: int = 95) -> Path:
    """Write an image atomically; the format follows the extension."""
    path = Path(path)
    return atomic_write_bytes(path, encode_image(arr, path.suffix or ".png", quality))
