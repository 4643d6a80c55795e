"""Hostile servers: every case asserts what ends up on disk and in the manifest.

One crawl (URL-list engine, real HTTP on 127.0.0.1) runs over all the cases
once per module; each test then checks its own URL's manifest row and files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from augbench.core.jobs import run_job
from augbench.core.runfolder import iter_manifest
from augbench.crawl.jobs import CrawlConfig
from augbench.testing.fixture_site import encode, make_image, near_copy

BIG = encode(np.random.default_rng(5).integers(0, 256, (300, 400, 3), dtype=np.uint8), "PNG")  # > max_bytes


@pytest.fixture(scope="module")
def crawl(site, tmp_path_factory):
    """Register the hostile routes, run one crawl, return (out_dir, rows by url, result, urls)."""
    ok1 = make_image(101, (160, 120))
    urls = {
        "ok1": site.add_route("/h/ok1.jpg", kind="ok", body=ok1),
        "ok2": site.add_route("/h/ok2.jpg", kind="ok", body=make_image(102, (160, 120))),
        "png_as_jpg": site.add_route("/h/really_png.jpg", kind="ok", body=make_image(103, (160, 120), "PNG")),
        "e404": site.add_route("/h/missing.jpg", kind="status", status=404),
        "e500": site.add_route("/h/broken.jpg", kind="status", status=500),
        "r429": site.add_route("/h/busy.jpg", kind="retry_after", fail_times=1, headers={"Retry-After": "1"},
                               body=make_image(104, (160, 120))),
        "r429_long": site.add_route("/h/closed.jpg", kind="retry_after", fail_times=99,
                                    headers={"Retry-After": "3600"}, body=make_image(105)),
        "slow": site.add_route("/h/slow.jpg", kind="slow", delay_s=2.0, body=make_image(106)),
        "truncated": site.add_route("/h/cut.jpg", kind="ok", body=make_image(107, (200, 160))[:1500]),
        "html": site.add_route("/h/fake.jpg", kind="ok", content_type="image/jpeg",
                               body=b"<!DOCTYPE html><html><body>Access denied</body></html>"),
        "oversized": site.add_route("/h/huge.png", kind="ok", content_type="image/png", body=BIG),
        "oversized_nolen": site.add_route("/h/huge_stream.png", kind="nolength", content_type="image/png", body=BIG),
        "loop": site.add_route("/h/loop_a", kind="redirect", location="/h/loop_b"),
        "traversal": site.add_route("/h/..%2F..%2F..%2Fevil.jpg", kind="ok", body=make_image(108, (160, 120))),
        "dup": site.add_route("/h/copy_of_ok1.jpg", kind="ok", body=ok1),
        "near": site.add_route("/h/resized_ok1.jpg", kind="ok", body=near_copy(ok1, 0.75, 65)),
        "tiny": site.add_route("/h/tiny.png", kind="ok", content_type="image/png",
                               body=encode(np.full((8, 8, 3), 200, np.uint8), "PNG")),
        "gif": site.add_route("/h/anim.gif", kind="ok", content_type="image/gif", body=make_image(109, (64, 64), "GIF")),
    }
    site.add_route("/h/loop_b", kind="redirect", location="/h/loop_a")
    out = tmp_path_factory.mktemp("hostile") / "out"
    cfg = CrawlConfig(
        keywords=("hostile",), out_dir=str(out), count=100, engine="url_list", urls=tuple(urls.values()),
        timeout_s=0.5, retries=1, backoff_s=0.05, max_retry_after_s=5, max_bytes=60_000, per_host_delay_s=0.0,
        per_host_max_in_flight=4, min_width=16, min_height=16, formats=("jpg", "png"), workers=6,
    )
    result = run_job(cfg)
    rows = {r["url"]: r for r in iter_manifest(out / "hostile" / "manifest.jsonl")}
    return out, rows, result, urls, cfg


def _row(crawl, key):
    out, rows, _, urls, _ = crawl
    return rows[urls[key]]


def _kept_files(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "hostile").iterdir() if p.name != "manifest.jsonl")


def test_every_url_has_exactly_one_manifest_row(crawl):
    out, rows, result, urls, _ = crawl
    assert set(rows) == set(urls.values())
    assert result.status == "completed"
    kept = [r for r in rows.values() if r["status"] == "ok"]
    # ok1, ok2, png_as_jpg, r429 (after retry), traversal
    assert len(kept) == 5 == result.metrics["downloaded"]
    assert sorted(Path(r["file"]).name for r in kept) == _kept_files(out)
    assert all(not p.name.startswith(".") for p in (out / "hostile").iterdir()), "temp files left behind"


def test_http_404_and_500_fail_without_files(crawl, site):
    assert _row(crawl, "e404")["status"] == "failed" and "HTTP 404" in _row(crawl, "e404")["reason"]
    assert site.routes["/h/missing.jpg"].hits == 1  # a 404 is not retried
    row = _row(crawl, "e500")
    assert row["status"] == "failed" and "HTTP 500 after 2 attempt(s)" in row["reason"]
    assert site.routes["/h/broken.jpg"].hits == 2  # retries=1
    assert "file" not in row


def test_429_with_retry_after_is_honoured_then_kept(crawl, site):
    row = _row(crawl, "r429")
    assert row["status"] == "ok" and row["file"].startswith("hostile/")
    assert site.routes["/h/busy.jpg"].hits == 2
    assert (crawl[0] / row["file"]).is_file()


def test_retry_after_beyond_the_limit_fails_with_reason(crawl, site):
    row = _row(crawl, "r429_long")
    assert row["status"] == "failed" and "Retry-After 3600 s is longer than the 5 s limit" in row["reason"]
    assert site.routes["/h/closed.jpg"].hits == 1


def test_slow_response_times_out(crawl):
    row = _row(crawl, "slow")
    assert row["status"] == "failed" and "timed out after 0.5 s" in row["reason"]


def test_truncated_image_is_invalid(crawl):
    row = _row(crawl, "truncated")
    assert row["status"] == "invalid" and ("truncated" in row["reason"] or "does not decode" in row["reason"])
    assert row["bytes"] == 1500 and "file" not in row


def test_html_served_as_jpeg_is_invalid(crawl):
    row = _row(crawl, "html")
    assert row["status"] == "invalid" and "not an image" in row["reason"] and "DOCTYPE" in row["reason"]


@pytest.mark.parametrize("key", ["oversized", "oversized_nolen"])
def test_oversized_body_is_refused(crawl, key):
    row = _row(crawl, key)
    assert row["status"] == "invalid" and "max_bytes=60000" in row["reason"]


def test_redirect_loop_fails(crawl):
    row = _row(crawl, "loop")
    assert row["status"] == "failed" and "too many redirects" in row["reason"]


def test_dotdot_in_url_never_names_a_file(crawl):
    out = crawl[0]
    row = _row(crawl, "traversal")
    assert row["status"] == "ok"
    assert Path(row["file"]).parent.as_posix() == "hostile" and Path(row["file"]).stem.isdigit()
    assert not list(out.parent.rglob("evil*"))


def test_png_behind_jpg_url_gets_png_extension(crawl):
    row = _row(crawl, "png_as_jpg")
    assert row["status"] == "ok" and row["file"].endswith(".png") and row["format"] == "PNG"


def test_exact_and_near_duplicates_are_recorded_not_saved(crawl):
    ok1 = _row(crawl, "ok1")
    dup, near = _row(crawl, "dup"), _row(crawl, "near")
    assert dup["status"] == "duplicate" and dup["sha256"] == ok1["sha256"] and dup["duplicate_of"] == ok1["file"]
    assert near["status"] == "near_duplicate" and near["duplicate_of"] == ok1["file"]
    assert near["sha256"] != ok1["sha256"] and "phash distance" in near["reason"]
    assert crawl[2].metrics["duplicate"] == 2


def test_filters_record_valid_but_unwanted_images(crawl):
    tiny, gif = _row(crawl, "tiny"), _row(crawl, "gif")
    assert tiny["status"] == "filtered" and "8x8 is smaller than the minimum 16x16" in tiny["reason"]
    assert gif["status"] == "filtered" and "gif" in gif["reason"]


def test_manifest_rows_carry_provenance(crawl):
    row = _row(crawl, "ok2")
    for key in ("url", "page", "engine", "query", "rank", "sha256", "phash", "width", "height", "bytes", "time",
                "status"):
        assert key in row, key
    assert row["engine"] == "url_list" and row["query"] == "hostile" and (row["width"], row["height"]) == (160, 120)


def test_rerun_resumes_without_refetching_settled_urls(crawl, site):
    out, rows, _, urls, cfg = crawl
    before = dict(site.hits)
    result = run_job(cfg)
    assert result.outputs == []  # nothing new kept
    for key in ("ok1", "ok2", "dup", "near", "truncated", "html", "tiny"):
        path = urls[key].split(site.base_url, 1)[1]
        assert site.hits[path.split("?")[0]] == before[path.split("?")[0]], key
    assert _kept_files(out) == sorted(Path(r["file"]).name for r in rows.values() if r["status"] == "ok")
    # network failures are tried again on resume
    assert site.hits["/h/missing.jpg"] == before["/h/missing.jpg"] + 1
