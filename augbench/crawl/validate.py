"""Is this download really an image? Content-type, magic bytes, a full Pillow decode.

Servers lie: an HTML error page arrives as ``image/jpeg``, a CDN cuts a file
short, a ``.jpg`` URL returns a PNG. The extension we save is the one of the
real format, never the one in the URL or header.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# Real format -> (extension we write, names a user may allow).
FORMATS: dict[str, str] = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif"}
FORMAT_CHOICES = ("jpg", "png", "gif", "webp", "bmp", "tif")

_OK_NON_IMAGE_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/x-download"}


class InvalidImage(Exception):
    """The bytes are not a usable image (reason says why); ``filtered`` marks a valid image the options exclude."""

    def __init__(self, reason: str, filtered: bool = False, width: int = 0, height: int = 0, fmt: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.filtered = filtered
        self.width = width
        self.height = height
        self.fmt = fmt


def sniff(data: bytes) -> str | None:
    """The image format from magic bytes, or None."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:2] == b"BM":
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    return None


def check_content_type(content_type: str) -> None:
    """Refuse a declared type that is clearly not an image (``text/html`` ...)."""
    main = (content_type or "").split(";")[0].strip().lower()
    if main.startswith("image/") or main in _OK_NON_IMAGE_TYPES:
        return
    raise InvalidImage(f"content-type {main!r} is not an image")


@dataclass
class ImageFacts:
    fmt: str
    ext: str
    width: int
    height: int
    image: Image.Image  # decoded, RGB


def inspect_image(
    data: bytes,
    content_type: str = "",
    *,
    formats: tuple[str, ...] = FORMAT_CHOICES,
    min_width: int = 0,
    min_height: int = 0,
) -> ImageFacts:
    """Validate ``data`` fully; raise :class:`InvalidImage` (``filtered`` for option rejections)."""
    if not data:
        raise InvalidImage("empty body")
    fmt = sniff(data)
    if fmt is None:
        preview = data[:24].decode("latin-1").replace("\n", " ").strip()
        declared = (content_type or "?").split(";")[0]
        raise InvalidImage(f"not an image (declared {declared}, starts with {preview!r})")
    check_content_type(content_type)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                real = img.format or fmt
                width, height = img.size
                rgb = img.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImage(f"image too large to decode safely: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        msg = str(exc) or type(exc).__name__
        if "truncated" in msg.lower() or isinstance(exc, EOFError):
            msg = f"truncated image data ({msg})"
        raise InvalidImage(f"{fmt} does not decode: {msg}") from None
    ext = FORMATS.get(real, FORMATS.get(fmt, ".img"))
    allowed = {("jpg" if f in ("jpeg", "jpg") else f.lower().lstrip(".")) for f in formats}
    if ext.lstrip(".") not in allowed:
        raise InvalidImage(f"format {ext.lstrip('.')} is not in the allowed formats", True, width, height, real)
    if width < min_width or height < min_height:
        raise InvalidImage(
            f"{width}x{height} is smaller than the minimum {min_width}x{min_height}", True, width, height, real
        )
    return ImageFacts(real, ext, width, height, rgb)
