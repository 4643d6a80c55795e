"""The ``crawl`` job: keywords -> engine -> polite validated downloads -> ImageFolder + manifests.

Output layout (an ImageFolder the Label and Augment tabs open directly)::

    out_dir/job.yaml, result.json
    out_dir/<keyword>/000001.jpg ... + manifest.jsonl
    out_dir/.augbench/diagnostics/   (page HTML + screenshot when an engine finds nothing)

Re-running the same job resumes: settled URLs are not fetched again, kept
images count toward ``count`` and take part in dedupe.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augbench.core.errors import Cancelled, ConfigError
from augbench.core.jobs import JobResult, Skipped, job_runner, register_job, save_job
from augbench.core.progress import CancelToken, Progress, ProgressFn
from augbench.core.runfolder import RunFolder
from augbench.core.shard import parse_shard
from augbench.crawl.dedupe import DedupeIndex
from augbench.crawl.downloader import Counts, Downloader, DownloadOptions
from augbench.crawl.engines.base import Engine
from augbench.crawl.manifest import KeywordStore
from augbench.crawl.types import DEFAULT_API_URL, OK
from augbench.crawl.validate import FORMAT_CHOICES

ENGINES = ("naver_browser", "naver_api", "url_list")
DIAGNOSTICS = Path(".augbench") / "diagnostics"


@register_job("crawl.fetch", "Crawl images for keywords (Naver browser / Naver Open API / URL list) into an ImageFolder")
@dataclass(frozen=True)
class FetchJob:
    """A crawl: one class folder per keyword, ``count`` kept images each."""

    # A crawl only ever adds new numbered files under <out>/<keyword>/ (it never overwrites a name it did not
    # reserve), and each keyword folder's manifest describes every file: crawling more keywords or more images
    # into an existing data set folder is the normal way to grow it.
    guard_shared_output = True
    guard_rerun_check = False

    keywords: tuple[str, ...] = ()
    out_dir: str = field(default="crawl", metadata={"role": "output"})
    count: int = field(default=50, metadata={"range": (1, 5000)})
    engine: str = field(default="naver_browser", metadata={"choices": ENGINES})
    full_size: bool = True
    min_width: int = field(default=0, metadata={"range": (0, 20000)})
    min_height: int = field(default=0, metadata={"range": (0, 20000)})
    formats: tuple[str, ...] = field(default=("jpg", "png", "webp"), metadata={"choices": FORMAT_CHOICES})
    safe_search: bool = True
    # Naver Open API (secret falls back to NAVER_CLIENT_ID / NAVER_CLIENT_SECRET; never written to job.yaml)
    api_client_id: str = ""
    api_client_secret: str = ""
    api_base_url: str = DEFAULT_API_URL
    api_sort: str = field(default="sim", metadata={"choices": ("sim", "date")})
    api_filter: str = field(default="all", metadata={"choices": ("all", "large", "medium", "small")})
    # URL list
    urls: tuple[str, ...] = ()
    url_file: str = field(default="", metadata={"role": "input"})
    # Browser engine
    search_url: str = ""  # overrides the selector table's search_url ({query}, {safe})
    selectors_file: str = field(default="", metadata={"role": "input"})  # an edited copy of resources/crawl/naver.yaml
    browser_path: str = field(default="", metadata={"role": "tool"})
    driver_path: str = field(default="", metadata={"role": "tool"})
    allow_driver_download: bool = False
    page_timeout_s: float = field(default=10.0, metadata={"range": (0.5, 300)})
    scroll_timeout_s: float = field(default=3.0, metadata={"range": (0.1, 60)})
    viewer_timeout_s: float = field(default=3.0, metadata={"range": (0.1, 60)})
    max_scrolls: int = field(default=30, metadata={"range": (0, 1000)})
    patient_scroll: bool = False  # True: every end-of-results retry waits the full scroll_timeout_s (slow sites)
    # Downloader
    timeout_s: float = field(default=10.0, metadata={"range": (0.1, 300)})
    max_bytes: int = field(default=20_000_000, metadata={"range": (1024, 2_000_000_000)})
    retries: int = field(default=2, metadata={"range": (0, 10)})
    backoff_s: float = field(default=0.5, metadata={"range": (0.0, 60)})
    max_retry_after_s: float = field(default=30.0, metadata={"range": (0.0, 3600)})
    per_host_delay_s: float = field(default=0.2, metadata={"range": (0.0, 60)})
    per_host_max_in_flight: int = field(default=2, metadata={"range": (1, 64)})
    workers: int = field(default=8, metadata={"range": (1, 64)})
    near_dup_threshold: int = field(default=6, metadata={"range": (-1, 32)})
    oversample: float = field(default=3.0, metadata={"range": (1.0, 100.0)})
    # A keyword whose search already ran to the end of its results is not searched again for this long
    # (a resume then takes about a second); 0 always searches again.
    recheck_hours: float = field(default=24.0, metadata={"range": (0.0, 100_000.0)})
    # "I/N": crawl only the keywords of shard I of N (by keyword) into the same out_dir. Duplicates are removed
    # across the keywords of one shard; across shards that run at the same time they are not.
    shard: str = field(default="", metadata={"rerun": "free"})

    def __post_init__(self) -> None:
        parse_shard(self.shard)
        kws = [k for k in self.keywords if str(k).strip()]
        if self.engine != "url_list" and not kws:
            raise ConfigError("keywords", "give at least one keyword (one per line)")
        if len({k.strip() for k in kws}) != len(kws):
            raise ConfigError("keywords", "a keyword is listed twice")
        if self.engine == "url_list" and not (self.urls or self.url_file):
            raise ConfigError("urls", "the url_list engine needs urls or a url_file")
        if not str(self.out_dir).strip():
            raise ConfigError("out_dir", "choose an output folder")

    def download_options(self) -> DownloadOptions:
        return DownloadOptions(
            full_size=self.full_size, timeout_s=self.timeout_s, max_bytes=self.max_bytes, retries=self.retries,
            backoff_s=self.backoff_s, max_retry_after_s=self.max_retry_after_s,
            per_host_delay_s=self.per_host_delay_s, per_host_max_in_flight=self.per_host_max_in_flight,
            workers=self.workers, min_width=self.min_width, min_height=self.min_height, formats=self.formats,
        )

    def search_source(self) -> str:
        """What identifies "the same search" for the end-of-results memo (engine + the settings that change results)."""
        if self.engine == "naver_api":
            return f"naver_api|{self.api_base_url}|{self.api_sort}|{self.api_filter}|full={self.full_size}"
        return f"{self.engine}|{self.search_url}|{self.selectors_file}|full={self.full_size}|safe={self.safe_search}"

    def api_credentials(self) -> tuple[str, str]:
        return (self.api_client_id or os.environ.get("NAVER_CLIENT_ID", ""),
                self.api_client_secret or os.environ.get("NAVER_CLIENT_SECRET", ""))


def build_engine(cfg: FetchJob, diagnostics_dir: Path) -> Engine:
    """The engine a config asks for (the browser starts lazily, on the first search)."""
    if cfg.engine == "naver_api":
        from augbench.crawl.engines.naver_api import NaverApiEngine

        cid, secret = cfg.api_credentials()
        return NaverApiEngine(cid, secret, base_url=cfg.api_base_url, sort=cfg.api_sort, size_filter=cfg.api_filter,
                              timeout_s=cfg.timeout_s, retries=cfg.retries, diagnostics_dir=diagnostics_dir)
    if cfg.engine == "url_list":
        from augbench.crawl.engines.url_list import UrlListEngine, read_url_file

        urls = list(cfg.urls) + (read_url_file(cfg.url_file) if cfg.url_file else [])
        return UrlListEngine(urls)
    from augbench.crawl.driver import resolve_browser, start_chrome
    from augbench.crawl.engines.naver_browser import NaverBrowserEngine
    from augbench.crawl.selectors import load_selectors

    table = load_selectors("naver", cfg.selectors_file or None).with_search_url(cfg.search_url)
    paths = resolve_browser(cfg.browser_path, cfg.driver_path, cfg.allow_driver_download)
    return NaverBrowserEngine(
        table, lambda: start_chrome(paths, page_load_timeout_s=max(5.0, cfg.page_timeout_s * 2)),
        full_size=cfg.full_size, safe_search=cfg.safe_search, diagnostics_dir=diagnostics_dir,
        wait_timeout_s=cfg.page_timeout_s, scroll_timeout_s=cfg.scroll_timeout_s,
        viewer_timeout_s=cfg.viewer_timeout_s, max_scrolls=cfg.max_scrolls,
        adaptive_end_wait=not cfg.patient_scroll,
    )


def _keywords(cfg: FetchJob) -> list[str]:
    kws = [k.strip() for k in cfg.keywords if k.strip()]
    return kws or ["urls"]


def crawl_keyword(
    engine: Engine,
    store: KeywordStore,
    downloader: Downloader,
    need: int,
    budget: int,
    cancel: CancelToken,
    on_outcome: Any,
) -> tuple[int, int, bool]:
    """Feed ``engine`` candidates to the pool until ``need`` images are kept.

    At most ``need - kept`` downloads are in flight, so a keyword never ends
    with more than ``count`` images. Returns (kept, candidates tried, engine exhausted).
    """
    opts = downloader.options
    kept = 0
    tried = 0
    submitted: set[str] = set()
    pending: set[cf.Future] = set()
    exhausted = True
    gen = engine.search(store.keyword, budget, cancel)
    pool = cf.ThreadPoolExecutor(max_workers=opts.workers, thread_name_prefix="augbench-dl")

    def drain(block: bool) -> None:
        nonlocal kept
        while pending:
            done, _ = cf.wait(pending, timeout=0.1, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                pending.discard(fut)
                outcome = fut.result()  # process() never raises except Cancelled
                store.append(outcome.row)
                if outcome.status == OK:
                    kept += 1
                on_outcome(outcome)
            cancel.check()
            if done and not block:
                return

    try:
        for cand in gen:
            cancel.check()
            url = cand.pick_url(opts.full_size)
            if url in store.settled_urls or url in submitted:
                continue
            submitted.add(url)
            tried += 1
            pending.add(pool.submit(downloader.process, cand, store, cancel))
            while pending and kept + len(pending) >= min(need, kept + opts.workers * 2):
                drain(block=False)
            if kept >= need:
                exhausted = False
                break
        drain(block=True)
    except BaseException:
        cancel_pending(pending)
        raise
    finally:
        gen.close()
        pool.shutdown(wait=True, cancel_futures=True)
    return kept, tried, exhausted and kept < need


def cancel_pending(pending: set[cf.Future]) -> None:
    for fut in pending:
        fut.cancel()


def _preview_rows(rows: list[dict[str, Any]]) -> list[Skipped]:
    return [Skipped(str(r.get("url", "")), f"{r['status']}: {r.get('reason', '')}") for r in rows]


@job_runner(FetchJob)
def run_crawl(cfg: FetchJob, *, progress: ProgressFn, cancel: CancelToken) -> JobResult:
    """Crawl every keyword in turn; rejections go to the manifest and ``result.skipped``."""
    t0 = time.monotonic()
    out = Path(cfg.out_dir)
    shard = parse_shard(cfg.shard)
    run = RunFolder(out, shard)
    # The secret is never written to disk: a re-run reads it from NAVER_CLIENT_SECRET or the GUI field.
    save_job(dataclasses.replace(cfg, api_client_secret="", shard=""), run.root / "job.yaml")
    keywords = shard.select(_keywords(cfg), key=str)
    stores = [KeywordStore(out, kw) for kw in keywords]
    dedupe = DedupeIndex(cfg.near_dup_threshold)
    for s in stores:
        s.register_kept(dedupe)
    downloader = Downloader(cfg.download_options(), dedupe)
    counts = Counts()
    result = JobResult(kind="crawl.fetch", out_dir=str(out))
    total = cfg.count * len(keywords)
    resumed = sum(min(s.kept, cfg.count) for s in stores)
    state = {"done": resumed, "kw": 0, "kw_kept": 0}
    rejected: list[dict[str, Any]] = []
    per_kw: dict[str, dict[str, int]] = {}
    progress(Progress(resumed, total, f"resuming: {resumed} images already there" if resumed else "starting",
                      stage="start"))

    def report(message: str, preview: Any = None, stage: str = "") -> None:
        m: dict[str, float] = {k: float(v) for k, v in counts.summary().items()}
        m.update(kw_index=float(state["kw"]), kw_done=float(state["kw_kept"]), kw_total=float(cfg.count))
        progress(Progress(state["done"], total, message, preview=preview, metrics=m, stage=stage))

    engine: Engine | None = None
    diag = out / DIAGNOSTICS
    try:
        engine = build_engine(cfg, diag)
        for u in getattr(engine, "rejected", []):  # URL-list lines that are not http(s): counted and reported
            rejected.append({"url": u, "status": "invalid", "reason": "not an http(s) URL; line ignored"})
        for i, store in enumerate(stores):
            cancel.check()
            need = cfg.count - store.kept
            state["kw"], state["kw_kept"] = i, min(store.kept, cfg.count)
            if need <= 0:
                report(f"{store.keyword}: {store.kept} images already there", stage=store.keyword)
                per_kw[store.keyword] = {"kept": store.kept, "new": 0}
                continue
            memo_age = (store.exhausted_recently(cfg.search_source(), cfg.recheck_hours * 3600)
                        if cfg.engine != "url_list" and cfg.recheck_hours > 0 else None)
            if memo_age is not None:
                report(f"{store.keyword}: the search ran out of results {memo_age / 3600:.1f} h ago; not searched again "
                       f"(recheck_hours={cfg.recheck_hours:g})", stage=store.keyword)
                per_kw[store.keyword] = {"kept": store.kept, "new": 0, "short_by": need, "skipped_exhausted": 1}
                continue
            report(f"{store.keyword}: searching ({cfg.engine})", stage=store.keyword)

            def on_outcome(o: Any, store: KeywordStore = store) -> None:
                counts.add(o.status)
                if o.status == OK:
                    result.outputs.append(o.file)
                    state["done"] += 1
                    state["kw_kept"] += 1
                else:
                    rejected.append(o.row)
                report(f"{store.keyword}: {state['kw_kept']}/{cfg.count} — {o.status} {o.row.get('reason', '')}"
                       .strip(), preview=o.preview, stage=store.keyword)

            budget = int(need * cfg.oversample) + 10
            kept, tried, exhausted = crawl_keyword(engine, store, downloader, need, budget, cancel, on_outcome)
            per_kw[store.keyword] = {"kept": store.kept + kept, "new": kept, "tried": tried}
            if exhausted:
                per_kw[store.keyword]["short_by"] = need - kept
                if cfg.engine != "url_list":
                    store.mark_exhausted(cfg.search_source(), tried)
    except Cancelled as exc:
        _finish(result, run, counts, per_kw, rejected, t0, engine, status="cancelled",
                message=f"cancelled; {len(result.outputs)} images kept so far")
        exc.result = result  # type: ignore[attr-defined]
        raise
    except Exception as exc:  # noqa: BLE001 - record the failure in result.json, then let the caller show it
        _finish(result, run, counts, per_kw, rejected, t0, engine, status="errored", message=str(exc))
        raise
    _finish(result, run, counts, per_kw, rejected, t0, engine, status="completed", message="")
    return result


def _finish(result: JobResult, run: RunFolder, counts: Counts, per_kw: dict[str, Any], rejected: list[dict[str, Any]],
            t0: float, engine: Any, status: str, message: str) -> None:
    if engine is not None:
        engine.close()
    elapsed = time.monotonic() - t0
    s = counts.summary()
    result.status = status  # type: ignore[assignment]
    result.skipped = _preview_rows(rejected)
    result.metrics = {
        **s,
        "near_duplicate": counts.by_status.get("near_duplicate", 0),
        "exact_duplicate": counts.by_status.get("duplicate", 0),
        "filtered": counts.by_status.get("filtered", 0),
        "elapsed_s": round(elapsed, 2),
        "images_per_minute": round(s["downloaded"] / elapsed * 60, 1) if elapsed > 0 else 0.0,
        "per_keyword": per_kw,
    }
    if hasattr(engine, "stats"):
        result.metrics["engine_stats"] = dict(engine.stats)
    not_http = len(getattr(engine, "rejected", []))
    result.metrics["not_http_lines"] = not_http
    if not message:
        short = {k: v["short_by"] for k, v in per_kw.items() if v.get("short_by")}
        message = f"kept {s['downloaded']} new images ({s['duplicate']} duplicates, {s['invalid']} invalid, " \
                  f"{s['failed']} failed)"
        if short:
            message += "; the engine ran out of results for " + ", ".join(
                f"{k} (short by {n})" for k, n in short.items())
        if not_http:
            message += f"; {not_http} URL-list line(s) are not http(s) URLs and were ignored (see result.skipped)"
    result.message = message
    run.write_result(result)


CrawlConfig = FetchJob  # the class's name before the kinds were renamed (issue 12)
