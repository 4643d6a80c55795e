"""The label core never imports Qt (napari's 'forbid PyQt in core' contract)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PyQt5', 'PySide2', 'PySide6', 'PyQt6'):
            raise ImportError('Qt is not allowed in augbench.label: ' + name)
sys.meta_path.insert(0, Block())
import augbench.label.model, augbench.label.coco, augbench.label.stats, augbench.label.convert
import augbench.label.jobs, augbench.label.cli, augbench.label.suggest, augbench.label.registry
print('ok')
"""


def test_label_core_imports_without_qt() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
