"""The one rule every job obeys before it writes a byte: inputs, outputs, one job per folder.

Each job config declares, per field, what a path is for, as dataclass field metadata:

* ``{"role": "input"}``: a file or folder the job reads (a list of them is fine);
* ``{"role": "output"}``: a folder the job owns and writes into (the first one is its *run folder*:
  ``job.yaml``, ``result.json``, ``manifest.jsonl`` live there);
* ``{"role": "output_file"}``: one file the job writes (a COCO json, say);
* ``{"role": "inplace"}``: a folder the job writes *beside* its inputs on purpose (label files next to
  their images); exempt from the nesting rule, and the job itself never overwrites a file it did not write;
* ``{"role": "tool"}``: a program (browser, driver) — neither read as data nor written.

An input that must be a folder adds ``"folder": True``.

A config may refine the roles from its values with a ``path_roles()`` method (``label.convert``'s
``coco_file`` is read for ``--from coco`` and written for ``--to coco``) and name its run folder with
``run_dir()`` (label jobs keep their records under ``<folder>/.augbench/<kind>``).

:func:`guard_job`, used by :func:`augbench.core.jobs.run_job` for every kind, then enforces:

1. an output folder may not be, contain, or sit inside an input folder (resolved: symlinks and
   relative paths cannot hide it) — except under the input's hidden ``.augbench/`` records folder,
   which no scanner reads; an output may not be an existing file, an input must exist;
2. an existing output folder that augbench did not make (no ``job.yaml``, manifest or lock) is refused
   unless the kind says it only ever adds new names (``guard_shared_output = True``: the crawler);
3. one job per run folder: a lock file with the pid, held while the job runs; a lock whose pid is dead
   (on this host) is stale and taken over;
4. a re-run whose config differs from the recorded ``job.yaml`` is refused with a readable diff, unless
   the caller asks for a fresh folder (``fresh=True``: the old folder is moved aside, never deleted).
   Fields that do not change what is written (workers, device, ...) may differ; a kind adds its own with
   field metadata ``{"rerun": "free"}`` or a class attribute ``guard_rerun_free = (...)``, or turns the
   check off with ``guard_rerun_check = False`` (one-shot tools such as ``label.convert``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

from augbench.core.errors import AugbenchError, ConfigError
from augbench.core.lockfile import OutputBusyError, OutputLock, lock_name

ROLES = ("input", "output", "output_file", "inplace", "tool")
RECORDS_DIR = ".augbench"
# Fields that never change what a job writes: a re-run may change them freely.
RERUN_FREE = frozenset({"workers", "start_method", "device", "resume", "threads", "num_threads", "shard",
                        "checkpoint_every_s", "sample_every", "keep_snapshots", "quiet"})


class RerunMismatchError(AugbenchError):
    """The output folder holds a run whose recorded config differs from this one."""


@dataclass
class JobPaths:
    """A config's paths by role, absolute (``~`` expanded), in declaration order."""

    inputs: list[tuple[str, Path]] = field(default_factory=list)
    outputs: list[tuple[str, Path]] = field(default_factory=list)
    output_files: list[tuple[str, Path]] = field(default_factory=list)
    inplace: list[tuple[str, Path]] = field(default_factory=list)


def declared_roles(cls: type) -> dict[str, str]:
    """``{field: role}`` for every field of ``cls`` that declares a role in its metadata."""
    out = {}
    for f in dataclasses.fields(cls):
        role = f.metadata.get("role")
        if role is not None:
            if role not in ROLES:
                raise TypeError(f"{cls.__name__}.{f.name}: unknown role {role!r}; use one of {ROLES}")
            out[f.name] = role
    return out


def path_roles(cfg: Any) -> dict[str, str]:
    """The roles of ``cfg``'s fields, refined by its ``path_roles()`` method when it has one."""
    roles = declared_roles(type(cfg))
    refine = getattr(cfg, "path_roles", None)
    if callable(refine):
        roles.update(refine())
    return roles


def _abs(value: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(os.path.expanduser(os.fspath(value))))


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else [value]
    return [str(v) for v in items if v is not None and str(v).strip()]


def job_paths(cfg: Any) -> JobPaths:
    paths = JobPaths()
    buckets = {"input": paths.inputs, "output": paths.outputs, "output_file": paths.output_files,
               "inplace": paths.inplace}
    for name, role in path_roles(cfg).items():
        if role in buckets:
            buckets[role].extend((name, _abs(v)) for v in _values(getattr(cfg, name)))
    return paths


def absolutize(cfg: Any) -> Any:
    """``cfg`` with every role-bearing path made absolute, so ``job.yaml`` records where things really are."""
    changes: dict[str, Any] = {}
    for name in path_roles(cfg):
        value = getattr(cfg, name)
        if isinstance(value, str) and value.strip():
            new: Any = str(_abs(value))
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            new = type(value)(str(_abs(v)) if v.strip() else v for v in value)
        else:
            continue
        if new != value:
            changes[name] = new
    return dataclasses.replace(cfg, **changes) if changes else cfg


def _inside(child: Path, parent: Path) -> bool:
    return child != parent and parent in child.parents


def _in_records(child: Path, parent: Path) -> bool:
    """``child`` lies under ``parent/.augbench/`` (run records that no scanner reads)."""
    return _inside(child, parent) and child.relative_to(parent).parts[0] == RECORDS_DIR


def check_paths(cfg: Any) -> JobPaths:
    """Enforce rule 1 (see the module docstring); raise :class:`ConfigError` naming the field."""
    paths = job_paths(cfg)
    folders_only = {f.name for f in dataclasses.fields(cfg) if f.metadata.get("folder")}
    for name, p in paths.inputs:
        if not p.exists():
            raise ConfigError(name, f"{p} does not exist")
        if name in folders_only and not p.is_dir():
            raise ConfigError(name, f"{p} is a file; give a folder")
    check_nesting(cfg, paths)
    in_files = {p.resolve(): n for n, p in paths.inputs if p.is_file()}
    for name, out in paths.output_files:
        if out.is_dir():
            raise ConfigError(name, f"{out} is a folder; give a file name")
        if out.resolve() in in_files:
            raise ConfigError(name, f"{out} is also an input ({in_files[out.resolve()]}); "
                                    "the job would overwrite what it reads")
    return paths


def check_nesting(cfg: Any, paths: JobPaths | None = None) -> None:
    """The path half of rule 1: no output folder is, contains or sits inside an input folder.

    It needs no file to exist (an input that does not exist yet is treated as a folder), so a config's
    ``__post_init__`` can call it and fail at construction, as the CLI and the GUI forms expect.
    """
    paths = paths or job_paths(cfg)
    in_dirs = [(n, p.resolve()) for n, p in paths.inputs if p.is_dir() or not p.exists()]
    for name, out in paths.outputs:
        if out.is_file() or (out.exists() and not out.is_dir()):
            raise ConfigError(name, f"{out} is an existing file, not a folder; choose a folder for the output")
        r = out.resolve()
        for in_name, inp in in_dirs:
            where = f"the input folder {inp} ({in_name})"
            if r == inp:
                raise ConfigError(name, f"{out} is {where}; choose a separate output folder "
                                        "(the job would write into your data)")
            if _inside(r, inp) and not _in_records(r, inp):
                raise ConfigError(name, f"{out} is inside {where}; a re-run would read its own outputs as "
                                        "data: choose a folder outside it")
            if _inside(inp, r):
                raise ConfigError(name, f"{out} contains {where}; choose an output folder that does not "
                                        "hold the data")


def _device_fields(cfg: Any, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if f.name == "device" and isinstance(value, str):
            out.append((prefix + f.name, value))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            out.extend(_device_fields(value, f"{prefix}{f.name}."))
    return out


def check_device(cfg: Any) -> None:
    """A job that asks for a GPU that is not there fails now, with one line, not deep inside torch."""
    for name, value in _device_fields(cfg):
        want = value.strip().lower()
        if want.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise ConfigError(name, f"{value!r} asks for a CUDA GPU, but torch sees none "
                                        "(no driver or a CPU-only build); use 'auto' or 'cpu'")
            index = want.partition(":")[2]
            if index.isdigit() and int(index) >= torch.cuda.device_count():
                raise ConfigError(name, f"{value!r}: only {torch.cuda.device_count()} CUDA device(s) are present")
        elif want == "mps":
            import torch

            if not torch.backends.mps.is_available():
                raise ConfigError(name, "'mps' asks for Apple's GPU, which is not available here; use 'auto' or 'cpu'")


def run_folder(cfg: Any) -> Path | None:
    """Where ``cfg`` keeps ``job.yaml`` and its lock: ``cfg.run_dir()``, else its first output folder."""
    fn = getattr(cfg, "run_dir", None)
    if callable(fn):
        value = fn()
        return _abs(value) if value else None
    outs = job_paths(cfg).outputs
    return outs[0][1] if outs else None


def _is_augbench_folder(folder: Path) -> bool:
    if (folder / "job.yaml").is_file():
        return True
    return any(p.name.startswith("manifest") and p.suffix == ".jsonl" or
               (p.name.startswith(".augbench") and p.suffix == ".lock") for p in folder.iterdir())


def _foreign_entries(folder: Path, limit: int = 3) -> list[str]:
    names = []
    for p in sorted(folder.iterdir()):
        if not p.name.startswith("."):
            names.append(p.name + ("/" if p.is_dir() else ""))
            if len(names) >= limit:
                break
    return names


# --------------------------------------------------------------------------- re-run check


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix.rstrip("."): data}


def rerun_free_fields(cfg: Any) -> set[str]:
    free = set(RERUN_FREE) | set(getattr(cfg, "guard_rerun_free", ()))
    free |= {f.name for f in dataclasses.fields(cfg) if f.metadata.get("rerun") == "free"}
    return free


def config_diff(cfg: Any, recorded: dict[str, Any]) -> list[str]:
    """Readable ``field: old -> new`` lines for what differs (paths compared resolved)."""
    from augbench.core.jobs import config_to_dict

    new, old = _flat(config_to_dict(cfg)), _flat(dict(recorded))
    free = rerun_free_fields(cfg)
    roles = path_roles(cfg)
    lines = []
    for key in sorted(set(new) | set(old)):
        if key == "kind" or key in free or key.rsplit(".", 1)[-1] in free:
            continue
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        if key in roles:
            a, b = _norm_paths(a), _norm_paths(b)
        if a != b:
            lines.append(f"  {key}: {_short(a)} -> {_short(b)}")
    return lines


def _norm_paths(value: Any) -> Any:
    if isinstance(value, str) and value.strip():
        return str(_abs(value).resolve())
    if isinstance(value, list):
        return [_norm_paths(v) for v in value]
    return value


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def move_aside(folder: Path) -> Path:
    """Rename ``folder`` to ``<name>.old-<timestamp>`` next to it (nothing is deleted)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = folder.with_name(f"{folder.name}.old-{stamp}")
    n = 1
    while dest.exists():
        n += 1
        dest = folder.with_name(f"{folder.name}.old-{stamp}-{n}")
    os.replace(folder, dest)
    return dest


RECORDS = frozenset({"job.yaml", "result.json", "manifest.jsonl"})


def _holds_outputs(folder: Path) -> bool:
    """Whether ``folder`` holds anything besides hidden files, run records and an empty manifest."""
    for p in folder.iterdir():
        if p.name.startswith("."):
            continue
        if p.name not in RECORDS or (p.name == "manifest.jsonl" and p.stat().st_size > 0):
            return True
    return False


def check_rerun(cfg: Any, folder: Path, kind: str) -> None:
    """Rule 4: refuse when ``folder/job.yaml`` records a different job (or a different kind)."""
    from augbench.core.jobs import canonical_kind

    job_file = folder / "job.yaml"
    if not job_file.is_file() or not getattr(cfg, "guard_rerun_check", True):
        return
    try:
        recorded = yaml.safe_load(job_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        recorded = None
    if not isinstance(recorded, dict):
        raise RerunMismatchError(f"{job_file} is unreadable, so augbench cannot tell which job wrote {folder}; "
                                 "choose another output folder or ask for a fresh one (--fresh)")
    if not _holds_outputs(folder):
        return  # the earlier run wrote nothing (it failed or was refused early): nothing to misdescribe
    # An old kind name (``augment``, ``balance``, ...) recorded before the rename is the same job.
    if canonical_kind(str(recorded.get("kind"))) != canonical_kind(kind):
        raise RerunMismatchError(f"{folder} holds the output of a {recorded.get('kind')!r} job, not {kind!r}; "
                                 "choose another output folder or ask for a fresh one (--fresh)")
    diff = config_diff(cfg, recorded)
    if diff:
        raise RerunMismatchError(
            f"{folder} was written by a different {kind} job; re-running with another config would mix "
            "outputs and make job.yaml misdescribe them. Differences (recorded -> now):\n" + "\n".join(diff)
            + "\nUse the recorded settings to resume, choose another output folder, or ask for a fresh one "
              "(--fresh moves the old folder aside)")


@contextlib.contextmanager
def guard_job(cfg: Any, kind: str, *, fresh: bool = False) -> Iterator[list[str]]:
    """Check rules 1-4 for ``cfg``, hold the run folder's lock while the body runs.

    Yields a list of notes for the user (for example where ``fresh`` moved the old folder).
    """
    notes: list[str] = []
    check_device(cfg)
    check_paths(cfg)
    folder = run_folder(cfg)
    if folder is None or _torchrun_follower():
        yield notes  # under torchrun, rank 0 holds the lock and does the checks for the whole job
        return
    if folder.is_dir() and any(folder.iterdir()):
        shared = bool(getattr(cfg, "guard_shared_output", False))
        if not _is_augbench_folder(folder) and not shared:
            shown = ", ".join(_foreign_entries(folder))
            raise ConfigError(
                _first_output_field(cfg), f"{folder} already holds files augbench did not write ({shown} ...); "
                "choose a new or empty folder so nothing of yours is overwritten")
        if fresh:
            if shared:
                raise ConfigError(_first_output_field(cfg), f"--fresh would move {folder} aside, but a {kind} job "
                                  "adds to a folder that may hold your own data; choose a new folder instead")
            _take_over_locks(folder, kind)  # refuses while any job (or shard) still writes there
            notes.append(f"previous contents of {folder} moved to {move_aside(folder)}")
    created = not folder.exists()
    lock = OutputLock(folder, kind, lock_name(cfg))
    lock.acquire()
    try:
        check_rerun(cfg, folder, kind)
        others = [p for p in folder.glob(".augbench*.lock") if p.name != lock.path.name]
        if not others:  # no shard of this job is mid-write: leftovers of a killed run can go
            from augbench.core.atomic import clean_temporaries

            removed = clean_temporaries(folder)
            if removed:
                notes.append(f"removed {len(removed)} temporary file(s) left by an interrupted run")
        yield notes
    finally:
        lock.release()
        if created:  # a job refused or failed before writing anything leaves no empty folder behind
            with contextlib.suppress(OSError):
                folder.rmdir()


def _take_over_locks(folder: Path, kind: str) -> None:
    """Remove every lock in ``folder`` whose job is gone; raise :class:`OutputBusyError` if one is alive."""
    for lock_file in sorted(folder.glob(".augbench*.lock")):
        held = OutputLock(folder, kind, lock_file.name)
        held.acquire()  # raises for a live holder, takes a stale lock over
        held.release()


def _torchrun_follower() -> bool:
    """True in ranks 1..N-1 of a torchrun job (they share rank 0's run folder and lock)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1 and int(os.environ.get("RANK", "0")) > 0
    except ValueError:
        return False


def _first_output_field(cfg: Any) -> str:
    outs = job_paths(cfg).outputs
    return outs[0][0] if outs else "out_dir"


__all__ = ["JobPaths", "OutputBusyError", "OutputLock", "RerunMismatchError", "ROLES", "absolutize",
           "check_paths", "check_rerun", "config_diff", "declared_roles", "guard_job", "job_paths", "path_roles",
           "run_folder"]
