"""Augmentation throughput: Albumentations vs torchvision v2 per transform, and augbench's export
vs a plain single-process Albumentations loop and the raw decode+encode limit.

Run: ``.venv/bin/python benchmarks/augment_throughput.py [--quick]``. Writes
``benchmarks/results/augment_throughput.json`` and its section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks._report import md_table, write_results  # noqa: E402

SIZE = 512
EXPORT_STEPS = [
    {"name": "HorizontalFlip", "p": 0.5},
    {"name": "Affine", "params": {"rotate": [-15, 15], "scale": [0.9, 1.1]}, "p": 1.0},
    {"name": "RandomBrightnessContrast", "p": 1.0},
    {"name": "HueSaturationValue", "p": 1.0},
]


def photos(n: int, size: int = SIZE, seed: int = 0) -> list[np.ndarray]:
    """``n`` real photos (scikit-image samples), randomly cropped and resized to ``size``."""
    from skimage import data

    srcs = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.cat(),
            np.dstack([data.camera()] * 3), np.dstack([data.moon()] * 3)]
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        s = srcs[i % len(srcs)]
        h, w = s.shape[:2]
        side = int(rng.integers(min(h, w) // 2, min(h, w) + 1))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        out.append(np.ascontiguousarray(cv2.resize(s[y:y + side, x:x + side], (size, size), interpolation=cv2.INTER_AREA)))
    return out


def rate(fn: Callable[[Any], Any], items: list[Any], min_time: float = 0.6, repeats: int = 3) -> float:
    """Median images/s of ``fn`` over ``items`` (each repeat runs at least ``min_time`` seconds)."""
    rates = []
    for _ in range(repeats):
        n = 0
        t0 = time.perf_counter()
        while True:
            for it in items:
                fn(it)
            n += len(items)
            dt = time.perf_counter() - t0
            if dt >= min_time:
                break
        rates.append(n / dt)
    return statistics.median(rates)


def per_transform(n_images: int, min_time: float) -> list[dict[str, Any]]:
    import albumentations as A
    import torch
    from torchvision.transforms import v2

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    imgs = photos(n_images)
    tens = [torch.from_numpy(im).permute(2, 0, 1).contiguous() for im in imgs]
    pairs: list[tuple[str, Any, Any]] = [
        ("HorizontalFlip", A.HorizontalFlip(p=1), v2.RandomHorizontalFlip(p=1)),
        ("VerticalFlip", A.VerticalFlip(p=1), v2.RandomVerticalFlip(p=1)),
        ("Rotate", A.Rotate(limit=45, p=1), v2.RandomRotation(45)),
        ("Affine", A.Affine(rotate=25, scale=1.1, translate_percent=0.1, shear=10, p=1),
         v2.RandomAffine(degrees=25, translate=(0.1, 0.1), scale=(1.1, 1.1), shear=10)),
        ("RandomBrightnessContrast", A.RandomBrightnessContrast(p=1), v2.ColorJitter(brightness=0.2, contrast=0.2)),
        ("HueSaturationValue", A.HueSaturationValue(p=1), v2.ColorJitter(saturation=0.3, hue=0.05)),
        ("GaussianBlur", A.GaussianBlur(blur_limit=(5, 5), p=1), v2.GaussianBlur(kernel_size=5, sigma=(0.1, 2.0))),
        ("RandomResizedCrop", A.RandomResizedCrop(size=(SIZE, SIZE), p=1), v2.RandomResizedCrop(SIZE, antialias=True)),
        ("CLAHE", A.CLAHE(p=1), None),
        ("Equalize", A.Equalize(p=1), v2.RandomEqualize(p=1)),
        ("Grayscale", A.ToGray(num_output_channels=3, p=1), v2.Grayscale(num_output_channels=3)),
        ("Resize", A.Resize(256, 256, p=1), v2.Resize((256, 256), antialias=True)),
    ]
    rows = []
    for name, at, tv in pairs:
        a = rate(lambda im, t=at: t(image=im)["image"], imgs, min_time)
        t = rate(lambda x, t=tv: t(x), tens, min_time) if tv is not None else float("nan")
        rows.append({"transform": name, "albumentations_img_s": a, "torchvision_img_s": t,
                     "ratio": a / t if tv is not None else float("nan")})
        print(f"  {name:26s} albumentations {a:8.0f}/s  torchvision {t:8.0f}/s", flush=True)
    return rows


def make_folder(root: Path, n: int) -> Path:
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    (root / "classes.txt").write_text("object\n")
    rng = np.random.default_rng(1)
    for i, im in enumerate(photos(n, seed=2)):
        Image.fromarray(im).save(root / f"{i:04d}.jpg", quality=92)
        x1, y1 = rng.uniform(20, 250, 2)
        w, h = rng.uniform(60, 200, 2)
        (root / f"{i:04d}.txt").write_text(
            f"0 {(x1 + w / 2) / SIZE:.6f} {(y1 + h / 2) / SIZE:.6f} {w / SIZE:.6f} {h / SIZE:.6f}\n")
    return root


def plain_loop(src: Path, out: Path, copies: int) -> int:
    """The obvious single-process loop a user would write: imread, Compose, imwrite, write YOLO."""
    import albumentations as A

    out.mkdir(parents=True, exist_ok=True)
    transforms = []
    for s in EXPORT_STEPS:
        transforms.append(getattr(A, s["name"])(**s.get("params", {}), p=s["p"]))
    compose = A.Compose(transforms, bbox_params=A.BboxParams(format="yolo", label_fields=["cls"]))
    n = 0
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
            n += 1
    return n


def _codec_only(paths: list[str], out: str, copies: int) -> int:
    """Decode each image and encode it ``copies`` times, nothing else (the I/O + codec floor)."""
    from augbench.core.imageio import encode_image, read_image

    Path(out).mkdir(parents=True, exist_ok=True)
    for p in paths:
        img = read_image(p, mode="auto")
        for k in range(copies):
            with open(Path(out) / f"{Path(p).stem}_{k}.jpg", "wb") as fh:
                fh.write(encode_image(img, ".jpg", 95))
    return len(paths) * copies


def codec_limit(src: Path, out: Path, copies: int, workers: int) -> float:
    """Raw decode+encode outputs/s using ``workers`` processes (same codec as augbench)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = sorted(str(p) for p in src.glob("*.jpg"))
    chunks = [paths[i::workers] for i in range(workers)]
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        pool.apply(len, ([],))  # start the workers before timing, as a warm pool would be
        t0 = time.perf_counter()
        n = sum(pool.starmap(_codec_only, [(c, str(out), copies) for c in chunks]))
        return n / (time.perf_counter() - t0)


def export_bench(n_images: int, copies: int, repeats: int) -> dict[str, Any]:
    from augbench.augment.export import AugmentJob
    from augbench.core.jobs import run_job

    tmp = Path(tempfile.mkdtemp(prefix="augbench-bench-"))
    try:
        src = make_folder(tmp / "src", n_images)
        res: dict[str, list[float]] = {"augbench": [], "plain": [], "plain_1thread": [], "codec_limit": [],
                                       "codec_1proc": []}
        plain_loop(src, tmp / "warmup", 1)  # imports and first-call costs out of the timed runs
        shutil.rmtree(tmp / "warmup", ignore_errors=True)
        default_threads = cv2.getNumThreads()
        cpus = os.cpu_count() or 1
        for r in range(repeats):
            cv2.setNumThreads(default_threads)  # the obvious loop: OpenCV's default threading
            t0 = time.perf_counter()
            n = plain_loop(src, tmp / f"plain{r}", copies)
            res["plain"].append(n / (time.perf_counter() - t0))
            cv2.setNumThreads(1)  # the same loop held to one core
            t0 = time.perf_counter()
            n = plain_loop(src, tmp / f"plain1_{r}", copies)
            res["plain_1thread"].append(n / (time.perf_counter() - t0))
            cv2.setNumThreads(default_threads)
            t0 = time.perf_counter()
            result = run_job(AugmentJob(input_dir=str(src), output_dir=str(tmp / f"ours{r}"), steps=EXPORT_STEPS,
                                        copies=copies, workers=0))
            res["augbench"].append(result.metrics["written_images"] / (time.perf_counter() - t0))
            res["codec_limit"].append(codec_limit(src, tmp / f"codec{r}", copies, cpus))
            t0 = time.perf_counter()
            n = _codec_only(sorted(str(p) for p in src.glob("*.jpg")), str(tmp / f"codec1_{r}"), copies)
            res["codec_1proc"].append(n / (time.perf_counter() - t0))
            for d in (f"plain{r}", f"plain1_{r}", f"ours{r}", f"codec{r}", f"codec1_{r}"):
                shutil.rmtree(tmp / d, ignore_errors=True)
            print(f"  repeat {r}: " + ", ".join(f"{k} {v[-1]:.1f}/s" for k, v in res.items()), flush=True)
        med = {k: statistics.median(v) for k, v in res.items()}
        return {"images": n_images, "copies": copies, "cpus": cpus, "repeats": repeats, "raw": res, "median": med,
                "ratio_vs_plain": med["augbench"] / med["plain"],
                "ratio_vs_plain_1thread": med["augbench"] / med["plain_1thread"],
                "fraction_of_perfect_scaling": med["augbench"] / (cpus * med["plain_1thread"]),
                "fraction_of_codec_limit": med["augbench"] / med["codec_limit"]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def render_phase(rows: list[dict[str, Any]], n_pt: int, ex: dict[str, Any]) -> str:
    """Sections (c) per transform and (d) the export phase inside one Python process."""
    table = md_table(["transform", "albumentations img/s", "torchvision v2 img/s", "ratio"],
                     [[r["transform"], round(r["albumentations_img_s"]), "n/a" if r["torchvision_img_s"] != r[
                         "torchvision_img_s"] else round(r["torchvision_img_s"]),
                       "n/a" if r["ratio"] != r["ratio"] else f"{r['ratio']:.1f}x"] for r in rows])
    m = ex["median"]
    date = ex.get("date", "see the JSON")
    note = f" {ex['note']}" if ex.get("note") else ""
    table2 = md_table(["export path", "outputs/s (median)"], [
        ["plain single-process Albumentations loop (cv2 read/write, OpenCV default threads)", f"{m['plain']:.1f}"],
        ["the same plain loop held to 1 thread (`cv2.setNumThreads(1)`)", f"{m['plain_1thread']:.1f}"],
        [f"augbench export ({ex['cpus']} processes)", f"{m['augbench']:.1f}"],
        [f"raw decode+encode only, {ex['cpus']} processes (the limit)", f"{m['codec_limit']:.1f}"],
        ["raw decode+encode only, 1 process", f"{m['codec_1proc']:.1f}"],
    ])
    return f"""(c) Per transform, one thread, {n_pt} real 512x512 photos, images/s (median of 3). Albumentations works on
numpy HWC uint8, torchvision v2 on CHW uint8 tensors (each library's native format; no conversion timed).
CLAHE has no torchvision counterpart.

{table}

(d) Export phase only, inside one Python process that has already imported everything ({date}):
{ex['images']} JPEGs x {ex['copies']} copies with YOLO labels (decode + the 4-op pipeline
HorizontalFlip/Affine/RandomBrightnessContrast/HueSaturationValue + encode + labels), median of {ex['repeats']} runs.
This hides start-up and imports; (a) above times the whole command.{note}

{table2}

Export phase vs the plain loop: {ex['ratio_vs_plain']:.2f}x; vs the loop held to one thread:
{ex['ratio_vs_plain_1thread']:.2f}x ({ex['fraction_of_perfect_scaling'] * 100:.0f}% of perfect {ex['cpus']}-core scaling);
{ex['fraction_of_codec_limit'] * 100:.0f}% of the raw decode+encode-only rate: with Affine + HueSaturationValue at
512 px the augmentation itself, not I/O, is the bottleneck.
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    ap.add_argument("--whole-process", action="store_true",
                    help="run only (a) and (b), the whole-process figures; keep (c) and (d) from the last JSON")
    ap.add_argument("--runs", type=int, default=3, help="whole-process runs of each command")
    ap.add_argument("--load-note", default="", help="what else ran on the machine during the runs (for the doc)")
    args = ap.parse_args()
    from benchmarks import augment_export_process as proc
    from benchmarks._report import RESULTS

    n_pt, t_pt = (8, 0.2) if args.quick else (24, 0.8)
    n_ex, copies, reps = (24, 2, 1) if args.quick else (160, 3, 3)
    if args.whole_process:
        old = json.loads((RESULTS / "augment_throughput.json").read_text(encoding="utf-8"))
        rows, ex = old["per_transform"], old["export"]
        ex.setdefault("date", old["machine"]["date"])
        ex.setdefault("note", "Kept from the last full run: it predates the export changes of issue 13.")
        n_pt = old.get("per_transform_images", 24)
    else:
        print("per-transform throughput (1 thread, 512x512)")
        rows = per_transform(n_pt, t_pt)
        print("export phase, in process")
        ex = export_bench(n_ex, copies, reps)
        ex["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = proc.loadavg()
    whole = proc.run(*((24, 2, 1) if args.quick else (300, 5, args.runs)))
    whole["loadavg_before"] = load_before
    whole["load_note"] = args.load_note
    md = ("## Augmentation throughput (`benchmarks/augment_throughput.py`)\n\n"
          + proc.render(whole) + "\n" + render_phase(rows, n_pt, ex))
    write_results("augment_throughput", {"per_transform": rows, "per_transform_images": n_pt, "export": ex,
                                         "whole_process": whole}, md)
    print(md)


if __name__ == "__main__":
    main()
