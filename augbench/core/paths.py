"""Where bundled resources and the user cache live."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout root (only meaningful for an editable install)."""
    return Path(__file__).resolve().parents[2]


def package_dir() -> Path:
    """The installed ``augbench`` package folder."""
    return Path(__file__).resolve().parents[1]


def resources_dir() -> Path:
    """The ``augbench/resources/`` package data (bundled sample, selector tables, small weights).

    It ships inside the package so a plain (non-editable) ``pip install .`` keeps it;
    ``AUGBENCH_RESOURCES`` overrides it (for example to try an edited selector table).
    """
    env = os.environ.get("AUGBENCH_RESOURCES")
    if env:
        return Path(env)
    return package_dir() / "resources"


def cache_dir() -> Path:
    """The user cache folder for weights (``AUGBENCH_CACHE`` or ``~/.cache/augbench``)."""
    env = os.environ.get("AUGBENCH_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "augbench"
    return base


def sample_dataset_dir() -> Path:
    return resources_dir() / "sample"
