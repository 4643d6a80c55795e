"""Shared fixtures: offscreen Qt, a private QSettings store, tiny images, QThread leak check."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def make_photo(w: int = 96, h: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth random colour image (gradients + blobs), deterministic per seed."""
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        fx, fy, ph = r.uniform(0.02, 0.15), r.uniform(0.02, 0.15), r.uniform(0, 6)
        img[..., c] = 127 + 100 * np.sin(xx * fx + ph) * np.cos(yy * fy)
    cx, cy = r.integers(w // 4, 3 * w // 4), r.integers(h // 4, 3 * h // 4)
    img[(xx - cx) ** 2 + (yy - cy) ** 2 < (min(w, h) // 6) ** 2] = r.uniform(0, 255, 3)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture
def photo() -> np.ndarray:
    return make_photo()


@pytest.fixture
def qsettings(tmp_path: Path):
    """A QSettings in an ini file under tmp_path, so tests never touch the user's settings."""
    from PyQt5.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture(autouse=True)
def _no_leaked_qthreads(request):
    """Fail a GUI test that leaves a QThread running (napari's fixture idea)."""
    yield
    if "qtbot" not in request.fixturenames:
        return
    from PyQt5.QtCore import QThread
    from PyQt5.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    running = [t for t in app.findChildren(QThread) if t.isRunning()]
    for obj in app.topLevelWidgets():
        running += [t for t in obj.findChildren(QThread) if t.isRunning()]
    for t in running:
        t.wait(5000)
    still = [t for t in running if t.isRunning()]
    assert not still, f"{len(still)} QThread(s) still running after the test"
