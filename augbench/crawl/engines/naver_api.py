"""Naver Open API image search (``GET /v1/search/image``), the engine that needs no browser.

Parameters as documented by Naver: ``query``, ``display`` (10..100),
``start`` (1..1000), ``sort`` (sim/date), ``filter`` (all/large/medium/small);
the client id/secret go in ``X-Naver-Client-Id`` / ``X-Naver-Client-Secret``.
``base_url`` is configurable (tests point it at a fake server).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterator

import requests

from augbench.core.atomic import atomic_write_text, safe_join
from augbench.core.errors import AugbenchError, ConfigError
from augbench.core.progress import CancelToken
from augbench.crawl.engines.base import ZeroResultsError
from augbench.crawl.manifest import keyword_folder
from augbench.crawl.parse import is_http_url
from augbench.crawl.politeness import sleep_cancellable
from augbench.crawl.types import DEFAULT_API_URL, Candidate

MAX_START = 1000
MAX_DISPLAY = 100


class NaverApiEngine:
    """Pages through the Open API until ``limit`` candidates or the API's 1000-result window ends."""

    name = "naver_api"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        base_url: str = DEFAULT_API_URL,
        sort: str = "sim",
        size_filter: str = "all",
        timeout_s: float = 10.0,
        retries: int = 2,
        diagnostics_dir: str | Path | None = None,
    ) -> None:
        if not client_id or not client_secret:
            raise ConfigError("api_client_id", "the Naver Open API engine needs a client id and secret "
                              "(register an app at developers.naver.com; or set NAVER_CLIENT_ID/NAVER_CLIENT_SECRET)")
        self.base_url = base_url
        self.sort = sort
        self.size_filter = size_filter
        self.timeout_s = timeout_s
        self.retries = retries
        self.diagnostics_dir = Path(diagnostics_dir) if diagnostics_dir else None
        self.session = requests.Session()
        self.session.headers.update({"X-Naver-Client-Id": client_id, "X-Naver-Client-Secret": client_secret})
        self.requests_made = 0

    def close(self) -> None:
        self.session.close()

    def _get(self, params: dict[str, Any], cancel: CancelToken) -> dict[str, Any]:
        for attempt in range(self.retries + 1):
            cancel.check()
            try:
                resp = self.session.get(self.base_url, params=params, timeout=self.timeout_s)
            except requests.RequestException as exc:
                if attempt >= self.retries:
                    raise AugbenchError(f"naver_api: cannot reach {self.base_url}: {type(exc).__name__}") from None
                sleep_cancellable(0.5 * 2**attempt, cancel)
                continue
            self.requests_made += 1
            if resp.status_code == 200:
                try:
                    data = resp.json()
                except ValueError:
                    raise AugbenchError(f"naver_api: {self.base_url} did not return JSON") from None
                if not isinstance(data, dict):
                    raise AugbenchError("naver_api: unexpected JSON (not an object)")
                return data
            detail = ""
            try:
                err = resp.json()
                detail = f" {err.get('errorCode', '')} {err.get('errorMessage', '')}".rstrip()
            except ValueError:
                pass
            if resp.status_code in (401, 403):
                raise AugbenchError(f"naver_api: HTTP {resp.status_code}{detail} — check the client id/secret "
                                    "and that the app has the Search API enabled")
            if resp.status_code in (429, 500, 502, 503) and attempt < self.retries:
                ra = resp.headers.get("Retry-After", "")
                sleep_cancellable(min(float(ra), 30.0) if ra.isdigit() else 0.5 * 2**attempt, cancel)
                continue
            raise AugbenchError(f"naver_api: HTTP {resp.status_code}{detail}")
        raise AugbenchError("naver_api: no response")

    def search(self, query: str, limit: int, cancel: CancelToken) -> Iterator[Candidate]:
        start = 1
        yielded = 0
        last: dict[str, Any] = {}
        while yielded < limit and start <= MAX_START:
            display = max(10, min(MAX_DISPLAY, limit - yielded))
            last = self._get(
                {"query": query, "display": display, "start": start, "sort": self.sort, "filter": self.size_filter},
                cancel,
            )
            items = last.get("items") or []
            for it in items:
                if not isinstance(it, dict) or not is_http_url(str(it.get("link", ""))):
                    continue
                yielded += 1
                yield Candidate(
                    url=str(it["link"]),
                    thumb_url=str(it.get("thumbnail") or ""),
                    title=_strip(str(it.get("title") or "")),
                    page="",
                    width=_int(it.get("sizewidth")),
                    height=_int(it.get("sizeheight")),
                    rank=yielded,
                    engine=self.name,
                    query=query,
                    extraction="api",
                )
                if yielded >= limit:
                    return
            total = _int(last.get("total")) or 0
            start += len(items) if items else display
            if not items or start > total:
                break
        if yielded == 0:
            raise ZeroResultsError(self.name, query, f"GET {self.base_url} -> JSON 'items' was empty",
                                   self._save(query, last))

    def _save(self, query: str, data: dict[str, Any]) -> list[Path]:
        if self.diagnostics_dir is None:
            return []
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = safe_join(self.diagnostics_dir, f"{self.name}-{keyword_folder(query)}-{stamp}.json")
        atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False))
        return [path]


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _strip(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", text).strip()
