"""Deterministic test images for the suite: they live in :mod:`augbench.testing.images` (importable by users too).

Kept as a module with a unique name because several ``conftest.py`` files exist
and many tests write ``from imgfactory import make_photo``.
"""

from augbench.testing.images import make_photo

__all__ = ["make_photo"]
