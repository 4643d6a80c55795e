"""LabelImg 1.8.6 vs augbench on the same annotations: compatibility both ways, speed, class-id safety.

Peer: LabelImg's own ``libs/pascal_voc_io.py`` and ``libs/yolo_io.py`` from its PyPI sdist (they need
``lxml``, not Qt). Get them with::

    pip download labelimg==1.8.6 --no-deps -d /tmp/limg && tar xzf /tmp/limg/labelImg-1.8.6.tar.gz -C /tmp/limg
    pip install lxml
    python benchmarks/label_labelimg.py --labelimg-src /tmp/limg/labelImg-1.8.6

What is measured on N synthetic annotations (random sizes, 1-8 integer boxes, Korean and Latin class names):

* VOC and YOLO files written by augbench are read by LabelImg's readers, and LabelImg's files by augbench's,
  and every box is compared (VOC: exact; YOLO: within one pixel, LabelImg rounds to integers);
* write and read time per file for both (augbench's writes are atomic with fsync, LabelImg's are not: the
  ``augbench (no fsync)`` row separates that cost);
* the class-id bug family: LabelImg's YOLO writer rewrites ``classes.txt`` from its own class list; when that
  list is in another order (a different ``predefined_classes.txt``, another session), earlier files' ids point
  at other classes. We count boxes whose class silently changed; augbench's registry refuses the rewrite.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from augbench.core.errors import AugbenchError  # noqa: E402
from augbench.label.folder import LabelReader  # noqa: E402
from augbench.label.registry import ClassRegistry  # noqa: E402
from augbench.label.types import Box, ImageAnnotation  # noqa: E402
from augbench.label.voc import format_voc, read_voc, write_voc  # noqa: E402
from augbench.label.yolo import format_yolo, write_yolo  # noqa: E402
from benchmarks._report import md_table, write_results  # noqa: E402

CLASSES = ["고양이", "dog", "사람", "car", "bicycle", "신호등"]


class _QImageStub:
    """What LabelImg's YoloReader asks of a QImage."""

    def __init__(self, w: int, h: int) -> None:
        self._w, self._h = w, h

    def width(self) -> int:
        return self._w

    def height(self) -> int:
        return self._h

    def isGrayscale(self) -> bool:  # noqa: N802 - LabelImg's call
        return False


def make_annotations(n: int, folder: Path, seed: int = 0) -> list[ImageAnnotation]:
    rng = random.Random(seed)
    anns = []
    for i in range(n):
        w, h = rng.randint(320, 1920), rng.randint(240, 1080)
        boxes = []
        for _ in range(rng.randint(1, 8)):
            x1, y1 = rng.randint(2, w - 40), rng.randint(2, h - 40)
            x2, y2 = rng.randint(x1 + 5, min(w - 1, x1 + 400)), rng.randint(y1 + 5, min(h - 1, y1 + 300))
            boxes.append(Box(x1, y1, x2, y2, rng.choice(CLASSES), difficult=rng.random() < 0.2))
        anns.append(ImageAnnotation(folder / f"사진_{i:05d}.jpg", w, h, 3, boxes))
    return anns


def labelimg_write_voc(voc_io, ann: ImageAnnotation, target: Path) -> None:
    wr = voc_io.PascalVocWriter(ann.image_path.parent.name, ann.image_path.name, [ann.height, ann.width, 3],
                                local_img_path=str(ann.image_path))
    for b in ann.boxes:
        wr.add_bnd_box(int(b.x1), int(b.y1), int(b.x2), int(b.y2), b.label, b.difficult)
    wr.save(target_file=str(target))


def labelimg_write_yolo(yolo_io, ann: ImageAnnotation, target: Path, class_list: list[str]) -> None:
    wr = yolo_io.YOLOWriter(ann.image_path.parent.name, ann.image_path.name, [ann.height, ann.width, 3])
    for b in ann.boxes:
        wr.add_bnd_box(int(b.x1), int(b.y1), int(b.x2), int(b.y2), b.label, b.difficult)
    wr.save(class_list=class_list, target_file=str(target))


def shapes_of(ann: ImageAnnotation) -> list[tuple]:
    return [(b.label, int(b.x1), int(b.y1), int(b.x2), int(b.y2), bool(b.difficult)) for b in ann.boxes]


def voc_numbers(ann: ImageAnnotation) -> list[tuple]:
    """The numbers augbench writes to a VOC file for ``ann`` (1-based inclusive: ``xmin = x1 + 1``, ``xmax = x2``).

    LabelImg keeps a file's numbers as its shape corners, so "compatible" means the numbers in the file
    survive both ways; augbench's internal box is the 0-based continuous one (``x1 = xmin - 1``).
    """
    return [(b.label, int(round(b.x1)) + 1, int(round(b.y1)) + 1, int(round(b.x2)), int(round(b.y2)),
             bool(b.difficult)) for b in ann.boxes]


def labelimg_shapes(shapes: list) -> list[tuple]:
    return [(lab, pts[0][0], pts[0][1], pts[2][0], pts[2][1], bool(diff)) for lab, pts, _, _, diff in shapes]


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def main() -> int:  # noqa: C901 - one linear measurement script
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--labelimg-src", default=os.environ.get("LABELIMG_SRC", "/tmp/limg/labelImg-1.8.6"))
    ap.add_argument("-n", type=int, default=500)
    args = ap.parse_args()
    src = Path(args.labelimg_src)
    if not (src / "libs" / "pascal_voc_io.py").is_file():
        print(f"LabelImg sources not found at {src}; see this script's docstring", file=sys.stderr)
        return 2
    sys.path.insert(0, str(src))
    try:
        from libs import pascal_voc_io, yolo_io  # type: ignore[import-not-found]
    except ImportError as exc:
        print(f"cannot import LabelImg's io modules ({exc}); pip install lxml", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="label_bench_"))
    try:
        anns = make_annotations(args.n, tmp / "imgs")
        n_boxes = sum(len(a.boxes) for a in anns)
        dirs = {k: tmp / k for k in ("ours_voc", "li_voc", "ours_yolo", "li_yolo", "plain_voc")}
        for d in dirs.values():
            d.mkdir()
        t = {}
        # ---------------------------------------------------------------- VOC writing
        t["ours_voc_write"] = timed(lambda: [write_voc(dirs["ours_voc"] / f"{a.image_path.stem}.xml", a)
                                             for a in anns])
        t["plain_voc_write"] = timed(lambda: [(dirs["plain_voc"] / f"{a.image_path.stem}.xml").write_text(
            format_voc(a), encoding="utf-8") for a in anns])
        t["li_voc_write"] = timed(lambda: [labelimg_write_voc(pascal_voc_io, a, dirs["li_voc"] /
                                                              f"{a.image_path.stem}.xml") for a in anns])
        # ---------------------------------------------------------------- VOC reading, both ways
        voc_li_reads_ours = voc_ours_reads_li = 0
        start = time.perf_counter()
        li_of_ours = [pascal_voc_io.PascalVocReader(str(dirs["ours_voc"] / f"{a.image_path.stem}.xml"))
                      for a in anns]
        t["li_voc_read"] = time.perf_counter() - start
        start = time.perf_counter()
        ours_of_li = [read_voc(dirs["li_voc"] / f"{a.image_path.stem}.xml") for a in anns]
        t["ours_voc_read"] = time.perf_counter() - start
        verified_ok = True
        for a, r, o in zip(anns, li_of_ours, ours_of_li, strict=True):
            # the numbers augbench wrote are the numbers LabelImg reads ...
            voc_li_reads_ours += sum(x == y for x, y in zip(voc_numbers(a), labelimg_shapes(r.get_shapes()),
                                                              strict=False))
            # ... and the numbers LabelImg wrote (its corners as ints) come back unchanged through augbench
            voc_ours_reads_li += sum(x == y for x, y in zip(shapes_of(a), voc_numbers(o), strict=False))
            verified_ok &= r.verified == a.verified
        # ---------------------------------------------------------------- YOLO both ways
        classes = list(CLASSES)
        ClassRegistry(classes).save(dirs["ours_yolo"])
        t["ours_yolo_write"] = timed(lambda: [write_yolo(dirs["ours_yolo"] / f"{a.image_path.stem}.txt", a, classes)
                                              for a in anns])
        t["li_yolo_write"] = timed(lambda: [labelimg_write_yolo(yolo_io, a, dirs["li_yolo"] /
                                                                f"{a.image_path.stem}.txt", list(classes))
                                            for a in anns])
        yolo_li_reads_ours = yolo_ours_reads_li = 0
        reader = LabelReader()
        for a in anns:
            r = yolo_io.YoloReader(str(dirs["ours_yolo"] / f"{a.image_path.stem}.txt"), _QImageStub(a.width,
                                                                                                     a.height))
            for x, y in zip(shapes_of(a), labelimg_shapes(r.get_shapes()), strict=False):
                yolo_li_reads_ours += x[0] == y[0] and all(abs(p - q) <= 1 for p, q in zip(x[1:5], y[1:5],
                                                                                          strict=True))
            txt = dirs["li_yolo"] / f"{a.image_path.stem}.txt"
            o = reader.read(a.image_path, txt, (a.width, a.height))
            for x, y in zip(a.boxes, o.boxes, strict=False):
                yolo_ours_reads_li += x.label == y.label and all(abs(p - q) <= 1 for p, q in zip(x.xyxy(), y.xyxy(),
                                                                                                strict=True))
        # ---------------------------------------------------------------- the class-id bug family
        half = len(anns) // 2
        shift_dir_li, shift_dir_ours = tmp / "shift_li", tmp / "shift_ours"
        shift_dir_li.mkdir()
        shift_dir_ours.mkdir()
        first = list(CLASSES)
        for a in anns[:half]:
            labelimg_write_yolo(yolo_io, a, shift_dir_li / f"{a.image_path.stem}.txt", first)
        # a second session with another predefined class order edits one more image
        labelimg_write_yolo(yolo_io, anns[half], shift_dir_li / f"{anns[half].image_path.stem}.txt",
                            list(reversed(CLASSES)))
        li_reader = LabelReader()
        li_changed = 0
        for a in anns[:half]:
            o = li_reader.read(a.image_path, shift_dir_li / f"{a.image_path.stem}.txt", (a.width, a.height))
            li_changed += sum(x.label != y.label for x, y in zip(a.boxes, o.boxes, strict=True))
        reg = ClassRegistry.for_folder(shift_dir_ours, current=first)
        reg.save(shift_dir_ours)
        for a in anns[:half]:
            write_yolo(shift_dir_ours / f"{a.image_path.stem}.txt", a, reg.names)
        reg2 = ClassRegistry.for_folder(shift_dir_ours, current=list(reversed(CLASSES)))  # the second session
        refused = 0
        try:
            ClassRegistry(list(reversed(CLASSES))).save(shift_dir_ours)
        except AugbenchError:
            refused = 1
        reg2.save(shift_dir_ours)
        write_yolo(shift_dir_ours / f"{anns[half].image_path.stem}.txt", anns[half], reg2.names)
        ours_reader = LabelReader()
        ours_changed = 0
        for a in anns[:half]:
            o = ours_reader.read(a.image_path, shift_dir_ours / f"{a.image_path.stem}.txt", (a.width, a.height))
            ours_changed += sum(x.label != y.label for x, y in zip(a.boxes, o.boxes, strict=True))
        boxes_first_half = sum(len(a.boxes) for a in anns[:half])
        assert format_yolo(anns[0], classes)  # both writers ran on the same data
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ms = {k: 1000 * v / args.n for k, v in t.items()}
    data = {
        "n_files": args.n, "n_boxes": n_boxes, "ms_per_file": ms,
        "voc": {"labelimg_reads_ours": voc_li_reads_ours, "ours_reads_labelimg": voc_ours_reads_li,
                "verified_flag_ok": bool(verified_ok)},
        "yolo": {"labelimg_reads_ours_within_1px": int(yolo_li_reads_ours),
                 "ours_reads_labelimg_within_1px": int(yolo_ours_reads_li)},
        "class_id_shift": {"boxes_in_earlier_files": boxes_first_half, "labelimg_relabelled": li_changed,
                           "augbench_relabelled": ours_changed, "augbench_refused_reordering": bool(refused)},
    }
    rows = [
        ["VOC write", f"{ms['ours_voc_write']:.3f} (atomic+fsync) / {ms['plain_voc_write']:.3f} (plain)",
         f"{ms['li_voc_write']:.3f}", f"{ms['li_voc_write'] / ms['plain_voc_write']:.2f}"],
        ["VOC read", f"{ms['ours_voc_read']:.3f}", f"{ms['li_voc_read']:.3f}",
         f"{ms['li_voc_read'] / ms['ours_voc_read']:.2f}"],
        ["YOLO write", f"{ms['ours_yolo_write']:.3f} (atomic+fsync)", f"{ms['li_yolo_write']:.3f}",
         f"{ms['li_yolo_write'] / ms['ours_yolo_write']:.2f}"],
    ]
    md = "\n\n".join([
        "## Label files: augbench vs LabelImg 1.8.6",
        f"{args.n} synthetic annotations, {n_boxes} boxes (Korean and Latin class names), LabelImg's own "
        "`pascal_voc_io`/`yolo_io` from its PyPI sdist. Script: `benchmarks/label_labelimg.py`.",
        md_table(["", "augbench ms/file", "LabelImg ms/file", "LabelImg / augbench"], rows),
        md_table(["compatibility", "boxes identical"], [
            ["LabelImg reads augbench VOC (exact ints, name, difficult)", f"{voc_li_reads_ours}/{n_boxes}"],
            ["augbench reads LabelImg VOC", f"{voc_ours_reads_li}/{n_boxes}"],
            ["LabelImg reads augbench YOLO (±1 px)", f"{int(yolo_li_reads_ours)}/{n_boxes}"],
            ["augbench reads LabelImg YOLO (±1 px)", f"{int(yolo_ours_reads_li)}/{n_boxes}"],
        ]),
        "Class-id safety: a second session whose class list is in another order edits one image. "
        f"LabelImg rewrites `classes.txt` and **{li_changed} of {boxes_first_half}** boxes in the earlier files "
        f"silently change class; augbench keeps the folder's ids (new names appended) and relabels "
        f"**{ours_changed}**; a reordering `classes.txt` write is refused: {bool(refused)}.",
    ])
    write_results("label_labelimg", data, md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
