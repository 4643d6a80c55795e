"""Render the Style tab offscreen with real images and save ``docs/screenshots/style.png``.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot_style.py [OUT.png]``
Uses the shipped decoder, a held-out photo (scikit-image astronaut) and the
opencv-doc ``starry_night.jpg`` + scikit-image ``gravel`` as a two-style blend.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str] | None = None) -> int:
    from PyQt5.QtWidgets import QApplication

    from augbench.core.imageio import write_image
    from augbench.core.paths import repo_root
    from augbench.gui.style.view import StyleTab
    from augbench.style.data import load_named

    argv = list(sys.argv[1:] if argv is None else argv)
    out = Path(argv[0]) if argv else repo_root() / "docs" / "screenshots" / "style.png"
    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="augbench-style-shot-"))
    paths = {}
    for name in ("astronaut", "starry_night.jpg", "gravel"):
        img = load_named(name)
        if img is None:
            raise SystemExit(f"sample image {name} is not installed")
        paths[name] = tmp / (Path(name).stem + ".png")
        write_image(paths[name], img)
    tab = StyleTab(shell=None)
    tab.resize(1280, 860)
    tab.show()
    tab.open_content(paths["astronaut"])
    tab.add_styles([paths["starry_night.jpg"], paths["gravel"]])
    tab.style_list.setCurrentRow(1)
    tab.weight_spin.setValue(0.4)
    tab.alpha_slider.setValue(85)
    tab.input_edit.setText(str(tmp))
    tab.output_edit.setText(str(tmp / "styled"))
    deadline = time.monotonic() + 300
    while (tab.preview_panel.busy or tab._dirty or tab.preview_array is None) and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.05)
    app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    tab.grab().save(str(out))
    tab.shutdown()
    print(f"saved {out} ({tab.preview_status.text()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
