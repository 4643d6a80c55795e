"""The augment export job: N augmented copies of every image, labels rewritten.

Work is spread over processes (both cores) with one task per source image.
Each output's seed is derived from the job seed, the image's relative path
and the copy number, so the result does not depend on which worker ran it and
a re-run resumes (outputs already in the manifest are not redone).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from augbench.augment._worker import _init_worker, _process, _Task, _TaskResult, output_seed, read_mask
from augbench.augment.pipeline import Step, build_compose, load_pipeline, steps_from_dicts
from augbench.core.atomic import atomic_write_bytes
from augbench.core.dataset import Item, scan_dataset
from augbench.core.errors import AugbenchError, Cancelled, ConfigError
from augbench.core.jobs import JobResult, Skipped
from augbench.core.layout import classes_file_for
from augbench.core.progress import CancelToken, Progress, ProgressFn, null_progress
from augbench.core.runfolder import RunFolder
from augbench.core.shard import parse_shard


@dataclass(frozen=True)
class ExportJob:
    """Augment every image of ``input_dir`` into ``output_dir`` (same layout).

    Registered as kind ``augment.export`` (old name ``augment``) in :mod:`augbench.augment.jobs`.
    """

    input_dir: str = field(metadata={"role": "input", "folder": True})
    output_dir: str = field(metadata={"role": "output"})
    steps: list[dict[str, Any]] = field(default_factory=list)
    pipeline_file: str | None = field(default=None, metadata={"role": "input"})
    # More copies later only adds files (copy k's seed does not depend on the total): a re-run may raise it.
    copies: int = field(default=3, metadata={"range": (1, 10000), "rerun": "free"})
    seed: int = 0
    workers: int = field(default=0, metadata={"range": (0, 256)})  # 0 = one per core
    empty_policy: Literal["keep", "drop"] = "keep"
    min_visibility: float = field(default=0.1, metadata={"range": (0.0, 1.0)})
    include_originals: bool = False
    image_format: Literal["same", "jpg", "png"] = "same"
    jpeg_quality: int = field(default=95, metadata={"range": (1, 100)})
    start_method: Literal["auto", "fork", "forkserver", "spawn"] = "auto"
    # "I/N": do only shard I of N (by image path) into the same output folder; see augbench.core.shard
    shard: str = field(default="", metadata={"rerun": "free"})

    def __post_init__(self) -> None:
        if not self.steps and not self.pipeline_file:
            raise ConfigError("steps", "give the transforms as 'steps' or a 'pipeline_file'")
        parse_shard(self.shard)
        if Path(self.output_dir).resolve() == Path(self.input_dir).resolve():
            raise ConfigError("output_dir", "must differ from input_dir (originals are never overwritten)")

    def resolved_steps(self) -> list[Step]:
        return load_pipeline(self.pipeline_file) if self.pipeline_file else steps_from_dicts(self.steps)


def _start_method(requested: str) -> str:
    """``auto``: fork (workers start in milliseconds) when this is a single-threaded main thread
    on Linux; otherwise forkserver/spawn, because forking a process that runs other threads (the
    Qt GUI, a QThread worker) can deadlock the child."""
    if requested != "auto":
        return requested
    available = mp.get_all_start_methods()
    single = threading.current_thread() is threading.main_thread() and threading.active_count() == 1
    if single and "fork" in available and sys.platform.startswith("linux"):
        return "fork"
    return "forkserver" if "forkserver" in available else "spawn"


def _copy_original(item: Item, root: Path, out: Path) -> list[str]:
    written = []
    for p in (item.image, item.label_file, item.mask_file):
        if p is not None:
            dest = out / p.relative_to(root)
            if not dest.exists():
                atomic_write_bytes(dest, p.read_bytes())
            written.append(str(dest))
    return written


def _classes_files(root: Path, items: list[Item]) -> list[Path]:
    """Every ``classes.txt`` that names ids of the data set's YOLO files (root, labels/, and per class folder)."""
    found = {p for p in (root / "classes.txt", root / "labels" / "classes.txt") if p.is_file()}
    for item in items:
        if item.label_file is not None and item.label_file.suffix.lower() == ".txt":
            cf = classes_file_for(item.label_file)
            if cf is not None and root in cf.parents:  # one above a class folder may be the root itself
                found.add(cf)
    return sorted(found)


def run_export(cfg: ExportJob, *, progress: ProgressFn = null_progress, cancel: CancelToken | None = None) -> JobResult:
    """Run the export; returns counts, skipped files with reasons, and box statistics."""
    cancel = cancel or CancelToken()
    t0 = time.perf_counter()
    root = Path(cfg.input_dir)
    out = Path(cfg.output_dir)
    steps = cfg.resolved_steps()
    build_compose(steps, min_visibility=cfg.min_visibility)  # a bad parameter stops here, before any worker starts
    info = scan_dataset(root)
    shard = parse_shard(cfg.shard)
    items = shard.select(info.items, key=lambda it: it.image.relative_to(root).as_posix())
    run = RunFolder(out, shard)
    run.manifest.sync_every = 64  # one fsync per 64 rows; finish() syncs the rest
    run.write_job(cfg)
    result = JobResult(kind="augment.export", out_dir=str(out))
    for cf in _classes_files(root, info.items):
        dest = out / cf.relative_to(root)
        if not dest.exists():
            atomic_write_bytes(dest, cf.read_bytes())
    done: set[tuple[str, int]] = {
        (r["source"], int(r["copy"])) for r in run.done_rows() if r.get("status") in ("ok", "empty_labels", "dropped_empty")
    }
    tasks: list[_Task] = []
    for i, item in enumerate(items):
        rel = item.image.relative_to(root).as_posix()
        todo = [k for k in range(cfg.copies) if (rel, k) not in done]
        if cfg.include_originals:
            result.outputs += _copy_original(item, root, out)
        if todo:
            tasks.append(_Task(i, str(item.image), rel, str(item.label_file) if item.label_file else None,
                               str(item.mask_file) if item.mask_file else None, todo))
    resumed = len(items) * cfg.copies - sum(len(t.copies) for t in tasks)
    step_dicts = [s.to_dict() for s in steps if s.enabled]
    cfg_dict = {"output_dir": str(out), "seed": cfg.seed, "min_visibility": cfg.min_visibility,
                "empty_policy": cfg.empty_policy, "image_format": cfg.image_format, "jpeg_quality": cfg.jpeg_quality}
    workers = cfg.workers or (os.cpu_count() or 1)
    workers = max(1, min(workers, len(tasks)))
    stats = {"boxes_in": 0, "boxes_out": 0, "dropped_boxes": 0, "clipped_boxes": 0, "empty_after_aug": 0,
             "dropped_images": 0}
    warnings: list[str] = []
    total = len(tasks)
    method = "in-process"

    def absorb(r: _TaskResult) -> None:
        for row in r.rows:
            run.manifest.append(row)
            stats["boxes_in"] += row["boxes_in"]
            stats["boxes_out"] += row["boxes_out"]
            stats["dropped_boxes"] += len(row["dropped_boxes"])
            stats["clipped_boxes"] += len(row["clipped_boxes"])
            stats["empty_after_aug"] += row["status"] in ("empty_labels", "dropped_empty")
            stats["dropped_images"] += row["status"] == "dropped_empty"
        result.outputs += r.outputs
        result.skipped += [Skipped(p, reason) for p, reason in r.skipped]
        warnings.extend(r.warnings)

    def finish(status: str) -> JobResult:
        result.status = status  # type: ignore[assignment]
        result.metrics = {**stats, "images": len(items), "copies": cfg.copies, "resumed_outputs": resumed,
                          "shard": str(shard),
                          "written_images": sum(1 for o in result.outputs if Path(o).suffix.lower() != ".txt"),
                          "seconds": round(time.perf_counter() - t0, 3), "workers": workers, "start_method": method,
                          "label_format": info.label_format, "warnings": warnings[:200]}
        n_ok = stats["boxes_out"]
        result.message = (f"{len(result.outputs)} files written from {len(items)} images"
                          f" ({len(result.skipped)} skipped, {stats['dropped_boxes']} boxes dropped,"
                          f" {stats['clipped_boxes']} clipped, {n_ok} boxes out)")
        run.manifest.sync()
        run.write_result(result)
        return result

    start_msg = f"augmenting {total} images × {cfg.copies} copies"
    done_count = 0
    try:
        if workers == 1 or total * cfg.copies < 24:  # starting workers is not worth it for tiny jobs
            progress(Progress(0, total, start_msg))
            _init_worker(cfg_dict, step_dicts, info.box_classes, str(root))
            for task in tasks:
                cancel.check()
                absorb(_process(task))
                done_count += 1
                progress(Progress(done_count, total, f"{done_count}/{total} images"))
        else:
            # The start method is chosen, and the workers started (the first submit forks them all), before the
            # first progress report: a progress bar may start a thread (tqdm's monitor), and with another thread
            # running the export must not fork.
            method = _start_method(cfg.start_method)
            ctx = mp.get_context(method)
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                     initargs=(cfg_dict, step_dicts, info.box_classes, str(root),
                                               os.getpid())) as pool:
                pending: set[Future[_TaskResult]] = set()
                queue = iter(tasks)

                def top_up() -> None:  # keep a small window in flight so cancel is prompt
                    for task in queue:
                        pending.add(pool.submit(_process, task))
                        if len(pending) >= workers * 4:
                            break

                top_up()
                progress(Progress(0, total, start_msg))
                try:
                    while pending:
                        finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                        for fut in finished:
                            absorb(fut.result())
                            done_count += 1
                            progress(Progress(done_count, total, f"{done_count}/{total} images"))
                        cancel.check()
                        top_up()
                except Cancelled:
                    # Let in-flight images finish (their files are complete), start nothing new.
                    for fut in pending:
                        fut.cancel()
                    for fut in pending:
                        if not fut.cancelled():
                            try:
                                absorb(fut.result())
                            except Exception:  # noqa: BLE001
                                pass
                    raise
    except Cancelled as exc:
        exc.result = finish("cancelled")  # type: ignore[attr-defined]
        raise
    except BrokenProcessPool:
        finish("errored")
        raise AugbenchError(f"an export worker process died (out of memory or killed) after {done_count} of {total} "
                            "images; re-run the same command to resume, or use --workers 1") from None
    except AugbenchError:
        finish("errored")
        raise
    return finish("completed")


AugmentJob = ExportJob  # the class's name before the kinds were renamed (issue 12)

__all__ = ["AugmentJob", "ExportJob", "output_seed", "read_mask", "run_export"]
