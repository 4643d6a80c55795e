"""The core packages import with PyQt5 unavailable (only augbench.gui may import Qt)."""

from __future__ import annotations

import subprocess
import sys

BLOCKER = """
import importlib, importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "PyQt5" or name.startswith("PyQt5."):
            raise ImportError("PyQt5 is blocked in this test")
        return None
sys.meta_path.insert(0, Block())
for name in sys.argv[1:]:
    importlib.import_module(name)
from augbench.core.jobs import discover_jobs
discover_jobs()
assert not any(m.startswith("PyQt5") for m in sys.modules), "PyQt5 was imported"
print("ok")
"""

CORE_MODULES = [
    "augbench.core.jobs", "augbench.core.imageio", "augbench.core.dataset", "augbench.core.runfolder",
    "augbench.augment.export", "augbench.augment.preview", "augbench.augment.catalog", "augbench.label.io",
    "augbench.cli",
]


def test_core_and_every_job_package_import_without_qt() -> None:
    """Imports the core modules and every registered job package with PyQt5 blocked."""
    out = subprocess.run([sys.executable, "-c", BLOCKER, *CORE_MODULES], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")


def test_blocker_really_blocks() -> None:
    """The check above would catch a Qt import: importing the GUI shell fails under the blocker."""
    out = subprocess.run([sys.executable, "-c", BLOCKER, "augbench.gui.app"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode != 0 and "PyQt5 is blocked" in out.stderr
