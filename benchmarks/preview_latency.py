"""Preview responsiveness in the Augment tab with a heavy pipeline, and how long the GUI thread is blocked.

A 1024x1024 photo with 2 boxes, pipeline Affine + ElasticTransform + GridDistortion + Perspective +
CLAHE + HueSaturationValue, every step forced on (p=1) so each of the 6 tiles really runs all of them.

Measured, in the same run:

- **latency**: a slider change (what a drag emits) -> the 6 tiles of *that* setting are on screen and
  repainted. Previews run in a background thread; while one computes, newer requests replace each other.
- **GUI stall during a drag**: a 10 ms timer runs while the slider moves every 15 ms for 3 s; the
  longest gap between two ticks is how long the user's input would wait.
- **peer**: the same previews computed on the GUI thread (what the tab did before): every slider step
  blocks the event loop for the whole computation.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/preview_latency.py`` (say what else runs: load).
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

PIPELINE = ["Affine", "ElasticTransform", "GridDistortion", "Perspective", "CLAHE", "HueSaturationValue"]
SLIDER = ("HueSaturationValue", "hue_shift_limit")


def _gaps_while(app, action, seconds: float, tick_ms: int = 10) -> list[float]:
    """Run ``action()`` every 15 ms for ``seconds`` and return the gaps (ms) between 10 ms timer ticks."""
    from PyQt5.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(tick_ms)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    mover = QTimer()
    mover.setInterval(15)
    mover.timeout.connect(action)
    timer.start()
    mover.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    mover.stop()
    return [(b - a) * 1000 for a, b in zip(ticks, ticks[1:])]


def main(n: int = 30, load: str = os.environ.get("BENCH_LOAD", "unknown")) -> None:
    from PyQt5.QtWidgets import QApplication
    from skimage import data

    from augbench.augment.preview import make_previews
    from augbench.core.imageio import write_image
    from augbench.gui.augment.view import AugmentTab

    cv2.setNumThreads(1)
    app = QApplication.instance() or QApplication([])
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / "augbench-preview-bench"
    img = cv2.resize(data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    write_image(tmp / "astronaut.png", img)
    (tmp / "astronaut.txt").write_text("0 0.44 0.2 0.24 0.32\n1 0.76 0.83 0.47 0.34\n")
    (tmp / "classes.txt").write_text("face\nhelmet\n")
    tab = AugmentTab(None)
    tab.resize(1300, 700)
    tab.show()
    tab.open_path(tmp)
    tab.set_steps([])
    for name in PIPELINE:
        tab.set_enabled(name, True)
    tab.force_cb.setChecked(True)
    tab._select(SLIDER[0])
    slider = tab.editor.slider_for(SLIDER[1]).slider
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)

    def settle() -> None:
        while tab.preview_busy:
            app.processEvents()
            time.sleep(0.0005)
        app.processEvents()

    settle()
    latency = []
    for i in range(n):
        t0 = time.perf_counter()
        slider.setValue((i * 37) % slider.maximum())
        settle()  # the tiles of this very setting are shown (no newer request was made)
        for v in tab.views:
            v.repaint()
        latency.append((time.perf_counter() - t0) * 1000)

    pos = [0]

    def drag() -> None:
        pos[0] = (pos[0] + 7) % slider.maximum()
        slider.setValue(pos[0])

    computed0, dropped0 = tab._previewer.computed, tab._previewer.dropped
    gaps_ours = _gaps_while(app, drag, 3.0)
    settle()
    computed, dropped = tab._previewer.computed - computed0, tab._previewer.dropped - dropped0

    # Peer: the same previews on the GUI thread, one per slider step (what a synchronous tab does).
    def drag_sync() -> None:
        drag()
        make_previews(tab.source, tab.current_steps(), 6, tab.model.preview_seed, 0.1, force=True)

    settle()
    sync_ms = []
    for i in range(max(8, n // 3)):
        t0 = time.perf_counter()
        make_previews(tab.source, tab.current_steps(), 6, i, 0.1, force=True)
        sync_ms.append((time.perf_counter() - t0) * 1000)
    gaps_peer = _gaps_while(app, drag_sync, 3.0)
    tab.shutdown()

    def p(xs: list[float], q: float) -> float:
        return float(np.percentile(xs, q)) if xs else float("nan")

    rows = [
        ["augbench (background thread, latest only)", f"{statistics.median(latency):.1f}", f"{p(latency, 90):.1f}",
         f"{max(gaps_ours):.0f}", f"{p(gaps_ours, 99):.0f}"],
        ["peer: previews on the GUI thread", f"{statistics.median(sync_ms):.1f}", f"{p(sync_ms, 90):.1f}",
         f"{max(gaps_peer):.0f}", f"{p(gaps_peer, 99):.0f}"],
    ]
    md = f"""## Preview responsiveness, heavy pipeline (`benchmarks/preview_latency.py`)

1024x1024 photo with 2 boxes, 256 px cached preview copy, pipeline {', '.join(PIPELINE)}, every step forced on,
6 tiles. Latency: slider change -> that setting's 6 tiles repainted (median of {n}). GUI stall: longest gap between
ticks of a 10 ms timer while the slider moves every 15 ms for 3 s. Offscreen Qt, OpenCV 1 thread.
Load: {load}.

{md_table(["path", "latency median ms", "latency p90 ms", "longest GUI gap ms", "p99 GUI gap ms"], rows)}

During the 3 s drag the background thread computed {computed} previews and dropped {dropped} stale requests
(the slider moved {int(3000 / 15)} times); the GUI thread never ran a transform.
"""
    write_results("preview_latency", {
        "latency_ms": latency, "latency_median_ms": statistics.median(latency), "sync_compute_ms": sync_ms,
        "gui_gaps_ms_background": gaps_ours, "gui_gaps_ms_sync": gaps_peer, "computed": computed,
        "dropped": dropped, "pipeline": PIPELINE, "load": load}, md)
    print(md)
    tab.close()


if __name__ == "__main__":
    main()
