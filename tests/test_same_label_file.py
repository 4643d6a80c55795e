"""The Augment export and the Label tab pair every image with the SAME label file.

Before core/layout.py each had its own search order: with a stale ``a.txt``
next to the image and the real one under ``labels/``, the export augmented the
stale boxes while the Label tab showed and saved the other file.
"""

from __future__ import annotations

from pathlib import Path

from badinput import save_jpeg, yolo_line
from imgfactory import make_photo

from augbench.augment.export import AugmentJob
from augbench.core.dataset import scan_dataset
from augbench.core.jobs import run_job
from augbench.core.runfolder import iter_manifest
from augbench.label.model import LabelSession

W, H = 64, 48


def _build(root: Path) -> dict[str, tuple[str, int]]:
    """A folder where every image could be paired two ways; returns image -> (its label file, its box count)."""
    (root / "labels").mkdir(parents=True)
    (root / "Annotations").mkdir()
    (root / "labels" / "classes.txt").write_text("cat\ndog\n", encoding="utf-8")
    for i, name in enumerate("abcd"):
        save_jpeg(root / f"{name}.jpg", make_photo(W, H, i))
    one = yolo_line(0, (4, 4, 30, 30), W, H)
    two = one + yolo_line(1, (34, 10, 60, 40), W, H)
    # a: stale copy beside the image (2 boxes) and the real file under labels/ (1 box)
    (root / "a.txt").write_text(two, encoding="utf-8")
    (root / "labels" / "a.txt").write_text(one, encoding="utf-8")
    # b: only beside the image although labels/ exists
    (root / "b.txt").write_text(two, encoding="utf-8")
    # c: only a VOC file under Annotations/
    (root / "Annotations" / "c.xml").write_text(
        "<annotation><size><width>64</width><height>48</height><depth>3</depth></size>"
        "<object><name>dog</name><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>20</xmax><ymax>20</ymax></bndbox></object>"
        "</annotation>", encoding="utf-8")
    # d: YOLO under labels/ and VOC beside: the YOLO one wins in both tools
    (root / "labels" / "d.txt").write_text(two, encoding="utf-8")
    (root / "d.xml").write_text("<annotation><size><width>64</width><height>48</height></size></annotation>",
                                encoding="utf-8")
    return {"a.jpg": ("labels/a.txt", 1), "b.jpg": ("b.txt", 2), "c.jpg": ("Annotations/c.xml", 1),
            "d.jpg": ("labels/d.txt", 2)}


def test_export_and_label_tab_read_the_same_file(tmp_path: Path) -> None:
    root = tmp_path / "in"
    expected = _build(root)

    scanned = {it.image.name: it.label_file.relative_to(root).as_posix() for it in scan_dataset(root).items}
    session = LabelSession()
    session.open_folder(root)
    tab = {e.path.name: e.label_file.relative_to(root).as_posix() for e in session.entries}
    assert scanned == tab == {k: v[0] for k, v in expected.items()}

    # The boxes each tool reads from that file agree too.
    tab_boxes = {e.path.name: len(session.load(i).ann.boxes) for i, e in enumerate(session.entries)}
    out = tmp_path / "out"
    res = run_job(AugmentJob(input_dir=str(root), output_dir=str(out), steps=[{"name": "HorizontalFlip", "p": 1.0}],
                             copies=1, workers=1))
    assert res.status == "completed" and not res.skipped
    rows = {Path(r["source"]).name: r for r in iter_manifest(out / "manifest.jsonl")}
    for name, (label, n_boxes) in expected.items():
        assert tab_boxes[name] == n_boxes == rows[name]["boxes_in"], name
        # The augmented label mirrors the source label's place (labels/, Annotations/ or beside).
        assert Path(rows[name]["label"]).parent == Path(label).parent, name
