"""Test support that users may import too, like ``numpy.testing``.

* :mod:`augbench.testing.images` — deterministic photo-like test images;
* :mod:`augbench.testing.fixture_site` — a local Naver look-alike (search page,
  Open API, hostile image servers) on 127.0.0.1 for crawler tests and demos.

Nothing in the product imports this package (an import-linter contract in
``pyproject.toml`` enforces it), so it can grow without weighing on the app.
"""

from augbench.testing.images import make_photo

__all__ = ["make_photo"]
