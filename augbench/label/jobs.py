"""Registered label jobs: ``label.convert`` and ``label.stats`` (old names ``labels-convert``, ``labels-stats``).

Both run from the GUI worker, the CLI (``augbench labels ...``) or a job file
(``augbench run job.yaml``). Run records (``job.yaml``, ``result.json``,
``manifest.jsonl``) go to ``<folder>/.augbench/<kind>/`` so the data set
folder itself only gains label files; the scanner ignores ``.augbench``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from augbench.core.errors import ConfigError
from augbench.core.jobs import JobResult, Skipped, job_runner, register_job
from augbench.core.progress import CancelToken, ProgressFn
from augbench.core.runfolder import RunFolder
from augbench.label.convert import convert_folder, file_sha256
from augbench.label.formats import FORMATS as FORMAT_TABLE
from augbench.label.formats import per_image_formats
from augbench.label.stats import compute_stats

FORMATS = list(FORMAT_TABLE)  # the label-format table's names


# The record folders' names before the kinds were renamed: a folder that already has one keeps using it,
# so a re-convert still finds the manifest of the label files it wrote earlier.
_OLD_RUN_DIRS = {"label.convert": "labels-convert", "label.stats": "labels-stats"}


def _run_dir(folder: str, kind: str, out_dir: str) -> Path:
    if out_dir:
        return Path(out_dir)
    base = Path(folder) / ".augbench"
    old = base / _OLD_RUN_DIRS.get(kind, kind)
    return old if old.is_dir() and not (base / kind).exists() else base / kind


@register_job("label.convert", summary="convert a folder's box labels between YOLO, Pascal VOC and COCO json")
@dataclass(frozen=True)
class ConvertJob:
    """Convert box labels of an image folder between YOLO, Pascal VOC and COCO json."""

    # A one-shot tool that writes label files beside the images on purpose: no re-run check, and
    # convert_folder itself never overwrites a file that it did not write (it refuses or keeps a .bak).
    guard_rerun_check = False

    folder: str = field(metadata={"role": "input", "folder": True})
    src: str = field(default="voc", metadata={"choices": FORMATS})
    dst: str = field(default="yolo", metadata={"choices": FORMATS})
    # where labels go; default: labels/ or Annotations/ if present, else beside the images
    out_dir: str = field(default="", metadata={"role": "inplace"})
    # COCO json to read (src=coco) or write (dst=coco); default folder/annotations.json
    coco_file: str = field(default="", metadata={"role": "input"})
    classes: tuple[str, ...] = ()  # id order for a new classes.txt (names found are appended)
    backup: bool = False  # --to coco onto an existing file: keep it as <name>.bak instead of refusing

    def __post_init__(self) -> None:
        if self.src == self.dst:
            raise ConfigError("dst", f"source and target format are both {self.src!r}")
        if not self.folder:
            raise ConfigError("folder", "give the image folder")

    def path_roles(self) -> dict[str, str]:
        """``coco_file`` is read for ``--from coco`` and written for ``--to coco``."""
        return {"coco_file": "output_file" if self.dst == "coco" else "input"}

    def run_dir(self) -> str:
        return str(_run_dir(self.folder, "label.convert", ""))


@job_runner(ConvertJob)
def run_convert(cfg: ConvertJob, *, progress: ProgressFn, cancel: CancelToken) -> JobResult:
    run = RunFolder(_run_dir(cfg.folder, "label.convert", ""))
    # Files an earlier convert wrote, with their hash then: only those (if unchanged) may be regenerated.
    owned = {str(r["real"]): str(r["sha256"]) for r in run.manifest.rows() if r.get("real") and r.get("sha256")}
    rep = convert_folder(cfg.folder, cfg.src, cfg.dst, out_dir=cfg.out_dir or None,  # type: ignore[arg-type]
                         coco_file=cfg.coco_file or None, classes=cfg.classes, progress=progress, cancel=cancel,
                         owned=owned, backup=cfg.backup)
    run.write_job(cfg)
    for p in rep.outputs:
        run.manifest.append({"path": str(p), "real": os.path.realpath(p), "sha256": file_sha256(Path(p)),
                             "source": cfg.folder, "from": cfg.src, "to": cfg.dst, "origin": "label.convert"})
    out_dir = str(rep.outputs[-1].parent) if rep.outputs else (cfg.out_dir or cfg.folder)
    result = JobResult(
        kind="label.convert",
        out_dir=out_dir,
        outputs=[str(p) for p in rep.outputs],
        skipped=[Skipped(p, why) for p, why in rep.skipped],
        metrics={"boxes": rep.n_boxes, "classes": len(rep.classes), "class_names": rep.classes,
                 "backups": [f"{a} -> {b}" for a, b in rep.backups]},
        message=f"{cfg.src} -> {cfg.dst}: {len(rep.outputs)} files, {rep.n_boxes} boxes"
                + (f"; kept {len(rep.backups)} old file(s) as .bak" if rep.backups else ""),
    )
    run.write_result(result)
    return result


@register_job("label.stats", summary="class counts, boxes per image, missing/empty labels, box sizes")
@dataclass(frozen=True)
class StatsJob:
    """Label statistics of an image folder (class balance before augmenting)."""

    guard_rerun_check = False  # a fresh report each time; it describes the folder as it is now

    folder: str = field(metadata={"role": "input", "folder": True})
    prefer: str = field(default="yolo", metadata={"choices": [f.name for f in per_image_formats()]})
    # where stats.json/stats.txt go; default <folder>/.augbench/label.stats
    out_dir: str = field(default="", metadata={"role": "output"})

    def __post_init__(self) -> None:
        if not self.folder:
            raise ConfigError("folder", "give the image folder")

    def run_dir(self) -> str:
        return str(_run_dir(self.folder, "label.stats", self.out_dir))


@job_runner(StatsJob)
def run_stats(cfg: StatsJob, *, progress: ProgressFn, cancel: CancelToken) -> JobResult:
    from augbench.core.atomic import atomic_write_json, atomic_write_text

    st = compute_stats(cfg.folder, cfg.prefer, progress=progress, cancel=cancel)  # type: ignore[arg-type]
    run = RunFolder(_run_dir(cfg.folder, "label.stats", cfg.out_dir))
    run.write_job(cfg)
    outputs = [atomic_write_json(run.root / "stats.json", st.to_dict()), atomic_write_text(run.root / "stats.txt",
                                                                                            st.to_text())]
    result = JobResult(
        kind="label.stats",
        out_dir=str(run.root),
        outputs=[str(p) for p in outputs],
        skipped=[Skipped(p, why) for p, why in st.unreadable],
        metrics=st.to_dict(),
        message=f"{st.n_images} images, {st.n_boxes} boxes, {len(st.class_counts)} classes",
    )
    run.write_result(result)
    return result


# The classes' names before the kinds were renamed (issue 12).
LabelsConvertJob = ConvertJob
LabelsStatsJob = StatsJob
