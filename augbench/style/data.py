"""Photos and style images that ship in installed packages (no download).

Content: scikit-image's sample photos and Debian ``opencv-doc``'s example
photos. Style: textures (scikit-image brick/grass/gravel) and paintings/photos
from opencv-doc (``starry_night.jpg`` ...). A fixed set is held out of decoder
training so ``benchmarks/style_quality.py`` measures generalisation.
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from augbench.core.errors import ImageReadError
from augbench.core.imageio import decode_image_bytes

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")

SKIMAGE_CONTENT = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "motorcycle_left", "retina",
                   "immunohistochemistry", "camera", "coins", "moon", "page")
OPENCV_CONTENT = ("aero1.jpg", "aero3.jpg", "apple.jpg", "building.jpg", "butterfly.jpg", "home.jpg", "leuvenA.jpg",
                  "leuvenB.jpg", "messi5.jpg", "orange.jpg", "squirrel_cls.jpg", "graf1.png", "graf3.png",
                  "basketball1.png", "rubberwhale1.png", "Blender_Suzanne1.jpg", "box_in_scene.png", "board.jpg",
                  "pic1.png", "pic3.png", "pic5.png", "left01.jpg", "licenseplate_motion.jpg", "lena.jpg",
                  "ela_original.jpg", "blox.jpg", "chicky_512.png")
SKIMAGE_STYLE = ("brick", "grass", "gravel")
OPENCV_STYLE = ("starry_night.jpg", "baboon.jpg", "HappyFish.jpg", "fruits.jpg", "smarties.png", "stuff.jpg",
                "pic2.png", "pic4.png", "pic6.png", "cards.png")

#: held out of decoder training, used by the quality benchmark
HELDOUT_CONTENT = ("astronaut", "coffee", "messi5.jpg", "building.jpg")
HELDOUT_STYLE = ("starry_night.jpg", "gravel", "stuff.jpg")


@dataclass(frozen=True)
class NamedImage:
    name: str
    image: np.ndarray  # HxWx3 uint8 RGB


def _skimage(name: str) -> np.ndarray | None:
    if importlib.util.find_spec("skimage") is None:
        return None
    import skimage.data

    fn = getattr(skimage.data, name, None)
    if fn is None:
        return None
    try:
        img = np.asarray(fn())
    except Exception:  # a sample that needs a download (pooch) is simply absent offline
        return None
    if img.dtype != np.uint8:
        img = (255 * (img.astype(np.float32) / max(1.0, float(img.max())))).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3])


def _opencv(name: str) -> np.ndarray | None:
    for cand in (OPENCV_DATA / name, OPENCV_DATA / (name + ".gz")):
        if cand.is_file():
            data = cand.read_bytes()
            if cand.suffix == ".gz":
                data = gzip.decompress(data)
            try:
                return decode_image_bytes(data, "rgb")
            except ImageReadError:
                return None
    return None


def load_named(name: str) -> np.ndarray | None:
    """One built-in image by name (skimage sample name or opencv-doc file name); None when absent."""
    return _opencv(name) if "." in name else _skimage(name)


def _collect(names: tuple[str, ...], heldout: bool | None, held: tuple[str, ...]) -> list[NamedImage]:
    out = []
    for name in names:
        if heldout is not None and (name in held) != heldout:
            continue
        img = load_named(name)
        if img is not None and min(img.shape[:2]) >= 64:
            out.append(NamedImage(name, img))
    return out


def content_images(heldout: bool | None = False) -> list[NamedImage]:
    """Built-in content photos; ``heldout=True`` only the held-out ones, ``None`` all."""
    return _collect(SKIMAGE_CONTENT + OPENCV_CONTENT, heldout, HELDOUT_CONTENT)


def style_images(heldout: bool | None = False) -> list[NamedImage]:
    """Built-in style images (textures, paintings); ``heldout=True`` only the held-out ones."""
    return _collect(SKIMAGE_STYLE + OPENCV_STYLE, heldout, HELDOUT_STYLE)
