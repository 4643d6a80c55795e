"""Naver Open API engine against the fake API, job config rules, driver resolution, CLI."""

from __future__ import annotations

import os

import pytest
import yaml

from augbench.core.errors import AugbenchError, ConfigError, DependencyError
from augbench.core.jobs import get_spec, job_from_dict, run_job
from augbench.core.progress import CancelToken
from augbench.core.runfolder import iter_manifest
from augbench.crawl import driver as drv
from augbench.crawl.engines.base import ZeroResultsError
from augbench.crawl.engines.naver_api import NaverApiEngine
from augbench.crawl.jobs import CrawlConfig
from augbench.testing.fixture_site import CLIENT_ID, CLIENT_SECRET


def _api_cfg(site, out, **kw):
    base = dict(keywords=("apple",), out_dir=str(out), engine="naver_api", api_client_id=CLIENT_ID,
                api_client_secret=CLIENT_SECRET, api_base_url=site.api_url, per_host_delay_s=0.0,
                per_host_max_in_flight=4, count=5)
    base.update(kw)
    return CrawlConfig(**base)


def test_api_crawl_keeps_originals_and_never_writes_the_secret(site, tmp_path):
    out = tmp_path / "out"
    result = run_job(_api_cfg(site, out, api_sort="date", api_filter="large"))
    assert result.status == "completed" and result.metrics["downloaded"] == 5
    rows = list(iter_manifest(out / "apple" / "manifest.jsonl"))
    assert all(r["extraction"] == "api" and "/img/" in r["url"] and r["engine"] == "naver_api" for r in rows)
    assert rows[0]["title"].startswith("apple") and "<b>" not in rows[0]["title"]
    params = site.api_params[-1]
    assert params["sort"] == "date" and params["filter"] == "large" and params["start"] == "1"
    job = (out / "job.yaml").read_text(encoding="utf-8")
    assert CLIENT_SECRET not in job and CLIENT_ID in job
    from augbench.core.dataset import scan_dataset

    info = scan_dataset(out)  # the output is an ImageFolder the other tabs open directly
    assert info.layout == "imagefolder" and info.classes == ["apple"] and len(info.items) == 5


def test_api_pages_with_start_and_display(site):
    eng = NaverApiEngine(CLIENT_ID, CLIENT_SECRET, base_url=site.api_url)
    n0 = len(site.api_params)
    cands = list(eng.search("paging", 45, CancelToken()))
    calls = site.api_params[n0:]
    assert len(cands) == 45 and [c.rank for c in cands[:3]] == [1, 2, 3]
    assert [(c["display"], c["start"]) for c in calls] == [("45", "1")]
    site.items_per_query, old = 150, site.items_per_query
    try:
        n0 = len(site.api_params)
        cands = list(eng.search("paging2", 130, CancelToken()))
    finally:
        site.items_per_query = old
    assert len(cands) == 130 and len({c.url for c in cands}) == 130
    assert [(c["display"], c["start"]) for c in site.api_params[n0:]] == [("100", "1"), ("30", "101")]


def test_api_bad_secret_names_the_fix(site, tmp_path):
    with pytest.raises(AugbenchError, match="HTTP 401 024 .*check the client id/secret"):
        run_job(_api_cfg(site, tmp_path / "o", api_client_secret="wrong"))


def test_api_zero_results_saves_the_response(site, tmp_path):
    site.set_results("no-such-thing", [])
    out = tmp_path / "o"
    with pytest.raises(ZeroResultsError, match="naver_api found no candidates .*'items' was empty") as ei:
        run_job(_api_cfg(site, out, keywords=("no-such-thing",)))
    assert ei.value.diagnostics and ei.value.diagnostics[0].parent == (out / ".augbench" / "diagnostics").resolve()
    assert '"total": 0' in ei.value.diagnostics[0].read_text()


def test_api_needs_credentials(monkeypatch):
    monkeypatch.delenv("NAVER_CLIENT_ID", raising=False)
    with pytest.raises(ConfigError, match="client id and secret"):
        NaverApiEngine("", "")


@pytest.mark.parametrize(
    "data,field",
    [
        ({"keywords": [], "out_dir": "x"}, "keywords"),
        ({"keywords": ["a", "a"], "out_dir": "x"}, "keywords"),
        ({"keywords": ["a"], "out_dir": "x", "count": 0}, "count"),
        ({"keywords": ["a"], "out_dir": "x", "engine": "google"}, "engine"),
        ({"keywords": ["a"], "out_dir": "x", "formats": ["jpg", "heic"]}, "formats"),
        ({"keywords": ["a"], "out_dir": "x", "engine": "url_list"}, "urls"),
        ({"keywords": ["a"], "out_dir": "x", "colour": 1}, "colour"),
    ],
)
def test_config_errors_name_the_field(data, field):
    with pytest.raises(ConfigError) as ei:
        job_from_dict({"kind": "crawl.fetch", **data})
    assert ei.value.field == field


def test_crawl_is_a_registered_job_that_round_trips(tmp_path):
    from augbench.core.jobs import load_job, save_job

    assert get_spec("crawl.fetch").config_cls is CrawlConfig
    cfg = CrawlConfig(keywords=("고양이", "dog"), out_dir=str(tmp_path), count=7, formats=("jpg",))
    save_job(cfg, tmp_path / "job.yaml")
    assert load_job(tmp_path / "job.yaml") == cfg
    assert yaml.safe_load((tmp_path / "job.yaml").read_text(encoding="utf-8"))["keywords"] == ["고양이", "dog"]


def test_driver_resolution_prefers_system_and_explains_what_to_install(monkeypatch, tmp_path):
    if os.path.exists("/usr/bin/chromedriver") and os.path.exists("/usr/bin/chromium"):
        paths = drv.resolve_browser()
        assert paths.source == "system" and paths.driver == "/usr/bin/chromedriver"
    with pytest.raises(DependencyError, match="apt-get install chromium chromium-driver"):
        drv.resolve_browser(driver_path=str(tmp_path / "nope"))
    monkeypatch.setattr(drv, "_which", lambda c: None)
    with pytest.raises(DependencyError) as ei:
        drv.resolve_browser()
    assert "missing: chromium, chromedriver" in str(ei.value) and "apt-get install chromium chromium-driver" in str(
        ei.value)
    monkeypatch.setattr(drv, "online", lambda *a, **k: False)
    with pytest.raises(DependencyError, match="offline"):
        drv.resolve_browser(allow_download=True)
    monkeypatch.setattr(drv, "online", lambda *a, **k: True)
    assert drv.resolve_browser(allow_download=True).source == "selenium-manager"


def test_a_driver_that_does_not_start_is_a_dependency_error(tmp_path):
    fake = tmp_path / "chromedriver"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(DependencyError, match="could not start Chromium.*apt-get install chromium chromium-driver"):
        drv.start_chrome(drv.BrowserPaths("/usr/bin/chromium", str(fake), "explicit"))
    assert not list(tmp_path.glob("augbench-chrome-*"))


def test_cli_url_list_crawl(site, tmp_path, capsys):
    from augbench.cli import main
    from augbench.testing.fixture_site import make_image

    a = site.add_route("/cli/a.jpg", kind="ok", body=make_image(700))
    b = site.add_route("/cli/b.jpg", kind="ok", body=make_image(701))
    out = tmp_path / "out"
    code = main(["crawl", "birds", "-o", str(out), "-n", "5", "--url", a, "--url", b, "--delay", "0", "-q"])
    assert code == 0
    assert sorted(p.name for p in (out / "birds").glob("*.jpg")) == ["000001.jpg", "000002.jpg"]
    assert "crawl.fetch: completed" in capsys.readouterr().out
    code = main(["crawl", "x", "-o", str(out), "--api-id", "i", "--save-job", str(tmp_path / "j.yaml")])
    assert code == 0 and yaml.safe_load((tmp_path / "j.yaml").read_text())["engine"] == "naver_api"
