"""Render docs/screenshots/crawl.png: the Crawl tab after a real crawl of the local fixture site.

Run ``QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot_crawl.py [OUT.png]``. It starts
the Naver-like fixture site on 127.0.0.1, crawls two keywords with headless Chromium
through the tab's own Start button, and grabs the widget.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtWidgets import QApplication

    from augbench.core.paths import repo_root
    from augbench.gui.crawl.view import CrawlTab
    from augbench.testing.fixture_site import FixtureSite

    out_png = Path(argv[0]) if argv else repo_root() / "docs" / "screenshots" / "crawl.png"
    app = QApplication.instance() or QApplication([])
    with FixtureSite(items_per_query=40) as site, tempfile.TemporaryDirectory() as tmp:
        # "dog" also returns four of the cat photos: they show up as duplicates, not as files.
        site.set_results("dog", site.items("dog")[:6] + site.items("고양이")[:4] + site.items("dog")[6:])
        tab = CrawlTab(None)
        tab.panel.show_errors = False
        tab.resize(1180, 760)
        tab.show()
        tab.keywords.setPlainText("고양이\ndog")
        tab.count.setValue(14)
        tab.delay.setValue(0.05)
        tab.in_flight.setValue(3)
        tab.out_dir.setText(str(Path(tmp) / "pets"))
        tab.start(search_url=site.search_url(), scroll_timeout_s=1.0)
        deadline = time.monotonic() + 120
        while tab.panel.busy and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        app.processEvents()
        out_png.parent.mkdir(parents=True, exist_ok=True)
        tab.grab().save(str(out_png))
        print(f"{tab.message.text()}\nsaved {out_png}")
        tab.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
