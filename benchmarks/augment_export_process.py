"""Whole-process augment export: ``augbench augment`` as a user runs it vs a plain Albumentations script.

Both sides are separate processes timed from outside, start-up, imports, worker start and every write
included (an in-process timing of the export phase hid that the command was only 1.12x the plain loop).
The peer is the straightforward single-process script a user would write (``--plain-loop`` below: cv2
read, the same 4-op Compose with YOLO boxes, cv2 write, label text). Runs alternate, the order flips
each pair, and the median of each side and of the per-pair ratio is reported. It also times sharded
(two ``--shard I/2`` processes, one worker each) against unsharded export and checks the files are
byte-identical, and measures where the time goes (imports, the parent's own CPU, the workers' CPU,
page faults, per-file atomic writes).

Run via ``benchmarks/augment_throughput.py --whole-process`` (which owns the docs section), or alone:
``.venv/bin/python benchmarks/augment_export_process.py [--images 300 --copies 5 --runs 3]``.
Module-level imports are stdlib only: the plain peer runs this file too and must pay only for what
its own script imports (cv2 and albumentations).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STEPS_CLI = ["HorizontalFlip:p=0.5", "Affine:rotate=-15..15,scale=0.9..1.1,p=1.0", "RandomBrightnessContrast:p=1.0",
             "HueSaturationValue:p=1.0"]  # = augment_throughput.EXPORT_STEPS, as `augbench augment -t` flags


def plain_loop_main(src: Path, out: Path, copies: int) -> None:
    """The peer: what a user writes without augbench (one process, OpenCV's default threads)."""
    import albumentations as A
    import cv2

    out.mkdir(parents=True, exist_ok=True)
    compose = A.Compose([A.HorizontalFlip(p=0.5), A.Affine(rotate=(-15, 15), scale=(0.9, 1.1), p=1.0),
                         A.RandomBrightnessContrast(p=1.0), A.HueSaturationValue(p=1.0)],
                        bbox_params=A.BboxParams(format="yolo", label_fields=["cls"]))
    for img_path in sorted(src.glob("*.jpg")):
        img = cv2.cvtColor(cv2.imread(str(img_path)), cv2.COLOR_BGR2RGB)
        rows = [ln.split() for ln in img_path.with_suffix(".txt").read_text().splitlines() if ln.strip()]
        boxes = [[float(v) for v in r[1:]] for r in rows]
        cls = [int(r[0]) for r in rows]
        for k in range(copies):
            r = compose(image=img, bboxes=boxes, cls=cls)
            stem = f"{img_path.stem}_aug{k:03d}"
            cv2.imwrite(str(out / f"{stem}.jpg"), cv2.cvtColor(r["image"], cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            with open(out / f"{stem}.txt", "w") as fh:
                for c, b in zip(r["cls"], r["bboxes"]):
                    fh.write(f"{c} {b[0]:.6f} {b[1]:.6f} {b[2]:.6f} {b[3]:.6f}\n")


def _env() -> dict[str, str]:
    return {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}


def _augbench() -> str:
    exe = Path(sys.executable).with_name("augbench")
    return str(exe) if exe.exists() else "augbench"


def plain_cmd(src: Path, out: Path, copies: int) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--plain-loop", str(src), str(out), str(copies)]


def ours_cmd(src: Path, out: Path, copies: int, *extra: str) -> list[str]:
    cmd = [_augbench(), "augment", str(src), str(out), "--copies", str(copies)]
    for t in STEPS_CLI:
        cmd += ["-t", t]
    return cmd + list(extra)


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (all processes; /proc/stat, Linux)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_quiet(max_wait: float = 10.0, threshold: float = 0.15) -> float:
    """Wait (at most ``max_wait`` s) until the machine is almost idle; returns the last busy fraction seen."""
    cpus = os.cpu_count() or 1
    deadline = time.monotonic() + max_wait
    while True:
        b0 = busy_cpu_s()
        time.sleep(0.5)
        frac = (busy_cpu_s() - b0) / (0.5 * cpus)
        if frac < threshold or time.monotonic() > deadline:
            return frac


def timed(cmd: list[str]) -> dict[str, float]:
    """Wall seconds and CPU seconds (user, sys; the process and every child it waited for) of one command,
    and ``others_cpu``: CPU seconds the rest of the machine used meanwhile (a measure of the noise)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    b0 = busy_cpu_s()
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    busy = busy_cpu_s() - b0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, sys_ = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    return {"wall": wall, "user": user, "sys": sys_, "minflt": after.ru_minflt - before.ru_minflt,
            "others_cpu": max(0.0, busy - user - sys_)}


def outputs(folder: Path) -> dict[str, int]:
    names = [p.name for p in folder.iterdir() if "_aug" in p.name]
    return {"images": sum(n.endswith(".jpg") for n in names), "labels": sum(n.endswith(".txt") for n in names)}


def versus_plain(src: Path, tmp: Path, copies: int, runs: int) -> dict[str, Any]:
    """Alternate plain / augbench whole processes ``runs`` times (order flipped each pair) after one warm-up."""
    small = tmp / "warm_src"
    small.mkdir()
    for p in sorted(src.iterdir())[:20]:
        shutil.copy(p, small / p.name)
    timed(plain_cmd(small, tmp / "warm_p", 1))  # file cache and .pyc warm for both sides
    timed(ours_cmd(small, tmp / "warm_o", 1))
    res: dict[str, list[dict[str, float]]] = {"plain": [], "augbench": []}
    counts: dict[str, dict[str, int]] = {}
    quiet: list[float] = []
    for r in range(runs):
        order = ["plain", "augbench"] if r % 2 == 0 else ["augbench", "plain"]
        for side in order:
            quiet.append(wait_quiet())
            out = tmp / f"{side}{r}"
            cmd = plain_cmd(src, out, copies) if side == "plain" else ours_cmd(src, out, copies)
            res[side].append(timed(cmd))
            counts[side] = outputs(out)
            shutil.rmtree(out)
        print(f"  pair {r}: plain {res['plain'][-1]['wall']:.2f} s, augbench {res['augbench'][-1]['wall']:.2f} s",
              flush=True)
    if counts["plain"] != counts["augbench"]:
        raise RuntimeError(f"output counts differ: {counts}")
    med = {s: {k: statistics.median(x[k] for x in v) for k in v[0]} for s, v in res.items()}
    ratios = [p["wall"] / o["wall"] for p, o in zip(res["plain"], res["augbench"])]
    return {"runs": res, "median": med, "outputs": counts["augbench"], "ratio_pairs": ratios, "busy_before": quiet,
            "ratio_median": statistics.median(ratios), "ratio_of_medians": med["plain"]["wall"] / med["augbench"]["wall"]}


def same_files(a: Path, b: Path) -> tuple[int, list[str]]:
    """Number of output files compared and the names that differ (bytes) or exist on one side only."""
    names_a = {p.name for p in a.iterdir() if "_aug" in p.name}
    names_b = {p.name for p in b.iterdir() if "_aug" in p.name}
    diff = sorted(names_a ^ names_b)
    _match, mismatch, errors = filecmp.cmpfiles(a, b, sorted(names_a & names_b), shallow=False)
    return len(names_a | names_b), diff + mismatch + errors


def sharded_vs_unsharded(src: Path, tmp: Path, copies: int) -> dict[str, Any]:
    """One unsharded run (workers = cores) vs two ``--shard I/2`` processes at once (one worker each)."""
    whole = timed(ours_cmd(src, tmp / "whole", copies))
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    b0 = busy_cpu_s()
    procs = [subprocess.Popen(ours_cmd(src, tmp / "sharded", copies, "--shard", f"{i}/2", "--workers", "1"),
                              env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(2)]
    codes = [p.wait() for p in procs]
    wall = time.perf_counter() - t0
    busy = busy_cpu_s() - b0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if any(codes):
        raise RuntimeError(f"a shard failed: exit codes {codes}")
    n, differ = same_files(tmp / "whole", tmp / "sharded")
    rows = [json.loads(line) for line in (tmp / "sharded" / "manifest.jsonl").read_text().splitlines() if line]
    return {"unsharded": whole, "sharded": {"wall": wall, "user": after.ru_utime - before.ru_utime,
                                            "sys": after.ru_stime - before.ru_stime,
                                            "others_cpu": max(0.0, busy - (after.ru_utime - before.ru_utime)
                                                              - (after.ru_stime - before.ru_stime))},
            "files_compared": n, "files_differing": differ, "merged_manifest_rows": len(rows)}


_PROBE = """
import json, resource, sys, time
t0 = time.perf_counter()
from augbench.cli import main
t_import = time.perf_counter() - t0
try:
    main(sys.argv[2:])
except SystemExit:
    pass
s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump({"cli_import_s": t_import, "parent_cpu_s": s.ru_utime + s.ru_stime, "workers_cpu_s": c.ru_utime + c.ru_stime,
           "workers_sys_s": c.ru_stime, "workers_minflt": c.ru_minflt, "wall_s": time.perf_counter() - t0},
          open(sys.argv[1], "w"))
"""


def where_time_goes(src: Path, tmp: Path, copies: int) -> dict[str, Any]:
    """Start-up of each side, the parent's own CPU vs its workers', and the per-file write cost."""
    imports = {
        "augbench": timed([sys.executable, "-c", "import augbench.cli, augbench.augment.export"]),
        "plain": timed([sys.executable, "-c", "import cv2, albumentations"]),
        "plain_without_torch_import": timed([sys.executable, "-c", "import sys; sys.modules['torch'] = None; "
                                             "import cv2, albumentations"]),
    }
    probe = tmp / "probe.json"
    subprocess.run([sys.executable, "-c", _PROBE, str(probe), *ours_cmd(src, tmp / "probe", copies)[1:]],
                   check=True, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    split = json.loads(probe.read_text())
    result = json.loads((tmp / "probe" / "result.json").read_text())
    split["export_phase_s"] = result["metrics"]["seconds"]
    manifest = tmp / "probe" / "manifest.jsonl"
    split["manifest_bytes_per_output"] = manifest.stat().st_size / max(1, result["metrics"]["written_images"])
    shutil.rmtree(tmp / "probe")
    return {"imports": imports, "run": split, "write": write_costs(tmp / "writes")}


def write_costs(folder: Path, n: int = 400) -> dict[str, float]:
    """Microseconds per 60 KB file: plain open+write, augbench's atomic write (temp + rename)."""
    sys.path.insert(0, str(ROOT))
    from augbench.core.atomic import atomic_write_bytes

    folder.mkdir(parents=True, exist_ok=True)
    data = os.urandom(60_000)
    out = {}
    for name, fn in (("plain_write_us", lambda i: (folder / f"p{i}.jpg").write_bytes(data)),
                     ("atomic_write_us", lambda i: atomic_write_bytes(folder / f"a{i}.jpg", data, durable=False))):
        t0 = time.perf_counter()
        for i in range(n):
            fn(i)
        out[name] = (time.perf_counter() - t0) / n * 1e6
    return out


def run(images: int = 300, copies: int = 5, runs: int = 3) -> dict[str, Any]:
    """The whole benchmark in a temporary folder; returns every figure (see the module docstring)."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.augment_throughput import make_folder

    tmp = Path(tempfile.mkdtemp(prefix="augbench-proc-"))
    try:
        src = make_folder(tmp / "src", images)
        print(f"whole-process export, {images} JPEGs x {copies} copies", flush=True)
        vs = versus_plain(src, tmp, copies, runs)
        print("sharded vs unsharded", flush=True)
        shards = sharded_vs_unsharded(src, tmp, copies)
        print("where the time goes", flush=True)
        where = where_time_goes(src, tmp, copies)
        return {"images": images, "copies": copies, "cpus": os.cpu_count(), "versus_plain": vs, "shards": shards,
                "breakdown": where, "loadavg_after": loadavg()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def loadavg() -> str:
    """The 1/5/15-minute load averages, to state the machine's load beside the figures."""
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "n/a"


def render(w: dict[str, Any]) -> str:
    """The markdown of sections (a) whole processes and (b) sharded vs unsharded."""
    vs, sh, br = w["versus_plain"], w["shards"], w["breakdown"]
    mp, mo = vs["median"]["plain"], vs["median"]["augbench"]
    n_out = vs["outputs"]["images"]

    def cpu(m: dict[str, float]) -> str:
        return f"{m['user'] + m['sys']:.1f} ({m['sys']:.1f} sys)"

    rows = [
        ["plain single-process script (cv2 + albumentations)", f"{mp['wall']:.2f}", cpu(mp), f"{mp['minflt']:.0f}",
         f"{n_out / mp['wall']:.0f}", f"{mp.get('others_cpu', float('nan')):.1f}"],
        [f"`augbench augment` ({w['cpus']} worker processes)", f"{mo['wall']:.2f}", cpu(mo), f"{mo['minflt']:.0f}",
         f"{n_out / mo['wall']:.0f}", f"{mo.get('others_cpu', float('nan')):.1f}"],
    ]
    im, run_ = br["imports"], br["run"]
    noise = [(p.get("others_cpu", float("nan")), o.get("others_cpu", float("nan")))
             for p, o in zip(vs["runs"]["plain"], vs["runs"]["augbench"])]
    pairs = ", ".join(f"{r:.2f} (others' CPU {a:.1f} / {b:.1f} s)" for r, (a, b) in zip(vs["ratio_pairs"], noise))
    busy = 100 * run_["workers_cpu_s"] / max(1e-9, w["cpus"] * run_["export_phase_s"])
    where = [
        ["interpreter + imports, alone (wall / CPU s)", f"{im['augbench']['wall']:.2f} / "
         f"{im['augbench']['user'] + im['augbench']['sys']:.2f}",
         f"{im['plain']['wall']:.2f} / {im['plain']['user'] + im['plain']['sys']:.2f} (without torch: "
         f"{im['plain_without_torch_import']['wall']:.2f} / "
         f"{im['plain_without_torch_import']['user'] + im['plain_without_torch_import']['sys']:.2f})"],
        ["parent process CPU, imports included (s)", f"{run_['parent_cpu_s']:.2f}", "all of it"],
        ["worker processes CPU (s; sys part; page faults)",
         f"{run_['workers_cpu_s']:.1f}; {run_['workers_sys_s']:.1f}; {run_['workers_minflt']:.0f}", "n/a"],
        ["export phase (result.json) / whole command, wall s", f"{run_['export_phase_s']:.2f} / {run_['wall_s']:.2f}",
         "n/a"],
        ["per output file: atomic temp + rename / plain write (us)",
         f"{br['write']['atomic_write_us']:.0f}", f"{br['write']['plain_write_us']:.0f}"],
        ["manifest bytes per output (parent writes, fsync every 64 rows)", f"{run_['manifest_bytes_per_output']:.0f}",
         "none"],
    ]
    us, sd = sh["unsharded"], sh["sharded"]
    shard_rows = [["unsharded, 2 worker processes", f"{us['wall']:.2f}", f"{us['user'] + us['sys']:.1f}",
                   f"{us.get('others_cpu', float('nan')):.1f}"],
                  ["2 shards (`--shard 0/2`, `--shard 1/2`) at once, 1 worker each", f"{sd['wall']:.2f}",
                   f"{sd['user'] + sd['sys']:.1f}", f"{sd.get('others_cpu', float('nan')):.1f}"]]
    same = ("byte-identical" if not sh["files_differing"]
            else f"**{len(sh['files_differing'])} differ** ({', '.join(sh['files_differing'][:5])})")
    return f"""(a) Whole processes, as a user runs them: {w['images']} JPEGs of 512 px x {w['copies']} copies with YOLO labels,
the 4-op pipeline HorizontalFlip/Affine/RandomBrightnessContrast/HueSaturationValue. Peer: the plain single-process
script a user writes (cv2 read, `A.Compose` with YOLO `BboxParams`, cv2 write at quality 95, label text; OpenCV's
default threads), a separate process. augbench: `augbench augment IN OUT --copies {w['copies']} -t ...` as a
subprocess. Runs alternate (order flipped each pair) after a warm-up, each started once the machine is idle (or
after 10 s); medians of {len(vs['ratio_pairs'])} runs; CPU is the process tree's user+sys; "others' CPU" is what
the rest of the machine used during the run (noise); both wrote {n_out} images + {vs['outputs']['labels']} labels.
Load: {w.get('load_note') or 'not stated'}; load average before {w.get('loadavg_before', 'n/a')}, after
{w.get('loadavg_after', 'n/a')}.

{md_table(["command", "wall s", "CPU s", "page faults", "outputs/s", "others' CPU s meanwhile"], rows)}

Whole process: **{vs['ratio_median']:.2f}x** the plain script (median of the per-pair ratios {pairs};
ratio of the median walls {vs['ratio_of_medians']:.2f}x;
target >= 1.8x on {w['cpus']} cores). The plain script's CPU is not all useful work: OpenCV's threads and the
page faults of its 768 KB image buffers put {mp['sys']:.1f} s of it in the kernel.

Where the time goes (one more run of each): of the command's {run_['wall_s']:.2f} s, the export phase takes
{run_['export_phase_s']:.2f} s, in which the workers used {run_['workers_cpu_s']:.1f} CPU s of the
{w['cpus'] * run_['export_phase_s']:.1f} the cores offer ({busy:.0f}%); the other {run_['wall_s'] - run_['export_phase_s']:.2f} s
are the parent's start-up (interpreter and imports, dataset scan, output-folder checks and lock) and the join.
What is left is the augmentation itself (Affine and HueSaturationValue dominate, see (c)), decode/encode, and the
file system's cost to create two files per output.

{md_table(["", "augbench augment", "plain script"], where)}

What closed the gap (issue 13): the CLI forks its workers (tqdm's monitor thread, started by the first progress
report, had made the export fall back to forkserver, whose workers imported Albumentations again; workers are now
forked before the first report); Albumentations is imported with torch hidden (it imports torch only for
`ToTensorV2`: ~2 s of every start-up); workers keep freed image buffers (`mallopt`; the 768 KB arrays each
transform allocates had cost ~190 page faults apiece, a quarter of a worker's CPU in the kernel); atomic writes
go through the temporary's own descriptor; JPEG is encoded by OpenCV (byte-identical to Pillow's output here).
Durability kept: every output is written to a hidden temporary and renamed into place (all-or-nothing for any
crash of the process); images and labels are not fsynced (a re-run regenerates them), the manifest is fsynced every
64 rows and at the end. Workers get PR_SET_PDEATHSIG and the pool is joined before the command returns.

(b) Sharded vs unsharded export, whole processes, same data: {sh['files_compared']} output files compared,
{same}; the merged manifest has {sh['merged_manifest_rows']} rows.

{md_table(["export", "wall s", "CPU s", "others' CPU s meanwhile"], shard_rows)}

One run each, so noisy (see others' CPU): two shards at once took {sd['wall'] / us['wall']:.2f}x the unsharded wall
time here. Each shard is a whole process with its own start-up and one worker, so on one machine sharding buys
nothing; it is for spreading a job over machines (a Slurm array), and the files do not depend on how it was split.
"""


def md_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--plain-loop":
        plain_loop_main(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--copies", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(json.dumps(run(args.images, args.copies, args.runs), indent=1, default=str))


if __name__ == "__main__":
    main()
