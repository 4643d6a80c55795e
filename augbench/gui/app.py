"""The main window: one workbench with a current data set and one tab per task.

Tabs are plug-ins: each tab is a folder ``augbench/gui/<name>/`` listed in
:data:`TAB_MODULES`; its ``view`` module, where it exists, defines ``TAB_TITLE`` and
``create_tab(shell)``. A later issue adds its tab by adding its folder, without touching the others.
A tab may implement ``open_path(path)`` (another tab hands it a folder),
``on_dataset_changed(info)`` and ``accept_drop(paths) -> bool``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import time
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QObject, QSettings, Qt, pyqtSignal
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (
    QAction,
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from augbench.core.dataset import DatasetInfo, scan_dataset
from augbench.core.errors import AugbenchError
from augbench.gui.shortcuts import show_shortcuts
from augbench.gui.widgets import BarChart, JobPanel

TAB_MODULES = ("augment", "label", "crawl", "style", "synthesize", "benchmark")
MAX_RECENT = 8
CLOSE_BUDGET_S = 1.5  # closing cancels every job and waits at most this long for them to stop
SMALLEST_SCREEN = (1366, 768)  # the window must fit a small laptop screen (minus panels and title bar)


def configure_qt_environment(environ: dict[str, str] | None = None) -> None:
    """Settings that must be in place before the QApplication exists.

    In a real X11 window Qt's xcb platform loads an OpenGL integration, which loads
    Mesa and its own copy of LLVM; importing ``triton`` afterwards (torch's optimisers
    pull it in through ``torch._dynamo``) then segfaults the whole process. augbench
    paints everything with QPainter on the raster engine and never needs OpenGL, so the
    integration is switched off unless the user chose one explicitly.
    """
    env = os.environ if environ is None else environ
    env.setdefault("QT_XCB_GL_INTEGRATION", "none")


class DatasetModel(QObject):
    """The current data set of the workbench (path + scan), shared by every tab."""

    changed = pyqtSignal(object)  # DatasetInfo | None

    def __init__(self) -> None:
        super().__init__()
        self.info: DatasetInfo | None = None

    @property
    def path(self) -> Path | None:
        return self.info.root if self.info else None

    def open(self, path: str | os.PathLike[str]) -> DatasetInfo:
        self.info = scan_dataset(path)
        self.changed.emit(self.info)
        return self.info

    def refresh(self) -> None:
        if self.info is not None:
            self.open(self.info.root)


def box_counts(info: DatasetInfo, limit: int = 3000) -> dict[str, int]:
    """Boxes per class over the first ``limit`` label files (unreadable files are ignored here)."""
    from collections import Counter

    from augbench.core.imageio import image_size
    from augbench.label.io import read_labels

    counts: Counter[str] = Counter()
    for item in [i for i in info.items if i.label_file is not None][:limit]:
        try:
            ann = read_labels(item.label_file, item.image, image_size(item.image), info.box_classes)
        except AugbenchError:
            continue
        counts.update(b.label for b in ann.boxes)
    return dict(sorted(counts.items()))


class DatasetPanel(QWidget):
    """Side panel: where the data set is, its layout, label format and class counts."""

    def __init__(self, model: DatasetModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.path_label = QLabel("No data set open.\nFile > Open data set, or drop a folder anywhere.")
        self.path_label.setWordWrap(True)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        for label in (self.path_label, self.summary):  # long paths and class lists wrap, never widen the dock
            label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.chart = BarChart(title="images per class")
        self.chart.setMinimumHeight(180)
        lay = QVBoxLayout(self)
        lay.addWidget(self.path_label)
        lay.addWidget(self.summary)
        lay.addWidget(self.chart, 1)
        model.changed.connect(self.update_from)

    def update_from(self, info: DatasetInfo | None) -> None:
        if info is None:
            return
        self.path_label.setText(f"<b>{info.root.name}</b><br><small>{info.root}</small>")
        parts = [f"{len(info.items)} images", f"layout: {info.layout}", f"labels: {info.label_format}"]
        if info.n_labels:
            parts.append(f"{info.n_labels} label files")
        if info.n_masks:
            parts.append(f"{info.n_masks} masks")
        if info.box_classes:
            parts.append("box classes: " + ", ".join(info.box_classes[:12]))
        self.summary.setText("\n".join(parts))
        counts = info.class_counts()
        if counts:
            self.chart.title = "images per class"
            self.chart.set_data(list(counts), list(counts.values()))
        else:
            boxes = box_counts(info)
            self.chart.title = "boxes per class" if boxes else "images"
            if boxes:
                self.chart.set_data(list(boxes), list(boxes.values()))
            else:
                self.chart.set_data(["images"], [len(info.items)])


class MainWindow(QMainWindow):
    """The workbench shell: menus, current data set, side panel, tabs."""

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("augbench")
        self.resize(1280, 720)
        self.setAcceptDrops(True)
        self.settings = settings or QSettings("augbench", "augbench")
        self.dataset = DatasetModel()
        self.tabs = QTabWidget()
        self.setCentralWidget(self.tabs)
        self.panel = DatasetPanel(self.dataset)
        dock = QDockWidget("Data set", self)
        dock.setObjectName("dataset-dock")
        dock.setWidget(self.panel)
        self.panel.setMinimumWidth(230)
        self.panel.setMaximumWidth(320)  # the tabs keep the room they need on a 1366 px screen
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.LeftDockWidgetArea, dock)
        self.tab_widgets: dict[str, QWidget] = {}
        self._wrappers: dict[str, QScrollArea] = {}
        self._build_menus()
        self._load_tabs()
        self.dataset.changed.connect(self._broadcast_dataset)
        geo = self.settings.value("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        self._closing_deadline: float | None = None
        idx = self.settings.value("window/tab", 0, type=int)
        if 0 <= idx < self.tabs.count():
            self.tabs.setCurrentIndex(idx)

    # ------------------------------------------------------------------ tabs
    def _load_tabs(self) -> None:
        for name in TAB_MODULES:
            modname = f"augbench.gui.{name}.view"
            if importlib.util.find_spec(modname) is None:
                continue
            mod = importlib.import_module(modname)
            widget = mod.create_tab(self)
            widget.setObjectName(f"tab-{name}")
            self.tab_widgets[name] = widget
            # A tab never dictates the window's minimum size: below its own minimum it scrolls.
            wrap = QScrollArea()
            wrap.setObjectName(f"tab-scroll-{name}")
            wrap.setWidgetResizable(True)
            wrap.setFrameShape(QScrollArea.NoFrame)
            wrap.setWidget(widget)
            self._wrappers[name] = wrap
            self.tabs.addTab(wrap, getattr(mod, "TAB_TITLE", name.title()))

    def tab(self, name: str) -> QWidget:
        return self.tab_widgets[name]

    def current_tab(self) -> QWidget | None:
        """The tab widget shown now (inside its scroll area)."""
        wrap = self.tabs.currentWidget()
        return wrap.widget() if isinstance(wrap, QScrollArea) else wrap

    def show_tab(self, name: str) -> QWidget:
        """Bring tab ``name`` to the front and return it."""
        self.tabs.setCurrentWidget(self._wrappers[name])
        return self.tab_widgets[name]

    def open_in_tab(self, name: str, path: str | os.PathLike[str]) -> None:
        """Switch to tab ``name`` and hand it ``path`` (one-click hand-over between tabs)."""
        widget = self.tab_widgets.get(name)
        if widget is None:
            raise AugbenchError(f"there is no {name!r} tab")
        self.show_tab(name)
        if hasattr(widget, "open_path"):
            widget.open_path(Path(path))
        else:
            self.open_dataset(path)

    def _broadcast_dataset(self, info: DatasetInfo | None) -> None:
        for w in self.tab_widgets.values():
            if hasattr(w, "on_dataset_changed"):
                w.on_dataset_changed(info)

    # ------------------------------------------------------------------ data set
    def open_dataset(self, path: str | os.PathLike[str]) -> DatasetInfo | None:
        try:
            info = self.dataset.open(path)
        except AugbenchError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            QMessageBox.warning(self, "augbench", str(exc)) if self.isVisible() else None
            return None
        self._remember(str(Path(path).resolve()))
        self.statusBar().showMessage(f"opened {path}: {len(info.items)} images", 5000)
        return info

    def recent_folders(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if v]

    def _remember(self, path: str) -> None:
        recent = [p for p in self.recent_folders() if p != path]
        recent.insert(0, path)
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self._fill_recent_menu()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        act = QAction("&Open data set…", self)
        act.setShortcut("Ctrl+O")
        act.triggered.connect(self._choose_dataset)
        file_menu.addAction(act)
        self.recent_menu = QMenu("Open &recent", self)
        file_menu.addMenu(self.recent_menu)
        self._fill_recent_menu()
        refresh = QAction("Re&scan data set", self)
        refresh.setShortcut("F5")
        refresh.triggered.connect(self.dataset.refresh)
        file_menu.addAction(refresh)
        file_menu.addSeparator()
        quit_act = QAction("&Quit", self)
        quit_act.setShortcut("Ctrl+Q")
        quit_act.triggered.connect(self.close)
        file_menu.addAction(quit_act)
        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = QAction("&Undo", self)
        self.undo_action.setShortcut(QKeySequence.Undo)
        self.undo_action.triggered.connect(lambda: self._edit("undo"))
        self.redo_action = QAction("&Redo", self)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.triggered.connect(lambda: self._edit("redo"))
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.aboutToShow.connect(self._update_edit_actions)
        help_menu = self.menuBar().addMenu("&Help")
        keys = QAction("&Keyboard shortcuts", self)
        keys.setShortcut("F1")
        keys.triggered.connect(lambda: show_shortcuts(self))
        help_menu.addAction(keys)
        about = QAction("&About augbench", self)
        about.triggered.connect(
            lambda: QMessageBox.about(self, "augbench", "augbench — augment, crawl, label, style, synthesize, benchmark.")
        )
        help_menu.addAction(about)

    def _edit(self, what: str) -> None:
        """Undo/redo in the current tab, where the tab keeps a history (e.g. Label's boxes)."""
        tab = self.current_tab()
        fn = getattr(tab, what, None)
        if fn is not None:
            fn()
        else:
            self.statusBar().showMessage(f"nothing to {what} in this tab", 3000)

    def _update_edit_actions(self) -> None:
        tab = self.current_tab()
        for what, act in (("undo", self.undo_action), ("redo", self.redo_action)):
            can = getattr(tab, f"can_{what}", None)
            act.setEnabled(bool(can() if callable(can) else False))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_folders():
            a = self.recent_menu.addAction(path)
            a.triggered.connect(lambda _=False, p=path: self.open_dataset(p))
        self.recent_menu.setEnabled(bool(self.recent_folders()))

    def _choose_dataset(self) -> None:
        start = self.recent_folders()[0] if self.recent_folders() else str(Path.home())
        path = QFileDialog.getExistingDirectory(self, "Open data set", start)
        if path:
            self.open_dataset(path)

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:  # noqa: N802
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        self.handle_drop(paths)
        event.acceptProposedAction()

    def handle_drop(self, paths: list[Path]) -> None:
        """A folder becomes the current data set; files go to the current tab if it wants them."""
        if not paths:
            return
        current = self.current_tab()
        if current is not None and hasattr(current, "accept_drop") and current.accept_drop(paths):
            return
        folder = paths[0] if paths[0].is_dir() else paths[0].parent
        self.open_dataset(folder)

    def running_panels(self) -> list[JobPanel]:
        """Every job panel of every tab whose job thread is executing now."""
        return [p for p in self.findChildren(JobPanel) if p.executing]

    def stop_jobs(self, budget_s: float = CLOSE_BUDGET_S) -> list[JobPanel]:
        """Cancel every running job at once, then wait for them together; returns those still running."""
        panels = self.running_panels()
        for p in panels:
            p.cancel()
        deadline = time.monotonic() + budget_s
        for p in panels:
            if p.worker is not None:
                p.worker.wait(int(max(0.0, deadline - time.monotonic()) * 1000))
        return [p for p in panels if p.executing]

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        """Cancel the jobs, keep what they saved, and go: the window never waits on a job for long.

        A job that has not reached a safe point within the budget keeps the process alive
        (a running QThread cannot be destroyed) but the window hides at once, and the
        application quits as soon as the job stops.
        """
        if self.isVisible():
            self.settings.setValue("window/geometry", self.saveGeometry())
            self.settings.setValue("window/tab", self.tabs.currentIndex())
        stuck = self.stop_jobs()
        if stuck:
            event.ignore()
            self.hide()
            for p in stuck:
                p.finished.connect(self._close_when_idle)
            return
        self._shutdown_tabs()
        super().closeEvent(event)

    def _close_when_idle(self) -> None:
        """The last slow job stopped: close for real (the application quits as for any last window)."""
        if not self.running_panels() and not self.isVisible():
            self.close()

    def _shutdown_tabs(self) -> None:
        for w in self.tab_widgets.values():
            if hasattr(w, "shutdown"):
                w.shutdown()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``augbench-gui [FOLDER]``."""
    argv = list(sys.argv if argv is None else argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and "QT_QPA_PLATFORM" not in os.environ:
        sys.stderr.write(
            "augbench-gui: no display found. Run it on a desktop, under Xvfb (xvfb-run augbench-gui),\n"
            "or use the headless CLI: `augbench demo` / `augbench run JOB.yaml`.\n"
        )
        return 2
    configure_qt_environment()
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("augbench")
    win = MainWindow()
    if len(argv) > 1:
        win.open_dataset(argv[1])
    win.show()
    return app.exec_()


if __name__ == "__main__":
    raise SystemExit(main())
