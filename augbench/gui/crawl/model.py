"""The Crawl tab's form state without Qt, and how it becomes the job the CLI runs.

:class:`CrawlForm` holds what the form shows (text as typed, numbers, ticks); the view fills it
from its widgets and back. Everything the tab decides (the keywords, the config and its errors,
which engine's rows to show, what is remembered between sessions, whether an output can be
handed on) is decided here, so it can be checked with PyQt5 unavailable. Importing this module
must never import Qt (an import-linter contract in pyproject.toml forbids it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from augbench.core.errors import ConfigError
from augbench.core.imageio import IMAGE_EXTS
from augbench.crawl.jobs import CrawlConfig

ENGINES = [("Naver (browser)", "naver_browser"), ("Naver Open API", "naver_api"), ("URL list", "url_list")]
REMEMBERED = ("keywords_text", "out_dir", "api_client_id", "engine", "count", "search_url", "selectors_file")
SETTINGS_KEYS = {"keywords_text": "keywords", "api_client_id": "api_id"}  # the names QSettings has always used


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


@dataclass
class CrawlForm:
    """One snapshot of the Crawl form; defaults are the job's own."""

    keywords_text: str = ""
    out_dir: str = ""
    count: int = 50
    engine: str = "naver_browser"
    full_size: bool = True
    min_width: int = 0
    min_height: int = 0
    formats: tuple[str, ...] = field(default_factory=lambda: tuple(CrawlConfig.formats))
    safe_search: bool = True
    api_client_id: str = ""
    api_client_secret: str = ""  # never remembered
    api_base_url: str = CrawlConfig.api_base_url
    urls_text: str = ""
    per_host_delay_s: float = CrawlConfig.per_host_delay_s
    per_host_max_in_flight: int = CrawlConfig.per_host_max_in_flight
    search_url: str = ""
    selectors_file: str = ""

    def keyword_list(self) -> list[str]:
        return _lines(self.keywords_text)

    def to_config(self, **overrides: Any) -> CrawlConfig:
        """The job the form describes (raises ConfigError naming the bad field)."""
        kws = self.keyword_list()
        if self.engine == "url_list" and not kws:
            kws = ["urls"]
        if not self.formats:
            raise ConfigError("formats", "allow at least one image format")
        kwargs: dict[str, Any] = dict(
            keywords=tuple(kws), out_dir=self.out_dir.strip(), count=self.count, engine=self.engine,
            full_size=self.full_size, min_width=self.min_width, min_height=self.min_height,
            formats=tuple(self.formats), safe_search=self.safe_search,
            api_client_id=self.api_client_id.strip(), api_client_secret=self.api_client_secret.strip(),
            api_base_url=self.api_base_url.strip() or CrawlConfig.api_base_url, urls=tuple(_lines(self.urls_text)),
            per_host_delay_s=self.per_host_delay_s, per_host_max_in_flight=self.per_host_max_in_flight,
            search_url=self.search_url.strip(), selectors_file=self.selectors_file.strip(),
        )
        kwargs.update(overrides)
        return CrawlConfig(**kwargs)

    def wants_api(self) -> bool:
        """An id and a secret typed while the browser engine is chosen: the user wants the Open API."""
        return bool(self.api_client_id.strip() and self.api_client_secret.strip()) and self.engine == "naver_browser"

    def remembered(self) -> dict[str, Any]:
        """What is saved between sessions, by settings key (``crawl/<key>``); the secret never is."""
        return {SETTINGS_KEYS.get(name, name): getattr(self, name) for name in REMEMBERED}

    @classmethod
    def restored(cls, saved: dict[str, Any]) -> CrawlForm:
        """A form from :meth:`remembered`'s values (missing or empty ones keep the defaults)."""
        form = cls()
        types = {f.name: f.type for f in fields(cls)}
        for name in REMEMBERED:
            value = saved.get(SETTINGS_KEYS.get(name, name))
            if value in (None, ""):
                continue
            setattr(form, name, int(value) if types[name] == "int" else str(value))
        return form


def visible_rows(engine: str) -> dict[str, bool]:
    """Which of the engine-specific groups of rows the form shows for ``engine``."""
    return {"api": engine == "naver_api", "browser": engine == "naver_browser", "urls": engine == "url_list"}


def has_images(out_dir: str) -> bool:
    """True when ``out_dir`` holds class folders with images (so it can be opened in Label or Augment)."""
    out = Path(out_dir.strip() or ".")
    if not out.is_dir():
        return False
    return any(p.suffix.lower() in IMAGE_EXTS for d in out.iterdir() if d.is_dir() and not d.name.startswith(".")
               for p in d.iterdir())
