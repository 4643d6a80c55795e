"""Crawl test fixtures: one local fixture site per test module (127.0.0.1, random port)."""

from __future__ import annotations

import pytest

from augbench.testing.fixture_site import FixtureSite


@pytest.fixture(scope="module")
def site():
    """A Naver-like fixture site + fake Open API + image server, shared by one module's tests."""
    with FixtureSite(items_per_query=60, page_size=20) as s:
        yield s


def rows_by_url(manifest_rows):
    return {r["url"]: r for r in manifest_rows}
