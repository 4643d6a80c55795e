"""The record every engine yields, and the rows the downloader writes.

Engines know nothing about downloading and the downloader knows nothing about
sites: a :class:`Candidate` is the whole contract between them.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Naver's image-search API (here, not in ``engines/naver_api.py``: the CLI needs the default without importing
#: that engine, which pulls in requests and, through the manifest and dedupe modules, scipy: ~0.9 s per command)
DEFAULT_API_URL = "https://openapi.naver.com/v1/search/image"


@dataclass(frozen=True)
class Candidate:
    """One image an engine found.

    ``url`` is the best known original, ``thumb_url`` the search thumbnail;
    ``extraction`` names the path that produced it (``dom``, ``dom+viewer``,
    ``json``, ``api``, ``list``) so a manifest row says how it was found.
    """

    url: str
    thumb_url: str = ""
    title: str = ""
    page: str = ""
    width: int | None = None
    height: int | None = None
    rank: int = 0
    engine: str = ""
    query: str = ""
    extraction: str = ""

    def pick_url(self, full_size: bool) -> str:
        """The URL to download: the original in full-size mode, else the thumbnail."""
        if full_size:
            return self.url or self.thumb_url
        return self.thumb_url or self.url


# Manifest statuses. ``ok`` rows own a file; the others explain a rejection.
OK = "ok"
DUPLICATE = "duplicate"  # same bytes (sha256) as an image already kept
NEAR_DUPLICATE = "near_duplicate"  # perceptual hash within the threshold
INVALID = "invalid"  # not an image, truncated, wrong type, too large
FILTERED = "filtered"  # a valid image the options exclude (size, format)
FAILED = "failed"  # network error / HTTP error after retries (retried on resume)

FINAL_STATUSES = frozenset({OK, DUPLICATE, NEAR_DUPLICATE, INVALID, FILTERED})
