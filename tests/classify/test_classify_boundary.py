"""The classify package stays Qt-free (the GUI is the only package that imports PyQt5)."""

from __future__ import annotations

import subprocess
import sys


def test_classify_imports_without_pyqt() -> None:
    code = ("import sys; sys.modules['PyQt5'] = None\n"
            "import augbench.classify.jobs, augbench.classify.report, augbench.classify.cli\n"
            "from augbench.core.jobs import registered_kinds\n"
            "assert {'classify.compare', 'classify.train'} <= set(registered_kinds())\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")
