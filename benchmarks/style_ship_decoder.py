"""Ship a trained decoder snapshot as ``augbench/resources/style/decoder_vgg16.pt`` with its report card.

The decoder file is self-describing (issue 11): besides the training metadata
that ``augbench style train-decoder`` writes (bottleneck, crop size, steps,
minutes, image counts, held-out names), this adds what a user cannot recover
from the run folder: where the training photos came from, the phases that
ran, and the figures ``benchmarks/style_quality.py`` measured for this very
file (its sha256 must match, so stale figures cannot be attached).

Run: ``python benchmarks/style_ship_decoder.py SNAPSHOT.pt benchmarks/results/style_quality.json``
(first run the quality benchmark on SNAPSHOT with ``--decoder SNAPSHOT``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from augbench.style.train_decoder import _save  # noqa: E402
from augbench.style.weights import DECODER_FORMAT, DEFAULT_DECODER, safe_load, sha256_file, shipped_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ("content: 91 wallpapers/photographs from the Debian packages gnome-backgrounds 43.1, mate-backgrounds "
        "1.26.0, plasma-workspace-wallpapers 5.27.5 and ukui-wallpapers 20.04.3 (largest file of each, "
        "downscaled to a 384 px short side; used for training only, not shipped) + 33 scikit-image/opencv-doc "
        "photos; styles: 10 textures/paintings from scikit-image/opencv-doc + every content photo as an extra "
        "style; random 192 px crops (rescale + flip)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("snapshot")
    ap.add_argument("quality_json")
    ap.add_argument("--phases", default="", help="JSON list describing the training phases")
    ap.add_argument("--data", default=DATA, help="where the training images came from (one paragraph)")
    ap.add_argument("--out", default=str(shipped_dir() / DEFAULT_DECODER))
    args = ap.parse_args()
    snap = Path(args.snapshot)
    obj = safe_load(snap)
    if not (isinstance(obj, dict) and obj.get("format") == DECODER_FORMAT):
        print(f"{snap} is not an augbench decoder file", file=sys.stderr)
        return 2
    q = json.loads(Path(args.quality_json).read_text(encoding="utf-8"))
    if q.get("decoder_sha256") != sha256_file(snap):
        print(f"{args.quality_json} was measured on another file (sha256 differs): re-run the benchmark",
              file=sys.stderr)
        return 2
    meta = dict(obj.get("meta", {}))
    for k in ("content", "content_dirs"):  # absolute paths of the training machine: replaced by DATA
        meta.pop(k, None)
    meta["data"] = args.data
    if args.phases:
        meta["phases"] = json.loads(args.phases)
    meta["benchmark"] = {
        "script": "benchmarks/style_quality.py", "date": q.get("machine", {}).get("date"), "size": q.get("size"),
        "alpha0_psnr_mean": round(q["alpha0_psnr_mean"], 2),
        "magenta_alpha0_psnr_mean": round(q["magenta_alpha0_psnr_mean"], 2),
        "adain_vs_magenta": {j: {k: round(v, 3) for k, v in r.items()} for j, r in q["ratios"].items()},
        "geomean_ratio": round(q["adain_vs_magenta_geomean"], 3), "ranking": q["ranking"],
        "engine_settings": q.get("engine", {}),
        "open_loop_vs_magenta": {j: {k: round(v, 3) for k, v in r.items()}
                                 for j, r in q.get("open_loop_ratios", {}).items()},
    }
    meta["source_snapshot"] = snap.name
    obj["meta"] = meta
    _save(obj, Path(args.out))
    # same weights, more metadata: record which shipped file the figures belong to
    q["shipped_as"] = str(Path(args.out).relative_to(ROOT)) if Path(args.out).resolve().is_relative_to(ROOT) \
        else args.out
    q["shipped_sha256"] = sha256_file(args.out)
    Path(args.quality_json).write_text(json.dumps(q, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.2f} MB): steps {meta.get('steps')}, "
          f"alpha-0 PSNR {meta['benchmark']['alpha0_psnr_mean']} dB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
