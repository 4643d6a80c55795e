"""Naver image search through headless Chromium (Selenium 4).

Two extraction paths, both driven by the selector table
(``resources/crawl/naver.yaml``): the result tiles in the DOM (thumbnail from
lazy-load attributes; in full-size mode the viewer is opened and its big
image read), and the result JSON embedded in the page. Scrolling waits on an
explicit condition (the tile count grows) with bounded retries; there is no
fixed sleep and no recursion. Zero results raise :class:`ZeroResultsError`
after saving the page HTML and a screenshot.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import quote_plus

from augbench.core.atomic import atomic_write_text, safe_join
from augbench.core.errors import AugbenchError
from augbench.core.progress import CancelToken
from augbench.crawl.engines.base import ZeroResultsError
from augbench.crawl.manifest import keyword_folder
from augbench.crawl.parse import is_http_url, items_from_html_regex, items_from_script_texts, unwrap_proxy
from augbench.crawl.selectors import SiteSelectors
from augbench.crawl.types import Candidate

_EXTRACT_JS = r"""
const [tileSels, imgSels, thumbAttrs, origAttrs, titleSels, titleAttrs, pageSels, start] = arguments;
let tileSel = "", tiles = [];
for (const s of tileSels) { const t = document.querySelectorAll(s); if (t.length) { tileSel = s; tiles = t; break; } }
const abs = (v) => { try { return new URL(v, document.baseURI).href; } catch (e) { return ""; } };
const attr = (el, names) => {
  if (!el) return "";
  for (const a of names) { const v = el.getAttribute(a); if (v && !v.trim().startsWith("data:")) return abs(v.trim()); }
  return "";
};
const first = (root, sels) => {
  for (const s of sels) { const e = root.querySelector(s); if (e) return e; }
  return null;
};
const items = [];
for (let i = start; i < tiles.length; i++) {
  const tile = tiles[i];
  const img = first(tile, imgSels);
  const t = first(tile, titleSels);
  let title = t ? t.textContent.trim() : "";
  if (!title && img) { for (const a of titleAttrs) { const v = img.getAttribute(a); if (v) { title = v; break; } } }
  const p = first(tile, pageSels);
  items.push({index: i, thumb: attr(img, thumbAttrs), original: attr(tile, origAttrs) || attr(img, origAttrs),
              title: title, page: p ? abs(p.getAttribute("href") || "") : "",
              width: img ? (img.naturalWidth || 0) : 0, height: img ? (img.naturalHeight || 0) : 0});
}
return {selector: tileSel, count: tiles.length, items: items};
"""

_COUNT_JS = r"""
for (const s of arguments[0]) { const t = document.querySelectorAll(s); if (t.length) return t.length; }
return 0;
"""

_SCRIPTS_JS = r"""
const out = [];
for (const s of arguments[0]) { document.querySelectorAll(s).forEach((e) => out.push(e.textContent || "")); }
return out;
"""

_CLICK_JS = r"""
const [tileSels, imgSels, index] = arguments;
for (const s of tileSels) {
  const t = document.querySelectorAll(s);
  if (t.length > index) {
    const tile = t[index];
    let target = tile;
    for (const q of imgSels) { const e = tile.querySelector(q); if (e) { target = e; break; } }
    tile.scrollIntoView({block: "center"});
    target.click();
    return true;
  }
}
return false;
"""

_VIEWER_JS = r"""
const [sels, previous] = arguments;
for (const s of sels) {
  const e = document.querySelector(s);
  if (!e) continue;
  const v = (e.getAttribute("src") || "").trim();
  if (v && !v.startsWith("data:") && v !== previous) return new URL(v, document.baseURI).href;
}
return null;
"""

_MORE_JS = r"""
window.scrollTo(0, document.body.scrollHeight);
window.dispatchEvent(new Event("scroll"));
for (const s of arguments[0]) {
  const b = document.querySelector(s);
  if (b && b.offsetParent !== null) { b.click(); return s; }
}
return "";
"""


class NaverBrowserEngine:
    """Naver image search in headless Chromium; one browser is reused for every keyword."""

    name = "naver_browser"

    def __init__(
        self,
        table: SiteSelectors,
        driver_factory: Callable[[], Any],
        *,
        full_size: bool = True,
        safe_search: bool = True,
        diagnostics_dir: str | Path | None = None,
        wait_timeout_s: float = 10.0,
        scroll_timeout_s: float = 3.0,
        viewer_timeout_s: float = 3.0,
        max_scrolls: int = 30,
        max_stalls: int = 2,
        adaptive_end_wait: bool = True,
    ) -> None:
        self.table = table
        self._factory = driver_factory
        self._driver: Any = None
        self.full_size = full_size
        self.safe_search = safe_search
        self.diagnostics_dir = Path(diagnostics_dir) if diagnostics_dir else None
        self.wait_timeout_s = wait_timeout_s
        self.scroll_timeout_s = scroll_timeout_s
        self.viewer_timeout_s = viewer_timeout_s
        self.max_scrolls = max_scrolls
        self.max_stalls = max_stalls
        self.adaptive_end_wait = adaptive_end_wait
        self.stats: dict[str, int] = {"scrolls": 0, "viewer_ok": 0, "viewer_timeouts": 0, "json_items": 0}
        self.viewer_give_up_after = 3  # consecutive viewer timeouts before falling back for good
        self._viewer_misses = 0
        self.last_path = ""
        self._growth_s = 0.0  # slowest observed "scroll -> more tiles" so far (adapts the end-of-results wait)

    def stall_wait_s(self, stalls: int) -> float:
        """How long to wait for more tiles after a scroll.

        The first wait after growth stops gets the full ``scroll_timeout_s``
        (a slow page must not be cut short). Once a scroll has already come back
        empty, the end of the results is the likely reason, so later retries
        wait only ~3x the slowest growth seen on this page (at least 0.3 s):
        a finished result list no longer costs ``max_stalls`` full timeouts.
        """
        if stalls == 0 or not self.adaptive_end_wait:
            return self.scroll_timeout_s
        adaptive = 3.0 * self._growth_s if self._growth_s > 0 else self.scroll_timeout_s / 4
        return max(0.3, min(self.scroll_timeout_s, adaptive))

    # ------------------------------------------------------------------ plumbing
    @property
    def driver(self) -> Any:
        if self._driver is None:
            self._driver = self._factory()
        return self._driver

    def close(self) -> None:
        if self._driver is not None:
            from augbench.crawl.driver import quit_chrome

            quit_chrome(self._driver)
            self._driver = None

    def search_url(self, query: str) -> str:
        safe = self.table.safe_params.get("on" if self.safe_search else "off", "")
        return self.table.search_url.replace("{query}", quote_plus(query)).replace("{safe}", safe)

    def _wait(self, predicate: Callable[[Any], Any], timeout: float, cancel: CancelToken) -> Any:
        """WebDriverWait with the cancel token checked on every poll; returns None on timeout."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        def cond(d: Any) -> Any:
            cancel.check()
            return predicate(d)

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(cond)
        except TimeoutException:
            return None

    def _tile_count(self, d: Any) -> int:
        return int(d.execute_script(_COUNT_JS, list(self.table.tile)) or 0)

    def _json_items(self) -> list[dict[str, Any]]:
        jp = self.table.embedded_json
        texts = self.driver.execute_script(_SCRIPTS_JS, list(jp.scripts)) if jp.scripts else []
        items = items_from_script_texts(texts or [], jp)
        if not items and jp.regexes:
            items = items_from_html_regex(self.driver.page_source, jp)
        return items

    def _load(self, d: Any, url: str) -> None:
        """Open ``url``; a network or browser failure becomes one AugbenchError naming the URL."""
        from selenium.common.exceptions import WebDriverException

        try:
            d.get(url)
            href, text = d.execute_script(
                "return [location.href, (document.body && document.body.innerText || '').slice(0, 2000)]")
        except WebDriverException as exc:
            first = ((exc.msg or str(exc)).strip().splitlines() or [type(exc).__name__])[0]
            raise AugbenchError(f"{self.name}: could not load {url}: {first}") from None
        if str(href).startswith("chrome-error://"):  # Chromium's own "This site can't be reached" page
            m = re.search(r"(ERR_[A-Z_]+)", str(text))
            raise AugbenchError(f"{self.name}: could not load {url}: {m.group(1) if m else 'network error'} "
                                "(check the network/proxy, or the search_url)")

    def _unwrap(self, url: str) -> str:
        return unwrap_proxy(url, self.table.proxy_hosts, self.table.proxy_param)

    # ------------------------------------------------------------------ search
    def search(self, query: str, limit: int, cancel: CancelToken) -> Iterator[Candidate]:
        """Yield up to ``limit`` candidates, scrolling for more while the consumer wants them."""
        t = self.table
        d = self.driver
        self._viewer_misses = 0
        self._growth_s = 0.0
        self._load(d, self.search_url(query))
        ready = list(t.ready) + list(t.tile)
        self._wait(lambda dr: dr.execute_script(_COUNT_JS, ready) > 0, self.wait_timeout_s, cancel)
        # Lazy tiles may render just after "ready": give them one short explicit wait.
        self._wait(lambda dr: self._tile_count(dr) > 0, min(2.0, self.wait_timeout_s), cancel)
        json_items = self._json_items()
        self.stats["json_items"] += len(json_items)
        by_thumb = {it["thumb"]: it for it in json_items if it["thumb"]}
        seen: set[str] = set()
        yielded = 0
        next_index = 0
        stalls = 0
        scrolls = 0
        tile_selector = ""
        viewer_prev: str | None = None
        while yielded < limit:
            cancel.check()
            res = d.execute_script(
                _EXTRACT_JS, list(t.tile), list(t.thumb_img), list(t.thumb_attrs), list(t.original_attrs),
                list(t.title), list(t.title_attrs), list(t.page_link), next_index,
            ) or {"selector": "", "count": 0, "items": []}
            tile_selector = res.get("selector") or tile_selector
            for item in res.get("items", []):
                cancel.check()
                next_index = max(next_index, int(item["index"]) + 1)
                thumb = item.get("thumb") or ""
                key = thumb or item.get("original") or ""
                if not key or key in seen:
                    continue
                seen.add(key)
                original, how = "", "dom"
                if self.full_size:
                    original = item.get("original") or ""
                    if not original and t.viewer_img and self._viewer_misses < self.viewer_give_up_after:
                        original = self._open_viewer(int(item["index"]), viewer_prev, cancel) or ""
                        if original:
                            viewer_prev = original
                            how = "dom+viewer"
                    if not original and thumb in by_thumb and by_thumb[thumb]["url"]:
                        original, how = by_thumb[thumb]["url"], "dom+json"
                    if not original:
                        original, how = self._unwrap(thumb), "dom-thumb"
                js = by_thumb.get(thumb, {})
                yielded += 1
                self.last_path = f"dom tiles {tile_selector!r}"
                yield Candidate(
                    url=self._unwrap(original) if original else "",
                    thumb_url=thumb,
                    title=item.get("title") or js.get("title", ""),
                    page=item.get("page") or js.get("page", ""),
                    width=js.get("width"),
                    height=js.get("height"),
                    rank=yielded,
                    engine=self.name,
                    query=query,
                    extraction=how,
                )
                if yielded >= limit:
                    return
            if res.get("count", 0) == 0:
                break  # no DOM tiles at all: fall through to the JSON path
            if scrolls >= self.max_scrolls or stalls > self.max_stalls:
                break
            before = int(res.get("count", 0))
            d.execute_script(_MORE_JS, list(t.more_button))
            self.stats["scrolls"] += 1
            scrolls += 1
            t_scroll = time.monotonic()
            grew = self._wait(lambda dr, n=before: self._tile_count(dr) > n, self.stall_wait_s(stalls), cancel)
            if grew:
                self._growth_s = max(self._growth_s, time.monotonic() - t_scroll)
            stalls = 0 if grew else stalls + 1
        if yielded == 0:
            for it in json_items:
                url = it["url"] if self.full_size else (it["thumb"] or it["url"])
                key = url
                if not url or key in seen:
                    continue
                seen.add(key)
                yielded += 1
                self.last_path = "embedded JSON"
                yield Candidate(
                    url=self._unwrap(it["url"] or it["thumb"]), thumb_url=it["thumb"], title=it["title"],
                    page=it["page"], width=it["width"], height=it["height"], rank=yielded, engine=self.name,
                    query=query, extraction="json",
                )
                if yielded >= limit:
                    return
        if yielded == 0:
            tried = (
                f"dom tiles {list(t.tile)} -> 0 tiles; embedded JSON {list(t.embedded_json.scripts)}"
                f"{' + regexes' if t.embedded_json.regexes else ''} -> 0 items"
            )
            raise ZeroResultsError(
                self.name, query, tried, self.save_diagnostics(query),
                hint=f"If the site changed, update the selector table {t.source or 'resources/crawl/naver.yaml'}",
            )

    def _open_viewer(self, index: int, previous: str | None, cancel: CancelToken) -> str | None:
        """Click tile ``index`` and wait (bounded) for the viewer to show a new original URL."""
        t = self.table
        if not self.driver.execute_script(_CLICK_JS, list(t.tile), list(t.thumb_img), index):
            return None
        src = self._wait(
            lambda dr: dr.execute_script(_VIEWER_JS, list(t.viewer_img), previous or ""),
            self.viewer_timeout_s, cancel,
        )
        if src and is_http_url(src):
            self.stats["viewer_ok"] += 1
            self._viewer_misses = 0
            return str(src)
        self.stats["viewer_timeouts"] += 1
        self._viewer_misses += 1
        return None

    def save_diagnostics(self, query: str) -> list[Path]:
        """Save the current page HTML and a screenshot; return the paths written."""
        if self.diagnostics_dir is None or self._driver is None:
            return []
        stamp = time.strftime("%Y%m%d-%H%M%S")
        stem = f"{self.name}-{keyword_folder(query)}-{stamp}"
        out: list[Path] = []
        try:
            html_path = safe_join(self.diagnostics_dir, stem + ".html")
            atomic_write_text(html_path, self._driver.page_source)
            out.append(html_path)
            png_path = safe_join(self.diagnostics_dir, stem + ".png")
            png_path.parent.mkdir(parents=True, exist_ok=True)
            if self._driver.save_screenshot(str(png_path)):
                out.append(png_path)
        except Exception:  # noqa: BLE001 - diagnostics are best effort; the zero-results error still surfaces
            pass
        return out


_SELECTOR_COUNTS_JS = r"""
const out = {};
for (const s of arguments[0]) { try { out[s] = document.querySelectorAll(s).length; } catch (e) { out[s] = -1; } }
return out;
"""


def check_selectors(driver: Any, table: SiteSelectors, url: str, wait_s: float = 5.0) -> dict[str, Any]:
    """Load ``url`` (a live result page or a saved ``file://`` copy) and report what each selector finds.

    This is how a user checks an edited selector table before crawling: every
    list entry gets its match count (-1 = invalid CSS), and both extraction
    paths report how many results they would yield.
    """
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    try:
        WebDriverWait(driver, wait_s, poll_frequency=0.1).until(
            lambda d: d.execute_script(_COUNT_JS, list(t for t in (*table.ready, *table.tile))) > 0)
    except TimeoutException:
        pass
    report: dict[str, Any] = {}
    for key in ("ready", "tile", "thumb_img", "title", "page_link", "viewer_img", "more_button"):
        sels = list(getattr(table, key))
        report[key] = driver.execute_script(_SELECTOR_COUNTS_JS, sels) if sels else {}
    res = driver.execute_script(
        _EXTRACT_JS, list(table.tile), list(table.thumb_img), list(table.thumb_attrs), list(table.original_attrs),
        list(table.title), list(table.title_attrs), list(table.page_link), 0,
    ) or {}
    items = res.get("items", [])
    report["dom_tiles"] = {"selector": res.get("selector", ""), "tiles": res.get("count", 0),
                           "with_thumbnail": sum(1 for i in items if i.get("thumb")),
                           "example": items[0] if items else None}
    jp = table.embedded_json
    texts = driver.execute_script(_SCRIPTS_JS, list(jp.scripts)) if jp.scripts else []
    json_items = items_from_script_texts(texts or [], jp) or items_from_html_regex(driver.page_source, jp)
    report["embedded_json"] = {"items": len(json_items), "example": json_items[0] if json_items else None}
    report["ok"] = bool(report["dom_tiles"]["with_thumbnail"] or json_items)
    return report
