"""Style-training data: GIMP's tileable texture patterns (Debian ``gimp-data``) as PNG tiles.

The decoder's style set was 10 scikit-image/opencv-doc textures; on held-out
styles (gravel above all) it drew too little texture. ``gimp-data`` ships 58
tileable patterns (rock, slate, granite, marble, bark, wood, leather, burlap,
crinkled paper, ...) in GIMP's own ``.pat`` format. This reads them (header:
size, version, width, height, bytes per pixel, ``GPAT``, name; then raw pixels),
drops the flat or synthetic ones (stripes, grids, cubes, plain colours), tiles
each to at least 320 px so 192 px training crops fit, and writes PNGs. Training
only: nothing here is shipped.

Run (no root needed)::

    apt-get download gimp-data && dpkg -x gimp-data_*.deb /tmp/gimp-data
    python experiments/gimp_patterns.py /tmp/gimp-data/usr/share/gimp/2.0/patterns runs/style-data/textures-gimp
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

import cv2
import numpy as np

#: graphics rather than textures: stripes, grids, cubes, plain or near-plain colours
SKIP = {"Stripes1px", "Stripes2px", "nops", "warning", "blue", "bluesquares", "bluegrid", "sm_squares", "redcube",
        "qube1", "recessed", "3dgreen", "pastel"}
MIN_SIDE = 320


def read_pattern(path: Path) -> np.ndarray:
    """An RGB uint8 array from a GIMP ``.pat`` file (grey and alpha channels are dropped to RGB)."""
    raw = path.read_bytes()
    header, _version, width, height, depth = struct.unpack(">5I", raw[:20])
    if raw[20:24] != b"GPAT" or depth not in (1, 2, 3, 4):
        raise ValueError(f"{path}: not a GIMP pattern")
    px = np.frombuffer(raw[header: header + width * height * depth], np.uint8).reshape(height, width, depth)
    return np.repeat(px[..., :1], 3, axis=2) if depth <= 2 else px[..., :3].copy()


def tile_to(img: np.ndarray, side: int) -> np.ndarray:
    """Repeat a tileable pattern until both sides reach ``side`` px."""
    h, w = img.shape[:2]
    reps = (-(-side // h), -(-side // w), 1)
    return np.tile(img, reps)[: max(side, h), : max(side, w)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("patterns", type=Path, help="folder with GIMP .pat files")
    ap.add_argument("out", type=Path, help="new folder for the PNG tiles")
    args = ap.parse_args()
    files = sorted(args.patterns.rglob("*.pat"))  # gimp-data sorts them into subfolders
    if not files:
        print(f"no .pat files in {args.patterns}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    kept = 0
    for f in files:
        img = read_pattern(f)
        if f.stem in SKIP or min(img.shape[:2]) < 32:
            continue
        cv2.imwrite(str(args.out / f"{f.stem}.png"), cv2.cvtColor(tile_to(img, MIN_SIDE), cv2.COLOR_RGB2BGR))
        kept += 1
    print(f"wrote {kept} textures to {args.out} ({len(files) - kept} skipped)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
