"""Pure parsing helpers shared by the engines (tested on saved pages, no browser).

The browser hands over raw strings (script texts, page HTML, tile dicts); the
functions here turn them into result dicts. Keeping them pure is what lets a
user's updated selector table be checked against a saved page offline.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from augbench.crawl.selectors import JsonPaths


def unwrap_proxy(url: str, proxy_hosts: Iterable[str], param: str = "src") -> str:
    """Return the original behind an image-proxy URL (``...pstatic.net/?src=<orig>``), else ``url``."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.hostname and any(parts.hostname == h or parts.hostname.endswith("." + h) for h in proxy_hosts):
        values = parse_qs(parts.query).get(param)
        if values and values[0].startswith(("http://", "https://")):
            return unquote(values[0]) if "%" in values[0][:12] else values[0]
    return url


def is_http_url(url: str) -> bool:
    return isinstance(url, str) and url.lower().startswith(("http://", "https://"))


def _first(obj: dict[str, Any], keys: Iterable[str]) -> Any:
    for k in keys:
        v = obj.get(k)
        if v not in (None, ""):
            return v
    return None


def _as_int(v: Any) -> int | None:
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


def _walk(obj: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every dict in a JSON tree (bounded depth, no recursion blow-up on odd data)."""
    stack = [(obj, depth)]
    while stack:
        cur, d = stack.pop()
        if d > 40:
            continue
        if isinstance(cur, dict):
            yield cur
            stack.extend((v, d + 1) for v in reversed(list(cur.values())))
        elif isinstance(cur, list):
            stack.extend((v, d + 1) for v in reversed(cur))


def items_from_json(data: Any, jp: JsonPaths) -> list[dict[str, Any]]:
    """Every object in ``data`` that carries an image URL key, as a normalised dict."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for obj in _walk(data):
        url = _first(obj, jp.url_keys)
        thumb = _first(obj, jp.thumb_keys)
        if not (is_http_url(url) or is_http_url(thumb)):
            continue
        url = url if is_http_url(url) else ""
        thumb = thumb if is_http_url(thumb) else ""
        key = url or thumb
        if key in seen:
            continue
        seen.add(key)
        pages = [obj.get(k) for k in jp.page_keys if is_http_url(obj.get(k)) and obj.get(k) != url]
        page = pages[0] if pages else ""
        out.append(
            {
                "url": url,
                "thumb": thumb,
                "title": _strip_tags(str(_first(obj, jp.title_keys) or "")),
                "page": page,
                "width": _as_int(_first(obj, jp.width_keys)),
                "height": _as_int(_first(obj, jp.height_keys)),
            }
        )
    return out


_TAG = re.compile(r"<[^>]+>")


def _strip_tags(text: str) -> str:
    return _TAG.sub("", text).strip()


def items_from_script_texts(texts: Iterable[str], jp: JsonPaths) -> list[dict[str, Any]]:
    """Parse each script body as JSON and collect result items (bad JSON is ignored)."""
    items: list[dict[str, Any]] = []
    for text in texts:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            continue
        items.extend(items_from_json(data, jp))
    return _dedupe(items)


def items_from_html_regex(html: str, jp: JsonPaths) -> list[dict[str, Any]]:
    """The regex fallback for result data assigned in inline JavaScript."""
    items: list[dict[str, Any]] = []
    for pattern in jp.regexes:
        for m in re.finditer(pattern, html, flags=re.S):
            try:
                items.extend(items_from_json(json.loads(m.group(1)), jp))
            except (json.JSONDecodeError, IndexError):
                continue
    return _dedupe(items)


def _dedupe(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for it in items:
        key = it["url"] or it["thumb"]
        if key not in seen:
            seen.add(key)
            out.append(it)
    return out
