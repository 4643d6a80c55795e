"""Crawl throughput: augbench's crawler vs a sequential fetch-one-then-download-one crawler.

Both crawl the same fixture site (served from a separate process, 100 ms of
artificial latency on every request, images spread over 4 hosts on
127.0.0.2-5) through the same fake Naver Open API, under the same politeness
limits (a minimum delay between requests to one host; augbench additionally
caps requests in flight per host, the sequential crawler has one in flight by
construction). Both validate with Pillow and drop exact duplicates, so they
deliver comparable folders; augbench also drops near-duplicates.

The peer is the loop most crawlers start as (AutoCrawler and friends): get a
result page, then for each result ``requests.get`` it, check it, save it,
next. Run: ``python benchmarks/crawl_throughput.py [--count 200] [--repeat 2]``.
A second part times the headless-Chromium engine on the Naver-like result page.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import md_table, write_results  # noqa: E402

QUERY = "bench"


def _serve(conn, latency: float, hosts: int, n: int) -> None:
    from augbench.testing.fixture_site import FixtureSite, add_messy_results

    site = FixtureSite(latency_s=latency, image_hosts=hosts, items_per_query=n).start()
    planted = add_messy_results(site, QUERY, n)
    for q in ("browser-a", "browser-b"):
        add_messy_results(site, q, n)
    conn.send({"base": site.base_url, "api": site.api_url, "search": site.search_url(), "planted": planted})
    conn.recv()  # block until the parent is done
    site.stop()


def sequential_crawl(api_url: str, count: int, out: Path, delay: float) -> dict[str, float]:
    """The obvious crawler: one result page, then one download at a time, politely."""
    from augbench.testing.fixture_site import CLIENT_ID, CLIENT_SECRET

    out.mkdir(parents=True, exist_ok=True)
    headers = {"X-Naver-Client-Id": CLIENT_ID, "X-Naver-Client-Secret": CLIENT_SECRET}
    last: dict[str, float] = {}
    seen: set[str] = set()
    kept = dup = invalid = failed = 0
    start = 1
    t0 = time.perf_counter()

    def polite(url: str) -> None:
        host = urlsplit(url).netloc
        wait = last.get(host, 0.0) + delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        last[host] = time.monotonic()

    while kept < count:
        polite(api_url)
        page = requests.get(api_url, params={"query": QUERY, "display": 10, "start": start}, headers=headers,
                            timeout=10).json()
        items = page.get("items", [])
        if not items:
            break
        for item in items:
            if kept >= count:
                break
            polite(item["link"])
            try:
                resp = requests.get(item["link"], timeout=10)
            except requests.RequestException:
                failed += 1
                continue
            if resp.status_code != 200:
                failed += 1
                continue
            try:
                with Image.open(io.BytesIO(resp.content)) as im:
                    im.load()
                    ext = (im.format or "jpg").lower().replace("jpeg", "jpg")
            except Exception:  # noqa: BLE001 - the peer keeps going like any simple crawler
                invalid += 1
                continue
            digest = hashlib.sha256(resp.content).hexdigest()
            if digest in seen:
                dup += 1
                continue
            seen.add(digest)
            kept += 1
            (out / f"{kept:06d}.{ext}").write_bytes(resp.content)
        start += len(items)
    elapsed = time.perf_counter() - t0
    return {"kept": kept, "duplicate": dup, "near_duplicate": 0, "invalid": invalid, "failed": failed,
            "seconds": elapsed, "images_per_minute": kept / elapsed * 60}


def augbench_crawl(api_url: str, count: int, out: Path, delay: float, in_flight: int, workers: int,
                   engine: str = "naver_api", search_url: str = "", full_size: bool = True,
                   keywords: tuple[str, ...] = (QUERY,)) -> dict[str, float]:
    from augbench.core.jobs import run_job
    from augbench.crawl.jobs import CrawlConfig
    from augbench.testing.fixture_site import CLIENT_ID, CLIENT_SECRET

    cfg = CrawlConfig(keywords=keywords, out_dir=str(out), count=count, engine=engine, api_client_id=CLIENT_ID,
                      api_client_secret=CLIENT_SECRET, api_base_url=api_url, per_host_delay_s=delay,
                      per_host_max_in_flight=in_flight, workers=workers, search_url=search_url, full_size=full_size,
                      scroll_timeout_s=2.0)
    t0 = time.perf_counter()
    res = run_job(cfg)
    elapsed = time.perf_counter() - t0
    m = res.metrics
    return {"kept": m["downloaded"], "duplicate": m["exact_duplicate"], "near_duplicate": m["near_duplicate"],
            "invalid": m["invalid"], "failed": m["failed"], "seconds": elapsed,
            "images_per_minute": m["downloaded"] / elapsed * 60}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--delay", type=float, default=0.1, help="per-host delay (both crawlers)")
    ap.add_argument("--in-flight", type=int, default=2)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--hosts", type=int, default=4)
    ap.add_argument("--browser-count", type=int, default=40, help="0 skips the Chromium part")
    args = ap.parse_args(argv)

    parent, child = mp.Pipe()
    proc = mp.Process(target=_serve, args=(child, args.latency, args.hosts, int(args.count * 1.6)), daemon=True)
    proc.start()
    info = parent.recv()
    runs: dict[str, list[dict[str, float]]] = {"augbench": [], "sequential": []}
    browser: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.repeat):
                runs["sequential"].append(sequential_crawl(info["api"], args.count, Path(tmp) / f"seq{r}", args.delay))
                runs["augbench"].append(augbench_crawl(info["api"], args.count, Path(tmp) / f"aug{r}", args.delay,
                                                       args.in_flight, args.workers))
                print(f"run {r + 1}: augbench {runs['augbench'][-1]['images_per_minute']:.0f}/min, "
                      f"sequential {runs['sequential'][-1]['images_per_minute']:.0f}/min", file=sys.stderr)
            if args.browser_count:
                for mode, full in (("thumbnails", False), ("originals (viewer)", True)):
                    browser[mode] = augbench_crawl(
                        info["api"], args.browser_count, Path(tmp) / f"br{int(full)}", args.delay, args.in_flight,
                        args.workers, engine="naver_browser", search_url=info["search"], full_size=full,
                        keywords=("browser-a" if full else "browser-b",))
                    print(f"browser {mode}: {browser[mode]['images_per_minute']:.0f}/min", file=sys.stderr)
    finally:
        parent.send("stop")
        proc.join(10)

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    ratio = med("augbench", "images_per_minute") / med("sequential", "images_per_minute")
    rows = []
    for name in ("augbench", "sequential"):
        last = runs[name][-1]
        rows.append([name, round(med(name, "images_per_minute")), round(med(name, "seconds"), 1), last["kept"],
                     last["duplicate"], last["near_duplicate"], last["invalid"], last["failed"]])
    table = md_table(["crawler", "images/min (median)", "seconds", "kept", "exact dup", "near dup", "invalid",
                      "failed"], rows)
    btable = md_table(["engine / mode", "images/min", "seconds", "kept", "dup", "near dup", "invalid"],
                      [[f"naver_browser {k}", round(v["images_per_minute"]), round(v["seconds"], 1), v["kept"],
                        v["duplicate"], v["near_duplicate"], v["invalid"]] for k, v in browser.items()])
    md = f"""## Crawl throughput: augbench vs a sequential crawler

Fixture site in its own process, {args.latency * 1000:.0f} ms latency on every request, images on {args.hosts} hosts,
{args.count} images kept per run, same politeness for both (>= {args.delay} s between requests to one host;
augbench: <= {args.in_flight} in flight per host, {args.workers} workers). Planted in the results:
{info['planted']['duplicate']} copies (half exact, half resized re-encodes) and {info['planted']['invalid']}
HTML pages served as image/jpeg. Median of {args.repeat} runs. Script: `benchmarks/crawl_throughput.py`.

{table}

**augbench / sequential: {ratio:.1f}x** (target >= 4x). The sequential crawler only catches exact duplicates;
its "kept" includes the resized copies augbench rejects as near duplicates.

Headless Chromium engine on the Naver-like result page (same site and latency; the browser's own page,
scroll and viewer requests are included in the time):

{btable}
"""
    write_results("crawl_throughput", {"args": vars(args), "planted": info["planted"], "runs": runs,
                                       "ratio": ratio, "browser": browser}, md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
