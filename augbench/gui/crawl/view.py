"""The Crawl tab: keywords in, a clean deduplicated ImageFolder out.

The form builds a :class:`~augbench.crawl.jobs.CrawlConfig` (the same job the
CLI runs) and hands it to the shared :class:`JobPanel`; progress reports drive
one bar per keyword, the downloaded/duplicate/invalid/failed counters and a
live thumbnail strip. When the crawl ends, "Open in Label"/"Open in Augment"
pass the output folder to the next tab.

What the form means (its config, its errors, what is remembered) is decided by the Qt-free
:class:`~augbench.gui.crawl.model.CrawlForm`; this view fills one from its widgets and back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from augbench.core.errors import ConfigError
from augbench.core.progress import Progress
from augbench.crawl.jobs import CrawlConfig
from augbench.crawl.validate import FORMAT_CHOICES
from augbench.gui.crawl.model import ENGINES, CrawlForm, has_images, visible_rows
from augbench.gui.crawl.widgets import CountsRow, KeywordBars, ThumbStrip
from augbench.gui.widgets import JobPanel

TAB_TITLE = "Crawl"


class CrawlTab(QWidget):
    """The Crawl tab widget; ``shell`` is the main window (settings, open_in_tab) or None."""

    def __init__(self, shell: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.settings = getattr(shell, "settings", None)
        self.last_config: CrawlConfig | None = None
        self._build()
        self._restore()
        self._on_engine_changed()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.keywords = QPlainTextEdit()
        self.keywords.setPlaceholderText("one keyword per line — each becomes a class folder\n고양이\ndog")
        self.keywords.setMaximumHeight(110)
        self.count = QSpinBox()
        self.count.setRange(1, 5000)
        self.count.setValue(50)
        self.engine = QComboBox()
        for title, key in ENGINES:
            self.engine.addItem(title, key)
        self.engine.currentIndexChanged.connect(self._on_engine_changed)

        self.api_id = QLineEdit()
        self.api_id.setPlaceholderText("Naver Open API client id")
        self.api_secret = QLineEdit()
        self.api_secret.setEchoMode(QLineEdit.Password)
        self.api_secret.setPlaceholderText("client secret (not saved)")
        self.api_id.textEdited.connect(self._maybe_switch_to_api)
        self.api_secret.textEdited.connect(self._maybe_switch_to_api)
        self.api_url = QLineEdit(CrawlConfig.api_base_url)
        self.urls = QPlainTextEdit()
        self.urls.setPlaceholderText("one image URL per line")
        self.urls.setMaximumHeight(80)
        # Offline or changed site: point the browser engine at another page and another selector table.
        self.search_url = QLineEdit()
        self.search_url.setPlaceholderText("default: Naver's search page (from the selector file)")
        self.selectors_file = QLineEdit()
        self.selectors_file.setPlaceholderText("default: the bundled naver.yaml")
        self.selectors_browse = QPushButton("…")
        self.selectors_browse.clicked.connect(self._choose_selectors)
        sel_row = QHBoxLayout()
        sel_row.addWidget(self.selectors_file, 1)
        sel_row.addWidget(self.selectors_browse)

        search = QGroupBox("Search")
        form = QFormLayout(search)
        form.addRow("Keywords", self.keywords)
        form.addRow("Images per keyword", self.count)
        form.addRow("Engine", self.engine)
        self.api_rows = [QLabel("API client id"), QLabel("API secret"), QLabel("API URL")]
        form.addRow(self.api_rows[0], self.api_id)
        form.addRow(self.api_rows[1], self.api_secret)
        form.addRow(self.api_rows[2], self.api_url)
        self.urls_label = QLabel("URLs")
        form.addRow(self.urls_label, self.urls)
        self.browser_rows = [QLabel("Search URL"), QLabel("Selector file")]
        form.addRow(self.browser_rows[0], self.search_url)
        form.addRow(self.browser_rows[1], sel_row)

        self.size_mode = QComboBox()
        self.size_mode.addItem("Originals (full size)", True)
        self.size_mode.addItem("Thumbnails (fast)", False)
        self.min_w = QSpinBox()
        self.min_h = QSpinBox()
        for sb in (self.min_w, self.min_h):
            sb.setRange(0, 20000)
            sb.setSuffix(" px")
        size_row = QHBoxLayout()
        size_row.addWidget(self.min_w)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.min_h)
        self.format_boxes: dict[str, QCheckBox] = {}
        fmt_row = QHBoxLayout()
        for f in FORMAT_CHOICES:
            cb = QCheckBox(f)
            cb.setChecked(f in CrawlConfig.formats)
            fmt_row.addWidget(cb)
            self.format_boxes[f] = cb
        self.safe = QCheckBox("Safe search")
        self.safe.setChecked(True)
        self.delay = QDoubleSpinBox()
        self.delay.setRange(0.0, 60.0)
        self.delay.setSingleStep(0.1)
        self.delay.setValue(CrawlConfig.per_host_delay_s)
        self.delay.setSuffix(" s")
        self.in_flight = QSpinBox()
        self.in_flight.setRange(1, 64)
        self.in_flight.setValue(CrawlConfig.per_host_max_in_flight)
        polite = QHBoxLayout()
        polite.addWidget(QLabel("delay"))
        polite.addWidget(self.delay)
        polite.addWidget(QLabel("in flight"))
        polite.addWidget(self.in_flight)

        options = QGroupBox("Options")
        oform = QFormLayout(options)
        oform.addRow("Download", self.size_mode)
        oform.addRow("Minimum size", size_row)
        oform.addRow("Formats", fmt_row)
        oform.addRow("", self.safe)
        oform.addRow("Per host", polite)

        self.out_dir = QLineEdit()
        self.out_dir.setPlaceholderText("output folder (ImageFolder: one sub-folder per keyword)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_dir, 1)
        out_row.addWidget(browse)

        self.start_button = QPushButton("Start crawl")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.open_label = QPushButton("Open in Label")
        self.open_augment = QPushButton("Open in Augment")
        self.open_label.clicked.connect(lambda: self._open_in("label"))
        self.open_augment.clicked.connect(lambda: self._open_in("augment"))
        for b in (self.open_label, self.open_augment):
            b.setEnabled(False)

        self._set_tooltips(browse)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(search)
        lv.addWidget(options)
        lv.addWidget(QLabel("Output folder"))
        lv.addLayout(out_row)
        lv.addWidget(self.start_button)
        lv.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(left.sizeHint().width() + 24)

        self.panel = JobPanel(self)
        self.panel.progressed.connect(self._on_progress)
        self.panel.succeeded.connect(self._on_succeeded)
        self.panel.failed.connect(self._on_failed)
        self.panel.stopped.connect(self._on_stopped)
        self.panel.finished.connect(self._on_finished)
        self.bars = KeywordBars()
        self.counts = CountsRow()
        self.strip = ThumbStrip()
        self.strip.setToolTip("The newest downloaded images, newest first; hover one for its source")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.message.setMinimumHeight(60)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)

        right = QVBoxLayout()
        right.addWidget(QLabel("<b>Progress</b>"))
        right.addWidget(self.panel)
        right.addWidget(self.bars)
        right.addWidget(self.counts)
        right.addWidget(QLabel("Arrived"))
        right.addWidget(self.strip)
        right.addWidget(self.message)
        right.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_label)
        buttons.addWidget(self.open_augment)
        right.addLayout(buttons)

        root = QHBoxLayout(self)
        root.addWidget(scroll, 0)
        rw = QWidget()
        rw.setLayout(right)
        root.addWidget(rw, 1)

    def _set_tooltips(self, browse: QPushButton) -> None:
        tips = {
            self.keywords: "One search per line; each keyword becomes a class folder of the output",
            self.count: "How many new images to keep per keyword (duplicates and invalid files do not count)",
            self.engine: "Naver (browser) drives Chromium like a user; the Open API needs an id and a secret; "
                         "URL list downloads the addresses you paste",
            self.api_id: "Client id of your Naver Open API application",
            self.api_secret: "Client secret of your Naver Open API application (never saved to disk)",
            self.api_url: "API endpoint (change it only for a proxy or a local test server)",
            self.urls: "Image addresses to download, one per line",
            self.search_url: "Search page the browser opens; {query} and {safe} are filled in. Offline: the "
                             "address of a saved or local page",
            self.selectors_file: "A copy of resources/crawl/naver.yaml with your own CSS selectors "
                                 "(when the site changes, or for a local page)",
            self.selectors_browse: "Choose a selector file",
            self.size_mode: "Originals open each result's viewer for the full-size image; thumbnails are fast "
                            "but small",
            self.min_w: "Skip images narrower than this",
            self.min_h: "Skip images lower than this",
            self.safe: "Ask the site to filter adult results",
            self.delay: "Pause between two requests to the same host (be polite)",
            self.in_flight: "Downloads from one host at the same time",
            self.out_dir: "Output folder: one sub-folder per keyword with manifest.jsonl; a re-run resumes",
            browse: "Choose the output folder",
            self.start_button: "Start (or resume) the crawl in the background",
            self.open_label: "Label the downloaded images",
            self.open_augment: "Augment the downloaded images",
        }
        for w, text in tips.items():
            w.setToolTip(text)
        for f, cb in self.format_boxes.items():
            cb.setToolTip(f"Keep {f} files (others are skipped and counted as invalid)")

    # ------------------------------------------------------------------ form <-> model
    def form(self) -> CrawlForm:
        """The form's current state, as the Qt-free model."""
        return CrawlForm(
            keywords_text=self.keywords.toPlainText(), out_dir=self.out_dir.text(), count=self.count.value(),
            engine=self.engine.currentData(), full_size=bool(self.size_mode.currentData()),
            min_width=self.min_w.value(), min_height=self.min_h.value(),
            formats=tuple(f for f, cb in self.format_boxes.items() if cb.isChecked()), safe_search=self.safe.isChecked(),
            api_client_id=self.api_id.text(), api_client_secret=self.api_secret.text(), api_base_url=self.api_url.text(),
            urls_text=self.urls.toPlainText(), per_host_delay_s=self.delay.value(),
            per_host_max_in_flight=self.in_flight.value(), search_url=self.search_url.text(),
            selectors_file=self.selectors_file.text(),
        )

    def _restore(self) -> None:
        s = self.settings
        if s is None:
            return
        saved = CrawlForm.restored({k: s.value(f"crawl/{k}", None) for k in CrawlForm().remembered()})
        self.keywords.setPlainText(saved.keywords_text)
        self.out_dir.setText(saved.out_dir)
        self.api_id.setText(saved.api_client_id)
        idx = self.engine.findData(saved.engine)
        if idx >= 0:
            self.engine.setCurrentIndex(idx)
        self.count.setValue(saved.count)
        self.search_url.setText(saved.search_url)
        self.selectors_file.setText(saved.selectors_file)

    def _save(self) -> None:
        if self.settings is not None:
            for key, value in self.form().remembered().items():
                self.settings.setValue(f"crawl/{key}", value)

    def _on_engine_changed(self) -> None:
        rows = visible_rows(self.engine.currentData())
        for w in (*self.api_rows, self.api_id, self.api_secret, self.api_url):
            w.setVisible(rows["api"])
        for w in (*self.browser_rows, self.search_url, self.selectors_file, self.selectors_browse):
            w.setVisible(rows["browser"])
        self.urls.setVisible(rows["urls"])
        self.urls_label.setVisible(rows["urls"])

    def _maybe_switch_to_api(self) -> None:
        if self.form().wants_api():
            self.engine.setCurrentIndex(self.engine.findData("naver_api"))

    def _choose_selectors(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Selector file", self.selectors_file.text() or str(Path.home()),
                                              "Selector tables (*.yaml *.yml)")
        if path:
            self.selectors_file.setText(path)

    def _choose_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Output folder", self.out_dir.text() or str(Path.home()))
        if path:
            self.out_dir.setText(path)

    def keyword_list(self) -> list[str]:
        return self.form().keyword_list()

    def config(self, **overrides: Any) -> CrawlConfig:
        """The job the form describes (raises ConfigError naming the bad field)."""
        return self.form().to_config(**overrides)

    # ------------------------------------------------------------------ running
    def start(self, **overrides: Any) -> bool:
        """Validate the form and start the crawl; False (with the reason shown) when the form is wrong."""
        if self.panel.busy:
            return False
        try:
            cfg = self.config(**overrides)
        except ConfigError as exc:
            self.message.setText(f"<span style='color:#c62828'>{exc.field}: {exc.message}</span>")
            return False
        self.last_config = cfg
        self._save()
        self.message.setText("")
        self.bars.reset(list(cfg.keywords), cfg.count)
        self.counts.set_counts({})
        self.strip.clear()
        self.start_button.setEnabled(False)
        self.panel.run(job=cfg)
        return True

    def _on_progress(self, p: Progress) -> None:
        m = p.metrics or {}
        if p.stage and "kw_done" in m:
            self.bars.set_progress(p.stage, int(m["kw_done"]), int(m.get("kw_total", 0)) or None)
        if m:
            self.counts.set_counts(m)
        if p.preview is not None:
            self.strip.add_array(p.preview, p.message)

    def _on_succeeded(self, result: Any) -> None:
        per_kw = (getattr(result, "metrics", {}) or {}).get("per_keyword", {})
        for kw, info in per_kw.items():
            self.bars.set_progress(kw, int(info.get("kept", 0)))
        self.counts.set_counts(result.metrics)
        self.message.setText(f"{result.message}<br>output: {result.out_dir} — one folder per keyword, "
                             "with manifest.jsonl (source URL, page, hashes, status of every candidate)")

    def _on_failed(self, message: str) -> None:
        self.message.setText(f"<span style='color:#c62828'>{message}</span>")

    def _on_stopped(self, partial: Any) -> None:
        if partial is not None:
            self.counts.set_counts(getattr(partial, "metrics", {}) or {})
        self.message.setText("cancelled — run again to resume where it stopped")

    def _on_finished(self) -> None:
        self.start_button.setEnabled(True)
        ready = has_images(self.out_dir.text())
        self.open_label.setEnabled(ready)
        self.open_augment.setEnabled(ready)

    def _open_in(self, tab: str) -> None:
        out = self.out_dir.text().strip()
        if self.shell is not None and out:
            self.shell.open_in_tab(tab, out)

    # ------------------------------------------------------------------ shell hooks
    def open_path(self, path: Path) -> None:
        """Another tab handed us a folder: crawl into (or resume) it."""
        self.out_dir.setText(str(path))
        self._on_finished()

    def shutdown(self) -> None:
        """Cancel a running job; wait briefly (the window must close within two seconds)."""
        self.panel.stop(1500)


def create_tab(shell: Any) -> QWidget:
    return CrawlTab(shell)
