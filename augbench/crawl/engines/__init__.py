"""Search engines: each yields :class:`~augbench.crawl.types.Candidate` records for a query."""

from augbench.crawl.engines.base import Engine, ZeroResultsError

__all__ = ["Engine", "ZeroResultsError"]
