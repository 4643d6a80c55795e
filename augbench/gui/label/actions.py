"""Label tab actions that run as jobs: ONNX box suggestions, the augmentation clip/drop check,
label statistics and format conversion.

A :class:`LabelActions` object is composed into the tab: it is handed the session (the Qt-free
model), the canvas and a ``say`` callback, and owns the three job panels it runs and the state of
those jobs (the chosen detector, the last statistics). What it finds comes back as signals the
tab turns into widgets (``stats_ready``, ``detector_changed``), so it reads no attribute of the tab.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from PyQt5.QtCore import QObject, QTimer, pyqtSignal
from PyQt5.QtWidgets import QFileDialog, QInputDialog, QWidget

from augbench.core.errors import AugbenchError
from augbench.core.imageio import read_image
from augbench.gui.label.canvas import LabelCanvas
from augbench.gui.widgets import JobPanel
from augbench.label.model import LabelSession
from augbench.label.stats import LabelStats, compute_stats


class LabelActions(QObject):
    """Suggest boxes, check augmentation, stats and conversion for one :class:`LabelSession`."""

    stats_ready = pyqtSignal(object)  # LabelStats
    detector_changed = pyqtSignal(str)  # file name of the chosen detector

    def __init__(self, session: LabelSession, canvas: LabelCanvas, say: Callable[[str], None], shell: Any = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.canvas = canvas
        self.say = say
        self.shell = shell
        self.dialog_parent = parent
        self.detector_path: Path | None = None
        self._detector: Any = None
        self.last_stats: LabelStats | None = None
        self._stats_again = False
        self.suggest_panel = self._panel(self._on_suggestions, "suggest boxes failed")
        self.check_panel = self._panel(self._on_risks, "augmentation check failed")
        self.stats_panel = self._panel(self._on_stats, "stats failed", hide_when_done=False)
        self.stats_panel.finished.connect(self._stats_finished)
        self.stats_timer = QTimer(self)  # saves refresh the class chart, at most once a second
        self.stats_timer.setSingleShot(True)
        self.stats_timer.setInterval(1000)
        self.stats_timer.timeout.connect(self.refresh_stats)

    def _panel(self, on_result: Callable[[Any], None], what: str, hide_when_done: bool = True) -> JobPanel:
        """A job panel shown only while its job runs; errors become one message, not a dialog."""
        panel = JobPanel(show_errors=False)
        panel.succeeded.connect(on_result)
        panel.failed.connect(lambda m: self.say(f"{what}: {m}"))
        if hide_when_done:
            panel.finished.connect(lambda: panel.setVisible(False))
        panel.setVisible(False)
        return panel

    @property
    def panels(self) -> tuple[JobPanel, ...]:
        return (self.stats_panel, self.suggest_panel, self.check_panel)

    def _settings(self) -> Any:
        return getattr(self.shell, "settings", None)

    def save_quietly(self) -> None:
        """Save every edited image; a failure is said, never raised (this runs from slots)."""
        try:
            self.session.save_all()
        except (AugbenchError, OSError) as exc:
            self.say(str(exc))

    # ------------------------------------------------------------------ suggestions
    def set_detector(self, path: str | Path) -> None:
        self.detector_path = Path(path)
        self._detector = None
        self.detector_changed.emit(self.detector_path.name)
        settings = self._settings()
        if settings is not None:
            settings.setValue("label/detector", str(self.detector_path))

    def choose_detector(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.dialog_parent, "ONNX detector",
                                              str(self.session.folder or Path.home()), "ONNX models (*.onnx)")
        if path:
            self.set_detector(path)

    def suggest(self, threshold: float) -> None:
        """Run the detector on the current image in the worker; proposals appear on the canvas."""
        if self.detector_path is None:
            settings = self._settings()
            saved = settings.value("label/detector", "") if settings is not None else ""
            if saved and Path(saved).is_file():
                self.set_detector(saved)
            else:
                self.choose_detector()
        e = self.session.current
        if self.detector_path is None or e is None or self.suggest_panel.busy:
            return
        from augbench.label.suggest import OnnxDetector

        path, image, names, cached = self.detector_path, e.path, self.session.registry.names, self._detector

        def work(progress: Any, cancel: Any) -> tuple[Any, Path, list]:
            det = cached
            if det is None or det.score_threshold != threshold:
                det = OnnxDetector(path, score_threshold=threshold)
            if not det.class_names and names:
                det.class_names = names  # no names in the model: assume it was trained on this classes.txt
            return det, image, det.detect(read_image(image))

        self.suggest_panel.setVisible(True)
        self.suggest_panel.run(fn=work)

    def _on_suggestions(self, out: Any) -> None:
        det, image, props = out
        self._detector = det
        e = self.session.current
        if e is None or e.path != image:
            return  # the user moved on meanwhile
        self.canvas.set_proposals(props)
        self.say(f"{len(props)} proposal(s): Space accepts, Del rejects, Tab goes to the next")
        self.canvas.setFocus()

    # ------------------------------------------------------------------ augmentation check
    def augment_steps(self) -> list[Any] | None:
        """The Augment tab's current pipeline steps, if that tab exists."""
        tab = getattr(self.shell, "tab_widgets", {}).get("augment")
        if tab is None or not hasattr(tab, "current_steps"):
            return None
        return list(tab.current_steps())

    def check_augmentation(self, steps: list[Any] | None = None) -> None:
        """Mark boxes of this image that the augmentation pipeline would clip or drop."""
        steps = steps if isinstance(steps, list) else self.augment_steps()
        e = self.session.current
        if steps is None:
            self.say("no augmentation pipeline: build one in the Augment tab first")
            return
        if e is None or e.ann is None or not e.ann.boxes or self.check_panel.busy:
            self.say("no boxes to check on this image")
            return
        if not steps:
            self.say("the augmentation pipeline is empty")
            return
        from augbench.augment.clipcheck import pipeline_risks

        ann = replace(e.ann, boxes=list(e.ann.boxes))
        self.check_panel.setVisible(True)
        self.check_panel.run(fn=lambda progress, cancel: (e.path, tuple(ann.boxes), pipeline_risks(steps, ann)))

    def _on_risks(self, out: Any) -> None:
        path, boxes, risks = out
        if self.session.current is None or self.session.current.path != path or tuple(self.session.boxes) != boxes:
            return  # the image or its boxes changed meanwhile
        self.canvas.risks = {r.index: r for r in risks if r.worst > 0}
        self.canvas.update()
        if self.canvas.risks:
            worst = max(self.canvas.risks.values(), key=lambda r: r.worst)
            self.say(f"{len(self.canvas.risks)} box(es) at risk; worst: {worst.label} dropped "
                     f"{worst.dropped:.0%}, clipped {worst.clipped:.0%} of the trials")
        else:
            self.say("no box is clipped or dropped by this pipeline")

    # ------------------------------------------------------------------ stats
    def refresh_stats(self) -> None:
        """Recount the folder's boxes per class in the worker (again after a running count, if one runs)."""
        folder = self.session.folder
        if folder is None:
            return
        if self.stats_panel.busy:
            self._stats_again = True  # the running count may predate the latest save
            return
        self._stats_again = False
        self.save_quietly()
        fmt = self.session.fmt
        self.stats_panel.setVisible(True)
        self.stats_panel.run(fn=lambda progress, cancel: compute_stats(folder, fmt, progress=progress, cancel=cancel))

    def convert_labels(self, dst: str | None = None) -> None:
        """Run the ``label.convert`` job on the open folder (from the current format to ``dst``)."""
        folder = self.session.folder
        if folder is None or self.stats_panel.busy:
            return
        if dst is None:
            choices = [f for f in ("yolo", "voc", "coco") if f != self.session.fmt]
            dst, ok = QInputDialog.getItem(self.dialog_parent, "Convert labels",
                                           f"Write all {self.session.fmt} labels as:", choices, 0, False)
            if not ok:
                return
        self.save_quietly()
        from augbench.label.jobs import LabelsConvertJob

        job = LabelsConvertJob(folder=str(folder), src=self.session.fmt, dst=dst)
        self.stats_panel.setVisible(True)
        self.stats_panel.run(job=job)

    def _stats_finished(self) -> None:
        if self._stats_again:
            self.refresh_stats()
        else:
            self.stats_panel.setVisible(False)

    def _on_stats(self, st: Any) -> None:
        if not isinstance(st, LabelStats):  # a convert job finished
            self.say(getattr(st, "message", "done"))
            return
        self.last_stats = st
        self.stats_ready.emit(st)

    def shutdown(self) -> None:
        """Save, then stop the helper jobs (the window has already cancelled them; this only waits briefly)."""
        self.stats_timer.stop()
        self.save_quietly()
        for panel in self.panels:
            panel.stop(1000)
