"""How responsive the GUI stays while a job trains: gaps between ticks of a timer on the GUI thread.

A Synthesize-tab balancing run (CycleGAN, the tab's default network at 64 px, one defect class) and a
Benchmark-tab run (small CNN) each train for ``--seconds`` in the real tab, offscreen, while a 10 ms
QTimer records when the event loop gets to it. A gap is the time between two ticks: what a click or a
repaint would wait at worst. Goal: p99 <= 50 ms and no gap over 100 ms while any job runs.

Runs each job twice in the same process: with augbench's GUI job settings (see
``augbench.gui.worker.gui_job_settings``: a 1 ms GIL switch interval while a job runs) and with
plain settings (Python's default 5 ms), the peer. Before that, the one-time cost is measured on its
own: the first torch optimiser of a process imports torch._dynamo (~4 s), during which C-level
module loading holds the GIL for up to a few hundred ms at a time.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/event_loop_latency.py`` (state the load).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "gan"))

import numpy as np  # noqa: E402

from benchmarks._report import md_table, write_results  # noqa: E402

TICK_MS = 10


def _measure(app, start, panel, seconds: float) -> dict[str, float]:
    from PyQt5.QtCore import QEventLoop, QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    panel.finished.connect(loop.quit)
    start()
    loop.exec_()  # the real event loop, as in the application
    timer.stop()
    panel.stop(30000)
    app.processEvents()
    gaps = np.diff(np.array(ticks)) * 1000 if len(ticks) > 1 else np.array([0.0])
    return {"ticks": len(ticks), "p50": float(np.percentile(gaps, 50)), "p99": float(np.percentile(gaps, 99)),
            "max": float(gaps.max()), "over_100": int((gaps > 100).sum())}


def _cold_import_gap(app) -> dict[str, float]:
    """GUI-thread gaps while another thread builds the process's first torch optimiser."""
    import threading

    from PyQt5.QtCore import QEventLoop, QTimer

    done = threading.Event()
    took: list[float] = []

    def first_optimiser() -> None:
        import torch

        t0 = time.perf_counter()
        torch.optim.AdamW(torch.nn.Linear(2, 2).parameters())
        took.append(time.perf_counter() - t0)
        done.set()

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    poll = QTimer()
    poll.setInterval(20)
    loop = QEventLoop()
    poll.timeout.connect(lambda: loop.quit() if done.is_set() else None)
    timer.start()
    poll.start()
    threading.Thread(target=first_optimiser, daemon=True).start()
    loop.exec_()
    timer.stop()
    poll.stop()
    gaps = np.diff(np.array(ticks)) * 1000
    return {"seconds": took[0], "max": float(gaps.max()), "p99": float(np.percentile(gaps, 99))}


def _synth(app, tmp: Path, seconds: float):
    from gan_helpers import write_tiny_imagefolder

    from augbench.gui.synthesize.view import SynthesizeTab

    data = write_tiny_imagefolder(tmp / f"cells{time.time_ns()}", {"normal": 12, "crack": 4}, size=96)
    tab = SynthesizeTab(None)
    tab.resize(1200, 700)
    tab.show()
    tab.open_path(data)
    tab.form.resolution.setCurrentIndex(1)  # 64 px, the tab's default network
    tab.form.epochs.setValue(200)
    tab.form.budget_min.setValue(0)
    tab.form.out_dir.setText(str(tmp / f"out{time.time_ns()}"))
    cfg = tab.config()
    if getattr(cfg, "engine", "cyclegan") != "cyclegan":  # the tab's default engine may not train
        cfg = dataclasses.replace(cfg, engine="cyclegan")
    res = _measure(app, lambda: tab.panel.run(job=cfg), tab.panel, seconds)
    tab.close()
    return res


def _bench(app, tmp: Path, seconds: float):
    from augbench.core.imageio import write_image
    from augbench.gui.benchmark.view import BenchmarkTab

    root = tmp / f"data{time.time_ns()}"
    rng = np.random.default_rng(0)
    for cls, n in (("normal", 40), ("defect", 12)):
        for i in range(n):
            write_image(root / cls / f"{i:03d}.png", rng.integers(0, 255, (64, 64), dtype=np.uint8))
    tab = BenchmarkTab(None)
    tab.resize(1200, 700)
    tab.show()
    tab.form.data.setText(str(root))
    tab.form.out.setText(str(tmp / f"res{time.time_ns()}"))
    tab.form.epochs.setValue(100)
    tab.form.size.setValue(64)
    tab.form.batch.setValue(8)
    res = _measure(app, tab.start, tab.panel, seconds)
    tab.close()
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--load", default=os.environ.get("BENCH_LOAD", "unknown"))
    args = ap.parse_args()
    from PyQt5.QtWidgets import QApplication

    from augbench.gui import worker

    app = QApplication.instance() or QApplication([])
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        import torch

        cold = _cold_import_gap(app)
        print("cold optimiser import:", cold, flush=True)
        cores = len(os.sched_getaffinity(0))
        for label, tuned in (("first run in the process (imports)", True), ("augbench GUI job settings", True),
                             ("plain (peer)", False)):
            worker.GUI_JOB_TUNING = tuned
            for job, fn in (("Synthesize: CycleGAN balancing", _synth), ("Benchmark: small CNN", _bench)):
                torch.set_num_threads(cores)  # torch's default; the GUI settings lower it per job
                results[f"{job} | {label}"] = fn(app, tmp, args.seconds)
                print(job, label, results[f"{job} | {label}"], flush=True)
    rows = [[k.split(" | ")[0], k.split(" | ")[1], f"{v['p50']:.0f}", f"{v['p99']:.0f}", f"{v['max']:.0f}",
             str(v["over_100"])] for k, v in results.items()]
    md = f"""## GUI event loop while a job trains (`benchmarks/event_loop_latency.py`)

A 10 ms timer on the GUI thread while the real tab trains for {args.seconds:.0f} s (offscreen Qt, 2 cores).
A gap is the time between two ticks (10 ms when nothing stalls). Goal: p99 <= 50 ms, no gap over 100 ms.
Load: {args.load}.

{md_table(["job", "settings", "p50 gap ms", "p99 gap ms", "longest gap ms", "gaps > 100 ms"], rows)}

augbench GUI job settings: the GIL switch interval is 1 ms while a job runs (5 ms otherwise).
"First run" rows include the one-time imports of that job's code (CycleGAN, KID features, ...); the other rows
are the steady state (same job again in the same process). Once per session, the first torch optimiser
(the first training job) imports torch._dynamo: {cold['seconds']:.1f} s, and the GUI thread's longest gap
meanwhile was **{cold['max']:.0f} ms** (p99 {cold['p99']:.0f} ms): C-level module loading holds the GIL.
"""
    write_results("event_loop_latency", {"results": results, "cold_import": cold, "seconds": args.seconds,
                                         "load": args.load}, md)
    print(md)


if __name__ == "__main__":
    main()
