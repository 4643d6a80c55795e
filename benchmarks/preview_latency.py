"""Preview responsiveness: time from a slider change to a repainted preview grid (Augment tab).

A 1024x1024 photo, a 6-transform pipeline, every step forced on (p=1) so each tile really runs
all six. The clock starts at the slider's ``setValue`` (what a drag emits) and stops when the
event loop has recomputed the previews and the six tiles have repainted. Peer in the same run:
the same pipeline computed on the full-resolution image (what a preview without a downscaled
cache costs). Target: <= 50 ms median.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/preview_latency.py``
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks._report import md_table, write_results  # noqa: E402

PIPELINE = ["HorizontalFlip", "Affine", "RandomBrightnessContrast", "HueSaturationValue", "GaussianBlur",
            "CoarseDropout"]


def main(n: int = 40) -> None:
    from PyQt5.QtCore import QSettings
    from PyQt5.QtWidgets import QApplication
    from skimage import data

    from augbench.augment.preview import PreviewSource, make_previews
    from augbench.core.imageio import write_image
    from augbench.gui.tab_augment import AugmentTab
    from augbench.label.types import Box

    cv2.setNumThreads(1)
    app = QApplication.instance() or QApplication([])
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / "augbench-preview-bench"
    img = cv2.resize(data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    write_image(tmp / "astronaut.png", img)
    (tmp / "astronaut.txt").write_text("0 0.44 0.2 0.24 0.32\n1 0.76 0.83 0.47 0.34\n")
    (tmp / "classes.txt").write_text("face\nhelmet\n")
    _ = QSettings
    tab = AugmentTab(None)
    tab.resize(1400, 900)
    tab.show()
    tab.open_path(tmp)
    for name in PIPELINE:
        tab.set_enabled(name, True)
    tab.force_cb.setChecked(True)
    tab._select("RandomBrightnessContrast")
    for _ in range(5):
        app.processEvents()
    tab.refresh_preview_now()
    slider = tab.editor.slider_for("brightness_limit")
    times = []
    for i in range(n):
        gen = tab.preview_generation
        t0 = time.perf_counter()
        slider.slider.setValue((i * 37) % slider.slider.maximum())
        while tab.preview_generation == gen:
            app.processEvents()
        for v in tab.views:
            v.repaint()
        times.append((time.perf_counter() - t0) * 1000)
    ours = statistics.median(times)
    # Peer: the same six transforms on the full-resolution image (no downscaled cache).
    full = PreviewSource.from_full(img, [Box(327, 41, 573, 369, "face"), Box(537, 676, 1018, 1024, "helmet")],
                                   max_side=1024)
    peer = []
    for i in range(max(8, n // 4)):
        t0 = time.perf_counter()
        make_previews(full, tab.current_steps(), 6, seed=i, force=True)
        peer.append((time.perf_counter() - t0) * 1000)
    peer_med = statistics.median(peer)
    rows = [["augbench preview (256 px cached copy, 6 tiles)", f"{ours:.1f}", f"{np.percentile(times, 90):.1f}"],
            ["same 6 tiles at full 1024 px (no cache)", f"{peer_med:.1f}", f"{np.percentile(peer, 90):.1f}"]]
    md = f"""## Preview responsiveness (`benchmarks/preview_latency.py`)

Slider change -> recomputed and repainted 6-tile preview grid in the Augment tab, 1024x1024 photo with 2 boxes,
pipeline {', '.join(PIPELINE)} with every step forced on, {n} slider moves, offscreen Qt, one thread.

{md_table(["path", "median ms", "p90 ms"], rows)}

Median **{ours:.1f} ms** (target <= 50 ms); {peer_med / ours:.1f}x faster than previewing at full resolution.
"""
    write_results("preview_latency", {"median_ms": ours, "p90_ms": float(np.percentile(times, 90)), "samples_ms": times,
                                      "full_res_median_ms": peer_med, "pipeline": PIPELINE}, md)
    print(md)
    tab.close()


if __name__ == "__main__":
    main()
