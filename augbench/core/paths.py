"""Where bundled resources and the user cache live."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def resources_dir() -> Path:
    """The ``resources/`` folder (bundled sample data, recipes, small weights).

    ``AUGBENCH_RESOURCES`` overrides it for installs that move the folder.
    """
    env = os.environ.get("AUGBENCH_RESOURCES")
    if env:
        return Path(env)
    return repo_root() / "resources"


def cache_dir() -> Path:
    """The user cache folder for weights (``AUGBENCH_CACHE`` or ``~/.cache/augbench``)."""
    env = os.environ.get("AUGBENCH_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "augbench"
    return base


def sample_dataset_dir() -> Path:
    return resources_dir() / "sample"
