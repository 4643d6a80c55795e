"""Pure pieces of the crawler: parsing, selector tables, validation, dedupe, politeness, names."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from augbench.core.errors import ConfigError
from augbench.core.progress import CancelToken
from augbench.crawl.dedupe import DedupeIndex, hamming, phash
from augbench.crawl.downloader import parse_retry_after
from augbench.crawl.manifest import KeywordStore, keyword_folder
from augbench.crawl.parse import items_from_html_regex, items_from_script_texts, unwrap_proxy
from augbench.crawl.politeness import HostLimiter
from augbench.crawl.selectors import load_selectors
from augbench.crawl.validate import InvalidImage, inspect_image, sniff
from augbench.testing.fixture_site import FixtureSite, encode, make_image, near_copy


def _img(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_bundled_naver_table_loads_with_both_extraction_paths():
    t = load_selectors("naver")
    assert "{query}" in t.search_url
    assert t.tile and t.thumb_img and t.viewer_img
    assert t.embedded_json.scripts and "originalUrl" in t.embedded_json.url_keys
    assert t.source.endswith("naver.yaml")


def test_broken_selector_file_names_the_field(tmp_path):
    bad = tmp_path / "naver.yaml"
    bad.write_text("site: naver\nsearch_url: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        load_selectors("naver", bad)
    assert ei.value.field == "selectors_file" and "tile" in ei.value.message
    bad.write_text("tile: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_selectors("naver", bad)


def test_embedded_json_parsed_from_a_saved_page_without_a_browser():
    site = FixtureSite(items_per_query=30, page_size=12)
    site.base_url = "http://example.test"
    site.image_bases = [site.base_url]
    page = site.render_page("고양이", "normal")
    jp = load_selectors("naver").embedded_json
    start = page.index('id="_fe_image_tab_data">') + len('id="_fe_image_tab_data">')
    text = page[start:page.index("</script>", start)]
    items = items_from_script_texts([text, "not json"], jp)
    assert len(items) == 12
    assert items[0]["url"].endswith("/img/" + items[0]["url"].split("/img/")[1])
    assert items[0]["thumb"].startswith("http://example.test/thumb/")
    assert items[0]["page"].startswith("http://example.test/blog/")
    assert items[0]["width"] == 160 and items[0]["title"] == "고양이 사진 1"


def test_regex_fallback_reads_inline_js_data():
    jp = load_selectors("naver").embedded_json
    page = ('<script>var imageSearchTabData = {"list": [{"originalUrl": "https://a.test/1.jpg", '
            '"thumb": "https://t.test/1.jpg", "title": "<b>cat</b>"}]};\n</script>')
    items = items_from_html_regex(page, jp)
    assert items == [{"url": "https://a.test/1.jpg", "thumb": "https://t.test/1.jpg", "title": "cat", "page": "",
                      "width": None, "height": None}]


def test_unwrap_proxy_returns_the_original():
    hosts = ("search.pstatic.net",)
    wrapped = "https://search.pstatic.net/common/?src=https%3A%2F%2Fblog.test%2Fa.jpg&type=a340"
    assert unwrap_proxy(wrapped, hosts) == "https://blog.test/a.jpg"
    assert unwrap_proxy("https://other.test/?src=https://x.test/a.jpg", hosts) == "https://other.test/?src=https://x.test/a.jpg"


@pytest.mark.parametrize("keyword,expected", [("고양이 사진", "고양이 사진"), ("../../etc", "etc"), ("a/b\\c", "a_b_c"),
                                              ("..", None), ("  cat  ", "cat")])
def test_keyword_folder_is_safe(keyword, expected):
    name = keyword_folder(keyword)
    assert "/" not in name and "\\" not in name and name not in (".", "..", "")
    if expected is not None:
        assert name == expected
    else:
        assert name.startswith("keyword_")


def test_keyword_store_numbers_files_after_existing_ones(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "000007.jpg").write_bytes(b"x")
    store = KeywordStore(tmp_path, "cat")
    assert store.reserve_path(".png").name == "000008.png"
    assert store.reserve_path(".jpg").name == "000009.jpg"
    assert store.dir == (tmp_path / "cat").resolve()


def test_sniff_and_validation_reasons():
    jpg = make_image(1)
    png = encode(np.zeros((20, 30, 3), np.uint8), "PNG")
    assert sniff(jpg) == "JPEG" and sniff(png) == "PNG" and sniff(b"<!DOCTYPE html>") is None
    facts = inspect_image(png, "image/jpeg")  # the real format wins over the header
    assert facts.ext == ".png" and (facts.width, facts.height) == (30, 20)
    with pytest.raises(InvalidImage, match="not an image"):
        inspect_image(b"<!DOCTYPE html><html>oops</html>", "image/jpeg")
    with pytest.raises(InvalidImage, match="truncated|does not decode"):
        inspect_image(jpg[: len(jpg) // 2], "image/jpeg")
    with pytest.raises(InvalidImage, match="content-type") as ei:
        inspect_image(jpg, "text/html")
    assert not ei.value.filtered
    with pytest.raises(InvalidImage, match="smaller than the minimum") as ei:
        inspect_image(png, "image/png", min_width=64)
    assert ei.value.filtered and ei.value.width == 30
    with pytest.raises(InvalidImage, match="not in the allowed formats") as ei:
        inspect_image(png, "image/png", formats=("jpg",))
    assert ei.value.filtered


def test_phash_matches_resized_reencoded_copies_and_separates_different_images():
    a = make_image(10, (200, 150))
    near = near_copy(a, scale=0.6, quality=60)
    b = make_image(11, (200, 150))
    assert hamming(phash(_img(a)), phash(_img(near))) <= 4
    distances = [hamming(phash(_img(make_image(s))), phash(_img(make_image(s + 100)))) for s in range(20)]
    assert min(distances) > 10
    assert hamming(phash(_img(a)), phash(_img(b))) > 10


def test_dedupe_claim_is_atomic_across_threads():
    index = DedupeIndex(near_threshold=6)
    verdicts = []
    barrier = threading.Barrier(8)

    def worker(i):
        barrier.wait()
        verdicts.append(index.claim("same-sha", 0x1234, f"f{i}"))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(v.kind for v in verdicts) == ["duplicate"] * 7 + ["new"]
    assert index.claim("other", 0x1234 ^ 0b111, "g").kind == "near_duplicate"
    assert index.claim("third", 0x1234 ^ 0xFFFF_FFFF, "h").kind == "new"


def test_retry_after_parsing():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    future = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))
    assert 50 <= parse_retry_after(future) <= 61


def test_host_limiter_caps_requests_in_flight_per_host():
    limiter = HostLimiter(delay_s=0.0, max_in_flight=2)
    cancel = CancelToken()

    def hold(host):
        with limiter.slot(host, cancel):
            time.sleep(0.05)

    threads = [threading.Thread(target=hold, args=(h,)) for h in ["a"] * 6 + ["b"] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert limiter.peak_in_flight == {"a": 2, "b": 2}


def test_host_limiter_wait_honours_cancel():
    limiter = HostLimiter(delay_s=0.0, max_in_flight=1)
    cancel = CancelToken()
    limiter.back_off("h", 60)
    cancel.cancel()
    from augbench.core.errors import Cancelled

    with pytest.raises(Cancelled):
        with limiter.slot("h", cancel):
            pass
