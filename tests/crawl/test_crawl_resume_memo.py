"""Resuming a keyword whose search already ran out of results, and the adaptive end-of-results wait."""

from __future__ import annotations

import os
import shutil

import pytest

from augbench.core.jobs import run_job
from augbench.crawl.engines.naver_browser import NaverBrowserEngine
from augbench.crawl.jobs import CrawlConfig
from augbench.crawl.manifest import KeywordStore
from augbench.crawl.selectors import load_selectors

needs_browser = pytest.mark.skipif(
    shutil.which("chromedriver") is None and not os.path.exists("/usr/bin/chromedriver"),
    reason="needs chromium + chromium-driver")


def _engine(**kw) -> NaverBrowserEngine:
    return NaverBrowserEngine(load_selectors("naver"), lambda: None, **kw)


def test_first_stall_gets_the_full_timeout_later_ones_adapt_to_the_page():
    eng = _engine(scroll_timeout_s=3.0)
    assert eng.stall_wait_s(0) == 3.0
    assert eng.stall_wait_s(1) == 0.75  # nothing grew yet: a quarter of the timeout
    eng._growth_s = 0.2
    assert eng.stall_wait_s(1) == pytest.approx(0.6)  # 3x the slowest growth seen
    eng._growth_s = 0.01
    assert eng.stall_wait_s(2) == 0.3  # floor
    eng._growth_s = 5.0
    assert eng.stall_wait_s(1) == 3.0  # never above the user's timeout
    patient = _engine(scroll_timeout_s=3.0, adaptive_end_wait=False)
    assert patient.stall_wait_s(2) == 3.0  # --patient-scroll: the old fixed wait


def test_exhaustion_memo_is_keyed_by_search_source_and_expires(tmp_path):
    store = KeywordStore(tmp_path, "고양이")
    assert store.exhausted_recently("naver_browser|a", 3600) is None
    store.mark_exhausted("naver_browser|a", offered=12)
    assert store.exhausted_recently("naver_browser|a", 3600) is not None
    assert store.exhausted_recently("naver_browser|b", 3600) is None  # another search URL / selector table
    assert store.exhausted_recently("naver_browser|a", 0.0) is None  # outside the window
    (store.dir / ".augbench-crawl-state.json").write_text("{not json", encoding="utf-8")
    assert store.exhausted_recently("naver_browser|a", 3600) is None  # a damaged memo means "search again"


@pytest.mark.e2e
@needs_browser
def test_resume_of_an_exhausted_keyword_does_not_search_again(site, tmp_path):
    out = tmp_path / "out"
    site.set_results("fewcats", site.items("cat")[:5])
    cfg = CrawlConfig(keywords=("fewcats",), out_dir=str(out), count=8, engine="naver_browser",
                      search_url=site.search_url(), per_host_delay_s=0.0, timeout_s=3, page_timeout_s=5,
                      scroll_timeout_s=1, viewer_timeout_s=1, full_size=False)
    first = run_job(cfg)
    assert first.metrics["per_keyword"]["fewcats"]["kept"] == 5
    assert first.metrics["per_keyword"]["fewcats"]["short_by"] == 3
    searches = site.hits["/search.naver"]
    second = run_job(cfg)
    kw = second.metrics["per_keyword"]["fewcats"]
    assert kw.get("skipped_exhausted") == 1 and kw["short_by"] == 3
    assert site.hits["/search.naver"] == searches  # the result page was not loaded again
    third = run_job(CrawlConfig(**{**cfg.__dict__, "recheck_hours": 0.0}))
    assert "skipped_exhausted" not in third.metrics["per_keyword"]["fewcats"]
    assert site.hits["/search.naver"] == searches + 1  # recheck_hours=0 always searches again


@pytest.mark.e2e
@needs_browser
def test_keyword_shards_split_a_crawl_and_merge_their_results(site, tmp_path):
    out = tmp_path / "out"
    kws = ("dog", "owl", "horse", "cat")
    base = dict(keywords=kws, out_dir=str(out), count=3, engine="naver_browser", search_url=site.search_url(),
                per_host_delay_s=0.0, timeout_s=3, page_timeout_s=5, scroll_timeout_s=1, full_size=False)
    done = []
    for i in range(2):
        res = run_job(CrawlConfig(**base, shard=f"{i}/2"))
        assert res.status == "completed"
        done += list(res.metrics["per_keyword"])
    assert sorted(done) == sorted(kws)  # each keyword crawled by exactly one shard
    assert all(len(list((out / kw).glob("*.jpg"))) == 3 for kw in kws)
    import json

    merged = json.loads((out / "result.json").read_text())
    assert merged["metrics"]["shards"] == 2 and merged["n_outputs"] == 12
