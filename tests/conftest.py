"""Shared fixtures: offscreen Qt, a private QSettings store, tiny images, QThread leak check."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from imgfactory import make_photo  # noqa: E402


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


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
