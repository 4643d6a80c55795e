"""A local stand-in for Naver image search, its Open API and hostile image servers.

Used by the tests, the benchmark and the screenshot script: a
``ThreadingHTTPServer`` on 127.0.0.1 (random port) serving

* ``/search.naver?query=Q&layout=...`` — a result page shaped like Naver's:
  tiles with lazy-loaded thumbnails (``data-src`` + IntersectionObserver),
  infinite scroll that appends tiles from ``/more``, a viewer that fetches and
  shows the original URL when a tile is clicked, and the first page's results
  embedded as JSON in a ``<script>``. ``layout`` = ``normal`` | ``nojson``
  (no embedded JSON) | ``nodom`` (tile classes the table does not know) |
  ``broken`` (neither: zero results) | ``noviewer`` (clicking a tile shows nothing);
* ``/v1/search/image`` — a fake Naver Open API (display/start/sort/filter,
  X-Naver-Client-Id/Secret);
* ``/img/...`` and ``/thumb/...`` — real JPEG/PNG images drawn with numpy+Pillow,
  plus any hostile route a test registers (status codes, Retry-After, slow,
  truncated, HTML as image/jpeg, oversized, redirect loops).

Optional extra image hosts (127.0.0.2, 127.0.0.3, ...) let the benchmark
spread images over several hosts as real results are.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, quote, urlsplit

from augbench.testing.images import encode, make_image, near_copy

CLIENT_ID = "fixture-id"
CLIENT_SECRET = "fixture-secret"


@dataclass
class Route:
    """A registered response; ``kind`` picks the behaviour (see :meth:`FixtureSite.add_route`)."""

    kind: str
    body: bytes = b""
    content_type: str = "image/jpeg"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    fail_times: int = 0
    location: str = ""
    hits: int = 0


def _seed(*parts: Any) -> int:
    return int(hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


_PLACEHOLDER = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

_PAGE = """<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><title>{q} : 네이버 이미지검색</title>
<style>
body {{ font-family: sans-serif; margin: 0; background: #f5f6f7; }}
#header {{ background: #03c75a; color: white; padding: 10px 16px; font-weight: bold; }}
.photo_group {{ display: flex; flex-wrap: wrap; gap: 8px; padding: 8px; }}
.{tile_cls} {{ width: 300px; height: 420px; background: white; border-radius: 6px; overflow: hidden; cursor: pointer; }}
.{tile_cls} img {{ width: 300px; height: 380px; object-fit: cover; background: #ddd; display: block; }}
.info {{ padding: 4px 8px; font-size: 12px; white-space: nowrap; overflow: hidden; }}
.image_viewer {{ position: fixed; top: 40px; right: 20px; background: #000c; padding: 10px; display: none; }}
.image_viewer img {{ max-width: 400px; }}
</style></head>
<body><div id="header">NAVER 이미지 — {q}</div>
<div id="main_pack"><section class="sc_new sp_nimage"><div class="image_tile_bx">
<div class="photo_group _listGrid" data-query="{q_attr}" data-layout="{layout}" data-next="{next}">
{tiles}
</div></div></section></div>
<div class="image_viewer _fe_image_viewer"><img class="{viewer_cls}" src="" alt="">
<button class="_fe_image_viewer_close">닫기</button></div>
{json_script}
<script>
const grid = document.querySelector(".photo_group");
const io_ = new IntersectionObserver((entries) => {{
  for (const e of entries) if (e.isIntersecting) {{
    const img = e.target; if (img.dataset.src) img.src = img.dataset.src; io_.unobserve(img);
  }}
}});
const observe = () => grid.querySelectorAll("img[data-src]").forEach((i) => io_.observe(i));
observe();
let loading = false;
function more() {{
  const next = parseInt(grid.dataset.next);
  if (loading || next < 0) return;
  loading = true;
  fetch("/more?query=" + encodeURIComponent(grid.dataset.query) + "&start=" + next +
        "&layout=" + grid.dataset.layout)
    .then((r) => r.json()).then((d) => {{
      grid.insertAdjacentHTML("beforeend", d.html); grid.dataset.next = d.next; observe(); loading = false;
    }}).catch(() => {{ loading = false; }});
}}
window.addEventListener("scroll", () => {{
  if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 300) more();
}});
grid.addEventListener("click", (ev) => {{
  const tile = ev.target.closest("[data-idx]"); if (!tile || grid.dataset.layout === "noviewer") return;
  ev.preventDefault();
  fetch("/viewer.json?query=" + encodeURIComponent(grid.dataset.query) + "&idx=" + tile.dataset.idx)
    .then((r) => r.json()).then((d) => {{
      const v = document.querySelector(".image_viewer");
      v.querySelector("img").src = d.originalUrl; v.style.display = "block";
    }});
}});
document.querySelector("._fe_image_viewer_close").addEventListener("click", () => {{
  document.querySelector(".image_viewer").style.display = "none";
}});
</script></body></html>
"""


class FixtureSite:
    """Start with ``with FixtureSite() as site:``; ``site.search_url()`` and ``site.api_url`` are ready to use."""

    def __init__(
        self,
        items_per_query: int = 60,
        page_size: int = 20,
        latency_s: float = 0.0,
        image_hosts: int = 0,
        image_size: tuple[int, int] = (160, 120),
        thumb_size: tuple[int, int] = (80, 60),
    ) -> None:
        self.items_per_query = items_per_query
        self.page_size = page_size
        self.latency_s = latency_s
        self.image_size = image_size
        self.thumb_size = thumb_size
        self.n_image_hosts = image_hosts
        self.routes: dict[str, Route] = {}
        self.results: dict[str, list[dict[str, Any]]] = {}
        self.hits: Counter[str] = Counter()
        self.tool_hits: Counter[str] = Counter()  # requests from augbench's downloader (by User-Agent)
        self.api_params: list[dict[str, str]] = []
        self.last_safe: str | None = None
        self._lock = threading.Lock()
        self._cache: dict[str, bytes] = {}
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []
        self.base_url = ""
        self.image_bases: list[str] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FixtureSite:
        hosts = ["127.0.0.1"] + [f"127.0.0.{i + 2}" for i in range(self.n_image_hosts)]
        for host in hosts:
            server = ThreadingHTTPServer((host, 0), self._handler_class())
            server.daemon_threads = True
            t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            t.start()
            self._servers.append(server)
            self._threads.append(t)
        self.base_url = f"http://127.0.0.1:{self._servers[0].server_address[1]}"
        self.image_bases = [f"http://{s.server_address[0]}:{s.server_address[1]}" for s in self._servers[1:]] or [
            self.base_url
        ]
        return self

    def stop(self) -> None:
        for s in self._servers:
            s.shutdown()
            s.server_close()
        self._servers.clear()

    def __enter__(self) -> FixtureSite:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ configuration
    def search_url(self, layout: str = "normal") -> str:
        """A search URL template for the selector table / ``CrawlConfig.search_url``."""
        return f"{self.base_url}/search.naver?where=image&query={{query}}{{safe}}&layout={layout}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v1/search/image"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add_route(self, path: str, route: Route | None = None, **kw: Any) -> str:
        """Register ``path`` (the raw request path, query included if any); returns its full URL.

        Kinds: ``ok`` (body/content_type), ``status`` (status, headers, body), ``retry_after``
        (``fail_times`` 429s with ``headers['Retry-After']``, then body), ``slow`` (``delay_s`` before
        headers), ``redirect`` (``location``), ``nolength`` (body without Content-Length, then close).
        """
        self.routes[path] = route or Route(**kw)
        return self.url(path)

    def set_results(self, query: str, items: list[dict[str, Any]]) -> None:
        """Explicit results for ``query``: dicts with original, thumb, title, page, width, height."""
        self.results[query] = items

    def items(self, query: str) -> list[dict[str, Any]]:
        if query in self.results:
            return self.results[query]
        slug = hashlib.sha1(query.encode("utf-8")).hexdigest()[:10]
        out = []
        bases = self.image_bases
        for i in range(self.items_per_query):
            base = bases[i % len(bases)]
            out.append({
                "original": f"{base}/img/{slug}/{i}.jpg",
                "thumb": f"{base}/thumb/{slug}/{i}.jpg",
                "title": f"{query} 사진 {i + 1}",
                "page": f"{self.base_url}/blog/{slug}/{i}",
                "width": self.image_size[0],
                "height": self.image_size[1],
            })
        return out

    # ------------------------------------------------------------------ rendering
    def _tiles_html(self, query: str, layout: str, start: int, stop: int) -> str:
        tile_cls = "zz_card" if layout in ("nodom", "broken") else "tile_item _fe_image_tab_content_tile"
        img_cls = "zz_pic" if layout in ("nodom", "broken") else "_fe_image_tab_content_thumbnail_image"
        title_cls = "zz_caption" if layout in ("nodom", "broken") else "info_title"
        rows = []
        for i, it in enumerate(self.items(query)[start:stop], start):
            rows.append(
                f'<div class="{tile_cls}" data-idx="{i}"><div class="thumb"><a href="#" class="link_thumb">'
                f'<img class="{img_cls}" src="{_PLACEHOLDER}" data-src="{html.escape(it["thumb"])}" '
                f'alt="{html.escape(it["title"])}"></a></div><div class="info">'
                f'<a class="{title_cls}" href="{html.escape(it["page"])}">{html.escape(it["title"])}</a></div></div>'
            )
        return "\n".join(rows)

    def render_page(self, query: str, layout: str) -> str:
        items = self.items(query)
        n = min(self.page_size, len(items))
        data = {"query": query, "items": [
            {"originalUrl": it["original"], "thumb": it["thumb"], "title": it["title"], "link": it["page"],
             "orgWidth": it["width"], "orgHeight": it["height"]} for it in items[:n]]}
        json_script = "" if layout in ("nojson", "broken") else (
            '<script type="application/json" id="_fe_image_tab_data">'
            + json.dumps(data, ensure_ascii=False).replace("</", "<\\/") + "</script>"
        )
        tile_cls = "zz_card" if layout in ("nodom", "broken") else "tile_item"
        return _PAGE.format(
            q=html.escape(query), q_attr=html.escape(query, quote=True), layout=layout,
            next=n if n < len(items) else -1, tiles=self._tiles_html(query, layout, 0, n), tile_cls=tile_cls,
            viewer_cls="_fe_image_viewer_image_fallback_target", json_script=json_script,
        )

    def image_bytes(self, path: str) -> bytes | None:
        """Generated images for ``/img/<slug>/<i>.jpg`` and ``/thumb/<slug>/<i>.jpg``."""
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] not in ("img", "thumb"):
            return None
        with self._lock:
            if path in self._cache:
                return self._cache[path]
        seed = _seed(parts[1], parts[2])
        size = self.image_size if parts[0] == "img" else self.thumb_size
        data = make_image(seed, size)
        with self._lock:
            self._cache[path] = data
        return data

    # ------------------------------------------------------------------ HTTP
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "fixture/1.0"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _json(self, obj: Any, status: int = 200) -> None:
                self._send(status, json.dumps(obj, ensure_ascii=False).encode(), "application/json; charset=utf-8")

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                if site.latency_s:
                    time.sleep(site.latency_s)
                raw = self.path
                split = urlsplit(raw)
                with site._lock:
                    site.hits[split.path] += 1
                    if "augbench" in (self.headers.get("User-Agent") or ""):
                        site.tool_hits[split.path] += 1
                    route = site.routes.get(raw) or site.routes.get(split.path)
                    if route is not None:
                        route.hits += 1
                        hit_no = route.hits
                if route is not None:
                    return self._route(route, hit_no)
                q = {k: v[0] for k, v in parse_qs(split.query).items()}
                handler: Callable[[dict[str, str]], None] | None = {
                    "/search.naver": self._search,
                    "/more": self._more,
                    "/viewer.json": self._viewer,
                    "/v1/search/image": self._api,
                }.get(split.path)
                if handler is not None:
                    return handler(q)
                data = site.image_bytes(split.path)
                if data is not None:
                    return self._send(200, data, "image/jpeg", {"Cache-Control": "max-age=60"})
                if split.path.startswith("/blog/"):
                    return self._send(200, b"<html><body>a blog post</body></html>", "text/html")
                self._send(404, b"not found", "text/plain")

            def _route(self, r: Route, hit_no: int) -> None:
                if r.kind == "ok":
                    return self._send(200, r.body, r.content_type, r.headers)
                if r.kind == "status":
                    return self._send(r.status, r.body or b"error", r.content_type or "text/plain", r.headers)
                if r.kind == "retry_after":
                    if hit_no <= r.fail_times:
                        return self._send(429, b"slow down", "text/plain", r.headers)
                    return self._send(200, r.body, r.content_type)
                if r.kind == "slow":
                    time.sleep(r.delay_s)
                    try:
                        return self._send(200, r.body, r.content_type)
                    except OSError:
                        return None
                if r.kind == "redirect":
                    return self._send(302, b"", "text/plain", {"Location": r.location})
                if r.kind == "nolength":
                    self.send_response(200)
                    self.send_header("Content-Type", r.content_type)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    try:
                        for i in range(0, len(r.body), 65536):
                            self.wfile.write(r.body[i:i + 65536])
                    except OSError:
                        pass
                    return None
                self._send(500, b"bad route", "text/plain")

            def _search(self, q: dict[str, str]) -> None:
                site.last_safe = q.get("safe_search")
                body = site.render_page(q.get("query", ""), q.get("layout", "normal")).encode("utf-8")
                self._send(200, body, "text/html; charset=utf-8")

            def _more(self, q: dict[str, str]) -> None:
                query, layout = q.get("query", ""), q.get("layout", "normal")
                start = int(q.get("start", "0"))
                items = site.items(query)
                stop = min(len(items), start + site.page_size)
                self._json({"html": site._tiles_html(query, layout, start, stop), "next": stop if stop < len(items)
                            else -1})

            def _viewer(self, q: dict[str, str]) -> None:
                items = site.items(q.get("query", ""))
                idx = int(q.get("idx", "-1"))
                if not 0 <= idx < len(items):
                    return self._json({"error": "no such item"}, 404)
                self._json({"originalUrl": items[idx]["original"], "title": items[idx]["title"]})

            def _api(self, q: dict[str, str]) -> None:
                with site._lock:
                    site.api_params.append(dict(q))
                if (self.headers.get("X-Naver-Client-Id") != CLIENT_ID
                        or self.headers.get("X-Naver-Client-Secret") != CLIENT_SECRET):
                    return self._json({"errorMessage": "Authentication failed. (인증에 실패했습니다.)",
                                       "errorCode": "024"}, 401)
                try:
                    display = int(q.get("display", "10"))
                    start = int(q.get("start", "1"))
                except ValueError:
                    return self._json({"errorMessage": "Invalid display/start value", "errorCode": "SE02"}, 400)
                if not q.get("query"):
                    return self._json({"errorMessage": "Incorrect query request", "errorCode": "SE01"}, 400)
                if not 1 <= display <= 100 or not 1 <= start <= 1000:
                    return self._json({"errorMessage": "Invalid display/start value", "errorCode": "SE02"}, 400)
                if q.get("sort", "sim") not in ("sim", "date") or q.get("filter", "all") not in (
                        "all", "large", "medium", "small"):
                    return self._json({"errorMessage": "Invalid sort/filter value", "errorCode": "SE04"}, 400)
                items = site.items(q["query"])
                page = items[start - 1:start - 1 + display]
                self._json({
                    "lastBuildDate": time.strftime("%a, %d %b %Y %H:%M:%S +0900"),
                    "total": len(items), "start": start, "display": len(page),
                    "items": [{"title": f"<b>{html.escape(it['title'])}</b>", "link": it["original"],
                               "thumbnail": it["thumb"], "sizeheight": str(it["height"]),
                               "sizewidth": str(it["width"])} for it in page],
                })

        return Handler


def quoted(path: str) -> str:
    """URL-quote a path segment for hostile routes (``../`` stays encoded on the wire)."""
    return quote(path, safe="")


def add_messy_results(site: FixtureSite, query: str, n: int, dup_every: int = 10, invalid_every: int = 15) -> dict[str, int]:
    """Results for ``query`` as real searches look: some exact copies, near copies and broken files.

    Every ``dup_every``-th item is a copy of the previous image (alternately the
    same bytes and a resized re-encode) and every ``invalid_every``-th one is an
    HTML page served as image/jpeg. Returns the planted counts.
    """
    items = []
    planted = {"duplicate": 0, "invalid": 0}
    bases = site.image_bases
    for i in range(n):
        base = bases[i % len(bases)]
        thumb = f"{base}/thumb/{query}/{i}.jpg"
        if i and i % dup_every == 0:
            prev = site.image_bytes(f"/img/{query}/{i - 1}.jpg") or b""
            body = prev if (i // dup_every) % 2 else near_copy(prev)
            path = f"/copy/{query}/{i}.jpg"
            site.add_route(path, kind="ok", body=body)
            planted["duplicate"] += 1
        elif i and i % invalid_every == 0:
            path = f"/blocked/{query}/{i}.jpg"
            site.add_route(path, kind="ok", content_type="image/jpeg", body=b"<!DOCTYPE html><html>denied</html>")
            planted["invalid"] += 1
        else:
            path = f"/img/{query}/{i}.jpg"
        items.append({"original": base + path, "thumb": thumb, "title": f"{query} {i}",
                      "page": f"{site.base_url}/blog/{query}/{i}", "width": site.image_size[0],
                      "height": site.image_size[1]})
    site.set_results(query, items)
    return planted


# The image factories moved to augbench.testing.images; tests import them from here too.
__all__ = ["CLIENT_ID", "CLIENT_SECRET", "FixtureSite", "Route", "add_messy_results", "encode", "make_image", "near_copy",
           "quoted"]
