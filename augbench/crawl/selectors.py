"""Per-site selector tables, loaded from ``resources/crawl/<site>.yaml``.

Selectors live in data, not code (AutoCrawler hard-coded obfuscated XPaths and
broke silently): a user updates the YAML when the site changes its page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from augbench.core.errors import ConfigError
from augbench.core.paths import resources_dir


@dataclass(frozen=True)
class JsonPaths:
    """Where the embedded result JSON lives and which keys hold what."""

    scripts: tuple[str, ...] = ()
    regexes: tuple[str, ...] = ()
    url_keys: tuple[str, ...] = ("originalUrl",)
    thumb_keys: tuple[str, ...] = ("thumb",)
    title_keys: tuple[str, ...] = ("title",)
    page_keys: tuple[str, ...] = ("link",)
    width_keys: tuple[str, ...] = ("width",)
    height_keys: tuple[str, ...] = ("height",)


@dataclass(frozen=True)
class SiteSelectors:
    """One site's selector table (every list is tried in order)."""

    site: str
    search_url: str
    tile: tuple[str, ...]
    thumb_img: tuple[str, ...]
    thumb_attrs: tuple[str, ...] = ("data-src", "src")
    original_attrs: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    title_attrs: tuple[str, ...] = ("alt",)
    page_link: tuple[str, ...] = ()
    viewer_img: tuple[str, ...] = ()
    viewer_close: tuple[str, ...] = ()
    more_button: tuple[str, ...] = ()
    ready: tuple[str, ...] = ()
    safe_params: dict[str, str] = field(default_factory=dict)
    embedded_json: JsonPaths = field(default_factory=JsonPaths)
    proxy_hosts: tuple[str, ...] = ()
    proxy_param: str = "src"
    version: str = ""
    source: str = ""

    def with_search_url(self, url: str) -> SiteSelectors:
        from dataclasses import replace

        return replace(self, search_url=url) if url else self


def _tuple(data: dict[str, Any], key: str, where: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    value = data.get(key, default)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError("selectors_file", f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def load_selectors(site: str = "naver", path: str | os.PathLike[str] | None = None) -> SiteSelectors:
    """Load a site's table from ``path`` or the bundled ``resources/crawl/<site>.yaml``."""
    file = Path(path) if path else resources_dir() / "crawl" / f"{site}.yaml"
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("selectors_file", f"cannot read selector table {file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError("selectors_file", f"{file} is not a UTF-8 text (YAML) file") from None
    except yaml.YAMLError as exc:
        raise ConfigError("selectors_file", f"{file} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("selectors_file", f"{file} must be a mapping")
    where = str(file)
    for required in ("search_url", "tile", "thumb_img"):
        if required not in data:
            raise ConfigError("selectors_file", f"{where}: missing required key '{required}'")
    ej = data.get("embedded_json") or {}
    if not isinstance(ej, dict):
        raise ConfigError("selectors_file", f"{where}: 'embedded_json' must be a mapping")
    jp = JsonPaths(**{k: _tuple(ej, k, where, getattr(JsonPaths(), k)) for k in JsonPaths.__dataclass_fields__})
    safe = data.get("safe_params") or {}
    return SiteSelectors(
        site=str(data.get("site", site)),
        search_url=str(data["search_url"]),
        tile=_tuple(data, "tile", where),
        thumb_img=_tuple(data, "thumb_img", where),
        thumb_attrs=_tuple(data, "thumb_attrs", where, ("data-src", "src")),
        original_attrs=_tuple(data, "original_attrs", where),
        title=_tuple(data, "title", where),
        title_attrs=_tuple(data, "title_attrs", where, ("alt",)),
        page_link=_tuple(data, "page_link", where),
        viewer_img=_tuple(data, "viewer_img", where),
        viewer_close=_tuple(data, "viewer_close", where),
        more_button=_tuple(data, "more_button", where),
        ready=_tuple(data, "ready", where),
        safe_params={str(k): str(v) for k, v in safe.items()},
        embedded_json=jp,
        proxy_hosts=_tuple(data, "proxy_hosts", where),
        proxy_param=str(data.get("proxy_param", "src")),
        version=str(data.get("version", "")),
        source=where,
    )
