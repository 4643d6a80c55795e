"""The Crawl tab driven like a user: typing, clicking Start/Cancel, against the local fixture site."""

from __future__ import annotations

import os
import shutil

import pytest
from PyQt5.QtCore import Qt

from augbench.gui.crawl.view import CrawlTab
from augbench.testing.fixture_site import CLIENT_ID, CLIENT_SECRET, FixtureSite, make_image

pytestmark = pytest.mark.gui


class FakeShell:
    """The two things the tab uses from the main window."""

    def __init__(self, settings):
        self.settings = settings
        self.opened: list[tuple[str, str]] = []

    def open_in_tab(self, name, path):
        self.opened.append((name, str(path)))


@pytest.fixture(scope="module")
def site():
    with FixtureSite(items_per_query=40, page_size=20) as s:
        yield s


@pytest.fixture
def tab(qtbot, qsettings):
    shell = FakeShell(qsettings)
    w = CrawlTab(shell)
    w.panel.show_errors = False
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    yield w
    w.shutdown()


def _set_engine(tab, key):
    tab.engine.setCurrentIndex(tab.engine.findData(key))


def test_api_crawl_fills_bars_counts_strip_and_hands_over(qtbot, tab, site, tmp_path):
    qtbot.keyClicks(tab.keywords, "apple")
    qtbot.keyClick(tab.keywords, Qt.Key_Return)
    tab.keywords.insertPlainText("배")  # QTest cannot type non-ASCII keys
    tab.count.setValue(4)
    assert tab.engine.currentData() == "naver_browser"  # the default
    qtbot.keyClicks(tab.api_id, CLIENT_ID)
    qtbot.keyClicks(tab.api_secret, CLIENT_SECRET)
    assert tab.engine.currentData() == "naver_api"  # entering credentials switches engines
    assert tab.api_id.isVisibleTo(tab) and not tab.urls.isVisibleTo(tab)
    tab.api_url.setText(site.api_url)
    tab.delay.setValue(0.0)
    tab.out_dir.setText(str(tmp_path / "out"))
    assert not tab.open_label.isEnabled()
    qtbot.mouseClick(tab.start_button, Qt.LeftButton)
    assert tab.panel.busy and not tab.start_button.isEnabled()
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=30000)
    assert tab.panel.last_error is None, tab.panel.last_error
    assert tab.bars.values() == {"apple": 4, "배": 4}
    assert tab.counts.values["downloaded"] == 8 and tab.counts.values["failed"] == 0
    assert tab.strip.count() == 8
    assert len(list((tmp_path / "out" / "배").glob("*.jpg"))) == 4
    assert tab.start_button.isEnabled() and tab.open_label.isEnabled()
    qtbot.mouseClick(tab.open_label, Qt.LeftButton)
    qtbot.mouseClick(tab.open_augment, Qt.LeftButton)
    assert tab.shell.opened == [("label", str(tmp_path / "out")), ("augment", str(tmp_path / "out"))]
    # settings remember the form, never the secret
    assert tab.settings.value("crawl/keywords") == "apple\n배"
    assert CLIENT_SECRET not in str([tab.settings.value(k) for k in tab.settings.allKeys()])


def test_url_list_counts_duplicates_and_invalid(qtbot, tab, site, tmp_path):
    img = make_image(900)
    a = site.add_route("/gui/a.jpg", kind="ok", body=img)
    b = site.add_route("/gui/b.jpg", kind="ok", body=img)
    c = site.add_route("/gui/c.jpg", kind="ok", body=b"<html>not an image</html>")
    d = site.add_route("/gui/d.jpg", kind="status", status=404)
    _set_engine(tab, "url_list")
    assert tab.urls.isVisibleTo(tab) and not tab.api_id.isVisibleTo(tab)
    qtbot.keyClicks(tab.keywords, "mixed")
    tab.urls.setPlainText("\n".join([a, b, c, d]))
    tab.delay.setValue(0.0)
    tab.out_dir.setText(str(tmp_path / "out"))
    qtbot.mouseClick(tab.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=30000)
    assert tab.counts.values == {"downloaded": 1, "duplicate": 1, "invalid": 1, "failed": 1}
    assert tab.strip.count() == 1
    assert "kept 1 new images" in tab.message.text()


def test_form_errors_are_shown_and_nothing_starts(qtbot, tab, tmp_path):
    tab.out_dir.setText(str(tmp_path / "o"))
    qtbot.mouseClick(tab.start_button, Qt.LeftButton)
    assert not tab.panel.busy and "keywords" in tab.message.text()
    qtbot.keyClicks(tab.keywords, "cat")
    for cb in tab.format_boxes.values():
        cb.setChecked(False)
    qtbot.mouseClick(tab.start_button, Qt.LeftButton)
    assert not tab.panel.busy and "formats" in tab.message.text()


def test_cancel_button_stops_the_crawl(qtbot, tab, site, tmp_path):
    _set_engine(tab, "naver_api")
    qtbot.keyClicks(tab.keywords, "slowpoke")
    tab.api_id.setText(CLIENT_ID)
    tab.api_secret.setText(CLIENT_SECRET)
    tab.api_url.setText(site.api_url)
    tab.count.setValue(30)
    tab.delay.setValue(0.5)  # polite pacing: ~2 images/s, so Cancel lands mid-crawl
    tab.in_flight.setValue(1)
    tab.out_dir.setText(str(tmp_path / "out"))
    qtbot.mouseClick(tab.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.counts.values["downloaded"] >= 1, timeout=20000)
    qtbot.mouseClick(tab.panel.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=20000)
    assert tab.panel.status.text() == "cancelled"
    assert "resume" in tab.message.text()
    assert 1 <= len(list((tmp_path / "out" / "slowpoke").glob("*.jpg"))) < 30


def test_zero_results_message_reaches_the_tab(qtbot, tab, site, tmp_path):
    site.set_results("void", [])
    _set_engine(tab, "naver_api")
    qtbot.keyClicks(tab.keywords, "void")
    tab.api_id.setText(CLIENT_ID)
    tab.api_secret.setText(CLIENT_SECRET)
    tab.api_url.setText(site.api_url)
    tab.out_dir.setText(str(tmp_path / "out"))
    qtbot.mouseClick(tab.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=20000)
    assert "naver_api found no candidates" in tab.message.text()
    assert "diagnostics" in tab.message.text()


def test_open_path_sets_the_output_folder(tab, tmp_path):
    (tmp_path / "cls").mkdir()
    (tmp_path / "cls" / "000001.jpg").write_bytes(make_image(1))
    tab.open_path(tmp_path)
    assert tab.out_dir.text() == str(tmp_path) and tab.open_label.isEnabled()


@pytest.mark.e2e
@pytest.mark.skipif(not os.path.exists("/usr/bin/chromedriver") and shutil.which("chromedriver") is None,
                    reason="needs chromium + chromium-driver")
def test_browser_engine_through_the_tab(qtbot, tab, site, tmp_path):
    """The default engine end to end: headless Chromium on the Naver-like page, originals via the viewer."""
    qtbot.keyClicks(tab.keywords, "tulip")
    tab.count.setValue(3)
    tab.delay.setValue(0.0)
    tab.out_dir.setText(str(tmp_path / "out"))
    assert tab.engine.currentData() == "naver_browser"
    assert tab.start(search_url=site.search_url(), scroll_timeout_s=1.0)
    qtbot.waitUntil(lambda: not tab.panel.busy, timeout=60000)
    assert tab.panel.last_error is None, tab.panel.last_error
    assert tab.bars.values() == {"tulip": 3} and tab.strip.count() == 3
    assert len(list((tmp_path / "out" / "tulip").glob("*.jpg"))) == 3


def test_open_in_label_switches_the_real_main_window(qtbot, qsettings, tmp_path):
    from augbench.gui.app import MainWindow

    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "000001.jpg").write_bytes(make_image(3))
    win = MainWindow(settings=qsettings)
    qtbot.addWidget(win)
    tab = win.tab("crawl")
    assert win.tabs.tabText(win.tabs.indexOf(tab.parentWidget().parentWidget())) == "Crawl"  # tab -> viewport -> scroll
    tab.open_path(tmp_path)
    qtbot.mouseClick(tab.open_label, Qt.LeftButton)
    assert win.current_tab() is win.tab("label")
