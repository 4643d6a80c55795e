"""What a balancing run left on disk: can it resume with these settings, where are its curves.

The Synthesize tab asks before it starts, so that "I changed a setting and
pressed Resume" ends in a sentence and a "start fresh" choice, not an error
dialog; and after a restart it finds an unfinished run's history to redraw
its curves and offer "Resume". Qt-free, so the rules are tested without a GUI.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augbench.core.errors import AugbenchError

ARCH_FIELDS = ("ngf", "n_blocks", "upsample", "generator", "size", "full_size")


@dataclass
class RunState:
    """``histories``: class -> history.json of its translator; ``finished``: result.json says completed."""

    out_dir: Path
    histories: dict[str, Path] = field(default_factory=dict)
    finished: bool = False
    started: bool = False  # job.yaml or a translator folder exists

    @property
    def resumable(self) -> bool:
        return self.started and not self.finished


def run_state(cfg: Any) -> RunState:
    """What ``cfg``'s output and work folders hold."""
    out = Path(cfg.out_dir)
    state = RunState(out)
    result = out / "result.json"
    if result.is_file():
        try:
            state.finished = json.loads(result.read_text(encoding="utf-8")).get("status") == "completed"
        except (OSError, ValueError):
            state.finished = False
    work = cfg.resolved_work_dir
    for cls in cfg.defect_classes:
        h = work / cls / "history.json"
        if h.is_file():
            state.histories[cls] = h
    state.started = (out / "job.yaml").is_file() or bool(state.histories) or any(
        (work / c / "last.pt").is_file() for c in cfg.defect_classes)
    return state


def resume_conflicts(cfg: Any) -> list[str]:
    """Why ``cfg`` cannot continue the run in its folders ([] = it can): the recorded job differs, or a
    translator checkpoint was trained with another architecture."""
    from augbench.core.guard import RerunMismatchError, absolutize, check_rerun

    problems: list[str] = []
    out = Path(cfg.out_dir)
    if (out / "job.yaml").is_file():
        try:
            check_rerun(absolutize(cfg), out.resolve(), "gan.balance")
        except RerunMismatchError as exc:
            problems.append(str(exc).split("\n", 1)[-1].split("\nUse the recorded")[0])
        except AugbenchError as exc:
            problems.append(str(exc))
    if cfg.engine == "cyclegan":
        problems += _checkpoint_conflicts(cfg)
    return problems


def _checkpoint_conflicts(cfg: Any) -> list[str]:
    from augbench.gan.trainer import load_checkpoint

    out = []
    for cls in cfg.defect_classes:
        last = cfg.resolved_work_dir / cls / "last.pt"
        if not last.is_file():
            continue
        try:
            old = load_checkpoint(last)["config"]
        except AugbenchError as exc:
            out.append(f"{cls}: {exc}")
            continue
        new = dataclasses.asdict(cfg.gan_config(old.get("channels", 1), old.get("full_size", 0)))
        if cfg.native != bool(old.get("full_size")):
            out.append(f"{cls}: native resolution {bool(old.get('full_size'))} -> {cfg.native}")
        for name in ARCH_FIELDS:
            if name == "full_size":
                continue
            if name in old and old[name] != new.get(name):
                out.append(f"{cls}: {name} {old[name]!r} -> {new.get(name)!r} (checkpoint {last})")
    return out


def prepare_fresh(cfg: Any) -> list[str]:
    """Move the work folder and the report folder aside (the job guard moves the output folder itself)."""
    from augbench.core.guard import move_aside

    notes = []
    out = Path(cfg.out_dir)
    for folder in (cfg.resolved_work_dir, out.with_name(out.name + "_report")):
        if folder.is_dir() and any(folder.iterdir()):
            notes.append(f"{folder} moved to {move_aside(folder)}")
    return notes
