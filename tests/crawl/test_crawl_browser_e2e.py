"""Real headless Chromium against the Naver-like fixture site on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import threading

import pytest

from augbench.core.errors import Cancelled
from augbench.core.jobs import run_job
from augbench.core.progress import CancelToken, ListProgress
from augbench.core.runfolder import iter_manifest
from augbench.crawl.driver import resolve_browser, start_chrome
from augbench.crawl.engines.base import ZeroResultsError
from augbench.crawl.engines.naver_browser import NaverBrowserEngine
from augbench.crawl.jobs import CrawlConfig
from augbench.crawl.selectors import load_selectors

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("chromedriver") is None and not os.path.exists("/usr/bin/chromedriver"),
                       reason="needs chromium + chromium-driver"),
]


def _cfg(site, out, **kw):
    base = dict(out_dir=str(out), engine="naver_browser", search_url=site.search_url(), per_host_delay_s=0.0,
                per_host_max_in_flight=4, timeout_s=3, page_timeout_s=5, scroll_timeout_s=1, viewer_timeout_s=2)
    base.update(kw)
    return CrawlConfig(**base)


@pytest.fixture(scope="module")
def engine(site, tmp_path_factory):
    """One browser shared by the engine-level tests of this module."""
    table = load_selectors("naver").with_search_url(site.search_url())
    paths = resolve_browser()
    eng = NaverBrowserEngine(table, lambda: start_chrome(paths), diagnostics_dir=tmp_path_factory.mktemp("diag"),
                             wait_timeout_s=5, scroll_timeout_s=2, viewer_timeout_s=2)
    yield eng
    eng.close()


def test_full_size_crawl_scrolls_opens_viewer_and_saves_originals(site, tmp_path):
    out = tmp_path / "out"
    progress = ListProgress()
    result = run_job(_cfg(site, out, keywords=("고양이",), count=26), progress=progress)
    assert result.status == "completed", result.message
    files = sorted(p for p in (out / "고양이").iterdir() if p.suffix == ".jpg")
    assert len(files) == 26 == len(result.outputs)  # more than one page: infinite scroll worked
    rows = list(iter_manifest(out / "고양이" / "manifest.jsonl"))
    assert len(rows) == 26 and {r["status"] for r in rows} == {"ok"}
    assert {r["extraction"] for r in rows} == {"dom+viewer"}
    assert all("/img/" in r["url"] and (r["width"], r["height"]) == (160, 120) for r in rows)
    assert all(r["page"].startswith(site.base_url + "/blog/") and r["title"].startswith("고양이") for r in rows)
    assert result.metrics["engine_stats"]["scrolls"] >= 1
    assert any(p.preview is not None for p in progress.reports)
    assert progress.last.done == 26 and progress.last.total == 26
    job = (out / "job.yaml").read_text(encoding="utf-8")
    assert "kind: crawl.fetch" in job
    assert json.loads((out / "result.json").read_text())["status"] == "completed"


def test_dom_path_without_embedded_json(site, engine):
    engine.table = engine.table.with_search_url(site.search_url("nojson"))
    cands = list(engine.search("bird", 4, CancelToken()))
    assert len(cands) == 4 and all(c.extraction == "dom+viewer" and "/img/" in c.url for c in cands)
    assert [c.rank for c in cands] == [1, 2, 3, 4]


def test_json_path_when_the_dom_selectors_miss(site, engine):
    engine.table = engine.table.with_search_url(site.search_url("nodom"))
    cands = list(engine.search("fish", 50, CancelToken()))
    assert len(cands) == 20  # the embedded JSON carries the first page only
    assert all(c.extraction == "json" and "/img/" in c.url and c.width == 160 for c in cands)
    assert engine.last_path == "embedded JSON"


def test_unreachable_search_page_is_one_clear_error(engine):
    import socket

    from augbench.core.errors import AugbenchError

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engine.table = engine.table.with_search_url(f"http://127.0.0.1:{port}/search?q={{query}}")
    with pytest.raises(AugbenchError, match=rf"could not load http://127.0.0.1:{port}/search\?q=x: .*ERR_CONNECTION_REFUSED"):
        list(engine.search("x", 3, CancelToken()))


def test_dead_viewer_falls_back_to_json_originals_after_three_misses(site, engine):
    engine.table = engine.table.with_search_url(site.search_url("noviewer"))
    engine.viewer_timeout_s, old = 0.3, engine.viewer_timeout_s
    before = engine.stats["viewer_timeouts"]
    try:
        cands = list(engine.search("owl", 6, CancelToken()))
    finally:
        engine.viewer_timeout_s = old
    assert len(cands) == 6 and all(c.extraction == "dom+json" and "/img/" in c.url for c in cands)
    assert engine.stats["viewer_timeouts"] - before == 3


def test_zero_results_fail_loudly_with_page_and_screenshot(site, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ZeroResultsError) as ei:
        run_job(_cfg(site, out, keywords=("nothing",), count=3, search_url=site.search_url("broken"),
                     scroll_timeout_s=0.3, page_timeout_s=1))
    msg = str(ei.value)
    assert "naver_browser found no candidates for 'nothing'" in msg
    assert "div._fe_image_tab_content_tile" in msg and "script#_fe_image_tab_data" in msg
    assert "naver.yaml" in msg
    diag = out / ".augbench" / "diagnostics"
    html = list(diag.glob("*.html"))
    png = list(diag.glob("*.png"))
    assert html and png and "zz_card" in html[0].read_text(encoding="utf-8")
    assert png[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "result.json").read_text())["status"] == "errored"


def test_rerun_resumes_and_dedupes_across_keywords(site, tmp_path):
    out = tmp_path / "out"
    # "cat2" returns the same images as "cat": the second keyword finds only duplicates of the first.
    site.set_results("cat2", site.items("cat")[:6])
    cfg = _cfg(site, out, keywords=("cat", "cat2"), count=6, full_size=False, safe_search=False)
    first = run_job(cfg)
    assert first.metrics["per_keyword"]["cat"]["kept"] == 6
    cat_rows = list(iter_manifest(out / "cat" / "manifest.jsonl"))
    assert all("/thumb/" in r["url"] and r["width"] == 80 and r["mode"] == "thumb" for r in cat_rows)
    assert site.last_safe == "0"
    cat2_rows = list(iter_manifest(out / "cat2" / "manifest.jsonl"))
    assert {r["status"] for r in cat2_rows} == {"duplicate"} and len(cat2_rows) == 6
    assert not [p for p in (out / "cat2").iterdir() if p.suffix == ".jpg"]
    hits_before = sum(site.tool_hits.values())
    second = run_job(cfg)
    assert second.outputs == [] and second.metrics["downloaded"] == 0
    assert sum(site.tool_hits.values()) == hits_before  # nothing downloaded twice
    assert len(list((out / "cat").glob("*.jpg"))) == 6


def test_cancel_stops_at_a_safe_point(site, tmp_path):
    out = tmp_path / "out"
    cancel = CancelToken()
    seen = threading.Event()

    def progress(p):
        if p.metrics.get("downloaded", 0) >= 2:
            seen.set()
            cancel.cancel()

    result = run_job(_cfg(site, out, keywords=("horse",), count=40, per_host_max_in_flight=1), progress=progress,
                     cancel=cancel)
    assert seen.is_set() and result.status == "cancelled"
    files = list((out / "horse").glob("*.jpg"))
    assert 2 <= len(files) < 40
    assert not list((out / "horse").glob(".*"))  # no temp files
    assert json.loads((out / "result.json").read_text())["status"] == "cancelled"


def test_cancelled_is_raised_inside_the_engine(engine, site):
    engine.table = engine.table.with_search_url(site.search_url())
    cancel = CancelToken()
    gen = engine.search("zebra", 10, cancel)
    next(gen)
    cancel.cancel()
    with pytest.raises(Cancelled):
        next(gen)


@pytest.mark.parametrize("layout,tiles,json_items,code", [("normal", 20, 20, 0), ("broken", 0, 0, 1)])
def test_selector_check_command_on_a_saved_page(site, tmp_path, capsys, layout, tiles, json_items, code):
    from augbench.cli import main

    page = tmp_path / "saved.html"
    page.write_text(site.render_page("saved", layout), encoding="utf-8")
    assert main(["crawl-selectors", str(page)]) == code
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{"):out.rindex("}") + 1])
    assert report["dom_tiles"]["tiles"] == tiles and report["embedded_json"]["items"] == json_items
    assert report["tile"]["div._fe_image_tab_content_tile"] == tiles
