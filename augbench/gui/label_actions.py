"""Label tab actions that run as jobs: ONNX box suggestions, the augmentation clip/drop check,
label statistics and format conversion.

A mixin of :class:`augbench.gui.tab_label.LabelTab`, kept apart so the tab module stays about the
editor itself; it relies on the tab's ``session``, ``canvas``, ``panel`` and widgets.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PyQt5.QtWidgets import QFileDialog, QInputDialog

from augbench.core.imageio import read_image
from augbench.label.stats import LabelStats, compute_stats


class LabelActionsMixin:
    """Suggest boxes, check augmentation, stats and conversion for the Label tab."""

    def set_detector(self, path: str | Path) -> None:
        self.detector_path = Path(path)
        self._detector = None
        self.detector_label.setText(self.detector_path.name)
        settings = getattr(self.shell, "settings", None)
        if settings is not None:
            settings.setValue("label/detector", str(self.detector_path))

    def _choose_detector(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "ONNX detector", str(self.session.folder or Path.home()),
                                              "ONNX models (*.onnx)")
        if path:
            self.set_detector(path)

    def suggest(self) -> None:
        """Run the detector on the current image in the worker; proposals appear on the canvas."""
        if self.detector_path is None:
            settings = getattr(self.shell, "settings", None)
            saved = settings.value("label/detector", "") if settings is not None else ""
            if saved and Path(saved).is_file():
                self.set_detector(saved)
            else:
                self._choose_detector()
        e = self.session.current
        if self.detector_path is None or e is None or self.suggest_panel.busy:
            return
        from augbench.label.suggest import OnnxDetector

        path, image, thr, names = self.detector_path, e.path, self.threshold.value(), self.session.registry.names
        cached = self._detector

        def work(progress: Any, cancel: Any) -> tuple[Any, Path, list]:
            det = cached
            if det is None or det.score_threshold != thr:
                det = OnnxDetector(path, score_threshold=thr)
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
        self.show_message(f"{len(props)} proposal(s): Space accepts, Del rejects, Tab goes to the next")
        self.canvas.setFocus()

    def _on_proposals(self, n: int) -> None:
        self.accept_all_button.setEnabled(n > 0)
        self.reject_all_button.setEnabled(n > 0)

    def _toggle_difficult(self) -> None:
        i = self.canvas.selected
        if i >= 0:
            self.session.set_flags([i], difficult=self.difficult_button.isChecked())
        self._refresh_state()
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
            self.show_message("no augmentation pipeline: build one in the Augment tab first")
            return
        if e is None or e.ann is None or not e.ann.boxes or self.check_panel.busy:
            self.show_message("no boxes to check on this image")
            return
        if not steps:
            self.show_message("the augmentation pipeline is empty")
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
            self.show_message(f"{len(self.canvas.risks)} box(es) at risk; worst: {worst.label} dropped "
                              f"{worst.dropped:.0%}, clipped {worst.clipped:.0%} of the trials")
        else:
            self.show_message("no box is clipped or dropped by this pipeline")

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
        self._save_quietly()
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
            dst, ok = QInputDialog.getItem(self, "Convert labels", f"Write all {self.session.fmt} labels as:",
                                           choices, 0, False)
            if not ok:
                return
        self._save_quietly()
        from augbench.label.jobs import LabelsConvertJob

        job = LabelsConvertJob(folder=str(folder), src=self.session.fmt, dst=dst)
        self.stats_panel.setVisible(True)
        self.stats_panel.run(job=job)

    def _stats_finished(self) -> None:
        if getattr(self, "_stats_again", False):
            self.refresh_stats()
        else:
            self.stats_panel.setVisible(False)

    def _on_stats(self, st: Any) -> None:
        if not isinstance(st, LabelStats):  # a convert job finished
            self.show_message(getattr(st, "message", "done"))
            return
        self.last_stats = st
        self.chart.set_data(list(st.class_counts), list(st.class_counts.values()))
        imb = "∞" if st.imbalance == float("inf") else f"{st.imbalance:.1f}×"
        self.stats_label.setText(
            f"{st.n_images} images · {st.n_boxes} boxes · imbalance {imb}<br>"
            f"missing labels {len(st.missing)} · empty {len(st.empty)} · unreadable {len(st.unreadable)}"
        )

    # ------------------------------------------------------------------ view updates
