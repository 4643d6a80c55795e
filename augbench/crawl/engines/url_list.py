"""The URL-list engine: a plain list of image URLs (from the job or a text file), in order."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from augbench.core.errors import ConfigError
from augbench.core.progress import CancelToken
from augbench.crawl.engines.base import ZeroResultsError
from augbench.crawl.parse import is_http_url
from augbench.crawl.types import Candidate


def read_url_file(path: str | Path) -> list[str]:
    """One URL per line; blank lines and ``#`` comments are ignored. A binary file is refused."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError("url_file", f"cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError("url_file", f"{path} is not a UTF-8 text file of URLs (undecodable byte at offset "
                                      f"{exc.start}); give a text file with one URL per line") from None
    if "\x00" in text:
        raise ConfigError("url_file", f"{path} contains NUL bytes: it is a binary file, not a list of URLs")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


class UrlListEngine:
    """Yields the given URLs (http/https only) as candidates for whatever keyword asks."""

    name = "url_list"

    def __init__(self, urls: Iterable[str]) -> None:
        self.urls = [u.strip() for u in urls if u and u.strip()]
        self.rejected = [u for u in self.urls if not is_http_url(u)]

    def close(self) -> None:
        pass

    def search(self, query: str, limit: int, cancel: CancelToken) -> Iterator[Candidate]:
        n = 0
        for u in self.urls:
            cancel.check()
            if not is_http_url(u):
                continue
            n += 1
            yield Candidate(url=u, thumb_url="", rank=n, engine=self.name, query=query, extraction="list")
            if n >= limit:
                return
        if n == 0:
            raise ZeroResultsError(self.name, query, f"{len(self.urls)} list entries, none an http(s) URL")
