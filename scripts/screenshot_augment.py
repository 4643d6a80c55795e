"""Save docs/screenshots/augment.png (the Augment tab on the bundled sample) and docs/augment_demo_sheet.png."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from PyQt5.QtCore import QSettings
    from PyQt5.QtWidgets import QApplication

    from augbench.augment.cli import run_demo
    from augbench.core.paths import sample_dataset_dir
    from augbench.gui.app import MainWindow

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp())
    win = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.IniFormat))
    win.resize(1500, 920)
    win.show()
    win.open_dataset(sample_dataset_dir())
    win.tabs.setCurrentWidget(win.tab("augment"))
    tab = win.tab("augment")
    tab.set_enabled("HueSaturationValue", True)
    tab.set_enabled("CoarseDropout", True)
    tab.image_combo.setCurrentIndex(2)  # coffee: boxes + mask
    tab._select("Affine")
    for _ in range(10):
        app.processEvents()
    tab.refresh_preview_now()
    app.processEvents()
    out = ROOT / "docs" / "screenshots" / "augment.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    win.grab().save(str(out))
    info = run_demo(tmp / "demo", copies=3, quiet=True)
    (ROOT / "docs" / "augment_demo_sheet.png").write_bytes(Path(info["sheet"]).read_bytes())
    print(out)


if __name__ == "__main__":
    main()
