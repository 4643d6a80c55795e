"""The one small interface every engine implements, and the zero-results error.

An engine turns a query into candidate records and nothing more; it never
downloads images. When it finds nothing it must say so loudly: which engine,
which extraction path came up empty, and where the page was saved for diagnosis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Protocol

from augbench.core.errors import AugbenchError
from augbench.core.progress import CancelToken
from augbench.crawl.types import Candidate


class Engine(Protocol):
    """Yields up to ``limit`` candidates for ``query``; ``close()`` frees browsers/sessions."""

    name: str

    def search(self, query: str, limit: int, cancel: CancelToken) -> Iterator[Candidate]: ...

    def close(self) -> None: ...


class ZeroResultsError(AugbenchError):
    """An engine found no candidates at all (usually: the site changed its page)."""

    def __init__(self, engine: str, query: str, paths: str, diagnostics: list[Path] | None = None,
                 hint: str = "") -> None:
        self.engine = engine
        self.query = query
        self.paths = paths
        self.diagnostics = [Path(p) for p in diagnostics or []]
        msg = f"{engine} found no candidates for {query!r} (tried: {paths})"
        if self.diagnostics:
            msg += "; saved for diagnosis: " + ", ".join(str(p) for p in self.diagnostics)
        if hint:
            msg += f". {hint}"
        super().__init__(msg)
