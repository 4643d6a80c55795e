"""Crawl resume: re-running a browser crawl whose keyword already ran out of results.

Timed as a user runs it: the whole ``augbench crawl`` process (interpreter
start, job set-up, browser start when one is needed, exit), against the
Naver-like fixture page served from a separate process on 127.0.0.1.

* **first run** — the keyword has fewer results (``--results``) than asked for
  (``-n``), so the crawl scrolls to the end of the result list and stops short.
* **resume, memo** (augbench today) — the keyword's folder remembers that this
  search (engine + search URL + selector table) ran out; within
  ``--recheck-hours`` the search is skipped.
* **resume, search again** (the peer: augbench before this change, and what a
  plain crawler does) — ``--recheck-hours 0``: the browser starts, the page is
  loaded and scrolled to its end again, waiting for results that never come.
  Its end-of-results wait is itself adaptive now (``stall_wait_s``), so the old
  fixed 3 x ``scroll_timeout_s`` tail is shown as a third figure.

Run: ``python benchmarks/crawl_resume.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import md_table, write_results  # noqa: E402

QUERY = "resumecat"


def _fixture_site_cls():
    try:
        from augbench.testing.fixture_site import FixtureSite
    except ImportError:  # before the move into augbench.testing
        from augbench.crawl.fixture_site import FixtureSite  # type: ignore[no-redef]
    return FixtureSite


def _serve(conn, n: int) -> None:
    site = _fixture_site_cls()(items_per_query=60, page_size=20).start()
    site.set_results(QUERY, site.items("cat")[:n])
    conn.send(site.search_url())
    conn.recv()
    site.stop()


def _crawl(out: Path, search_url: str, count: int, extra: list[str]) -> float:
    exe = Path(sys.executable).with_name("augbench")
    cmd = [str(exe), "crawl", QUERY, "-o", str(out), "-n", str(count), "--search-url", search_url, "--thumbnails",
           "--delay", "0", "-q", *extra]
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "SE_OFFLINE": "true", "SE_AVOID_STATS": "true"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--results", type=int, default=25, help="results the page has")
    ap.add_argument("--count", type=int, default=40, help="images asked for (more than the page has)")
    ap.add_argument("--load", default="", help="what else ran on the machine (stated in the report)")
    args = ap.parse_args()
    parent, child = mp.Pipe()
    server = mp.Process(target=_serve, args=(child, args.results), daemon=True)
    server.start()
    search_url = parent.recv()
    times: dict[str, list[float]] = {"first run": [], "resume, memo": [], "resume, search again": [],
                                     "resume, search again, fixed wait": []}
    try:
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "out"
                times["first run"].append(_crawl(out, search_url, args.count, []))
                times["resume, memo"].append(_crawl(out, search_url, args.count, []))
                times["resume, search again"].append(_crawl(out, search_url, args.count, ["--recheck-hours", "0"]))
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "out"
                _crawl(out, search_url, args.count, [])
                times["resume, search again, fixed wait"].append(_crawl(
                    out, search_url, args.count, ["--recheck-hours", "0", "--patient-scroll"]))
    finally:
        parent.send("stop")
        server.join(5)
    med = {k: statistics.median(v) for k, v in times.items() if v}
    peer = med["resume, search again"]
    rows = [[k, f"{med[k]:.2f}", f"{min(v):.2f}", f"{max(v):.2f}", f"{peer / med[k]:.1f}x"]
            for k, v in times.items() if v]
    load = args.load or "unknown (state it with --load)"
    md = (
        "## Crawl resume (`benchmarks/crawl_resume.py`)\n\n"
        f"Whole `augbench crawl` processes against the Naver-like fixture page on 127.0.0.1: the page has "
        f"{args.results} results, {args.count} are asked for, so the first run scrolls to the end and stops short. "
        f"Median of {args.repeat} runs. Load: {load}.\n\n"
        + md_table(["run", "median s", "min s", "max s", "speed-up vs search again"], rows)
        + "\n\n\"memo\": the keyword folder remembers that this search ran out (skipped for `--recheck-hours`, "
          "default 24 h). \"search again\" (`--recheck-hours 0`) re-loads and re-scrolls the page with the adaptive "
          "end-of-results wait; \"fixed wait\" is the old 3 x `scroll_timeout_s` tail."
    )
    write_results("crawl_resume", {"seconds": times, "median_s": med, "load": load, "results": args.results,
                                   "count": args.count}, md)
    print(md)


if __name__ == "__main__":
    main()
